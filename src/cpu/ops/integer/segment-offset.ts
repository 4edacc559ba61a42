// Linear address of an implicit-operand memory access (string instructions, XLAT): the
// segment base is added outside 64-bit mode; in 64-bit mode only FS and GS have a base.

import type { Cpu } from '../../cpu.js';
import { FS, GS, TWO32 } from '../../regs.js';

/** seg:offset -> linear. `off` is already truncated to the address size (64-bit: signed Number). */
export function linearOf(cpu: Cpu, seg: number, off: number): number {
  if (cpu.mode64) return seg === FS || seg === GS ? off + cpu.segBase[seg] : off;
  return (off + cpu.segBase[seg]) % TWO32;
}

/** Value of an address register (RSI/RDI/RBX...) at an address size: 2, 4 or 8 bytes. */
export function addrReg(cpu: Cpu, r: number, asize: number): number {
  if (asize === 8) return cpu.hi[r] * TWO32 + (cpu.lo[r] >>> 0);
  if (asize === 4) return cpu.lo[r] >>> 0;
  return cpu.lo[r] & 0xffff;
}

/** Add `delta` to an address register at an address size (32-bit writes zero the upper half). */
export function addAddrReg(cpu: Cpu, r: number, asize: number, delta: number): void {
  if (asize === 8) {
    const s = (cpu.lo[r] >>> 0) + delta;
    cpu.hi[r] = (cpu.hi[r] + Math.floor(s / TWO32)) | 0;
    cpu.lo[r] = s | 0;
  } else if (asize === 4) {
    cpu.lo[r] = (cpu.lo[r] + delta) | 0;
    cpu.hi[r] = 0;
  } else {
    cpu.lo[r] = (cpu.lo[r] & ~0xffff) | ((cpu.lo[r] + delta) & 0xffff);
  }
}
