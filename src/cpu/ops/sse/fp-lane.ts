// One lane of SSE floating-point arithmetic or comparison with x86 semantics: NaN operands
// (the first operand's NaN wins, quietened; SNaN raises IE), invalid operations giving the
// default NaN, DAZ, the denormal-operand flag, divide-by-zero, and rounding under MXCSR.RC
// with the precision/overflow/underflow flags and FTZ.
//
// Operands are read from the scratch vectors A (first/destination) and B (second/source) and
// the result is written to R, lane k. Ordinary operands take a Number fast path: the JS
// operation (round-to-nearest) plus an error-free transformation (TwoSum, Dekker's product)
// that yields the sign of the rounding error, which settles inexactness and directed
// rounding. Single precision computes in double (exact or with a known error sign) and rounds
// once to binary32. Whatever is near the ends of the range goes to softfloat.ts.

import { A, AF32, AF64, B, BF32, BF64, R, RF32, RF64 } from './xmm-access.js';
import {
  MX_DAZ, MX_DE, MX_FTZ, MX_IE, MX_MASK_SHIFT, MX_PE, MX_RC_SHIFT, MX_UE, MX_ZE, RC_DOWN, RC_NEAREST, RC_UP,
} from './mxcsr.js';
import { FMT32, FMT64, sfAdd, sfDiv, sfFlags, sfMul, sfRound, sfSqrt, type FloatFormat } from './softfloat.js';

export const OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_MIN = 4, OP_MAX = 5, OP_SQRT = 6;

/** Compare predicates of CMPPS/CMPPD/CMPSS/CMPSD (imm8 & 7). */
export const CMP_EQ = 0, CMP_LT = 1, CMP_LE = 2, CMP_UNORD = 3, CMP_NEQ = 4, CMP_NLT = 5, CMP_NLE = 6, CMP_ORD = 7;

export const DEFAULT_NAN64_HI = 0xfff80000 | 0;
export const DEFAULT_NAN32 = 0xffc00000 | 0;

// MXCSR state of the instruction being executed, and the exceptions its lanes raised
export let rc = RC_NEAREST;
export let daz = false;
export let ftz = false;
export let ueUnmasked = false;
/** pre-computation (IE DE ZE) and post-computation (PE UE OE) flags collected from the lanes */
export const fpx = { pre: 0, post: 0 };

/** Latch MXCSR for the lanes of one instruction and clear the collected flags. */
export function fpBegin(mxcsr: number): void {
  rc = (mxcsr >> MX_RC_SHIFT) & 3;
  daz = (mxcsr & MX_DAZ) !== 0;
  ftz = (mxcsr & MX_FTZ) !== 0;
  ueUnmasked = (mxcsr & (MX_UE << MX_MASK_SHIFT)) === 0;
  fpx.pre = 0;
  fpx.post = 0;
}

const TWO_M1021 = 2 ** -1021, TWO_1020 = 2 ** 1020, TWO_995 = 2 ** 995, TWO_M968 = 2 ** -968, TWO_M960 = 2 ** -960;
const TWO_M126 = 2 ** -126, TWO_127 = 2 ** 127;
const SPLIT = 134217729; // 2^27 + 1

/** Exact error of the product p = fl(a * b) (Dekker), valid away from overflow and underflow. */
function productError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

// ---------------------------------------------------------------- neighbours of a value

const n64 = new Float64Array(1);
const n64i = new Int32Array(n64.buffer);
const n32 = new Float32Array(1);
const n32i = new Int32Array(n32.buffer);

/** next double towards +infinity (x finite) */
function nextUp64(x: number): number {
  if (x === 0) return 5e-324;
  n64[0] = x;
  if (x > 0) {
    n64i[0] = (n64i[0] + 1) | 0;
    if (n64i[0] === 0) n64i[1]++;
  } else {
    if (n64i[0] === 0) n64i[1]--;
    n64i[0] = (n64i[0] - 1) | 0;
  }
  return n64[0];
}

function nextDown64(x: number): number {
  return -nextUp64(-x);
}

