// Local APIC (xAPIC, Intel SDM vol. 3 ch. 10/11), one per core, living in that core's worker.
//
// Registers are private to the owning core. Other threads reach it only through the shared
// words of its control block: they set bits in C_IRR/C_TMR and P_* bits in C_PENDING
// (src/abi/interrupt-delivery.ts); this object folds them in when the CPU polls.
//
// How the CPU uses it (all calls from the owning worker):
//   mmioRead(off, size) / mmioWrite(off, size, v)  accesses to the 4 KiB window at baseAddress()
//                                  (route them here only while isGloballyEnabled()).
//   pollInterrupt()                highest deliverable fixed vector (respecting PPR and the
//                                  software-enable bit), or -1. Call it when C_PENDING is nonzero
//                                  or nextDeadlineNs() has passed; it merges the shared IRR and
//                                  runs expired timers. It owns P_IRR: P_IRR stays set exactly
//                                  while a deliverable vector waits, so a CPU with IF=0 must
//                                  check IF before polling, and needs no poll after STI unless
//                                  P_IRR is set.
//   acknowledge(v)                 the CPU is taking vector v (IRR -> ISR).
//   getTpr()/setTpr(v)             the 8-bit TPR; readCr8()/writeCr8(v) do CR8 = TPR >> 4.
//   readApicBase()/readApicBaseHi()/writeApicBase(lo, hi)  IA32_APIC_BASE (MSR 0x1B); writeApicBase returns
//                                  false when the value must raise #GP (reserved bits, x2APIC).
//   setTscDeadline(ns)/getTscDeadline()  IA32_TSC_DEADLINE (MSR 0x6E0) in guest TSC ticks,
//                                  which are clock nanoseconds (TSC_HZ = 1 GHz); a CPU that
//                                  offsets its TSC must convert.
//   nextDeadlineNs()               clock instant of the next local timer event, or Infinity;
//                                  a halted core sleeps on C_WAKE at most until then.
//   tick(nowNs)                    runs expired timers (pollInterrupt does this itself).
//   lint0ExtIntAccepted()          whether an 8259 ExtINT request (P_EXTINT) may be taken now.
//   reset()                        INIT: everything but the APIC ID and APIC_BASE to power-on.
//   applyFirmwareState()           what SeaBIOS leaves before QEMU's -kernel (BSP only).
// NMI, SMI, INIT, SIPI and ExtINT pending bits are consumed by the CPU, not here.

import {
  C_APIC_DFR, C_APIC_ENABLED, C_APIC_ID, C_APIC_LDR, C_IRR, C_PENDING, C_TMR, G_NCORES, P_IRR, coreBase,
} from '../abi/control-block.js';
import {
  DM_EXTINT, DM_FIXED, DM_INIT, DM_LOWEST, DM_NMI, DM_SIPI, DM_SMI, deliver, postToCore, resolveDestination,
} from '../abi/interrupt-delivery.js';
import type { Snapshotable } from './types.js';

export interface LapicHooks {
  /** a level-triggered vector was EOI'd: the IOAPIC must clear remote IRR (MB_EOI mailbox) */
  onLevelEoi(vector: number): void;
}

export interface LapicClock {
  nowNs(): number;
}

// Register offsets in the 4 KiB window.
export const LAPIC_ID = 0x020;
export const LAPIC_VERSION = 0x030;
export const LAPIC_TPR = 0x080;
export const LAPIC_APR = 0x090;
export const LAPIC_PPR = 0x0a0;
export const LAPIC_EOI = 0x0b0;
export const LAPIC_RRD = 0x0c0;
export const LAPIC_LDR = 0x0d0;
export const LAPIC_DFR = 0x0e0;
export const LAPIC_SVR = 0x0f0;
export const LAPIC_ISR = 0x100;
export const LAPIC_TMR = 0x180;
export const LAPIC_IRR = 0x200;
export const LAPIC_ESR = 0x280;
export const LAPIC_ICR_LO = 0x300;
export const LAPIC_ICR_HI = 0x310;
export const LAPIC_LVT_TIMER = 0x320;
export const LAPIC_LVT_THERMAL = 0x330;
export const LAPIC_LVT_PERF = 0x340;
export const LAPIC_LVT_LINT0 = 0x350;
export const LAPIC_LVT_LINT1 = 0x360;
export const LAPIC_LVT_ERROR = 0x370;
export const LAPIC_TIMER_INITIAL = 0x380;
export const LAPIC_TIMER_CURRENT = 0x390;
export const LAPIC_TIMER_DIVIDE = 0x3e0;

