// Exact conversions between the 80-bit register format (f80-arith.ts) and the memory formats
// x87 instructions load and store: binary32/binary64 (loads exact; stores rounded once by RC
// to the format's precision and exponent range, denormals included), two's-complement
// integers (FILD exact; FIST rounded by RC or truncated), 18-digit packed BCD, and the
// rounding to an integer FRNDINT does. Status bits are those of the masked responses.

import {
  BIAS, bitLength, EXP_MAX, type F80, FRACTION, INDEFINITE, INT_BIT, isDenormal, isInf, isNaN80, isNeg, isZero, QUIET,
  RC_DOWN, RC_NEAREST, RC_UP, SW_C1, SW_DE, SW_IE, SW_OE, SW_PE, SW_UE, unpack,
} from './f80-arith.js';

/**
 * An encoding the 387 and later reject as an operand (#IA): unnormals, pseudo-infinities and
 * pseudo-NaNs (integer bit clear with a nonzero exponent). Pseudo-denormals are accepted.
 */
export function isUnsupported(a: F80): boolean {
  return (a.se & EXP_MAX) !== 0 && (a.sig & INT_BIT) === 0n;
}

export const isSnan = (a: F80): boolean => isNaN80(a) && (a.sig & QUIET) === 0n;

export interface Loaded {
  v: F80;
  /** DE when the source was a denormal (the value itself is normal in the register format) */
  sw: number;
}

/** A binary with `frac` fraction bits, `ebits` exponent bits, widened exactly (an SNaN stays signalling). */
function widen(bits: bigint, frac: number, ebits: number): Loaded {
  const emax = (1 << ebits) - 1, bias = (1 << (ebits - 1)) - 1;
  const neg = (bits >> BigInt(frac + ebits)) & 1n ? 0x8000 : 0;
  const e = Number((bits >> BigInt(frac)) & BigInt(emax));
  const f = bits & ((1n << BigInt(frac)) - 1n);
  if (e === emax) return { v: { se: neg | EXP_MAX, sig: INT_BIT | (f << BigInt(63 - frac)) }, sw: 0 };
  if (e === 0) {
    if (f === 0n) return { v: { se: neg, sig: 0n }, sw: 0 };
    const shift = 64 - bitLength(f);
    return { v: { se: neg | (1 - bias - frac - shift + BIAS + 63), sig: f << BigInt(shift) }, sw: SW_DE };
  }
  return { v: { se: neg | (e - bias + BIAS), sig: INT_BIT | (f << BigInt(63 - frac)) }, sw: 0 };
}

export const fromF32 = (bits: number): Loaded => widen(BigInt(bits >>> 0), 23, 8);
export const fromF64 = (lo: number, hi: number): Loaded => widen((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), 52, 11);

/** An exact integer as a register value. */
export function fromInt(n: bigint): F80 {
  if (n === 0n) return { se: 0, sig: 0n };
  const neg = n < 0n;
  const m = neg ? -n : n;
  const len = bitLength(m);
  return { se: (neg ? 0x8000 : 0) | (BIAS + len - 1), sig: m << BigInt(64 - len) };
}

export interface Stored {
  bits: bigint;
  sw: number;
}

/** Round a register value to binary32 (fmt 32) or binary64 (fmt 64) by RC; NaNs keep their top payload bits. */
export function toBinary(a: F80, fmt: 32 | 64, rc: number): Stored {
  const frac = fmt === 32 ? 23 : 52, ebits = fmt === 32 ? 8 : 11;
  const emax = (1 << ebits) - 1, bias = (1 << (ebits - 1)) - 1;
  const sign = isNeg(a) ? 1n << BigInt(fmt - 1) : 0n;
  const expField = (x: number) => BigInt(x) << BigInt(frac);
  if (isUnsupported(a)) return { bits: toBinary(INDEFINITE, fmt, rc).bits, sw: SW_IE };
  if (isNaN80(a)) {
    const payload = ((a.sig | QUIET) & FRACTION) >> BigInt(63 - frac);
    return { bits: sign | expField(emax) | payload, sw: isSnan(a) ? SW_IE : 0 };
  }
  if (isInf(a)) return { bits: sign | expField(emax), sw: 0 };
  if (isZero(a)) return { bits: sign, sw: 0 };
  const de = isDenormal(a) ? SW_DE : 0;
  const { m, e } = unpack(a);
  const neg = isNeg(a);
  const p = frac + 1, emin = 1 - bias;
  const top = e + bitLength(m) - 1;
  let lsb = Math.max(top - (p - 1), emin - (p - 1));
  const drop = lsb - e;
  let q = m, rest = 0;
  if (drop > 0) {
    const s = BigInt(drop);
    q = m >> s;
    const r = m & ((1n << s) - 1n), half = 1n << (s - 1n);
    rest = r === 0n ? 0 : r < half ? 1 : r > half ? 3 : 2;
  } else q = m << BigInt(-drop);
  let sw = de;
  if (rest !== 0) {
    sw |= SW_PE;
    const up = rc === RC_NEAREST ? rest === 3 || (rest === 2 && (q & 1n) === 1n) : rc === RC_DOWN ? neg : rc === RC_UP ? !neg : false;
    if (up) {
      q += 1n;
      sw |= SW_C1;
      if (bitLength(q) > p) { q >>= 1n; lsb++; }
    }
    if (top < emin) sw |= SW_UE;
  }
  if (q === 0n) return { bits: sign, sw };
  const lead = lsb + bitLength(q) - 1;
  if (lead > bias) {
    const toInf = rc === RC_NEAREST || (rc === RC_UP && !neg) || (rc === RC_DOWN && neg);
    if (toInf) return { bits: sign | expField(emax), sw: de | SW_OE | SW_PE | SW_C1 };
    return { bits: sign | (expField(emax) - 1n), sw: de | SW_OE | SW_PE };
  }
  if (bitLength(q) === p) return { bits: sign | expField(lead + bias) | (q - (1n << BigInt(frac))), sw };
  return { bits: sign | q, sw }; // denormal: lsb is emin - frac
}

