// Exact IEEE-754 binary32/binary64 arithmetic for the cases the Number fast paths cannot
// decide: directed rounding near the ends of the range, results that overflow or are tiny,
// denormal operands, flush-to-zero. Operands are finite Numbers; the exact result is held as
// a BigInt significand and a power of two (plus a "sticky" bit for a nonzero remainder), then
// rounded once under the requested rounding control. Slow (~1 µs) but obviously right; the
// fast paths in fp-lane.ts take everything ordinary.
//
// Tininess is detected after rounding, as x86 processors do, and underflow is reported when
// the result is tiny and inexact (or tiny at all when the underflow exception is unmasked).

import { MX_OE, MX_PE, MX_UE, RC_DOWN, RC_NEAREST, RC_UP } from './mxcsr.js';

export interface FloatFormat {
  /** significand bits including the hidden one */
  p: number;
  emin: number;
  emax: number;
  /** largest finite value */
  max: number;
}

export const FMT32: FloatFormat = { p: 24, emin: -126, emax: 127, max: 3.4028234663852886e38 };
export const FMT64: FloatFormat = { p: 53, emin: -1022, emax: 1023, max: Number.MAX_VALUE };

/** Post-computation flags (PE, UE, OE) of the last rounding. */
export let sfFlags = 0;

const bitsF64 = new Float64Array(1);
const bitsI32 = new Int32Array(bitsF64.buffer);

// decomposition of the last `split` call: |x| = sm * 2^se
let sm = 0n;
let se = 0;

/** Split a finite Number into an integer significand and exponent (sign dropped). */
function split(x: number): void {
  bitsF64[0] = x;
  const lo = bitsI32[0], hi = bitsI32[1];
  const exp = (hi >>> 20) & 0x7ff;
  const mant = (hi & 0xfffff) * 4294967296 + (lo >>> 0);
  if (exp === 0) {
    sm = BigInt(mant);
    se = -1074;
  } else {
    sm = BigInt(mant + 4503599627370496);
    se = exp - 1075;
  }
}

export function bitLength(m: bigint): number {
  if (m === 0n) return 0;
  const h = m.toString(16);
  return (h.length - 1) * 4 + (32 - Math.clz32(parseInt(h[0], 16)));
}

let inexact = false;

/** Drop `shift` low bits of m (with a sticky tail below them) rounding by rc; sets `inexact`. */
function roundBits(neg: boolean, m: bigint, shift: number, sticky: boolean, rc: number): bigint {
  if (shift <= 0) {
    inexact = sticky;
    return m << BigInt(-shift);
  }
  const s = BigInt(shift);
  let q = m >> s;
  const rem = m - (q << s);
  inexact = rem !== 0n || sticky;
  if (!inexact) return q;
  switch (rc) {
    case RC_NEAREST: {
      const half = 1n << (s - 1n);
      if (rem > half || (rem === half && (sticky || (q & 1n) === 1n))) q++;
      break;
    }
    case RC_DOWN: if (neg) q++; break;
    case RC_UP: if (!neg) q++; break;
    default: break;
  }
  return q;
}

/** 2^k as a Number for -1074 <= k <= 1023 */
function pow2(k: number): number {
  if (k < -1022) return 2 ** (k + 100) * 2 ** -100;
  return 2 ** k;
}

/**
 * Round (-1)^neg * m * 2^e (with a nonzero tail below the last bit when `sticky`) to `fmt`.
 * When sticky, m must carry at least p + 2 bits. Sets sfFlags.
 */
export function roundExact(neg: boolean, m: bigint, e: number, sticky: boolean, fmt: FloatFormat, rc: number,
  ftz: boolean, ueUnmasked: boolean): number {
  sfFlags = 0;
  if (m === 0n) return neg ? -0 : 0;
  const p = fmt.p;
  const nb = bitLength(m);
  const exp = e + nb - 1; // exponent of the leading bit
  let q = roundBits(neg, m, nb - p, sticky, rc);
  let qExp = exp;
  if (bitLength(q) > p) {
    q >>= 1n;
    qExp++;
  }
  const inexactUnbounded = inexact;
  if (qExp > fmt.emax) {
    sfFlags = MX_OE | MX_PE;
    const toInf = rc === RC_NEAREST || (rc === RC_UP && !neg) || (rc === RC_DOWN && neg);
    const mag = toInf ? Infinity : fmt.max;
    return neg ? -mag : mag;
  }
  if (exp >= fmt.emin) {
    if (inexactUnbounded) sfFlags = MX_PE;
    const v = Number(q) * pow2(qExp - p + 1);
    return neg ? -v : v;
  }
  // below the normal range: the result lives on the denormal grid
  const tiny = qExp < fmt.emin;
  if (tiny && ftz && !ueUnmasked) {
    sfFlags = MX_UE | MX_PE;
    return neg ? -0 : 0;
  }
  const quantum = fmt.emin - p + 1;
  const q2 = roundBits(neg, m, quantum - e, sticky, rc);
  let f = 0;
  if (inexact) f |= MX_PE;
  if (tiny && (inexact || ueUnmasked)) f |= MX_UE;
  sfFlags = f;
  const v = Number(q2) * pow2(quantum);
  return neg ? -v : v;
}