/** version 0x14 (integrated xAPIC), 6 LVT entries (max LVT index 5): the value QEMU shows */
export const LAPIC_VERSION_VALUE = 0x0005_0014;

// LVT indices (order of the registers from 0x320: timer, thermal, perf, LINT0, LINT1, error).
const LVT_TIMER = 0;
const LVT_LINT0 = 3;
const LVT_LINT1 = 4;
const LVT_ERROR = 5;
const LVT_COUNT = 6;
/** writable bits per LVT (SDM figure 10-8): vector, delivery mode, polarity, trigger, mask, timer mode */
const LVT_WRITE_MASK = [0x000700ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff];
const LVT_MASKED = 1 << 16;

export const TIMER_ONE_SHOT = 0;
export const TIMER_PERIODIC = 1;
export const TIMER_TSC_DEADLINE = 2;

// Error status bits.
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

// IA32_APIC_BASE bits.
const APIC_BASE_BSP = 1 << 8;
const APIC_BASE_X2APIC = 1 << 10;
const APIC_BASE_ENABLE = 1 << 11;
const DEFAULT_BASE = 0xfee0_0000;

const SVR_ENABLE = 1 << 8;
/** SVR bits 0-8 (bit 9 focus checking and bit 12 EOI-broadcast suppression are not offered) */
const SVR_WRITE_MASK = 0x1ff;
const ICR_LO_WRITE_MASK = 0x000c_cfff;

function highestBit(words: Uint32Array): number {
  for (let w = 7; w >= 0; w--) {
    const x = words[w];
    if (x !== 0) return w * 32 + 31 - Math.clz32(x);
  }
  return -1;
}

export interface LapicState {
  id: number;
  apicBase: number;
  tpr: number;
  ldr: number;
  dfr: number;
  svr: number;
  irr: number[];
  isr: number[];
  tmr: number[];
  esr: number;
  esrPending: number;
  icrLo: number;
  icrHi: number;
  lvt: number[];
  initialCount: number;
  divideConfig: number;
  timerStartNs: number;
  timerNextNs: number | null;
  tscDeadlineNs: number;
}

export class Lapic implements Snapshotable {
  private readonly base: number;
  private id: number;
  private apicBase: number;
  private tpr = 0;
  private ldr = 0;
  private dfr = -1;
  private svr = 0xff;
  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private esr = 0;
  private esrPending = 0;
  private icrLo = 0;
  private icrHi = 0;
  private readonly lvt: number[] = new Array<number>(LVT_COUNT).fill(LVT_MASKED);
  private initialCount = 0;
  private divideConfig = 0;
  private divisor = 2;
  /** instant at which the current count (or period) began counting down from initialCount */
  private timerStartNs = 0;
  /** next one-shot/periodic expiry, Infinity when not counting */
  private timerNextNs = Infinity;
  /** armed IA32_TSC_DEADLINE value (ns), 0 when disarmed */
  private tscDeadlineNs = 0;

  /** accesses that were ignored (bad size/alignment, reserved registers), for statistics */
  badAccesses = 0;
  /** IPIs sent from this core */
  ipisSent = 0;

