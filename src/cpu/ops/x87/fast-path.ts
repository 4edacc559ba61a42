// The common case of FMUL/FADD/FSUB/FSUBR without BigInt: normal operands (registers, m64real,
// m32real), round to nearest,
// 64-bit precision, a normal product. The 64 x 64-bit product is formed exactly from 16-bit
// limbs in Numbers and rounded once; anything else (zeros, denormals, NaNs, infinities,
// unsupported encodings, another PC or RC, a result that leaves the normal range) returns false
// and the caller takes the exact BigInt path (f80-arith.ts). Same bits and status as that path:
// test/cpu/x87/f80-arith-oracle.test.ts and test/isa hold both to the host.

import type { Cpu } from '../../cpu.js';
import { BIAS, SW_C1, SW_PE } from './f80-arith.js';
import { fpuRaise, TAG_EMPTY } from './fpu-state.js';

const L = new Float64Array(8);
const TWO16 = 65536, TWO32 = 4294967296;

/** a normal value in physical register p (integer bit set, exponent 1..0x7ffe) */
function normal(r: Int32Array, p: number): boolean {
  const e = r[p * 3 + 2] & 0x7fff;
  return e !== 0 && e !== 0x7fff && r[p * 3 + 1] < 0;
}

const fastCase = (cpu: Cpu): boolean => (cpu.fpControl & 0xf00) === 0x300; // PC = 64 bits, RC = nearest

/** ST(d) = ST(x) * ST(y) (physical registers) when the fast case applies; false to take the exact path */
export function fastMul(cpu: Cpu, d: number, x: number, y: number): boolean {
  if (!fastCase(cpu)) return false;
  const tag = cpu.fpTag;
  if (((tag >> (x * 2)) & 3) === TAG_EMPTY || ((tag >> (y * 2)) & 3) === TAG_EMPTY) return false;
  const r = cpu.fpr;
  if (!normal(r, x) || !normal(r, y)) return false;
  return mulWords(cpu, d, r[x * 3] >>> 0, r[x * 3 + 1] >>> 0, r[x * 3 + 2], r[y * 3] >>> 0, r[y * 3 + 1] >>> 0, r[y * 3 + 2]);
}

/**
 * ST(0) = ST(0) op a normal binary64 (hi, lo words) or binary32 (lo only: hi = null) from memory,
 * op by ModRM.reg: 0 add, 1 mul, 4 sub (ST(0) - m), 5 subr (m - ST(0)); false to take the exact path.
 */
export function fastMem(cpu: Cpu, reg: number, lo: number, hi: number | null): boolean {
  if (!fastCase(cpu)) return false;
  const p = cpu.fpTop;
  if (((cpu.fpTag >> (p * 2)) & 3) === TAG_EMPTY || !normal(cpu.fpr, p)) return false;
  let mlo: number, mhi: number, mse: number;
  if (hi !== null) {
    const e = (hi >>> 20) & 0x7ff;
    if (e === 0 || e === 0x7ff) return false;
    mhi = (0x8000_0000 | ((hi & 0xfffff) << 11) | (lo >>> 21)) >>> 0;
    mlo = (lo << 11) >>> 0;
    mse = ((hi >>> 16) & 0x8000) | (e - 1023 + BIAS);
  } else {
    const e = (lo >>> 23) & 0xff;
    if (e === 0 || e === 0xff) return false;
    mhi = (0x8000_0000 | ((lo & 0x7fffff) << 8)) >>> 0;
    mlo = 0;
    mse = ((lo >>> 16) & 0x8000) | (e - 127 + BIAS);
  }
  const r = cpu.fpr;
  const x0 = r[p * 3] >>> 0, x1 = r[p * 3 + 1] >>> 0, xs = r[p * 3 + 2];
  if (reg === 1) return mulWords(cpu, p, x0, x1, xs, mlo, mhi, mse);
  if (reg === 0) return addWords(cpu, p, x0, x1, xs, mlo, mhi, mse);
  if (reg === 4) return addWords(cpu, p, x0, x1, xs, mlo, mhi, mse ^ 0x8000);
  return addWords(cpu, p, mlo, mhi, mse, x0, x1, xs ^ 0x8000);
}

