// Timer services for devices on the I/O thread: "call me back when the guest clock reaches T".
//
// `HostTimerService` drives callbacks from Node's event loop (setTimeout, millisecond grain):
// a callback never runs before the guest clock has reached its instant, but may run late, so
// devices derive their state from the clock when called rather than from being called.
// `PreciseTimerService` does the same with sub-millisecond precision: a helper thread sleeps in
// Atomics.wait until the earliest deadline and wakes the event loop through Atomics.waitAsync
// (Node's own timers, and waitAsync timeouts, have a 1 ms grain: a 1 kHz PIT would lose ticks).
// `ManualTimerService` is a deterministic stand-in for tests: time moves only when told to.
// `VirtualTimerService` is the -icount one: callbacks run at the I/O thread's turn, each at its
// own instant of instruction-count time (src/abi/clock.ts).

import { Worker } from 'node:worker_threads';
import type { TimerService } from './types.js';

export interface TimeSource {
  nowNs(): number;
}

/** Told the earliest pending deadline whenever it changes (the real-time clock's I/O hold). */
export type DeadlineListener = (earliestNs: number) => void;

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

// The helper thread: waits on word 0 (bumped whenever the deadline changes) until the deadline
// in `deadline[0]` (clock ns; host hrtime minus `offset`), then bumps word 1 and notifies.
const SLEEPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { words, deadline, offset } = workerData;
for (;;) {
  if (Atomics.load(words, 2) !== 0) break;
  const gen = Atomics.load(words, 0);
  const dl = deadline[0];
  const now = Number(process.hrtime.bigint()) - offset;
  if (dl <= now) {
    Atomics.add(words, 1, 1);
    Atomics.notify(words, 1);
    Atomics.wait(words, 0, gen);
    continue;
  }
  Atomics.wait(words, 0, gen, dl === Infinity ? Infinity : (dl - now) / 1e6);
}
`;

/**
 * Timer callbacks on the event loop within tens of microseconds of their instant. The clock
 * runs at about the host's rate (src/abi/clock.ts: it may stand still or catch up).
 */
export class PreciseTimerService implements TimerService {
  private readonly pending = new Map<string, { atNs: number; fn: () => void }>();
  private readonly words = new Int32Array(new SharedArrayBuffer(16));
  private readonly deadline = new Float64Array(new SharedArrayBuffer(8));
  private readonly sleeper: Worker;
  private published = Infinity;
  /** sleeper time = process hrtime minus this */
  private readonly offset: number;
  private seenFired = 0;
  private disposed = false;
  /** callbacks run so far */
  fired = 0;

  constructor(private readonly clock: TimeSource, private readonly onDeadline: DeadlineListener = () => {}) {
    this.deadline[0] = Infinity;
    const offset = Number(process.hrtime.bigint()) - clock.nowNs();
    this.offset = offset;
    this.sleeper = new Worker(SLEEPER_SOURCE, { eval: true, workerData: { words: this.words, deadline: this.deadline, offset } });
    this.sleeper.unref();
    this.listen();
  }

  nowNs(): number {
    return this.clock.nowNs();
  }

  schedule(key: string, atNs: number, fn: () => void): void {
    this.pending.delete(key);
    if (Number.isFinite(atNs)) this.pending.set(key, { atNs, fn });
    this.publish(false);
  }

  cancel(key: string): void {
    if (this.pending.delete(key)) this.publish(false);
  }

  get size(): number {
    return this.pending.size;
  }

  dispose(): void {
    this.disposed = true;
    this.pending.clear();
    Atomics.store(this.words, 2, 1);
    Atomics.add(this.words, 0, 1);
    Atomics.notify(this.words, 0);
  }

  /** Publish the earliest deadline again (guest time was restarted: src/abi/clock.ts restartGuestTime). */
  refresh(): void {
    this.publish(true);
  }

  /** tell the sleeper the earliest deadline (always, after it fired: it waits for a change) */
  private publish(force: boolean): void {
    let earliest = Infinity;
    for (const p of this.pending.values()) if (p.atNs < earliest) earliest = p.atNs;
    if (!force && earliest === this.published) return;
    this.published = earliest;
    this.onDeadline(earliest);
    // the sleeper counts host time; guest time may stand still or run a little fast
    // (src/abi/clock.ts), so aim at the host instant the guest clock reaches `earliest`
    // if it runs on from now, and re-aim whenever woken early
    const hostNow = Number(process.hrtime.bigint()) - this.offset;
    this.deadline[0] = earliest === Infinity ? Infinity : hostNow + Math.max(0, earliest - this.clock.nowNs());
    Atomics.add(this.words, 0, 1);
    Atomics.notify(this.words, 0);
  }

  private listen(): void {
    if (this.disposed) return;
    const r = Atomics.waitAsync(this.words, 1, this.seenFired);
    if (r.async) void r.value.then(() => this.onFired());
    else queueMicrotask(() => this.onFired());
  }

  private onFired(): void {
    if (this.disposed) return;
    this.seenFired = Atomics.load(this.words, 1);
    const now = this.clock.nowNs();
    for (let guard = 0; guard < 100_000; guard++) {
      let key: string | undefined;
      let best: { atNs: number; fn: () => void } | undefined;
      for (const [k, p] of this.pending) if (p.atNs <= now && (!best || p.atNs < best.atNs)) { best = p; key = k; }
      if (!best || key === undefined) break;
      this.pending.delete(key);
      this.fired++;
      best.fn();
    }
    this.publish(true);
    this.listen();
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

  protected keys(): string[] {
    return [...this.pending.keys()];
  }

  /** instant of the earliest pending callback, or Infinity */
  nextDeadlineNs(): number {
    let m = Infinity;
    for (const p of this.pending.values()) if (p.atNs < m) m = p.atNs;
    return m;
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

/**
 * -icount device timers: time is the machine's instruction-count clock; callbacks run only
 * when the I/O thread's turn calls runDue(), in time order, each seeing its own instant.
 */
export class VirtualTimerService extends ManualTimerService {
  private running = false;

  constructor(private readonly clock: TimeSource) {
    super(clock.nowNs());
  }

  override nowNs(): number {
    return this.running ? super.nowNs() : this.clock.nowNs();
  }

  /** run every callback due by now; returns how many ran */
  runDue(): number {
    const before = this.fired;
    this.running = true;
    try {
      this.advanceTo(this.clock.nowNs());
    } finally {
      this.running = false;
    }
    return this.fired - before;
  }

  dispose(): void {
    for (const k of this.keys()) this.cancel(k);
  }
}