/** next binary32 value towards +infinity (x a finite binary32 value) */
function nextUp32(x: number): number {
  if (x === 0) return 1.401298464324817e-45;
  n32[0] = x;
  n32i[0] += x > 0 ? 1 : -1;
  return n32[0];
}

function nextDown32(x: number): number {
  return -nextUp32(-x);
}

/**
 * r = round-to-nearest(x), x inexact with sign(x - r) = errSign (not 0): r as MXCSR.RC rounds x,
 * `up`/`down` being the next value of r's format either way. Raises PE.
 */
function roundInexact(r: number, errSign: number, up: (v: number) => number, down: (v: number) => number): number {
  fpx.post |= MX_PE;
  switch (rc) {
    case RC_NEAREST: return r;
    case RC_DOWN: return errSign < 0 ? down(r) : r;
    case RC_UP: return errSign > 0 ? up(r) : r;
    default:
      if (r > 0 && errSign < 0) return down(r);
      if (r < 0 && errSign > 0) return up(r);
      return r;
  }
}

/** r = round-to-nearest(x) with sign(x - r) = errSign: apply MXCSR.RC (binary64). */
function finish64(r: number, errSign: number): number {
  return errSign === 0 ? r : roundInexact(r, errSign, nextUp64, nextDown64);
}

/**
 * The exact result is d + (something of sign errSign, below half an ulp of d); round it to
 * binary32 under MXCSR.RC. Needs 2^-126 < |d| < 2^127 (no overflow, nothing tiny).
 */
function finish32(d: number, errSign: number): number {
  const f = Math.fround(d);
  if (f === d) return errSign === 0 ? f : roundInexact(f, errSign, nextUp32, nextDown32);
  fpx.post |= MX_PE;
  let lo: number, hi: number;
  if (f < d) { lo = f; hi = nextUp32(f); } else { hi = f; lo = nextDown32(f); }
  switch (rc) {
    case RC_NEAREST:
      if (errSign !== 0 && d === (lo + hi) / 2) return errSign > 0 ? hi : lo;
      return f;
    case RC_DOWN: return lo;
    case RC_UP: return hi;
    default: return d > 0 ? lo : hi;
  }
}

function inRange32(d: number): boolean {
  const ad = d < 0 ? -d : d;
  return ad > TWO_M126 && ad < TWO_127;
}

/** The exact (BigInt) path for finite operands. */
function slow(op: number, a: number, b: number, fmt: FloatFormat): number {
  let v: number;
  switch (op) {
    case OP_ADD: v = sfAdd(a, b, fmt, rc, ftz, ueUnmasked); break;
    case OP_MUL: v = sfMul(a, b, fmt, rc, ftz, ueUnmasked); break;
    case OP_DIV: v = sfDiv(a, b, fmt, rc, ftz, ueUnmasked); break;
    default: v = sfSqrt(b, fmt, rc, ftz, ueUnmasked); break;
  }
  fpx.post |= sfFlags;
  return v;
}

/** An exactly known double rounded to binary32 under MXCSR (CVTSD2SS, CVTPD2PS); x finite. */
export function roundToF32(x: number): number {
  if (inRange32(x)) return finish32(x, 0);
  const v = sfRound(x, FMT32, rc, ftz, ueUnmasked);
  fpx.post |= sfFlags;
  return v;
}

// ---------------------------------------------------------------- the operations on values

/** IE/ZE raised by the lane being computed (a denormal operand is reported only without them) */
let lanePre = 0;

function add(a: number, b: number, fmt: FloatFormat): number {
  if (a - a !== 0 || b - b !== 0) { // an infinity
    if (a === -b) { lanePre |= MX_IE; return NaN; }
    return a + b;
  }
  const r = a + b;
  const t = r - a;
  const err = (a - (r - t)) + (b - t);
  if (fmt === FMT64) {
    const ar = r < 0 ? -r : r;
    if (ar > TWO_M1021 && ar < TWO_1020 && a < TWO_1020 && a > -TWO_1020 && b < TWO_1020 && b > -TWO_1020) {
      return finish64(r, err);
    }
    return slow(OP_ADD, a, b, fmt);
  }
  if (inRange32(r)) return finish32(r, err);
  return slow(OP_ADD, a, b, fmt);
}

