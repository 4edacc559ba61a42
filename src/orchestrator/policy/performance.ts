// Performance policy: when a service's DIME stays above a CPU threshold, start a replica on
// another DIME and divide the service's input between them; when the group's load falls,
// shut the replicas off again. Dividing input: the DIME that feeds the service is rewired
// to this orchestrator, which hands each frame to the next member in turn (round robin);
// when the last replica goes, the feeder is wired straight back to the primary.
import type { Frame } from '../../protocol/codec.js';
import * as W from '../../protocol/wire.js';
import type { Orchestrator, Assignment } from '../orchestrator.js';
import { dimeKey, type DimeAddress } from '../targets.js';
import type { DimeView } from '../model.js';
import { matches, pickDime } from './fault.js';
import type { PerformancePolicy } from './policy-file.js';

/** Frames from one feeder DIME, dealt out to a group of DIMEs in turn. */
export class InputSplitter {
  private next = 0;
  forwarded = 0;
  private readonly onFrame = (f: Frame) => {
    if (f.message?.name !== 'STREAM' || f.srcMac !== this.feeder.server || f.srcCore !== this.feeder.core) return;
    const members = this.members();
    if (!members.length) return;
    const to = members[this.next++ % members.length];
    this.o.link.stream(to.server, to.core, f.payload);
    this.forwarded++;
  };

  constructor(private readonly o: Orchestrator, readonly feeder: DimeAddress, readonly members: () => DimeAddress[]) {
    o.link.on('frame', this.onFrame);
  }

  close(): void {
    this.o.link.off('frame', this.onFrame);
  }
}

interface Group {
  primaryRole: string;
  aboveSince?: number;
  belowSince?: number;
  splitter?: InputSplitter;
  /** the feeder was rewired to us: put it back when the group shrinks to one */
  feeder?: DimeAddress;
  busy: boolean;
}

