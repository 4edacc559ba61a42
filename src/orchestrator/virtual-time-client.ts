// A deterministic orchestrator's way onto the LAN: a member of the hub's virtual time (docs/
// ARCHITECTURE.md, "One virtual time across machines") whose clock moves only from one event
// to the next: a frame's delivery instant or a virtual sleep's end. At each event it delivers
// what is due and holds its clock there until the code it woke has run (every promise reaction,
// up to the next macrotask), so whatever that code sends is stamped with the event's instant:
// a request sent in answer to a reply leaves at the reply's instant, on every run.
// Between events it promises its grant (nothing can wake it sooner), so machines run on.
// Code started by something outside the virtual time (a timer, a console line) sends at the
// clock's value when it runs, which depends on the host: script such steps with sleep().

import { openNetBackend } from '../net/backends/open-backend.js';
import type { FrameListener, LinkListener, NetBackend, NetBackendStats } from '../net/net-backend.js';
import { VirtualTimeLink } from '../net/virtual-time-link.js';

export class VirtualTimeClient implements NetBackend {
  readonly description: string;
  private readonly link: VirtualTimeLink;
  /** guest ns: the instant of the last event (what sends are stamped with) */
  private clock = 0;
  private readonly sleepers: { at: number; seq: number; wake: () => void }[] = [];
  private sleepSeq = 0;
  private closed = false;
  private readonly pumping: Promise<void>;

  constructor(inner: NetBackend) {
    this.link = new VirtualTimeLink(inner, () => this.clock);
    this.description = this.link.description;
    this.pumping = this.pump();
  }

  /** Join the hub at `path` (unix socket) in the virtual time. */
  static async open(hubSpec: string, linkTimeoutMs = 3000): Promise<VirtualTimeClient> {
    const inner = await openNetBackend(hubSpec);
    const deadline = Date.now() + linkTimeoutMs;
    while (!inner.linkUp() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!inner.linkUp()) {
      await inner.close();
      throw new Error(`cannot join the LAN '${hubSpec}': no link after ${linkTimeoutMs} ms`);
    }
    return new VirtualTimeClient(inner);
  }

  /** Guest time now (ns). */
  now(): number { return this.clock; }

  /** The link's counters (stamped, late, unstamped frames; promises; grants). */
  get vstats(): VirtualTimeLink['vstats'] { return this.link.vstats; }

  /** Resolves when the virtual clock reaches now() + ns (a scripted step's instant). */
  sleep(ns: number): Promise<void> {
    return this.sleepUntil(this.clock + ns);
  }

  sleepUntil(at: number): Promise<void> {
    return new Promise((wake) => {
      this.sleepers.push({ at, seq: this.sleepSeq++, wake });
      this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    });
  }

  private async pump(): Promise<void> {
    while (!this.closed) {
      const next = Math.min(this.link.nextArrival(), this.sleepers[0]?.at ?? Infinity);
      const g = this.link.grant();
      if (next < g) {
        // an event: every frame due by `next` is here; deliver, wake, and hold the clock
        // until the code that reacts has run (its sends carry this instant)
        if (next > this.clock) this.clock = next;
        this.link.promise(this.clock);
        this.link.deliverDue(this.clock);
        while (this.sleepers.length && this.sleepers[0].at <= this.clock) this.sleepers.shift()!.wake();
        await new Promise((r) => setImmediate(r));
        continue;
      }
      // nothing due below the grant: time may pass up to it (nothing can reach us sooner)
      if (g > this.clock && g !== Infinity) this.clock = g;
      this.link.promise(Math.min(g, next));
      await this.link.changed(g === Infinity && next === Infinity ? 20 : 200);
    }
  }

  get stats(): NetBackendStats { return this.link.stats; }
  send(frame: Uint8Array): void { this.link.send(frame); }
  onReceive(cb: FrameListener): void { this.link.onReceive(cb); }
  linkUp(): boolean { return this.link.linkUp(); }
  onLinkChange(cb: LinkListener): void { this.link.onLinkChange(cb); }
  queuedBytes(): number { return this.link.queuedBytes(); }
  async close(): Promise<void> {
    this.closed = true;
    await this.link.close();
    await this.pumping;
  }
}