function mul(a: number, b: number, fmt: FloatFormat): number {
  if (a - a !== 0 || b - b !== 0) {
    if (a === 0 || b === 0) { lanePre |= MX_IE; return NaN; }
    return a * b;
  }
  const r = a * b;
  if (fmt === FMT64) {
    const aa = a < 0 ? -a : a, ab = b < 0 ? -b : b, ar = r < 0 ? -r : r;
    if (aa < TWO_995 && ab < TWO_995 && ar > TWO_M968 && ar < TWO_1020) return finish64(r, productError(a, b, r));
    return slow(OP_MUL, a, b, fmt);
  }
  if (inRange32(r)) return finish32(r, 0); // a product of two binary32 values is exact in double
  return slow(OP_MUL, a, b, fmt);
}

function div(a: number, b: number, fmt: FloatFormat): number {
  if (b === 0) {
    if (a === 0) { lanePre |= MX_IE; return NaN; }
    if (a - a === 0) lanePre |= MX_ZE;
    return a / b;
  }
  if (a - a !== 0) {
    if (b - b !== 0) { lanePre |= MX_IE; return NaN; }
    return a / b;
  }
  if (b - b !== 0) return a / b;
  const r = a / b;
  const aa = a < 0 ? -a : a, ab = b < 0 ? -b : b, ar = r < 0 ? -r : r;
  if (fmt === FMT64 && !(aa > TWO_M960 && aa < TWO_995 && ab > TWO_M960 && ab < TWO_995 && ar > TWO_M960 && ar < TWO_995)) {
    return slow(OP_DIV, a, b, fmt);
  }
  if (fmt === FMT32 && !inRange32(r)) return slow(OP_DIV, a, b, fmt);
  const p = r * b;
  const e = productError(r, b, p);
  const t = a - p;
  let s = t > e ? 1 : t < e ? -1 : 0;
  if (b < 0) s = -s;
  return fmt === FMT64 ? finish64(r, s) : finish32(r, s);
}

function sqrt(b: number, fmt: FloatFormat): number {
  if (b < 0) { lanePre |= MX_IE; return NaN; }
  if (b === 0 || b === Infinity) return b;
  if (fmt === FMT64 && (b < TWO_M960 || b > TWO_995)) return slow(OP_SQRT, 0, b, fmt);
  const r = Math.sqrt(b);
  const p = r * r;
  const e = productError(r, r, p);
  const t = b - p;
  const s = t > e ? 1 : t < e ? -1 : 0;
  return fmt === FMT64 ? finish64(r, s) : finish32(r, s);
}

function arith(op: number, a: number, b: number, fmt: FloatFormat): number {
  switch (op) {
    case OP_ADD: return add(a, b, fmt);
    case OP_SUB: return add(a, -b, fmt);
    case OP_MUL: return mul(a, b, fmt);
    case OP_DIV: return div(a, b, fmt);
    case OP_MIN: return a < b ? a : b;
    case OP_MAX: return a > b ? a : b;
    default: return sqrt(b, fmt);
  }
}

// ---------------------------------------------------------------- scalar fast path

/** set by fastScalarF64: the result was inexact */
export let fastInexact = false;

/**
 * Lane 0 of A op B (binary64, OP_ADD..OP_DIV) for the overwhelmingly common case: MXCSR at its
 * default (round to nearest, all masked, no DAZ/FTZ), both operands normal, result comfortably
 * normal. Writes R[0..1] and fastInexact and returns true; returns false (nothing written)
 * whenever the general lane code is needed. Same results as laneF64 where it applies.
 */
