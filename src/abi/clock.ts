// The machine's one notion of guest time, shared by every thread through the control block.
// Guest-visible clocks (TSC, LAPIC timer, HPET, PIT, RTC, e1000 timers) all derive from
// `Clock.nowNs()`. Two models (docs/ARCHITECTURE.md, "Time"):
//
// * TIME_REAL (default): guest time follows the host's monotonic clock, minus the time the
//   emulator could not run the guest. Every participant (each core, and the I/O thread for its
//   device timers) publishes a *hold*: the guest instant up to which it has caught up (a running
//   core: its last checkpoint; a halted core: its next timer deadline; a core just sent an
//   interrupt: the send instant; the I/O thread: its earliest device deadline). Guest time never
//   runs more than HOLD_SLACK_NS past the smallest hold; host time that passes beyond it is
//   "stolen" and the guest does not see it. So a descheduled worker or a starved I/O thread
//   freezes guest time instead of letting it run on without them, and a timer tick or an AP's
//   start is at most HOLD_SLACK_NS late in guest time, however busy the host. Stolen time is
//   given back at CATCH_UP_RATE once nothing holds, so guest time stays near host time.
// * TIME_ICOUNT (`-icount shift=N`): guest time is a count of retired instructions, 2^N ns
//   each. Cores run one at a time in a fixed order (core-worker.ts); the core holding the turn
//   advances the time, and a machine whose cores all halt jumps to its next deadline.

import {
  C_TIME_HOLD, F_FLOOR, F_IO_HOLD, F_ROUND_LIMIT, F_STOLEN, F_STOLEN_AT, F_VTIME, G_CLOCK_BASE_HI, G_CLOCK_BASE_LO, G_ICOUNT_SHIFT,
  G_NCORES, G_QUANTUM, G_TIME_MODE, G_TIME_SEQ, coreBase,
} from './control-block.js';

/** Guest TSC frequency: 1 GHz, so one TSC tick is one nanosecond of guest time. */
export const TSC_HZ = 1_000_000_000;
/** LAPIC timer input clock before its divider (QEMU's APIC also counts at 1 GHz). */
export const APIC_TIMER_HZ = 1_000_000_000;
/** HPET main counter frequency (period 10 ns = 10,000,000 fs, as QEMU's HPET). */
export const HPET_HZ = 100_000_000;
/** 8254 PIT input clock. */
export const PIT_HZ = 1_193_182;

export const TIME_REAL = 0;
export const TIME_ICOUNT = 1;

/**
 * How far guest time may run past the least caught-up participant. A device tick can be late
 * by this twice (the I/O thread fires it late, then the core takes it late): kept well below
 * half the 1 ms period of a 1 kHz tick, so a periodic timer never coalesces two ticks.
 */
export const HOLD_SLACK_NS = 200_000;
/** Stolen time is returned by running guest time this much faster than the host (10 %). */
export const CATCH_UP_RATE = 0.1;

/** Time-model settings a machine is created with. */
export type TimeModel = { mode: 'real' } | { mode: 'icount'; shift: number; quantum: number };

/** Something that tells guest time (devices take this, not a Clock, so tests can fake it). */
export interface TimeSource {
  nowNs(): number;
}

/** A participant index for the I/O thread in `hold`/`release`. */
export const IO_THREAD = -1;

/** the control block's Float64 slots (guest time, holds) */
export function f64(ctl: Int32Array): Float64Array {
  return new Float64Array(ctl.buffer, ctl.byteOffset, ctl.length >> 1);
}

/** the Float64 slot of a participant's hold (a core, or IO_THREAD) */
export function holdSlot(core: number): number {
  return core === IO_THREAD ? F_IO_HOLD : (coreBase(core) + C_TIME_HOLD) >> 1;
}

export class Clock implements TimeSource {
  readonly mode: number;
  /** -icount: ns per retired instruction */
  readonly nsPerInsn: number;
  private base: bigint;
  private readonly f: Float64Array;
  private readonly ncores: number;
  /** last value this thread returned (guest time never runs backwards for one reader) */
  private last = 0;
  /** real time, on a core's thread: its hold slot, refreshed at every clock read (it runs) */
  private selfHold = -1;
  private coreSlot = -1;
  /** real time, on a core's thread: its local timer's next deadline */
  private ownDeadline: () => number = () => Infinity;
  // -icount, on the core holding the turn: time and retired count when the turn began
  private retired: (() => number) | null = null;
  private turnBase = 0;
  private turnRetired = 0;

  constructor(private readonly ctl: Int32Array) {
    if (Atomics.load(ctl, G_CLOCK_BASE_LO) === 0 && Atomics.load(ctl, G_CLOCK_BASE_HI) === 0) storeBase(ctl, process.hrtime.bigint());
    this.base = loadBase(ctl);
    this.f = f64(ctl);
    this.ncores = Math.max(1, ctl[G_NCORES] | 0);
    this.mode = Atomics.load(ctl, G_TIME_MODE);
    this.nsPerInsn = 2 ** Atomics.load(ctl, G_ICOUNT_SHIFT);
  }

