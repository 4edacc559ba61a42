// Runs the policies of a policy file against a live orchestrator: every `checkMs` it marks
// silent DIMEs (fault policy: re-instantiate their services) and looks at CPU (performance
// policy: replicate / shut replicas). One action at a time, each logged with its reason.
import type { Orchestrator } from '../orchestrator.js';
import { dimeKey } from '../targets.js';
import { recover, RecoveryFailed, type Recovery } from './fault.js';
import type { DimeView } from '../model.js';
import { PerformanceWatcher } from './performance.js';
import type { PolicyConfig } from './policy-file.js';

export class PolicyEngine {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly perf: PerformanceWatcher[];
  /** DIMEs already handed to the fault policy during this silence */
  private readonly handled = new Set<string>();
  /**
   * DIMEs whose service could not be moved yet (no free DIME: on a stalled host every DIME
   * looks silent at once; or no target answered), and when to try again: a failed recovery is
   * retried for as long as the DIME stays silent, or a dead server's pipeline would stall for good
   */
  private readonly retryAt = new Map<string, number>();
  /** DIMEs whose service was moved away but which could not be reset yet */
  private readonly abandoned = new Map<string, Recovery>();

  constructor(private readonly o: Orchestrator, readonly config: PolicyConfig) {
    this.perf = config.performance.map((p) => new PerformanceWatcher(o, p));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.config.checkMs);
  }

  /** One round (tests call it directly). */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const k = this.config.fault?.missedIntervals ?? 3;
      const lost = this.o.model.checkHealth(k);
      for (const d of this.o.model.list()) {
        if (d.health !== 'missing') {
          this.handled.delete(dimeKey(d));
          this.retryAt.delete(dimeKey(d));
        }
      }
      if (this.config.fault) {
        const now = Date.now();
        const todo = new Map<string, DimeView>(lost.map((d) => [dimeKey(d), d]));
        for (const [key, at] of this.retryAt) {
          const d = this.o.model.dimes.get(key);
          if (at <= now && d) todo.set(key, d);
        }
        for (const [key, d] of todo) {
          const retry = this.retryAt.has(key);
          if (this.handled.has(key) && !retry) continue;
          this.handled.add(key);
          this.retryAt.delete(key);
          const silent = Date.now() - (d.lastBeatAt ?? Date.now());
          const why = `heartbeat of ${d.label} missing for ${silent} ms (> ${k} x ${d.heartbeatMs} ms)`;
          try {
            const r = await recover(this.o, d, this.config.fault, why, { quiet: retry });
            if (r) this.abandoned.set(dimeKey(r.from), r);
          } catch (e) {
            // no free DIME costs nothing to look again (next check); a failed deployment cost
            // command timeouts already: wait an interval
            if (e instanceof RecoveryFailed) this.retryAt.set(key, e.noTarget ? 0 : Date.now() + Math.max(this.config.checkMs, d.heartbeatMs));
          }
        }
        await this.cleanUpReturned();
      }
      for (const p of this.perf) await p.check().catch(() => undefined);
    } finally {
      this.running = false;
    }
  }

  /** A DIME we moved a service away from beats again: reset it so it does not run twice. */
  private async cleanUpReturned(): Promise<void> {
    for (const [key, r] of [...this.abandoned]) {
      if (r.cleaned) { this.abandoned.delete(key); continue; }
      const d = this.o.model.dimes.get(key);
      if (!d || d.health !== 'up' || this.o.assignments.has(key)) continue;
      this.abandoned.delete(key);
      const ok = await this.o.reset(d, 1000).then(() => true, () => false);
      this.o.report({ type: 'policy', at: Date.now(), policy: 'fault', action: `reset ${d.label}: it came back after '${r.role}' moved to ${this.o.label(r.to)}`, reason: 'avoid running the service twice', ok });
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const p of this.perf) p.close();
  }
}
