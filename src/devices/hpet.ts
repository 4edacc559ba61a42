// High Precision Event Timer (IA-PC HPET specification 1.0a), MMIO at 0xFED00000, on the I/O
// thread. Identifies itself as QEMU 7.2's `pc` HPET does (measured): revision 1, 3 timers,
// 64-bit counter, legacy-replacement capable, vendor 0x8086, period 10 ns (100 MHz); every
// timer is periodic- and 64-bit-capable and may route only to GSI 2 (route capability 0x4).
//
// The main counter is derived from the machine clock while enabled and frozen while disabled.
// Comparators match when the counter passes them (in 32-bit mode, modulo 2^32, so a one-shot
// 32-bit timer fires again after each wrap). Periodic timers add their period to the
// comparator (the "accumulator"), skipping whole periods a late callback missed. Writing the
// comparator of a periodic timer sets the period, and also the comparator itself when
// Tn_VAL_SET_CNF is set (that bit clears itself after the write, as in QEMU).
//
// Differences from QEMU 7.2, following the specification: a route outside the capability
// mask is not accepted (the field reads back unchanged); FSB delivery is not offered.
// Legacy replacement: timer 0 drives ISA IRQ0 and timer 1 IRQ8, and the PIT and RTC must be
// disconnected from those lines (the `onLegacyReplacement` hook tells the machine when).

import { HPET_HZ } from '../abi/clock.js';
import { HPET_BASE, HPET_SIZE } from '../abi/memory-map.js';
import type { DecodeRanges, IrqController, MmioDevice, Snapshotable, TimerService } from './types.js';

/** the main counter's registers (low, high half) */
export const HPET_COUNTER = 0x0f0;
export const HPET_MMIO: DecodeRanges = { mmio: [[HPET_BASE, HPET_SIZE]] };
const MASK64 = (1n << 64n) - 1n;
const MASK32 = 0xffff_ffffn;
export const NS_PER_TICK = 1e9 / HPET_HZ; // 10
/** femtoseconds per counter tick */
export const HPET_PERIOD_FS = 10_000_000;

const CFG_ENABLE = 1;
const CFG_LEGACY = 2;

const TN_INT_TYPE_LEVEL = 1 << 1;
const TN_INT_ENB = 1 << 2;
const TN_TYPE_PERIODIC = 1 << 3;
const TN_PER_INT_CAP = 1 << 4;
const TN_SIZE_CAP = 1 << 5;
const TN_VAL_SET = 1 << 6;
const TN_32BIT = 1 << 8;
const TN_ROUTE_SHIFT = 9;
const TN_ROUTE_MASK = 0x1f << TN_ROUTE_SHIFT;
const TN_WRITE_MASK = TN_INT_TYPE_LEVEL | TN_INT_ENB | TN_TYPE_PERIODIC | TN_VAL_SET | TN_32BIT | TN_ROUTE_MASK;

export interface HpetOptions {
  /** number of comparators (3 as QEMU; 3..32) */
  timers?: number;
  /** GSIs each timer may route to (bit n = GSI n); QEMU's `pc` offers 0x4 */
  routeCap?: number;
  /** legacy replacement switched on/off: disconnect/reconnect the PIT (IRQ0) and RTC (IRQ8) */
  onLegacyReplacement?: (on: boolean) => void;
  /** the main counter's function of time changed (enabled, base, instant): cores compute reads from it */
  onCounterChange?: (on: boolean, base: bigint, sinceNs: number) => void;
}

interface TimerState {
  config: number;
  cmp: string;
  period: string;
  last: string;
  lineHigh: boolean;
  lineIrq: number;
}

export interface HpetState {
  config: number;
  isr: number;
  counterBase: string;
  enableNs: number;
  timers: TimerState[];
}

class Comparator {
  config = TN_PER_INT_CAP | TN_SIZE_CAP;
  cmp = MASK64;
  period = 0n;
  /** counter value up to which matches have been processed */
  last = 0n;
  /** the interrupt line this timer currently holds high (level mode), or -1 */
  lineIrq = -1;
  lineHigh = false;

  width(): bigint {
    return (this.config & TN_32BIT) !== 0 ? MASK32 : MASK64;
  }
}