  constructor(
    private readonly ctl: Int32Array,
    private readonly coreIndex: number,
    private readonly clock: LapicClock,
    private readonly hooks: LapicHooks,
  ) {
    this.base = coreBase(coreIndex);
    this.id = coreIndex & 0xff;
    this.apicBase = (DEFAULT_BASE | APIC_BASE_ENABLE | (coreIndex === 0 ? APIC_BASE_BSP : 0)) >>> 0;
    this.reset();
  }

  // ---------------------------------------------------------------- state the CPU asks about

  isGloballyEnabled(): boolean {
    return (this.apicBase & APIC_BASE_ENABLE) !== 0;
  }

  isSoftwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  /** physical address of the register window */
  baseAddress(): number {
    return this.apicBase - (this.apicBase % 4096);
  }

  isBsp(): boolean {
    return (this.apicBase & APIC_BASE_BSP) !== 0;
  }

  /** An ExtINT from the 8259 may be taken: LINT0 unmasked in ExtINT mode, or no APIC at all. */
  lint0ExtIntAccepted(): boolean {
    if (!this.isGloballyEnabled()) return true;
    const l = this.lvt[LVT_LINT0];
    return (l & LVT_MASKED) === 0 && ((l >>> 8) & 7) === DM_EXTINT;
  }

  // ---------------------------------------------------------------- MSRs and CR8

  /** IA32_APIC_BASE bits 31:0 */
  readApicBase(): number {
    return this.apicBase % 2 ** 32;
  }

  /** IA32_APIC_BASE bits 63:32 (base address bits 35:32; 0 unless the guest moved it) */
  readApicBaseHi(): number {
    return Math.floor(this.apicBase / 2 ** 32);
  }

  writeApicBase(lo: number, hi: number): boolean {
    lo >>>= 0;
    hi >>>= 0;
    // Reserved bits 0-7 and 9; x2APIC mode is not offered; physical addresses stop at 36 bits.
    if ((lo & 0x2ff) !== 0 || (lo & APIC_BASE_X2APIC) !== 0 || (hi & ~0xf) !== 0) return false;
    const wasEnabled = this.isGloballyEnabled();
    this.apicBase = hi * 2 ** 32 + lo;
    if (wasEnabled && !this.isGloballyEnabled()) {
      // Hardware disable: the APIC loses its state (SDM 10.4.3); it comes back in reset state.
      this.reset();
    }
    this.mirrorEnabled();
    return true;
  }

  getTpr(): number {
    return this.tpr;
  }

  setTpr(v: number): void {
    this.tpr = v & 0xff;
    this.refreshPending();
  }

  readCr8(): number {
    return this.tpr >>> 4;
  }

  writeCr8(v: number): void {
    this.setTpr((v & 0xf) << 4);
  }

  getTscDeadline(): number {
    return this.timerMode() === TIMER_TSC_DEADLINE ? this.tscDeadlineNs : 0;
  }

  setTscDeadline(ns: number): void {
    if (this.timerMode() !== TIMER_TSC_DEADLINE) return; // ignored outside TSC-deadline mode
    this.tscDeadlineNs = ns > 0 ? ns : 0;
    this.tick(this.clock.nowNs());
  }

  // ---------------------------------------------------------------- interrupt acceptance

  pollInterrupt(): number {
    const now = this.clock.nowNs();
    if (now >= this.timerNextNs || (this.tscDeadlineNs !== 0 && now >= this.tscDeadlineNs)) this.tick(now);
    return this.refreshPending();
  }

  acknowledge(vector: number): void {
    const w = vector >>> 5;
    const bit = 1 << (vector & 31);
    this.irr[w] &= ~bit;
    this.isr[w] |= bit;
    this.refreshPending();
  }

  /** processor priority (SDM 10.8.3.1) */
  ppr(): number {
    const isrv = Math.max(highestBit(this.isr), 0);
    return (this.tpr >>> 4) >= (isrv >>> 4) ? this.tpr : isrv & 0xf0;
  }