/** physical register d = x * y (significand words, sign/exponent words of normal values) */
function mulWords(cpu: Cpu, d: number, ax: number, bx: number, sx: number, ay: number, by: number, sy: number): boolean {
  const a0 = ax & 0xffff, a1 = ax >>> 16, a2 = bx & 0xffff, a3 = bx >>> 16;
  const b0 = ay & 0xffff, b1 = ay >>> 16, b2 = by & 0xffff, b3 = by >>> 16;
  L[0] = a0 * b0;
  L[1] = a0 * b1 + a1 * b0;
  L[2] = a0 * b2 + a1 * b1 + a2 * b0;
  L[3] = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  L[4] = a1 * b3 + a2 * b2 + a3 * b1;
  L[5] = a2 * b3 + a3 * b2;
  L[6] = a3 * b3;
  L[7] = 0;
  let carry = 0;
  for (let k = 0; k < 8; k++) {
    const t = L[k] + carry;
    carry = Math.floor(t / TWO16);
    L[k] = t - carry * TWO16;
  }
  // 128-bit product as four 32-bit words (w3 most significant)
  let w3 = L[7] * TWO16 + L[6], w2 = L[5] * TWO16 + L[4], w1 = L[3] * TWO16 + L[2], w0 = L[1] * TWO16 + L[0];
  let e = (sx & 0x7fff) + (sy & 0x7fff) - BIAS;
  if (w3 >= 0x8000_0000) e++;
  else {
    // the product of two significands in [1, 2) is below 2: shift the leading bit to bit 127
    w3 = ((w3 * 2) % TWO32) + (w2 >= 0x8000_0000 ? 1 : 0);
    w2 = ((w2 * 2) % TWO32) + (w1 >= 0x8000_0000 ? 1 : 0);
    w1 = ((w1 * 2) % TWO32) + (w0 >= 0x8000_0000 ? 1 : 0);
    w0 = (w0 * 2) % TWO32;
  }
  if (e < 1 || e > 0x7ffe) return false;
  let hi = w3, lo = w2, sw = 0;
  if (w1 !== 0 || w0 !== 0) {
    sw = SW_PE;
    const above = w1 > 0x8000_0000 || (w1 === 0x8000_0000 && w0 !== 0);
    const half = w1 === 0x8000_0000 && w0 === 0;
    if (above || (half && (lo & 1) === 1)) {
      sw |= SW_C1;
      lo += 1;
      if (lo === TWO32) {
        lo = 0;
        hi += 1;
        if (hi === TWO32) { hi = 0x8000_0000; e++; }
      }
    }
  }
  if (e > 0x7ffe) return false;
  cpu.fpStatus = (cpu.fpStatus & ~SW_C1) | (sw & SW_C1);
  if (sw !== 0) fpuRaise(cpu, sw);
  const r = cpu.fpr;
  r[d * 3] = lo | 0;
  r[d * 3 + 1] = hi | 0;
  r[d * 3 + 2] = ((sx ^ sy) & 0x8000) | e;
  cpu.fpTag &= ~(3 << (d * 2)); // valid
  return true;
}

// ---------------------------------------------------------------- FADD / FSUB
// Both significands in a 128-bit window of 16-bit limbs (A[7] most significant): the larger
// operand at bits 64..127, the other shifted right by the exponent difference d <= 64, so the
// sum or difference is exact; then the leading 64 bits are rounded to nearest by the rest.

const A = new Int32Array(16), B = new Int32Array(16);

function load(t: Int32Array, lo: number, hi: number): void {
  t.fill(0);
  t[4] = lo & 0xffff; t[5] = lo >>> 16; t[6] = hi & 0xffff; t[7] = hi >>> 16;
}

/** bits [from, from + 16) of t (from may be negative: zeros below bit 0) */
function bits16(t: Int32Array, from: number): number {
  if (from <= -16) return 0;
  if (from < 0) return (t[0] << -from) & 0xffff;
  const q = from >> 4, s = from & 15;
  return s === 0 ? t[q] : ((t[q] >>> s) | (t[q + 1] << (16 - s))) & 0xffff;
}

