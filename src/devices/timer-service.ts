// Timer services for devices on the I/O thread: "call me back when the guest clock reaches T".
//
// `HostTimerService` drives callbacks from Node's event loop (setTimeout, millisecond grain):
// a callback never runs before the guest clock has reached its instant, but may run late, so
// devices derive their state from the clock when called rather than from being called.
// `ManualTimerService` is a deterministic stand-in for tests: time moves only when told to.

import type { TimerService } from './types.js';

export interface TimeSource {
  nowNs(): number;
}

/** setTimeout-backed, one pending callback per key. */
export class HostTimerService implements TimerService {
  private readonly pending = new Map<string, { atNs: number; handle: NodeJS.Timeout; fn: () => void }>();

  constructor(private readonly clock: TimeSource, private readonly opts: { unref?: boolean } = {}) {}

  nowNs(): number {
    return this.clock.nowNs();
  }

  schedule(key: string, atNs: number, fn: () => void): void {
    this.cancel(key);
    if (!Number.isFinite(atNs)) return;
    this.arm(key, atNs, fn);
  }

  cancel(key: string): void {
    const p = this.pending.get(key);
    if (p) {
      clearTimeout(p.handle);
      this.pending.delete(key);
    }
  }

  /** number of callbacks waiting (for statistics and tests) */
  get size(): number {
    return this.pending.size;
  }

  dispose(): void {
    for (const key of [...this.pending.keys()]) this.cancel(key);
  }

  private arm(key: string, atNs: number, fn: () => void): void {
    const delayMs = Math.max(0, Math.ceil((atNs - this.clock.nowNs()) / 1e6));
    const handle = setTimeout(() => {
      const cur = this.pending.get(key);
      if (!cur || cur.handle !== handle) return;
      // Node's timer clock has millisecond grain and may fire a little early by ours.
      if (this.clock.nowNs() < atNs) {
        this.arm(key, atNs, fn);
        return;
      }
      this.pending.delete(key);
      fn();
    }, delayMs);
    if (this.opts.unref) handle.unref();
    this.pending.set(key, { atNs, handle, fn });
  }
}

/** Deterministic timer service: `advanceTo`/`advanceBy` run due callbacks in time order. */
export class ManualTimerService implements TimerService {
  private now = 0;
  private readonly pending = new Map<string, { atNs: number; seq: number; fn: () => void }>();
  private seq = 0;
  /** callbacks run so far (tests use it to check that idle devices stay quiet) */
  fired = 0;

  constructor(startNs = 0) {
    this.now = startNs;
  }

  nowNs(): number {
    return this.now;
  }

  schedule(key: string, atNs: number, fn: () => void): void {
    this.pending.delete(key);
    if (!Number.isFinite(atNs)) return;
    this.pending.set(key, { atNs, seq: this.seq++, fn });
  }

  cancel(key: string): void {
    this.pending.delete(key);
  }

  /** instant of the key's pending callback, or undefined */
  when(key: string): number | undefined {
    return this.pending.get(key)?.atNs;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Move time forward to `t`, running every callback due on the way at its own instant. */
  advanceTo(t: number): void {
    for (let guard = 0; ; guard++) {
      if (guard > 10_000_000) throw new Error('ManualTimerService: runaway timer callbacks');
      let bestKey: string | undefined;
      let best: { atNs: number; seq: number; fn: () => void } | undefined;
      for (const [k, p] of this.pending) {
        if (p.atNs > t) continue;
        if (!best || p.atNs < best.atNs || (p.atNs === best.atNs && p.seq < best.seq)) {
          best = p;
          bestKey = k;
        }
      }
      if (!best || bestKey === undefined) break;
      this.pending.delete(bestKey);
      if (best.atNs > this.now) this.now = best.atNs;
      this.fired++;
      best.fn();
    }
    if (t > this.now) this.now = t;
  }

  advanceBy(dt: number): void {
    this.advanceTo(this.now + dt);
  }
}