export class PerformanceWatcher {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly o: Orchestrator, private readonly policy: PerformancePolicy, private readonly now: () => number = Date.now) {}

  private log(action: string, reason: string, ok = true, error?: string): void {
    this.o.report({ type: 'policy', at: this.now(), policy: 'performance', action, reason, ok, error });
  }

  private where(role: string): DimeView | undefined {
    for (const [key, a] of this.o.assignments) if (a.role === role) return this.o.model.dimes.get(key);
    return undefined;
  }

  private replicasOf(role: string): Array<{ role: string; d: DimeView }> {
    const out: Array<{ role: string; d: DimeView }> = [];
    for (const [key, a] of this.o.assignments) {
      const d = this.o.model.dimes.get(key);
      if (a.replicaOf === role && d) out.push({ role: a.role, d });
    }
    return out.sort((x, y) => (x.role < y.role ? -1 : 1));
  }

  /** Look at every primary this policy covers; act on at most one group per call. */
  async check(): Promise<void> {
    const at = this.now();
    for (const a of [...this.o.assignments.values()]) {
      if (a.replicaOf || !matches(this.policy.services, a.role, a.source.name)) continue;
      const d = this.where(a.role);
      if (!d || d.cpuPct === undefined || (d.state !== W.STATE.RUNNING && d.state !== W.STATE.SUSPENDED)) continue;
      let g = this.groups.get(a.role);
      if (!g) this.groups.set(a.role, (g = { primaryRole: a.role, busy: false }));
      if (g.busy) continue;
      const replicas = this.replicasOf(a.role);
      const members = [d, ...replicas.map((r) => r.d)];
      const avg = members.reduce((s, m) => s + (m.cpuPct ?? 0), 0) / members.length;
      // up: the primary itself is hot
      if (d.cpuPct > this.policy.cpuAbovePct) g.aboveSince ??= at;
      else g.aboveSince = undefined;
      // down: the whole group is cool
      if (replicas.length && avg < this.policy.cpuBelowPct) g.belowSince ??= at;
      else g.belowSince = undefined;
      if (g.aboveSince !== undefined && at - g.aboveSince >= this.policy.sustainMs && replicas.length < this.policy.maxReplicas) {
        const why = `${d.label} CPU ${d.cpuPct.toFixed(0)}% above ${this.policy.cpuAbovePct}% for ${at - g.aboveSince} ms (replicas ${replicas.length}/${this.policy.maxReplicas})`;
        g.busy = true;
        g.aboveSince = undefined;
        try { await this.scaleUp(a, d, g, replicas.length, why); } finally { g.busy = false; }
        return;
      }
      if (g.belowSince !== undefined && at - g.belowSince >= this.policy.belowMs) {
        const why = `group '${a.role}' average CPU ${avg.toFixed(0)}% below ${this.policy.cpuBelowPct}% for ${at - g.belowSince} ms`;
        g.busy = true;
        g.belowSince = undefined;
        try { await this.scaleDown(a, d, g, replicas[replicas.length - 1], replicas.length - 1, why); } finally { g.busy = false; }
        return;
      }
    }
  }

  private async scaleUp(a: Assignment, primary: DimeView, g: Group, have: number, why: string): Promise<void> {
    const target = pickDime(this.o, primary, this.policy.prefer, []);
    const role = `${a.role}#r${have + 1}`;
    if (!target) { this.log(`cannot replicate '${a.role}': no free DIME`, why, false, 'no free DIME'); return; }
    const to = { server: target.server, core: target.core };
    const feeder = g.feeder ?? (primary.input.kind === 'dime' ? primary.input.dime : undefined);
    const splitting = this.policy.split && !!feeder;
    try {
      await this.o.deploy(to, { role, source: a.source, params: a.params, input: splitting ? { kind: 'orchestrator' } : primary.input, output: primary.output, replicaOf: a.role });
    } catch (e) {
      this.log(`replicating '${a.role}' onto ${this.o.label(to)}`, why, false, (e as Error).message);
      return;
    }
    let how = 'no input to split (its input is not fed by a DIME)';
    if (splitting && feeder && !g.splitter) {
      try {
        // primary accepts us, then the feeder sends to us: no frame is refused in between
        await this.o.setRoute(primary, 'input', { kind: 'orchestrator' });
        await this.o.setRoute(feeder, 'output', { kind: 'orchestrator' });
        g.feeder = feeder;
        g.splitter = new InputSplitter(this.o, feeder, () => {
          const list: DimeAddress[] = [];
          const p = this.where(a.role);
          if (p) list.push(p);
          for (const r of this.replicasOf(a.role)) list.push(r.d);
          return list;
        });
        how = `input from ${this.o.label(feeder)} now split between ${this.o.label(primary)} and its replicas`;
      } catch (e) {
        how = `input split failed: ${(e as Error).message}`;
      }
    } else if (splitting) how = `input from ${this.o.label(feeder!)} split between ${have + 2} members`;
    this.log(`replicated '${a.role}' (${a.source.name}) onto ${this.o.label(to)} as '${role}'; ${how}`, why);
  }

  private async scaleDown(a: Assignment, primary: DimeView, g: Group, last: { role: string; d: DimeView }, left: number, why: string): Promise<void> {
    try {
      if (left === 0 && g.splitter && g.feeder) {
        // the primary alone again: feeder straight to it
        await this.o.setRoute(primary, 'input', { kind: 'dime', dime: g.feeder });
        await this.o.setRoute(g.feeder, 'output', { kind: 'dime', dime: primary });
        g.splitter.close();
        g.splitter = undefined;
        g.feeder = undefined;
      }
      await this.o.stop(last.d);
      this.o.assignments.delete(dimeKey(last.d));
      this.log(`shut replica '${last.role}' on ${this.o.label(last.d)}${left === 0 ? `; '${a.role}' runs alone on ${this.o.label(primary)}` : ''}`, why);
    } catch (e) {
      this.log(`shutting replica '${last.role}' on ${this.o.label(last.d)}`, why, false, (e as Error).message);
    }
  }

  close(): void {
    for (const g of this.groups.values()) g.splitter?.close();
  }
}
