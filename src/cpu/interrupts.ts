// Exception and interrupt delivery (real mode IVT, protected-mode and long-mode IDT gates,
// privilege switches through the TSS, IST stacks, double and triple faults) and the
// per-block event service (pending IPIs, INIT/SIPI, NMI, ExtINT, LAPIC timer, halt wake-up).
//
// PLACEHOLDER: the system-instructions work replaces this file.

import { C_PENDING, P_STOP } from '../machine/control-block.js';
import type { Cpu } from './cpu.js';
import { RUN_DEAD, RUN_STOPPED } from './cpu.js';

/** Deliver the fault recorded in cpu.faultVector / cpu.faultCode (cpu.rip = faulting insn). */
export function deliverFault(cpu: Cpu): void {
  cpu.deadReason = `unhandled exception ${cpu.faultVector} (code ${cpu.faultCode}) at ${cpu.rip.toString(16)}`;
  cpu.exitReason = RUN_DEAD;
}

/** Called at block boundaries when C_PENDING is non-zero or cpu.eventCheck is set. */
export function serviceEvents(cpu: Cpu): void {
  const p = Atomics.load(cpu.shared.ctl, cpu.ctlBase + C_PENDING);
  if (p & P_STOP) cpu.exitReason = RUN_STOPPED;
}