/** ST(d) = ST(x) + ST(y), or ST(x) - ST(y) with `subtract`; false to take the exact path */
export function fastAdd(cpu: Cpu, d: number, x: number, y: number, subtract: boolean): boolean {
  if (!fastCase(cpu)) return false;
  const tag = cpu.fpTag;
  if (((tag >> (x * 2)) & 3) === TAG_EMPTY || ((tag >> (y * 2)) & 3) === TAG_EMPTY) return false;
  const r = cpu.fpr;
  if (!normal(r, x) || !normal(r, y)) return false;
  return addWords(cpu, d, r[x * 3] >>> 0, r[x * 3 + 1] >>> 0, r[x * 3 + 2], r[y * 3] >>> 0, r[y * 3 + 1] >>> 0, r[y * 3 + 2] ^ (subtract ? 0x8000 : 0));
}

function addWords(cpu: Cpu, d: number, ax: number, bx: number, sx: number, ay: number, by: number, sy: number): boolean {
  let ex = sx & 0x7fff, ey = sy & 0x7fff;
  // order by magnitude: x the larger
  if (ey > ex || (ey === ex && (by > bx || (by === bx && ay > ax)))) {
    let t = ax; ax = ay; ay = t; t = bx; bx = by; by = t; t = sx; sx = sy; sy = t; t = ex; ex = ey; ey = t;
  }
  const shift = ex - ey;
  if (shift > 64) return false;
  load(A, ax, bx);
  load(B, ay, by);
  const neg = (sx & 0x8000) !== 0;
  const sub = ((sx ^ sy) & 0x8000) !== 0;
  // B >>= shift (nothing falls below bit 0: its lowest bit was at 64)
  if (shift > 0) for (let k = 0; k < 9; k++) B[k] = bits16(B, k * 16 + shift);
  let carry = 0;
  for (let k = 0; k < 10; k++) {
    let v = sub ? A[k] - B[k] - carry : A[k] + B[k] + carry;
    if (sub) { carry = v < 0 ? 1 : 0; if (v < 0) v += 0x10000; } else { carry = v >>> 16; v &= 0xffff; }
    A[k] = v;
  }
  // leading bit
  let top = 9;
  while (top >= 0 && A[top] === 0) top--;
  if (top < 0) return false; // an exact zero: its sign follows RC (exact path)
  const lead = top * 16 + 31 - Math.clz32(A[top]);
  let e = ex + (lead - 127);
  const low = lead - 63; // bit 0 of the 64-bit significand
  let s0 = bits16(A, low), s1 = bits16(A, low + 16), s2 = bits16(A, low + 32), s3 = bits16(A, low + 48);
  let sw = 0;
  if (low > 0) {
    // the rest, below bit `low`, against half of its unit
    const halfBit = low - 1;
    const half = (A[halfBit >> 4] >>> (halfBit & 15)) & 1;
    let below = false;
    for (let k = 0; k < (halfBit >> 4) && !below; k++) below = A[k] !== 0;
    if (!below) below = (A[halfBit >> 4] & ((1 << (halfBit & 15)) - 1)) !== 0;
    if (half || below) {
      sw = SW_PE;
      if (half && (below || (s0 & 1) === 1)) {
        sw |= SW_C1;
        s0++;
        if (s0 === 0x10000) { s0 = 0; s1++; if (s1 === 0x10000) { s1 = 0; s2++; if (s2 === 0x10000) { s2 = 0; s3++; if (s3 === 0x10000) { s3 = 0x8000; e++; } } } }
      }
    }
  }
  if (e < 1 || e > 0x7ffe) return false;
  cpu.fpStatus = (cpu.fpStatus & ~SW_C1) | (sw & SW_C1);
  if (sw !== 0) fpuRaise(cpu, sw);
  const rr = cpu.fpr;
  rr[d * 3] = s0 | (s1 << 16);
  rr[d * 3 + 1] = s2 | (s3 << 16);
  rr[d * 3 + 2] = (neg ? 0x8000 : 0) | e;
  cpu.fpTag &= ~(3 << (d * 2));
  return true;
}
