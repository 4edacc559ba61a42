// The hub's conservative synchronisation of the machines in one virtual time (docs/
// ARCHITECTURE.md, "One virtual time across machines"). Each member promises the earliest
// instant it may still send at; a frame sent at s is delivered at s + latency, so a member may
// take in everything below min(the others' promises) + latency: its grant. Promises only grow,
// so grants only grow. Until `expected` members have joined every grant is 0 (nobody passes
// time 0), so a run does not depend on which machine connected first; a member joining after
// time has started is "late": it is told so, and it never holds the others back (its frames
// may reach them in their past, which they count).

export interface BarrierOptions {
  /** link latency, ns of guest time: the lookahead */
  latencyNs: number;
  /** members the time waits for before it starts (0: start with the first) */
  expected: number;
  /** send a grant to member `id` */
  grant: (id: number, ns: number) => void;
}

interface Member { promise: number; granted: number; late: boolean }

export class VirtualTimeBarrier {
  private readonly members = new Map<number, Member>();
  private started = false;
  /** members that joined after the time started */
  lateJoins = 0;
  /** promises lower than one already made (ignored) */
  backwards = 0;

  constructor(private readonly o: BarrierOptions) {}

  get latencyNs(): number { return this.o.latencyNs; }
  memberCount(): number { return this.members.size; }
  isMember(id: number): boolean { return this.members.has(id); }

  /** Port `id` joins; returns whether it is late (its frames are not held to the others' time). */
  join(id: number): boolean {
    if (this.members.has(id)) return this.members.get(id)!.late;
    const late = this.started;
    if (late) this.lateJoins++;
    this.members.set(id, { promise: 0, granted: -1, late });
    if (!this.started && this.members.size >= Math.max(1, this.o.expected)) this.started = true;
    this.regrant();
    return late;
  }

  leave(id: number): void {
    if (this.members.delete(id)) this.regrant();
  }

  promise(id: number, ns: number): void {
    const m = this.members.get(id);
    if (!m) return;
    if (ns < m.promise) { this.backwards++; return; }
    if (ns === m.promise) return;
    m.promise = ns;
    this.regrant();
  }

  /** The grant of member `id` now. */
  grantOf(id: number): number {
    if (!this.started) return 0;
    let low = Infinity;
    for (const [k, m] of this.members) if (k !== id && !m.late) low = Math.min(low, m.promise);
    return low + this.o.latencyNs;
  }

  private regrant(): void {
    for (const [id, m] of this.members) {
      const g = this.grantOf(id);
      if (g > m.granted) {
        m.granted = g;
        this.o.grant(id, g);
      }
    }
  }
}
