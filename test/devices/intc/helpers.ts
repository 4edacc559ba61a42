// Shared helpers for the interrupt-controller tests: a CPU's side of the ExtINT handshake, and
// an interrupt line that records when it rose.
import { C_EXTINT_VECTOR, C_IRR, C_PENDING, C_TMR, P_EXTINT, coreBase } from '../../../src/abi/control-block.js';
import type { ManualTimerService } from '../../../src/devices/timer-service.js';

/** an interrupt line that notes the (manual) time of every rising edge */
export class RecordingLine {
  level = false;
  rises: number[] = [];
  constructor(private readonly timers: ManualTimerService) {}
  setLevel(l: boolean): void {
    if (l && !this.level) this.rises.push(this.timers.nowNs());
    this.level = l;
  }
}

/** what a CPU does to take an ExtINT: read the vector, then clear P_EXTINT atomically */
export function takeExtInt(ctl: Int32Array, core = 0): number {
  const b = coreBase(core);
  const v = Atomics.load(ctl, b + C_EXTINT_VECTOR);
  const old = Atomics.and(ctl, b + C_PENDING, ~P_EXTINT);
  return (old & P_EXTINT) !== 0 ? v : -1;
}

export function extIntPosted(ctl: Int32Array, core = 0): number {
  const b = coreBase(core);
  return (Atomics.load(ctl, b + C_PENDING) & P_EXTINT) !== 0 ? Atomics.load(ctl, b + C_EXTINT_VECTOR) : -1;
}

/** vectors set in a core's shared IRR, clearing them (as a LAPIC merge would) */
export function drainIrr(ctl: Int32Array, core: number): { vector: number; level: boolean }[] {
  const b = coreBase(core);
  const out: { vector: number; level: boolean }[] = [];
  for (let w = 0; w < 8; w++) {
    const bits = Atomics.exchange(ctl, b + C_IRR + w, 0) >>> 0;
    const lvl = Atomics.load(ctl, b + C_TMR + w) >>> 0;
    for (let i = 0; i < 32; i++) if (bits & (1 << i)) out.push({ vector: w * 32 + i, level: (lvl & (1 << i)) !== 0 });
  }
  Atomics.store(ctl, b + C_PENDING, 0);
  return out;
}