export class Hpet implements MmioDevice, Snapshotable {
  readonly name = 'hpet';
  private config = 0;
  private isr = 0;
  /** counter value at enableNs (while enabled) or the frozen value (while disabled) */
  private counterBase = 0n;
  private enableNs = 0;
  private readonly t: Comparator[];
  private readonly routeCap: number;
  private lastCmpLowWrite = -1;
  /** interrupts delivered; accesses ignored (bad size) */
  fired = 0;
  badAccesses = 0;

  constructor(
    private readonly timers: TimerService,
    private readonly irq: IrqController,
    private readonly opts: HpetOptions = {},
  ) {
    const n = opts.timers ?? 3;
    if (!(n >= 3 && n <= 32)) throw new Error(`Hpet: ${n} timers (3..32 allowed)`);
    this.routeCap = (opts.routeCap ?? 0x4) >>> 0;
    this.t = Array.from({ length: n }, () => new Comparator());
  }

  reset(): void {
    this.setConfig(0);
    this.config = 0;
    this.isr = 0;
    this.counterBase = 0n;
    for (const c of this.t) {
      this.setLine(c, -1, false);
      Object.assign(c, new Comparator());
    }
    this.counterChanged();
    this.schedule();
  }

  private enabled(): boolean {
    return (this.config & CFG_ENABLE) !== 0;
  }

  private counterChanged(): void {
    this.opts.onCounterChange?.(this.enabled(), this.counterBase, this.enableNs);
  }

  /** main counter now */
  counter(now = this.timers.nowNs()): bigint {
    if (!this.enabled()) return this.counterBase;
    return (this.counterBase + BigInt(Math.floor((now - this.enableNs) / NS_PER_TICK))) & MASK64;
  }

  // ---------------------------------------------------------------- registers

  mmioRead(offset: number, size: number): number {
    const now = this.timers.nowNs();
    this.lastCmpLowWrite = -1;
    this.process(now);
    const v = this.readDword(offset & 0x3fc, now);
    if (size === 4) return v >>> 0;
    return (v >>> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1);
  }