export interface Rounded {
  /** magnitude of the integer */
  mag: bigint;
  neg: boolean;
  sw: number;
}

/** A finite register value rounded to an integer by RC (or toward zero with `truncate`). */
export function roundToInt(a: F80, rc: number): Rounded {
  const neg = isNeg(a);
  if (isZero(a)) return { mag: 0n, neg, sw: 0 };
  const de = isDenormal(a) ? SW_DE : 0;
  const { m, e } = unpack(a);
  if (e >= 0) return { mag: m << BigInt(e), neg, sw: de };
  const s = BigInt(-e);
  let q = -e >= 66 ? 0n : m >> s;
  const r = -e >= 66 ? m : m & ((1n << s) - 1n);
  if (r === 0n) return { mag: q, neg, sw: de };
  const half = -e >= 66 ? -1n : 1n << (s - 1n);
  const rest = half < 0n ? 1 : r < half ? 1 : r > half ? 3 : 2;
  const up = rc === RC_NEAREST ? rest === 3 || (rest === 2 && (q & 1n) === 1n) : rc === RC_DOWN ? neg : rc === RC_UP ? !neg : false;
  if (up) q += 1n;
  return { mag: q, neg, sw: de | SW_PE | (up ? SW_C1 : 0) };
}

/** FIST/FISTP/FISTTP: the integer to store (null: invalid, store the integer indefinite). */
export function toInt(a: F80, bits: number, rc: number): { value: bigint | null; sw: number } {
  if (isUnsupported(a) || isNaN80(a) || isInf(a)) return { value: null, sw: SW_IE };
  const r = roundToInt(a, rc);
  const v = r.neg ? -r.mag : r.mag;
  const lim = 1n << BigInt(bits - 1);
  // a denormal operand is no DE for an integer store (SDM: FIST raises #IS #IA #P only)
  if (v >= lim || v < -lim) return { value: null, sw: SW_IE };
  return { value: v, sw: r.sw & ~SW_DE };
}

/** FRNDINT's result: the integer as a register value (the sign of a zero kept). */
export function roundToIntegral(a: F80, rc: number): { v: F80; sw: number } {
  const r = roundToInt(a, rc);
  const v = fromInt(r.mag);
  if (r.neg) v.se |= 0x8000;
  return { v, sw: r.sw };
}

const TEN18 = 10n ** 18n;

/** FBSTP: 18 BCD digits + sign byte, or null (invalid: the BCD indefinite). */
export function toBcd(a: F80, rc: number): { bytes: number[] | null; sw: number } {
  if (isUnsupported(a) || isNaN80(a) || isInf(a)) return { bytes: null, sw: SW_IE };
  const r = roundToInt(a, rc);
  if (r.mag >= TEN18) return { bytes: null, sw: SW_IE };
  const out: number[] = [];
  let m = r.mag;
  for (let k = 0; k < 9; k++) {
    const two = Number(m % 100n);
    m /= 100n;
    out.push(((Math.floor(two / 10) << 4) | (two % 10)) & 0xff);
  }
  out.push(r.neg ? 0x80 : 0);
  return { bytes: out, sw: r.sw & ~SW_DE };
}

/** FBLD: the digits taken as they are (invalid digits give what the digit arithmetic gives). */
export function fromBcd(bytes: number[]): F80 {
  let v = 0n;
  for (let k = 8; k >= 0; k--) v = v * 100n + BigInt((bytes[k] >> 4) * 10 + (bytes[k] & 15));
  const f = fromInt(v);
  if (bytes[9] & 0x80) f.se |= 0x8000;
  return f;
}

/** Nearest binary64 (for the transcendentals, which are computed in double precision). */
export function toNumber(a: F80): number {
  if (isNaN80(a) || isUnsupported(a)) return NaN;
  if (isInf(a)) return isNeg(a) ? -Infinity : Infinity;
  if (isZero(a)) return isNeg(a) ? -0 : 0;
  const { m, e } = unpack(a);
  let v = Number(m); // one rounding to nearest (53 bits)
  let k = e;
  while (k > 1000) { v *= 2 ** 1000; k -= 1000; }
  while (k < -1000) { v *= 2 ** -1000; k += 1000; }
  v *= 2 ** k;
  return isNeg(a) ? -v : v;
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** A binary64 as a register value (exact). */
export function fromNumber(x: number): F80 {
  F64[0] = x;
  return fromF64(U32[0], U32[1]).v;
}