export function fastScalarF64(op: number): boolean {
  const ae = A[1] & 0x7ff00000, be = B[1] & 0x7ff00000;
  if (ae === 0 || be === 0 || ae === 0x7ff00000 || be === 0x7ff00000) return false;
  const a = AF64[0];
  let b = BF64[0];
  let r: number, err: number;
  switch (op) {
    case OP_SUB: b = -b; // fall through
    case OP_ADD: {
      r = a + b;
      const ar = r < 0 ? -r : r;
      if (!(ar > TWO_M1021 && ar < TWO_1020 && a < TWO_1020 && a > -TWO_1020 && b < TWO_1020 && b > -TWO_1020)) return false;
      const t = r - a;
      err = (a - (r - t)) + (b - t);
      break;
    }
    case OP_MUL: {
      r = a * b;
      const aa = a < 0 ? -a : a, ab = b < 0 ? -b : b, ar = r < 0 ? -r : r;
      if (!(aa < TWO_995 && ab < TWO_995 && ar > TWO_M968 && ar < TWO_1020)) return false;
      err = productError(a, b, r);
      break;
    }
    case OP_DIV: {
      r = a / b;
      const aa = a < 0 ? -a : a, ab = b < 0 ? -b : b, ar = r < 0 ? -r : r;
      if (!(aa > TWO_M960 && aa < TWO_995 && ab > TWO_M960 && ab < TWO_995 && ar > TWO_M960 && ar < TWO_995)) return false;
      const p = r * b;
      err = a - p - productError(r, b, p);
      break;
    }
    default: return false;
  }
  RF64[0] = r;
  fastInexact = err !== 0;
  return true;
}

// ---------------------------------------------------------------- lanes

/**
 * a op b for one lane: denormal operands (zero exponent field, not zero) first flushed to a
 * signed zero under DAZ or else noted as DE (SQRT's A is not an operand); the lane's
 * pre-computation exceptions gathered into fpx.pre.
 */
function arithLane(op: number, a: number, aExpZero: boolean, aNeg: boolean, b: number, bExpZero: boolean, bNeg: boolean, fmt: FloatFormat): number {
  let den = false;
  if (aExpZero && a !== 0 && op !== OP_SQRT) {
    if (daz) a = aNeg ? -0 : 0; else den = true;
  }
  if (bExpZero && b !== 0) {
    if (daz) b = bNeg ? -0 : 0; else den = true;
  }
  lanePre = 0;
  const v = arith(op, a, b, fmt);
  fpx.pre |= lanePre === 0 && den ? MX_DE : lanePre;
  return v;
}

/** R.f64[k] = A.f64[k] op B.f64[k] (OP_SQRT uses B only). */
export function laneF64(op: number, k: number): void {
  const i = k << 1;
  const ahi = A[i + 1], bhi = B[i + 1];
  const ae = ahi & 0x7ff00000, be = bhi & 0x7ff00000;
  const a = AF64[k], b = BF64[k];
  if (ae === 0x7ff00000 || be === 0x7ff00000) {
    const bNaN = be === 0x7ff00000 && ((bhi & 0xfffff) | B[i]) !== 0;
    const aNaN = op !== OP_SQRT && ae === 0x7ff00000 && ((ahi & 0xfffff) | A[i]) !== 0;
    if (aNaN || bNaN) {
      if (op === OP_MIN || op === OP_MAX) {
        fpx.pre |= MX_IE;
        if (daz && be === 0) { R[i] = 0; R[i + 1] = bhi & 0x80000000; } else { R[i] = B[i]; R[i + 1] = bhi; }
        return;
      }
      if ((aNaN && (ahi & 0x80000) === 0) || (bNaN && (bhi & 0x80000) === 0)) fpx.pre |= MX_IE;
      if (aNaN) { R[i] = A[i]; R[i + 1] = ahi | 0x80000; } else { R[i] = B[i]; R[i + 1] = bhi | 0x80000; }
      return;
    }
  }
  const v = arithLane(op, a, ae === 0, ahi < 0, b, be === 0, bhi < 0, FMT64);
  if (v !== v) { R[i] = 0; R[i + 1] = DEFAULT_NAN64_HI; } else RF64[k] = v;
}

