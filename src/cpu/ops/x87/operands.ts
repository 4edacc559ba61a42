// Operand plumbing for x87 arithmetic: the memory operand of a D8/DC/DA/DE form (m32real,
// m64real, m32int, m16int) widened exactly into the register format, and the two-operand
// arithmetic run through the exact core (f80-arith.ts) under the control word's precision and
// rounding control, with the x87 rules the core leaves to its caller (unsupported encodings
// are invalid; a denormal memory operand reports DE though it is normal once widened).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import {
  addF80, divF80, type F80, type F80Result, INDEFINITE, isNaN80, mulF80, special, SW_DE, SW_IE, SW_ZE,
} from './f80-arith.js';
import { fromF32, fromF64, fromInt, isUnsupported, type Loaded } from './f80-convert.js';
import { precisionControl, roundingControl } from './fpu-state.js';

/** Memory operand of a D8/DC/DA/DE arithmetic or compare form. */
export function memOperand(cpu: Cpu, ins: Insn, lin: number): Loaded {
  switch (ins.opcode & 0xff) {
    case 0xd8: return fromF32(cpu.read32(lin));
    case 0xdc: { const lo = cpu.read64(lin); return fromF64(lo, cpu.vhi); }
    case 0xda: return { v: fromInt(BigInt(cpu.read32(lin) | 0)), sw: 0 };
    default: return { v: fromInt(BigInt((cpu.read16(lin) << 16) >> 16)), sw: 0 };
  }
}

/**
 * What an operation on ST registers checks first: an unsupported encoding in either operand
 * is invalid (IE, the indefinite), else a NaN operand decides the result (special(); callers
 * keep the operand order they pass it); null when both are ordinary values.
 */
export function invalidOrNaN(a: F80, b: F80 | null): F80Result | null {
  if (isUnsupported(a) || (b !== null && isUnsupported(b))) return { v: INDEFINITE, sw: SW_IE };
  return special(a, b);
}

export const OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3;

/** a op b; `de` carries DE of a memory operand that was denormal in its own format */
export function arith(cpu: Cpu, op: number, a: F80, b: F80, de = 0): F80Result {
  if (isUnsupported(a) || isUnsupported(b)) return { v: INDEFINITE, sw: SW_IE };
  const pc = precisionControl(cpu), rc = roundingControl(cpu);
  const r = op === OP_ADD ? addF80(a, b, false, pc, rc)
    : op === OP_SUB ? addF80(a, b, true, pc, rc)
    : op === OP_MUL ? mulF80(a, b, pc, rc)
    : divF80(a, b, pc, rc);
  if (de !== 0 && (r.sw & (SW_IE | SW_ZE)) === 0 && !isNaN80(a) && !isNaN80(b)) r.sw |= SW_DE;
  return r;
}