  /** arbitration priority (SDM 10.8.3.1 figure 10-15) */
  apr(): number {
    const isrv = Math.max(highestBit(this.isr), 0);
    const irrv = Math.max(highestBit(this.irr), 0);
    if ((this.tpr >>> 4) >= (irrv >>> 4) && (this.tpr >>> 4) > (isrv >>> 4)) return this.tpr;
    return Math.max(this.tpr & 0xf0, isrv & 0xf0, irrv & 0xf0);
  }

  private highestDeliverable(): number {
    if (!this.isSoftwareEnabled() || !this.isGloballyEnabled()) return -1;
    const v = highestBit(this.irr);
    if (v < 0) return -1;
    return (v & 0xf0) > (this.ppr() & 0xf0) ? v : -1;
  }

  /**
   * Fold the shared IRR into ours and make P_IRR say whether a deliverable vector waits.
   * P_IRR is cleared before the shared words are read, so a request that lands afterwards sets
   * it again and is never lost.
   */
  private refreshPending(): number {
    Atomics.and(this.ctl, this.base + C_PENDING, ~P_IRR);
    this.mergeShared();
    const v = this.highestDeliverable();
    if (v >= 0) Atomics.or(this.ctl, this.base + C_PENDING, P_IRR);
    return v;
  }

  private mergeShared(): void {
    const ctl = this.ctl;
    for (let w = 0; w < 8; w++) {
      const at = this.base + C_IRR + w;
      if (Atomics.load(ctl, at) === 0) continue;
      let bits = Atomics.exchange(ctl, at, 0) >>> 0;
      if (bits === 0) continue;
      const level = (Atomics.load(ctl, this.base + C_TMR + w) >>> 0) & bits;
      if (w === 0 && (bits & 0xffff) !== 0) {
        bits &= ~0xffff; // vectors 0-15 cannot be delivered
        this.signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
      }
      this.irr[w] |= bits;
      this.tmr[w] = ((this.tmr[w] & ~bits) | level) >>> 0;
    }
  }

  /** a locally generated interrupt (timer, error): edge-triggered into the private IRR */
  private raiseLocal(vector: number): void {
    if (vector < 16) {
      this.signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    const w = vector >>> 5;
    const bit = 1 << (vector & 31);
    this.irr[w] |= bit;
    this.tmr[w] &= ~bit;
    if (this.highestDeliverable() >= 0) Atomics.or(this.ctl, this.base + C_PENDING, P_IRR);
  }

  private signalError(bit: number): void {
    const had = this.esrPending;
    this.esrPending |= bit;
    const l = this.lvt[LVT_ERROR];
    // One error interrupt per new error; an illegal error vector does not recurse.
    if ((had & bit) === 0 && (l & LVT_MASKED) === 0 && (l & 0xff) >= 16) this.raiseLocal(l & 0xff);
  }

  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    const w = v >>> 5;
    const bit = 1 << (v & 31);
    this.isr[w] &= ~bit;
    if ((this.tmr[w] & bit) !== 0) this.hooks.onLevelEoi(v);
    this.refreshPending();
  }

  // ---------------------------------------------------------------- timer

  private timerMode(): number {
    return (this.lvt[LVT_TIMER] >>> 17) & 3;
  }

  nextDeadlineNs(): number {
    const l = this.lvt[LVT_TIMER];
    if ((l & LVT_MASKED) !== 0) return Infinity; // expiry would change nothing guest-visible now
    if (this.timerMode() === TIMER_TSC_DEADLINE) return this.tscDeadlineNs !== 0 ? this.tscDeadlineNs : Infinity;
    return this.timerNextNs;
  }

