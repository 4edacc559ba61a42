// Lazy arithmetic flags. Flag-setting instructions record the operation kind, operand size,
// operands and result; the six arithmetic flags (CF PF AF ZF SF OF) are computed only when
// something reads them. Instructions that set only some flags call `materialize` first.
//
// Operands and results are stored as 32-bit halves (lo is the whole value for sizes 1-4; the
// bits above the operand size may hold garbage and are masked here).

import type { CpuState } from './cpu-state.js';
import { AF, ARITH_FLAGS, CF, OF, PF, SF, ZF } from './regs.js';

export const LF_NONE = 0; // flags are materialized in cpu.flags
export const LF_ADD = 1;
export const LF_ADC = 2; // lfCarry = carry-in
export const LF_SUB = 3; // also CMP and NEG (A = 0)
export const LF_SBB = 4; // lfCarry = borrow-in
export const LF_INC = 5; // lfCarry = the CF that INC preserves
export const LF_DEC = 6;
/** SF ZF PF from the result, CF = lfCarry, OF = lfOver, AF = lfAux (logic, shifts, multiply...) */
export const LF_RESULT = 7;

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let p = 1;
  for (let b = 0; b < 8; b++) if (i & (1 << b)) p ^= 1;
  PARITY[i] = p ? PF : 0;
}

const SIGN_BIT = [0, 0x80, 0x8000, 0, 0x80000000, 0, 0, 0, 0x80000000];
const MASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];

/** Unsigned compare x < y of two values at the given size (hi halves used for size 8). */
function ult(size: number, xl: number, xh: number, yl: number, yh: number): boolean {
  if (size === 8) {
    if (xh !== yh) return xh >>> 0 < yh >>> 0;
    return xl >>> 0 < yl >>> 0;
  }
  const m = MASK[size];
  return (xl & m) >>> 0 < (yl & m) >>> 0;
}

/** Unsigned x < y, or x = y with a carry-in: CF of ADD/ADC (x = result, y = a) and of SUB/SBB (x = a, y = b). */
function wrapped(size: number, xl: number, xh: number, yl: number, yh: number, carryIn: boolean): boolean {
  return ult(size, xl, xh, yl, yh) || (carryIn && !ult(size, yl, yh, xl, xh));
}

function zeroAndSign(c: CpuState): number {
  const size = c.lfSize;
  let f = PARITY[c.lfR & 0xff];
  if (size === 8) {
    if (c.lfR === 0 && c.lfRh === 0) f |= ZF;
    if (c.lfRh < 0) f |= SF;
  } else {
    if ((c.lfR & MASK[size]) === 0) f |= ZF;
    if (c.lfR & SIGN_BIT[size]) f |= SF;
  }
  return f;
}

/** Compute CF PF AF ZF SF OF from the recorded operation. */
export function arithFlags(c: CpuState): number {
  const op = c.lfOp;
  if (op === LF_NONE) return c.flags & ARITH_FLAGS;
  let f = zeroAndSign(c);
  const size = c.lfSize;
  const sb = size === 8 ? 0x80000000 : SIGN_BIT[size];
  const a = size === 8 ? c.lfAh : c.lfA;
  const b = size === 8 ? c.lfBh : c.lfB;
  const r = size === 8 ? c.lfRh : c.lfR;
  switch (op) {
    case LF_INC:
    case LF_DEC:
      if (c.lfCarry) f |= CF;
      break;
    case LF_ADD:
    case LF_ADC:
      if (wrapped(size, c.lfR, c.lfRh, c.lfA, c.lfAh, op === LF_ADC && c.lfCarry !== 0)) f |= CF;
      break;
    case LF_SUB:
    case LF_SBB:
      if (wrapped(size, c.lfA, c.lfAh, c.lfB, c.lfBh, op === LF_SBB && c.lfCarry !== 0)) f |= CF;
      break;
    case LF_RESULT:
    default:
      if (c.lfCarry) f |= CF;
      if (c.lfOver) f |= OF;
      if (c.lfAux) f |= AF;
      return f;
  }
  // ADD ADC INC and SUB SBB DEC: OF from the signs of the operands and result, AF from bit 3's carry
  const over = op === LF_ADD || op === LF_ADC || op === LF_INC ? (a ^ r) & (b ^ r) : (a ^ b) & (a ^ r);
  if (over & sb) f |= OF;
  if ((c.lfA ^ c.lfB ^ c.lfR) & 0x10) f |= AF;
  return f;
}

/** Fold lazy flags into cpu.flags so individual bits can be changed. */
export function materialize(c: CpuState): void {
  if (c.lfOp === LF_NONE) return;
  c.flags = (c.flags & ~ARITH_FLAGS) | arithFlags(c);
  c.lfOp = LF_NONE;
}

export function getCF(c: CpuState): boolean {
  const op = c.lfOp;
  if (op === LF_NONE) return (c.flags & CF) !== 0;
  if (op === LF_SUB) return ult(c.lfSize, c.lfA, c.lfAh, c.lfB, c.lfBh);
  if (op === LF_RESULT || op === LF_INC || op === LF_DEC) return c.lfCarry !== 0;
  return (arithFlags(c) & CF) !== 0;
}

export function getZF(c: CpuState): boolean {
  if (c.lfOp === LF_NONE) return (c.flags & ZF) !== 0;
  if (c.lfSize === 8) return c.lfR === 0 && c.lfRh === 0;
  return (c.lfR & MASK[c.lfSize]) === 0;
}

/** Evaluate condition code cc (0..15, the low nibble of Jcc/SETcc/CMOVcc). */
export function testCC(c: CpuState, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = (arithFlags(c) & OF) !== 0; break; // O
    case 1: r = getCF(c); break; // B
    case 2: r = getZF(c); break; // E
    case 3: r = getCF(c) || getZF(c); break; // BE
    case 4: r = (arithFlags(c) & SF) !== 0; break; // S
    case 5: r = (arithFlags(c) & PF) !== 0; break; // P
    case 6: { const f = arithFlags(c); r = ((f & SF) !== 0) !== ((f & OF) !== 0); break; } // L
    default: { const f = arithFlags(c); r = (f & ZF) !== 0 || ((f & SF) !== 0) !== ((f & OF) !== 0); break; } // LE
  }
  return (cc & 1) !== 0 ? !r : r;
}

/** Record a result whose CF/OF/AF are given explicitly (logic ops: all zero). */
export function setResultFlags(c: CpuState, size: number, lo: number, hi: number, cf: number, of: number, af = 0): void {
  c.lfOp = LF_RESULT;
  c.lfSize = size;
  c.lfR = lo;
  c.lfRh = hi;
  c.lfCarry = cf;
  c.lfOver = of;
  c.lfAux = af;
}

/** Record a two-operand arithmetic op (LF_ADD/ADC/SUB/SBB/INC/DEC). */
export function setArithFlags(c: CpuState, op: number, size: number, al: number, ah: number, bl: number, bh: number,
  rl: number, rh: number, carry = 0): void {
  c.lfOp = op;
  c.lfSize = size;
  c.lfA = al; c.lfAh = ah;
  c.lfB = bl; c.lfBh = bh;
  c.lfR = rl; c.lfRh = rh;
  c.lfCarry = carry;
}
