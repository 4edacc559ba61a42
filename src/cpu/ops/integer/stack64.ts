// 64-bit-mode stack fast paths (8-byte pushes and pops with a 64-bit RSP): one address
// computation, one canonical check, one memory access. Used by PUSH/POP/CALL/RET when the
// operand size is 8, which only happens in 64-bit mode.

import type { Cpu } from '../../cpu.js';
import { SS_VEC, TWO32 } from '../../regs.js';

/** Push an 8-byte value (RSP is committed only after the write succeeded). */
export function push64(cpu: Cpu, lo: number, hi: number): void {
  let l = (cpu.lo[4] >>> 0) - 8;
  let h = cpu.hi[4];
  if (l < 0) { l += TWO32; h = (h - 1) | 0; }
  if (h >= 0x8000 || h < -0x8000) cpu.fault(SS_VEC, 0);
  cpu.write64(h * TWO32 + l, lo, hi);
  cpu.lo[4] = l | 0;
  cpu.hi[4] = h;
}

/** high half of the value returned by pop64 */
export let popHi = 0;

/** Pop an 8-byte value: low half returned, high half in popHi. */
export function pop64(cpu: Cpu): number {
  const l = cpu.lo[4] >>> 0, h = cpu.hi[4];
  if (h >= 0x8000 || h < -0x8000) cpu.fault(SS_VEC, 0);
  const v = cpu.read64(h * TWO32 + l);
  popHi = cpu.vhi;
  const nl = l + 8;
  if (nl >= TWO32) { cpu.lo[4] = (nl - TWO32) | 0; cpu.hi[4] = (h + 1) | 0; } else cpu.lo[4] = nl | 0;
  return v;
}