/** Exact a + b rounded to fmt (a, b finite; an exact zero sum is -0 only when rounding down). */
export function sfAdd(a: number, b: number, fmt: FloatFormat, rc: number, ftz: boolean, ueUnmasked: boolean): number {
  if (a === 0 && b === 0) {
    sfFlags = 0;
    const negA = Object.is(a, -0), negB = Object.is(b, -0);
    return (negA && negB) || (rc === RC_DOWN && (negA || negB)) ? -0 : 0;
  }
  split(a);
  let ma = a < 0 ? -sm : sm;
  const ea = se;
  split(b);
  let mb = b < 0 ? -sm : sm;
  const eb = se;
  const e = Math.min(ea, eb);
  ma <<= BigInt(ea - e);
  mb <<= BigInt(eb - e);
  const s = ma + mb;
  if (s === 0n) {
    sfFlags = 0;
    return rc === RC_DOWN ? -0 : 0;
  }
  return roundExact(s < 0n, s < 0n ? -s : s, e, false, fmt, rc, ftz, ueUnmasked);
}

/** Exact a * b rounded to fmt (a, b finite). */
export function sfMul(a: number, b: number, fmt: FloatFormat, rc: number, ftz: boolean, ueUnmasked: boolean): number {
  const neg = (a < 0 || Object.is(a, -0)) !== (b < 0 || Object.is(b, -0));
  if (a === 0 || b === 0) {
    sfFlags = 0;
    return neg ? -0 : 0;
  }
  split(a);
  const ma = sm, ea = se;
  split(b);
  return roundExact(neg, ma * sm, ea + se, false, fmt, rc, ftz, ueUnmasked);
}

/** a / b rounded to fmt (a, b finite, b nonzero). */
export function sfDiv(a: number, b: number, fmt: FloatFormat, rc: number, ftz: boolean, ueUnmasked: boolean): number {
  const neg = (a < 0 || Object.is(a, -0)) !== (b < 0 || Object.is(b, -0));
  if (a === 0) {
    sfFlags = 0;
    return neg ? -0 : 0;
  }
  split(a);
  const ma = sm, ea = se;
  split(b);
  const mb = sm, eb = se;
  const k = Math.max(0, fmt.p + 3 + bitLength(mb) - bitLength(ma));
  const num = ma << BigInt(k);
  const q = num / mb;
  const sticky = num - q * mb !== 0n;
  return roundExact(neg, q, ea - eb - k, sticky, fmt, rc, ftz, ueUnmasked);
}

/** Integer square root (floor). */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** sqrt(a) rounded to fmt (a finite, > 0). */
export function sfSqrt(a: number, fmt: FloatFormat, rc: number, ftz: boolean, ueUnmasked: boolean): number {
  split(a);
  let m = sm, e = se;
  if ((e & 1) !== 0) {
    m <<= 1n;
    e -= 1;
  }
  const want = 2 * (fmt.p + 3);
  const k = Math.max(0, Math.ceil((want - bitLength(m)) / 2));
  m <<= BigInt(2 * k);
  const r = isqrt(m);
  const sticky = r * r !== m;
  return roundExact(false, r, (e - 2 * k) / 2, sticky, fmt, rc, ftz, ueUnmasked);
}

/** A finite Number (exactly known) rounded to fmt: double to single narrowing. */
export function sfRound(a: number, fmt: FloatFormat, rc: number, ftz: boolean, ueUnmasked: boolean): number {
  if (a === 0) {
    sfFlags = 0;
    return a;
  }
  split(a);
  return roundExact(a < 0, sm, se, false, fmt, rc, ftz, ueUnmasked);
}

/** A signed 64-bit integer (as halves) rounded to fmt. */
export function sfFromInt64(lo: number, hi: number, fmt: FloatFormat, rc: number): number {
  let v = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
  const neg = v < 0n;
  if (neg) v = -v;
  return roundExact(neg, v, 0, false, fmt, rc, false, false);
}