  tick(nowNs: number): void {
    const mode = this.timerMode();
    if (nowNs >= this.timerNextNs) {
      if (mode === TIMER_PERIODIC && this.initialCount !== 0) {
        const period = this.initialCount * this.divisor;
        const k = Math.floor((nowNs - this.timerStartNs) / period);
        this.timerStartNs += k * period; // whole periods: no drift however late we run
        this.timerNextNs = this.timerStartNs + period;
      } else {
        this.timerNextNs = Infinity;
      }
      this.fireTimer();
    }
    if (this.tscDeadlineNs !== 0 && nowNs >= this.tscDeadlineNs) {
      this.tscDeadlineNs = 0;
      if (mode === TIMER_TSC_DEADLINE) this.fireTimer();
    }
  }

  private fireTimer(): void {
    const l = this.lvt[LVT_TIMER];
    if ((l & LVT_MASKED) === 0) this.raiseLocal(l & 0xff);
  }

  private currentCount(now: number): number {
    this.tick(now);
    if (this.timerMode() === TIMER_TSC_DEADLINE || this.initialCount === 0 || this.timerNextNs === Infinity) return 0;
    const ticks = Math.floor((now - this.timerStartNs) / this.divisor);
    if (this.timerMode() === TIMER_PERIODIC) return this.initialCount - (ticks % this.initialCount);
    return ticks >= this.initialCount ? 0 : this.initialCount - ticks;
  }

  private writeInitialCount(v: number): void {
    const now = this.clock.nowNs();
    this.tick(now);
    if (this.timerMode() === TIMER_TSC_DEADLINE) return;
    this.initialCount = v >>> 0;
    this.timerStartNs = now;
    this.timerNextNs = this.initialCount === 0 ? Infinity : now + this.initialCount * this.divisor;
  }

  private writeDivide(v: number): void {
    const now = this.clock.nowNs();
    const remaining = this.currentCount(now);
    this.divideConfig = v & 0xb;
    const code = ((this.divideConfig >>> 1) & 4) | (this.divideConfig & 3);
    this.divisor = code === 7 ? 1 : 2 << code;
    if (this.timerNextNs !== Infinity && remaining > 0) {
      // keep the count continuous: what remains now runs at the new rate
      this.timerStartNs = now - (this.initialCount - remaining) * this.divisor;
      this.timerNextNs = now + remaining * this.divisor;
    }
  }

  private writeLvtTimer(v: number): void {
    const now = this.clock.nowNs();
    this.tick(now); // expiries before this write happen under the old settings
    const oldMode = this.timerMode();
    this.lvt[LVT_TIMER] = this.lvtValueForWrite(LVT_TIMER, v);
    const newMode = this.timerMode();
    if (oldMode !== newMode && (oldMode === TIMER_TSC_DEADLINE || newMode === TIMER_TSC_DEADLINE)) {
      // switching to or from TSC-deadline disarms the timer (SDM 10.5.4.1)
      this.initialCount = 0;
      this.timerNextNs = Infinity;
      this.tscDeadlineNs = 0;
    }
  }

  private lvtValueForWrite(index: number, v: number): number {
    let val = v & LVT_WRITE_MASK[index];
    if (!this.isSoftwareEnabled()) val |= LVT_MASKED; // cannot unmask while software-disabled
    if (index === LVT_LINT0 || index === LVT_LINT1) val |= this.lvt[index] & (1 << 14); // remote IRR is read-only
    return val;
  }

  // ---------------------------------------------------------------- IPIs