/** R.f32[k] = A.f32[k] op B.f32[k] (OP_SQRT uses B only). */
export function laneF32(op: number, k: number): void {
  const ab = A[k], bb = B[k];
  const ae = ab & 0x7f800000, be = bb & 0x7f800000;
  if (ae === 0x7f800000 || be === 0x7f800000) {
    const bNaN = (bb & 0x7fffffff) > 0x7f800000;
    const aNaN = op !== OP_SQRT && (ab & 0x7fffffff) > 0x7f800000;
    if (aNaN || bNaN) {
      if (op === OP_MIN || op === OP_MAX) {
        fpx.pre |= MX_IE;
        R[k] = daz && be === 0 ? bb & 0x80000000 : bb;
        return;
      }
      if ((aNaN && (ab & 0x400000) === 0) || (bNaN && (bb & 0x400000) === 0)) fpx.pre |= MX_IE;
      R[k] = aNaN ? ab | 0x400000 : bb | 0x400000;
      return;
    }
  }
  const v = arithLane(op, AF32[k], ae === 0, ab < 0, BF32[k], be === 0, bb < 0, FMT32);
  if (v !== v) R[k] = DEFAULT_NAN32; else RF32[k] = v;
}

// ---------------------------------------------------------------- comparisons

/** Outcome of the last compareF64/compareF32: 0 equal, 1 greater, -1 less, 2 unordered. */
function relation(a: number, b: number): number {
  if (a === b) return 0;
  if (a > b) return 1;
  if (a < b) return -1;
  return 2;
}

/**
 * Compare lane k of A with lane k of B (binary64). `signalQnan`: a QNaN operand raises IE too
 * (COMISD, the LT/LE/NLT/NLE predicates). Returns the relation.
 */
export function compareF64(k: number, signalQnan: boolean): number {
  const i = k << 1;
  const ahi = A[i + 1], bhi = B[i + 1];
  const ae = ahi & 0x7ff00000, be = bhi & 0x7ff00000;
  const aNaN = ae === 0x7ff00000 && ((ahi & 0xfffff) | A[i]) !== 0;
  const bNaN = be === 0x7ff00000 && ((bhi & 0xfffff) | B[i]) !== 0;
  if (aNaN || bNaN) {
    if (signalQnan || (aNaN && (ahi & 0x80000) === 0) || (bNaN && (bhi & 0x80000) === 0)) fpx.pre |= MX_IE;
    return 2;
  }
  let a = AF64[k], b = BF64[k];
  if (ae === 0 && a !== 0) { if (daz) a = 0; else fpx.pre |= MX_DE; }
  if (be === 0 && b !== 0) { if (daz) b = 0; else fpx.pre |= MX_DE; }
  return relation(a, b);
}

export function compareF32(k: number, signalQnan: boolean): number {
  const ab = A[k], bb = B[k];
  const aNaN = (ab & 0x7fffffff) > 0x7f800000, bNaN = (bb & 0x7fffffff) > 0x7f800000;
  if (aNaN || bNaN) {
    if (signalQnan || (aNaN && (ab & 0x400000) === 0) || (bNaN && (bb & 0x400000) === 0)) fpx.pre |= MX_IE;
    return 2;
  }
  let a = AF32[k], b = BF32[k];
  if ((ab & 0x7f800000) === 0 && a !== 0) { if (daz) a = 0; else fpx.pre |= MX_DE; }
  if ((bb & 0x7f800000) === 0 && b !== 0) { if (daz) b = 0; else fpx.pre |= MX_DE; }
  return relation(a, b);
}

/** Whether CMPxx predicate `pred` holds for a relation; LT/LE/NLT/NLE signal on QNaN. */
export function predicateHolds(pred: number, rel: number): boolean {
  switch (pred) {
    case CMP_EQ: return rel === 0;
    case CMP_LT: return rel === -1;
    case CMP_LE: return rel === -1 || rel === 0;
    case CMP_UNORD: return rel === 2;
    case CMP_NEQ: return rel !== 0;
    case CMP_NLT: return rel !== -1;
    case CMP_NLE: return rel !== -1 && rel !== 0;
    default: return rel !== 2;
  }
}

export function predicateSignals(pred: number): boolean {
  const p = pred & 3;
  return p === CMP_LT || p === CMP_LE;
}
