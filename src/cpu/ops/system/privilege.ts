// Checks shared by the system instructions: privilege level, protected mode, 64-bit values.

import type { Cpu } from '../../cpu.js';
import { GP, IOPL, TWO32, UD } from '../../regs.js';

/** Privileged instructions: #GP(0) unless CPL 0 (real mode is CPL 0). */
export function requireCpl0(cpu: Cpu): void {
  if (cpu.cpl !== 0) cpu.fault(GP, 0);
}

/** Instructions that do not exist in real mode (LLDT, LTR, LAR, VERR, ARPL...): #UD. */
export function requireProtected(cpu: Cpu): void {
  if (!cpu.protectedMode) cpu.fault(UD);
}

/** CLI/STI/IN/OUT sensitivity: CPL above IOPL in protected mode. */
export function ioplDenied(cpu: Cpu): boolean {
  return cpu.protectedMode && cpu.cpl > ((cpu.flags & IOPL) >>> 12);
}

/** Number from a register's two halves, unsigned (for CR/DR values). */
export function regU64(cpu: Cpu, r: number): number {
  return (cpu.hi[r] >>> 0) * TWO32 + (cpu.lo[r] >>> 0);
}

/** Store an unsigned Number (< 2^64, exact below 2^53) into a 64-bit register. */
export function setRegU64(cpu: Cpu, r: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  cpu.hi[r] = hi | 0;
  cpu.lo[r] = (v - hi * TWO32) | 0;
}