  private sendIpi(): void {
    const lo = this.icrLo;
    const vector = lo & 0xff;
    const mode = (lo >>> 8) & 7;
    const logical = (lo & (1 << 11)) !== 0;
    const assert = (lo & (1 << 14)) !== 0;
    const levelTrig = (lo & (1 << 15)) !== 0;
    const shorthand = (lo >>> 18) & 3;
    const dest = (this.icrHi >>> 24) & 0xff;

    // INIT level de-assert only synchronised arbitration IDs on old parts: nothing to do.
    if (mode === DM_INIT && levelTrig && !assert) return;
    if (mode === 3 || mode === DM_EXTINT) {
      this.badAccesses++; // reserved / not an IPI type
      return;
    }
    if ((mode === DM_FIXED || mode === DM_LOWEST) && vector < 16) {
      this.signalError(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    this.ipisSent++;
    const ctl = this.ctl;
    switch (shorthand) {
      case 0:
        deliver(ctl, dest, logical, mode, vector, false);
        return;
      case 1: // self: only fixed interrupts make sense
        if (mode === DM_FIXED) postToCore(ctl, this.coreIndex, mode, vector, false);
        return;
      case 2:
      case 3: {
        const n = ctl[G_NCORES];
        const targets: number[] = [];
        for (let c = 0; c < n; c++) if (shorthand === 2 || c !== this.coreIndex) targets.push(c);
        if (mode === DM_LOWEST) {
          const t = targets.find((c) => Atomics.load(ctl, coreBase(c) + C_APIC_ENABLED) !== 0) ?? targets[0];
          if (t !== undefined) postToCore(ctl, t, mode, vector, false);
          return;
        }
        for (const t of targets) postToCore(ctl, t, mode, vector, false);
        return;
      }
    }
  }

  /** cores a destination would reach (used by tests and diagnostics) */
  resolve(dest: number, logical: boolean): number[] {
    return resolveDestination(this.ctl, dest, logical);
  }

  // ---------------------------------------------------------------- MMIO

  mmioRead(off: number, size: number): number {
    if (!this.isGloballyEnabled()) return size === 4 ? 0xffffffff : (2 ** (8 * size)) - 1;
    const slot = off & 0xff0;
    const inSlot = off & 0xf;
    if (inSlot + size > 4) {
      this.badAccesses++;
      return 0; // only the first dword of each 16-byte slot is a register
    }
    const v = this.readRegister(slot) >>> 0;
    if (size === 4) return v;
    return (v >>> (inSlot * 8)) & ((1 << (size * 8)) - 1);
  }

  mmioWrite(off: number, size: number, value: number): void {
    if (!this.isGloballyEnabled()) return;
    if (size !== 4 || (off & 0xf) !== 0) {
      this.badAccesses++; // registers are written as aligned dwords only
      return;
    }
    this.writeRegister(off & 0xff0, value >>> 0);
  }

  private readRegister(slot: number): number {
    switch (slot) {
      case LAPIC_ID: return this.id << 24;
      case LAPIC_VERSION: return LAPIC_VERSION_VALUE;
      case LAPIC_TPR: return this.tpr;
      case LAPIC_APR: this.mergeShared(); return this.apr();
      case LAPIC_PPR: return this.ppr();
      case LAPIC_EOI: return 0;
      case LAPIC_RRD: return 0;
      case LAPIC_LDR: return this.ldr;
      case LAPIC_DFR: return this.dfr;
      case LAPIC_SVR: return this.svr;
      case LAPIC_ESR: return this.esr;
      case LAPIC_ICR_LO: return this.icrLo; // delivery status reads 0: we deliver synchronously
      case LAPIC_ICR_HI: return this.icrHi;
      case LAPIC_TIMER_INITIAL: return this.initialCount;
      case LAPIC_TIMER_CURRENT: return this.currentCount(this.clock.nowNs());
      case LAPIC_TIMER_DIVIDE: return this.divideConfig;
    }
    if (slot >= LAPIC_ISR && slot < LAPIC_ISR + 0x80) return this.isr[(slot - LAPIC_ISR) >>> 4];
    if (slot >= LAPIC_TMR && slot < LAPIC_TMR + 0x80) {
      this.mergeShared();
      return this.tmr[(slot - LAPIC_TMR) >>> 4];
    }
    if (slot >= LAPIC_IRR && slot < LAPIC_IRR + 0x80) {
      this.mergeShared();
      return this.irr[(slot - LAPIC_IRR) >>> 4];
    }
    if (slot >= LAPIC_LVT_TIMER && slot <= LAPIC_LVT_ERROR) {
      if (slot === LAPIC_LVT_TIMER) this.tick(this.clock.nowNs());
      return this.lvt[(slot - LAPIC_LVT_TIMER) >>> 4];
    }
    this.badAccesses++;
    this.signalError(ESR_ILLEGAL_REGISTER);
    return 0;
  }

  private writeRegister(slot: number, v: number): void {
    switch (slot) {
      case LAPIC_ID:
        this.id = (v >>> 24) & 0xff;
        Atomics.store(this.ctl, this.base + C_APIC_ID, this.id);
        return;
      case LAPIC_TPR: this.setTpr(v); return;
      case LAPIC_EOI: this.eoi(); return;
      case LAPIC_LDR:
        this.ldr = (v & 0xff000000) | 0;
        Atomics.store(this.ctl, this.base + C_APIC_LDR, this.ldr);
        return;
      case LAPIC_DFR:
        this.dfr = (v & 0xf0000000) | 0x0fffffff;
        Atomics.store(this.ctl, this.base + C_APIC_DFR, this.dfr);
        return;
      case LAPIC_SVR: this.writeSvr(v); return;
      case LAPIC_ESR:
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case LAPIC_ICR_LO:
        this.icrLo = v & ICR_LO_WRITE_MASK;
        this.sendIpi();
        return;
      case LAPIC_ICR_HI: this.icrHi = (v & 0xff000000) >>> 0; return;
      case LAPIC_LVT_TIMER: this.writeLvtTimer(v); return;
      case LAPIC_TIMER_INITIAL: this.writeInitialCount(v); return;
      case LAPIC_TIMER_DIVIDE: this.writeDivide(v); return;
      case LAPIC_VERSION: case LAPIC_APR: case LAPIC_PPR: case LAPIC_RRD: case LAPIC_TIMER_CURRENT:
        return; // read-only
    }
    if (slot > LAPIC_LVT_TIMER && slot <= LAPIC_LVT_ERROR) {
      const i = (slot - LAPIC_LVT_TIMER) >>> 4;
      this.lvt[i] = this.lvtValueForWrite(i, v);
      return;
    }
    if (slot >= LAPIC_ISR && slot < LAPIC_IRR + 0x80) return; // ISR/TMR/IRR are read-only
    this.badAccesses++;
    this.signalError(ESR_ILLEGAL_REGISTER);
  }

  private writeSvr(v: number): void {
    this.svr = v & SVR_WRITE_MASK;
    if (!this.isSoftwareEnabled()) {
      this.tick(this.clock.nowNs());
      for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] |= LVT_MASKED;
    }
    this.mirrorEnabled();
    this.refreshPending();
  }

  private mirrorEnabled(): void {
    Atomics.store(this.ctl, this.base + C_APIC_ENABLED, this.isSoftwareEnabled() && this.isGloballyEnabled() ? 1 : 0);
  }

  // ---------------------------------------------------------------- reset and firmware

  /** INIT (and power-on) state: SDM 10.4.7.1. The APIC ID and IA32_APIC_BASE survive. */
  reset(): void {
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = -1;
    this.svr = 0xff;
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.esr = 0;
    this.esrPending = 0;
    this.icrLo = 0;
    this.icrHi = 0;
    this.lvt.fill(LVT_MASKED);
    this.initialCount = 0;
    this.divideConfig = 0;
    this.divisor = 2;
    this.timerStartNs = 0;
    this.timerNextNs = Infinity;
    this.tscDeadlineNs = 0;
    const ctl = this.ctl;
    for (let w = 0; w < 8; w++) {
      Atomics.store(ctl, this.base + C_IRR + w, 0);
      Atomics.store(ctl, this.base + C_TMR + w, 0);
    }
    Atomics.and(ctl, this.base + C_PENDING, ~P_IRR);
    Atomics.store(ctl, this.base + C_APIC_ID, this.id);
    Atomics.store(ctl, this.base + C_APIC_LDR, this.ldr);
    Atomics.store(ctl, this.base + C_APIC_DFR, this.dfr);
    this.mirrorEnabled();
  }

  /**
   * The BSP's APIC as SeaBIOS hands it to a -kernel guest under QEMU 7.2 (measured): software
   * enabled with spurious vector 0xFF, LINT0 = ExtINT (so the 8259 reaches the core), LINT1 =
   * NMI, both level-flagged as the firmware writes them. APs keep their reset state (the OS
   * sends them INIT anyway).
   */
  applyFirmwareState(): void {
    if (!this.isBsp()) return;
    this.svr = 0x1ff;
    this.lvt[LVT_LINT0] = 0x8700;
    this.lvt[LVT_LINT1] = 0x8400;
    this.mirrorEnabled();
  }

  /**
   * The BSP's APIC at power-on under QEMU 7.2 (-bios): LINT0 unmasked in ExtINT mode so the 8259
   * reaches the core before the firmware programs the APIC. The SDM has every LVT entry masked
   * at reset; QEMU deliberately departs from it (its apic_reset_common) and firmware relies on it.
   */
  applyPowerOnBspState(): void {
    if (!this.isBsp()) return;
    this.lvt[LVT_LINT0] = 0x700;
  }

  // ---------------------------------------------------------------- snapshots

  saveState(): LapicState {
    return {
      id: this.id,
      apicBase: this.apicBase,
      tpr: this.tpr,
      ldr: this.ldr,
      dfr: this.dfr,
      svr: this.svr,
      irr: [...this.irr],
      isr: [...this.isr],
      tmr: [...this.tmr],
      esr: this.esr,
      esrPending: this.esrPending,
      icrLo: this.icrLo,
      icrHi: this.icrHi,
      lvt: [...this.lvt],
      initialCount: this.initialCount,
      divideConfig: this.divideConfig,
      timerStartNs: this.timerStartNs,
      timerNextNs: this.timerNextNs === Infinity ? null : this.timerNextNs,
      tscDeadlineNs: this.tscDeadlineNs,
    };
  }

  restoreState(state: unknown): void {
    const s = state as LapicState;
    if (!s || !Array.isArray(s.irr) || s.irr.length !== 8 || !Array.isArray(s.lvt) || s.lvt.length !== LVT_COUNT) {
      throw new Error('Lapic.restoreState: not a LAPIC snapshot');
    }
    this.id = s.id & 0xff;
    this.apicBase = s.apicBase;
    this.tpr = s.tpr;
    this.ldr = s.ldr;
    this.dfr = s.dfr;
    this.svr = s.svr;
    this.irr.set(s.irr);
    this.isr.set(s.isr);
    this.tmr.set(s.tmr);
    this.esr = s.esr;
    this.esrPending = s.esrPending;
    this.icrLo = s.icrLo;
    this.icrHi = s.icrHi;
    for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] = s.lvt[i];
    this.initialCount = s.initialCount;
    this.divideConfig = s.divideConfig;
    const code = ((s.divideConfig >>> 1) & 4) | (s.divideConfig & 3);
    this.divisor = code === 7 ? 1 : 2 << code;
    this.timerStartNs = s.timerStartNs;
    this.timerNextNs = s.timerNextNs === null ? Infinity : s.timerNextNs;
    this.tscDeadlineNs = s.tscDeadlineNs;
    const ctl = this.ctl;
    Atomics.store(ctl, this.base + C_APIC_ID, this.id);
    Atomics.store(ctl, this.base + C_APIC_LDR, this.ldr);
    Atomics.store(ctl, this.base + C_APIC_DFR, this.dfr);
    this.mirrorEnabled();
    this.refreshPending();
  }
}

// Delivery modes accepted in LVT entries and ICRs, re-exported for the CPU's convenience.
export { DM_FIXED, DM_LOWEST, DM_SMI, DM_NMI, DM_INIT, DM_SIPI, DM_EXTINT };