  /** nanoseconds of guest time since the machine was created (exact Number until ~104 days) */
  nowNs(): number {
    if (this.mode === TIME_ICOUNT) {
      if (this.retired !== null) return this.turnBase + (this.retired() - this.turnRetired) * this.nsPerInsn;
      return this.f[F_VTIME];
    }
    return this.realNow();
  }

  /** host nanoseconds since the machine was created (statistics; never guest-visible) */
  hostNs(): number {
    return Number(process.hrtime.bigint() - this.base);
  }

  /**
   * Re-read the machine's time base after `restartGuestTime` moved it (a restored snapshot):
   * this thread's readings start again from the restored instant.
   */
  resync(): void {
    this.base = loadBase(this.ctl);
    this.last = 0;
  }

  // ------------------------------------------------------------------ real time

  private realNow(): number {
    const h = this.hostNs();
    const f = this.f;
    let stolen: number, at: number, seq: number;
    do {
      seq = Atomics.load(this.ctl, G_TIME_SEQ);
      stolen = f[F_STOLEN];
      at = f[F_STOLEN_AT];
    } while ((seq & 1) !== 0 || seq !== Atomics.load(this.ctl, G_TIME_SEQ));
    if (stolen > 0) {
      stolen -= (h - at) * CATCH_UP_RATE;
      if (stolen < 0) stolen = 0;
    }
    let g = h - stolen;
    const cap = this.minHold() + HOLD_SLACK_NS;
    if (g > cap) {
      g = cap;
      this.steal(h, h - cap, seq);
    }
    // one time line for all threads: a thread preempted inside this function (its host
    // reading stale, or its cap) must not read less than another thread already did
    const floor = f[F_FLOOR];
    if (g < floor) g = floor;
    else f[F_FLOOR] = g;
    if (g < this.last) g = this.last;
    this.last = g;
    // a running core's read is a checkpoint, unless its own timer is due and not yet serviced:
    // then guest time waits for the core to take that tick (at its next event check)
    if (this.selfHold >= 0 && this.ownDeadline() > g) f[this.selfHold] = g;
    return g;
  }

  private minHold(): number {
    const f = this.f;
    let m = f[F_IO_HOLD];
    for (let i = 0; i < this.ncores; i++) {
      const v = f[(coreBase(i) + C_TIME_HOLD) >> 1];
      if (v < m) m = v;
    }
    return m;
  }

  /** record that guest time stands still at h - stolen (one writer at a time; losers skip) */
  private steal(h: number, stolen: number, seq: number): void {
    if (Atomics.compareExchange(this.ctl, G_TIME_SEQ, seq, seq + 1) !== seq) return;
    this.f[F_STOLEN] = stolen;
    this.f[F_STOLEN_AT] = h;
    Atomics.store(this.ctl, G_TIME_SEQ, seq + 2);
  }

  /** host time the guest did not see so far, as it stands now (statistics) */
  stolenNs(): number {
    const s = this.f[F_STOLEN] - (this.hostNs() - this.f[F_STOLEN_AT]) * CATCH_UP_RATE;
    return s > 0 ? s : 0;
  }

  /**
   * Publish a participant's hold: guest time will not run past `ns` + slack without it. Never
   * below now: a hold in the past (a deadline already due) would pull guest time back.
   */
  hold(who: number, ns: number): void {
    if (this.mode === TIME_REAL) {
      // read first even when raising the hold: the stall under the old hold is settled up to
      // this instant, so host time that passed while it held is stolen, not caught up at once
      const now = this.realNow();
      if (ns < now) ns = now;
    }
    this.f[holdSlot(who)] = ns;
  }

  /** Lower a participant's hold to now (it has work to do: an interrupt, a SIPI). */
  owe(who: number): void {
    if (this.mode !== TIME_REAL) return;
    const now = this.realNow();
    const s = holdSlot(who);
    if (this.f[s] > now) this.f[s] = now;
  }

  // ------------------------------------------------------------------ -icount

  /**
   * On core `core`'s thread. -icount: how many instructions it has retired (read at each clock
   * read). Real time: a core reading the clock is running, so each read is a checkpoint; its
   * local timer's deadline bounds the checkpoints until the core has serviced it.
   */
  attachCore(core: number, retired: () => number, deadline: () => number): void {
    if (this.mode === TIME_ICOUNT) this.retired = retired;
    else this.coreSlot = holdSlot(core);
    this.ownDeadline = deadline;
  }

  /** Real time, on a core's thread: whether it runs (clock reads refresh its hold) or sleeps. */
  awake(on: boolean): void {
    this.selfHold = on ? this.coreSlot : -1;
  }

  /** The core holding the turn starts counting from the machine's time. */
  beginTurn(): void {
    this.turnBase = this.f[F_VTIME];
    this.turnRetired = this.retired!();
  }

  /** Publish the turn holder's time (at the turn's end, and before a device access). */
  publish(): void {
    if (this.retired !== null) this.f[F_VTIME] = this.nowNs();
  }