  mmioWrite(offset: number, size: number, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) {
      this.badAccesses++; // the specification allows 32- and 64-bit accesses only
      return;
    }
    const now = this.timers.nowNs();
    this.process(now);
    this.writeDword(offset & 0x3fc, value >>> 0, now);
    this.schedule();
  }

  /** a 64-bit read: both halves at one instant (the main counter cannot tear between them) */
  mmioRead64(offset: number): bigint {
    if ((offset & 7) !== 0) {
      this.badAccesses++;
      return 0n;
    }
    const now = this.timers.nowNs();
    this.lastCmpLowWrite = -1;
    this.process(now);
    const lo = this.readDword(offset & 0x3f8, now) >>> 0;
    return (BigInt(this.readDword((offset & 0x3f8) + 4, now) >>> 0) << 32n) | BigInt(lo);
  }

  /** a 64-bit write: one register update (a comparator written with TN_VAL_SET takes both halves) */
  mmioWrite64(offset: number, value: bigint): void {
    if ((offset & 7) !== 0) {
      this.badAccesses++;
      return;
    }
    const now = this.timers.nowNs();
    this.process(now);
    this.lastCmpLowWrite = -1;
    this.writeDword(offset & 0x3f8, Number(value & MASK32), now);
    this.writeDword((offset & 0x3f8) + 4, Number((value >> 32n) & MASK32), now);
    this.schedule();
  }

  private capabilities(): number {
    return 0x01 | ((this.t.length - 1) << 8) | (1 << 13) | (1 << 15) | (0x8086 << 16);
  }

  private readDword(off: number, now: number): number {
    switch (off) {
      case 0x000: return this.capabilities();
      case 0x004: return HPET_PERIOD_FS;
      case 0x010: return this.config;
      case 0x020: return this.isr;
      case 0x0f0: return Number(this.counter(now) & MASK32);
      case 0x0f4: return Number(this.counter(now) >> 32n);
    }
    const c = this.timerAt(off);
    if (!c) return 0;
    switch (off & 0x1c) {
      case 0x00: return c.config;
      case 0x04: return this.routeCap;
      case 0x08: return Number(c.cmp & MASK32);
      case 0x0c: return Number(c.cmp >> 32n);
    }
    return 0; // FSB route registers: no FSB delivery
  }

  private timerAt(off: number): Comparator | undefined {
    if (off < 0x100) return undefined;
    return this.t[(off - 0x100) >>> 5];
  }

  private writeDword(off: number, v: number, now: number): void {
    const cmpLowFollow = this.lastCmpLowWrite;
    this.lastCmpLowWrite = -1;
    switch (off) {
      case 0x010: this.setConfig(v & 3, now); return;
      case 0x020: this.clearStatus(v); return;
      case 0x0f0:
      case 0x0f4: {
        const cur = this.counter(now);
        const next = off === 0x0f0 ? (cur & ~MASK32 & MASK64) | BigInt(v) : (cur & MASK32) | (BigInt(v) << 32n);
        this.counterBase = next;
        this.enableNs = now;
        for (const c of this.t) c.last = next; // comparisons restart from the new value
        this.counterChanged();
        return;
      }
    }
    const c = this.timerAt(off);
    if (!c) return;
    const index = this.t.indexOf(c);
    switch (off & 0x1c) {
      case 0x00: this.writeTimerConfig(c, v); return;
      case 0x08: {
        const setval = (c.config & TN_VAL_SET) !== 0;
        this.writeComparator(c, v, false, setval, now);
        if (setval) this.lastCmpLowWrite = index;
        c.config &= ~TN_VAL_SET;
        return;
      }
      case 0x0c: {
        // the high half of a 64-bit write that set the comparator belongs to it too
        this.writeComparator(c, v, true, cmpLowFollow === index, now);
        c.config &= ~TN_VAL_SET;
        return;
      }
    }
  }

  private writeComparator(c: Comparator, v: number, high: boolean, setValue: boolean, now: number): void {
    const w = c.width();
    if (high && w === MASK32) return;
    const periodic = (c.config & TN_TYPE_PERIODIC) !== 0;
    const put = (old: bigint) => (high ? (old & MASK32) | (BigInt(v) << 32n) : (old & ~MASK32 & MASK64) | BigInt(v)) & w;
    if (!periodic || setValue) c.cmp = put(c.cmp);
    if (periodic) c.period = put(c.period);
    c.last = this.counter(now) & w;
  }

  private writeTimerConfig(c: Comparator, v: number): void {
    const old = c.config;
    let next = (old & ~TN_WRITE_MASK) | (v & TN_WRITE_MASK);
    const route = (next & TN_ROUTE_MASK) >>> TN_ROUTE_SHIFT;
    if (((this.routeCap >>> route) & 1) === 0) next = (next & ~TN_ROUTE_MASK) | (old & TN_ROUTE_MASK);
    c.config = next | TN_PER_INT_CAP | TN_SIZE_CAP;
    if ((next & TN_32BIT) !== 0 && (old & TN_32BIT) === 0) {
      c.cmp &= MASK32;
      c.period &= MASK32;
      c.last &= MASK32;
    }
    // a level line stays up only while still level-triggered, enabled and routed the same way
    if (c.lineHigh && ((next & (TN_INT_TYPE_LEVEL | TN_INT_ENB)) !== (TN_INT_TYPE_LEVEL | TN_INT_ENB) || this.irqFor(c) !== c.lineIrq)) {
      this.setLine(c, -1, false);
    }
  }

  private setConfig(v: number, now = this.timers.nowNs()): void {
    const old = this.config;
    if ((old & CFG_ENABLE) !== 0 && (v & CFG_ENABLE) === 0) {
      this.counterBase = this.counter(now); // freeze
      for (const c of this.t) this.setLine(c, -1, false);
    }
    if ((old & CFG_ENABLE) === 0 && (v & CFG_ENABLE) !== 0) {
      this.enableNs = now;
      for (const c of this.t) c.last = this.counterBase & c.width();
    }
    this.config = v;
    if ((old ^ v) & CFG_ENABLE) this.counterChanged();
    if ((old ^ v) & CFG_LEGACY) {
      for (const c of this.t) if (c.lineHigh && this.irqFor(c) !== c.lineIrq) this.setLine(c, -1, false);
      this.opts.onLegacyReplacement?.((v & CFG_LEGACY) !== 0);
    }
  }

  private clearStatus(v: number): void {
    for (let i = 0; i < this.t.length; i++) {
      if ((v & this.isr & (1 << i)) === 0) continue;
      this.isr &= ~(1 << i);
      this.setLine(this.t[i], -1, false);
    }
  }

  // ---------------------------------------------------------------- matching and interrupts

  /** the ISA IRQ / GSI a timer drives now */
  private irqFor(c: Comparator): number {
    const i = this.t.indexOf(c);
    if ((this.config & CFG_LEGACY) !== 0 && i < 2) return i === 0 ? 0 : 8;
    return (c.config & TN_ROUTE_MASK) >>> TN_ROUTE_SHIFT;
  }

  private setLine(c: Comparator, irq: number, high: boolean): void {
    if (c.lineHigh && c.lineIrq >= 0 && (!high || irq !== c.lineIrq)) this.irq.setIrq(c.lineIrq, false);
    c.lineHigh = high;
    c.lineIrq = high ? irq : -1;
    if (high) this.irq.setIrq(irq, true);
  }

  /** run every comparator match between the last look and `now` */
  private process(now: number): void {
    if (!this.enabled()) return;
    const counter = this.counter(now);
    for (let i = 0; i < this.t.length; i++) {
      const c = this.t[i];
      const w = c.width();
      const cnt = counter & w;
      const elapsed = (cnt - c.last) & w;
      const dist = (c.cmp - c.last) & w;
      const wrapped = (counter - c.last) & MASK64;
      const matched = (dist !== 0n && dist <= elapsed) || (w === MASK32 && wrapped > MASK32);
      c.last = cnt;
      if (!matched) continue;
      if ((c.config & TN_TYPE_PERIODIC) !== 0 && c.period !== 0n) {
        const behind = (cnt - c.cmp) & w;
        c.cmp = (c.cmp + (behind / c.period + 1n) * c.period) & w;
      }
      this.fire(i, c);
    }
  }

  private fire(i: number, c: Comparator): void {
    if ((c.config & TN_INT_ENB) === 0) return;
    this.fired++;
    const irq = this.irqFor(c);
    if ((c.config & TN_INT_TYPE_LEVEL) !== 0) {
      this.isr |= 1 << i;
      this.setLine(c, irq, true);
    } else {
      this.irq.setIrq(irq, true);
      this.irq.setIrq(irq, false);
    }
  }

  /** arm one callback at the earliest next match */
  private schedule(): void {
    if (!this.enabled()) {
      this.timers.cancel('hpet');
      return;
    }
    const now = this.timers.nowNs();
    const counter = this.counter(now);
    let best = Infinity;
    for (const c of this.t) {
      const w = c.width();
      let ticks = (c.cmp - (counter & w)) & w;
      if (ticks === 0n) ticks = w + 1n; // equal now: next match after a full wrap
      if (ticks > 1n << 50n) continue; // centuries away
      const at = this.enableNs + Number(((counter - this.counterBase) & MASK64) + ticks) * NS_PER_TICK;
      if (at < best) best = at;
    }
    if (best === Infinity) this.timers.cancel('hpet');
    else this.timers.schedule('hpet', best, () => this.onTimer());
  }

  private onTimer(): void {
    this.process(this.timers.nowNs());
    this.schedule();
  }

  // ---------------------------------------------------------------- snapshots

  saveState(): HpetState {
    return {
      config: this.config,
      isr: this.isr,
      counterBase: this.counterBase.toString(),
      enableNs: this.enableNs,
      timers: this.t.map((c) => ({
        config: c.config, cmp: c.cmp.toString(), period: c.period.toString(), last: c.last.toString(),
        lineHigh: c.lineHigh, lineIrq: c.lineIrq,
      })),
    };
  }

  restoreState(state: unknown): void {
    const s = state as HpetState;
    if (!s || !Array.isArray(s.timers) || s.timers.length !== this.t.length) throw new Error('Hpet.restoreState: not an HPET snapshot');
    try {
      this.config = s.config;
      this.isr = s.isr;
      this.counterBase = BigInt(s.counterBase);
      this.enableNs = s.enableNs;
      s.timers.forEach((ts, i) => {
        const c = this.t[i];
        c.config = ts.config;
        c.cmp = BigInt(ts.cmp);
        c.period = BigInt(ts.period);
        c.last = BigInt(ts.last);
        c.lineHigh = ts.lineHigh;
        c.lineIrq = ts.lineIrq;
        if (c.lineHigh) this.irq.setIrq(c.lineIrq, true);
      });
    } catch (e) {
      throw new Error(`Hpet.restoreState: bad snapshot (${(e as Error).message})`);
    }
    this.counterChanged();
    this.schedule();
  }
}
