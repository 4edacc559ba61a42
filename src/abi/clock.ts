// One notion of time for every thread: a process-wide monotonic clock (CLOCK_MONOTONIC via
// process.hrtime, identical in all workers) offset by the boot instant stored in the control
// block. Guest-visible clocks (TSC, LAPIC timer, HPET, PIT, RTC) all derive from `nowNs`.
// Kept behind this one module so a deterministic (instruction-count) clock can replace it.

import { G_CLOCK_BASE_HI, G_CLOCK_BASE_LO } from './control-block.js';

/** Guest TSC frequency: 1 GHz, so one TSC tick is one nanosecond of guest time. */
export const TSC_HZ = 1_000_000_000;
/** LAPIC timer input clock before its divider (QEMU's APIC also counts at 1 GHz). */
export const APIC_TIMER_HZ = 1_000_000_000;
/** HPET main counter frequency (period 10 ns = 10,000,000 fs, as QEMU's HPET). */
export const HPET_HZ = 100_000_000;
/** 8254 PIT input clock. */
export const PIT_HZ = 1_193_182;

export class Clock {
  private base: bigint;
  constructor(ctl: Int32Array) {
    let lo = Atomics.load(ctl, G_CLOCK_BASE_LO);
    let hi = Atomics.load(ctl, G_CLOCK_BASE_HI);
    if (lo === 0 && hi === 0) {
      const now = process.hrtime.bigint();
      lo = Number(now & 0xffffffffn) | 0;
      hi = Number(now >> 32n) | 0;
      Atomics.store(ctl, G_CLOCK_BASE_LO, lo);
      Atomics.store(ctl, G_CLOCK_BASE_HI, hi);
    }
    this.base = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  }
  /** nanoseconds since the machine was created (exact Number until ~104 days) */
  nowNs(): number {
    return Number(process.hrtime.bigint() - this.base);
  }
}
