// Operand plumbing for x87 arithmetic: load operands (registers with their exact bits, m32/m64
// reals, m16/m32 integers) into the scratch lanes the SSE lane code computes on, run one
// binary64 operation under the control word's rounding and precision control, and store the
// result with its bits. Computing through fp-lane.ts gives x87 the same NaN, infinity,
// rounding and flag rules in double precision (the documented approximation of extended
// precision).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { fpBegin, fpx, laneF64, OP_SQRT } from '../sse/fp-lane.js';
import { A, AF64, B, BF64, R, RF64 } from '../sse/xmm-access.js';
import { CW_PC_SHIFT, CW_RC_SHIFT, fprBits, fpuRaise, readSt } from './fpu-state.js';

/** Copy ST(i) (bits preserved) into lane 0 of `dst` (A or B). */
export function stToLane(cpu: Cpu, i: number, dst: Int32Array): void {
  readSt(cpu, i);
  const p = (cpu.fpTop + i) & 7;
  const b = fprBits(cpu);
  dst[0] = b[p * 2];
  dst[1] = b[p * 2 + 1];
}

/** binary32 bits widened into lane 0 of dst (NaN payload kept, no exception here). */
export function f32ToLane(bits: number, dst: Int32Array): void {
  if ((bits & 0x7fffffff) > 0x7f800000) {
    const m = bits & 0x7fffff;
    dst[0] = (m & 7) << 29;
    dst[1] = (bits & 0x80000000) | 0x7ff00000 | (m >>> 3);
    return;
  }
  I32[0] = bits;
  (dst === A ? AF64 : BF64)[0] = F32[0];
}

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** A Number into lane 0 of dst. */
export function valueToLane(v: number, dst: Int32Array): void {
  (dst === A ? AF64 : BF64)[0] = v;
}

/** Memory operand of a D8/DC/DA/DE arithmetic form into lane 0 of B: m32real, m64real, m32int, m16int. */
export function memOperandToB(cpu: Cpu, ins: Insn, lin: number): void {
  switch (ins.opcode & 0xff) {
    case 0xd8: f32ToLane(cpu.read32(lin), B); break;
    case 0xdc: B[0] = cpu.read64(lin); B[1] = cpu.vhi; break;
    case 0xda: BF64[0] = cpu.read32(lin); break;
    default: BF64[0] = (cpu.read16(lin) << 16) >> 16; break;
  }
}

/** Apply `op` (fp-lane OP_*) to lanes A, B; the result is left in R (bits) and returned. */
export function compute(cpu: Cpu, op: number): number {
  if (op !== OP_SQRT) pickNaN();
  const cw = cpu.fpControl;
  fpBegin(0x1f80 | (((cw >> CW_RC_SHIFT) & 3) << 13));
  laneF64(op, 0);
  fpuRaise(cpu, fpx.pre | fpx.post);
  if (((cw >> CW_PC_SHIFT) & 3) === 0) {
    const v = RF64[0];
    if (v === v) RF64[0] = Math.fround(v); // precision control: single
  }
  return RF64[0];
}

/**
 * x87 NaN precedence for two NaN operands (the lane code returns the first operand's): a QNaN
 * beats an SNaN, otherwise the larger significand wins. Moves the winner into lane A.
 */
function pickNaN(): void {
  const ahi = A[1], bhi = B[1];
  if ((ahi & 0x7ff00000) !== 0x7ff00000 || (bhi & 0x7ff00000) !== 0x7ff00000) return;
  if (((ahi & 0xfffff) | A[0]) === 0 || ((bhi & 0xfffff) | B[0]) === 0) return; // an infinity
  const aQuiet = (ahi & 0x80000) !== 0, bQuiet = (bhi & 0x80000) !== 0;
  let takeB: boolean;
  if (aQuiet !== bQuiet) takeB = bQuiet;
  else {
    const am = ahi & 0x7ffff, bm = bhi & 0x7ffff;
    takeB = bm > am || (bm === am && (B[0] >>> 0) > (A[0] >>> 0));
  }
  if (takeB) {
    // keep A's signalling state for the IE check: the lane code sees both operands anyway
    const lo = A[0], hi = A[1];
    A[0] = B[0]; A[1] = B[1];
    B[0] = lo; B[1] = hi;
  }
}

/** Store R (bits) into physical register of ST(i), marking it in use. */
export function resultToSt(cpu: Cpu, i: number): void {
  const p = (cpu.fpTop + i) & 7;
  const b = fprBits(cpu);
  b[p * 2] = R[0];
  b[p * 2 + 1] = R[1];
  cpu.fpTag &= ~(3 << (p * 2));
}