  /** The I/O thread moves an idle machine's time forward to its next event. */
  jumpTo(ns: number): void {
    if (ns > this.f[F_VTIME]) this.f[F_VTIME] = ns;
  }

  /** -icount: the instant a core next needs a turn for (Infinity: only an interrupt wakes it) */
  coreNeed(core: number): number {
    return this.f[holdSlot(core)];
  }

  /**
   * -icount, on the core holding the turn: how many instructions it may run. The quantum, or,
   * when the I/O thread limited the round (a virtual LAN's window), its share of what is left:
   * the time to the limit split evenly among itself and the runnable cores after it, so every
   * core runs in every window. 0: the round has reached its limit.
   */
  turnBudget(core: number, ncores: number, quantum: number): number {
    const limit = this.f[F_ROUND_LIMIT];
    if (limit === Infinity) return quantum;
    const now = this.f[F_VTIME];
    if (now >= limit) return 0;
    let runnable = 1;
    for (let j = core + 1; j < ncores; j++) if (this.f[holdSlot(j)] <= now) runnable++;
    return Math.min(quantum, Math.ceil((limit - now) / (runnable * this.nsPerInsn)));
  }

  /** -icount, on the I/O thread: the next round ends at `ns` (Infinity: after a quantum per core) */
  limitRound(ns: number): void {
    this.f[F_ROUND_LIMIT] = ns;
  }

  /** -icount: instructions per turn */
  quantum(): number {
    return Atomics.load(this.ctl, G_QUANTUM);
  }
}

/** The host-clock base is a signed 64-bit count (a restored machine's base may precede the host's zero). */
function storeBase(ctl: Int32Array, base: bigint): void {
  const u = BigInt.asUintN(64, base);
  Atomics.store(ctl, G_CLOCK_BASE_LO, Number(u & 0xffffffffn) | 0);
  Atomics.store(ctl, G_CLOCK_BASE_HI, Number(u >> 32n) | 0);
}

function loadBase(ctl: Int32Array): bigint {
  const lo = BigInt(Atomics.load(ctl, G_CLOCK_BASE_LO) >>> 0);
  const hi = BigInt(Atomics.load(ctl, G_CLOCK_BASE_HI) >>> 0);
  return BigInt.asIntN(64, (hi << 32n) | lo);
}

/**
 * Make guest time read `ns` from now on (restoring a snapshot taken at that instant), with
 * nothing stolen and every participant's hold at `ns`. Call with every core parked; each
 * thread's Clock then calls resync().
 */
export function restartGuestTime(ctl: Int32Array, ns: number): void {
  const f = f64(ctl);
  if (Atomics.load(ctl, G_TIME_MODE) === TIME_ICOUNT) {
    f[F_VTIME] = ns;
  } else {
    storeBase(ctl, process.hrtime.bigint() - BigInt(Math.round(ns)));
    f[F_STOLEN] = 0;
    f[F_STOLEN_AT] = 0;
    f[F_FLOOR] = ns;
  }
  const held = (v: number) => (v === Infinity ? Infinity : ns);
  f[F_IO_HOLD] = held(f[F_IO_HOLD]);
  for (let i = 0; i < ctl[G_NCORES]; i++) f[holdSlot(i)] = held(f[holdSlot(i)]);
}

const perThread = new WeakMap<Int32Array, Clock>();

/** This thread's Clock for a machine (one per thread and control block). */
export function clockFor(ctl: Int32Array): Clock {
  let c = perThread.get(ctl);
  if (c === undefined) {
    c = new Clock(ctl);
    perThread.set(ctl, c);
  }
  return c;
}

/**
 * Make `c` this thread's Clock for a machine: a worker hosting several cores switches to the
 * Clock of the core it runs, so code that reads time through clockFor (interrupt delivery,
 * the MSRs) acts for that core.
 */
export function useClock(ctl: Int32Array, c: Clock): void {
  perThread.set(ctl, c);
}

/** Write the time model into a fresh control block (before any Clock is made for it). */
export function configureTime(ctl: Int32Array, model: TimeModel): void {
  const f = f64(ctl);
  f[F_IO_HOLD] = Infinity;
  f[F_ROUND_LIMIT] = Infinity;
  for (let i = 0; i < ctl[G_NCORES]; i++) f[holdSlot(i)] = Infinity;
  if (model.mode === 'icount') {
    if (!Number.isInteger(model.shift) || model.shift < 0 || model.shift > 10) throw new RangeError('icount shift must be an integer from 0 to 10');
    ctl[G_TIME_MODE] = TIME_ICOUNT;
    ctl[G_ICOUNT_SHIFT] = model.shift;
    if (!Number.isInteger(model.quantum) || model.quantum < 100) throw new RangeError('icount quantum must be an integer of at least 100 instructions');
    ctl[G_QUANTUM] = model.quantum;
  } else {
    ctl[G_TIME_MODE] = TIME_REAL;
  }
}
