// The x87 transcendental functions on finite, nonzero register values, evaluated in a short
// binary floating point of PREC bits (BigInt significand, "jammed" so that a value that is not
// exact never looks exact) and rounded once into the register by PC and RC. The error before
// that rounding is a few units in 2^-PREC, so the result is the correctly rounded one except
// within about 2^-(PREC-64) of a rounding boundary. Hardware is not quite correctly rounded
// (its microcode keeps a few bits beyond 64): test/cpu/x87/transcendental-oracle.test.ts counts
// where the host differs, by one unit in the last place.
//
// FSIN/FCOS/FPTAN reduce the argument by multiples of pi/2 where pi is rounded to 66 bits, as the
// hardware does (measured on the host: 395 of 400 results near multiples of pi and up to 2^62
// match only that value of pi; Intel documents the same 66-bit constant). The reduction itself is
// exact: x - q * P66/2 is computed on integers.

import {
  bitLength, type F80, type F80Result, isNeg, isqrt, roundF80, SW_PE, unpack,
} from './f80-arith.js';

/** m * 2^e, m signed */
interface Big { m: bigint; e: number }

const PREC = 150;

function norm(m: bigint, e: number): Big {
  const neg = m < 0n;
  const mag = neg ? -m : m;
  const len = bitLength(mag);
  if (len <= PREC + 16) return { m, e };
  const s = len - PREC;
  const sb = BigInt(s);
  let q = mag >> sb;
  if (q << sb !== mag) q |= 1n; // jam: a value with bits dropped stays visibly inexact
  return { m: neg ? -q : q, e: e + s };
}

const big = (n: number | bigint, e = 0): Big => ({ m: BigInt(n), e });
const neg = (a: Big): Big => ({ m: -a.m, e: a.e });
const mul = (a: Big, b: Big): Big => norm(a.m * b.m, a.e + b.e);
const lead = (a: Big): number => a.e + bitLength(a.m < 0n ? -a.m : a.m) - 1;

function add(a: Big, b: Big): Big {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  return norm((a.m << BigInt(a.e - e)) + (b.m << BigInt(b.e - e)), e);
}
const sub = (a: Big, b: Big): Big => add(a, neg(b));

function div(a: Big, b: Big): Big {
  const la = bitLength(a.m < 0n ? -a.m : a.m), lb = bitLength(b.m < 0n ? -b.m : b.m);
  const k = Math.max(0, PREC + 4 + lb - la);
  const n = a.m << BigInt(k);
  let q = n / b.m;
  if (q * b.m !== n) q = q < 0n ? -(-q | 1n) : q | 1n;
  return norm(q, a.e - b.e - k);
}

function sqrt(a: Big): Big {
  let k = Math.max(0, 2 * PREC + 4 - bitLength(a.m));
  if (((a.e - k) & 1) !== 0) k++;
  const n = a.m << BigInt(k);
  let r = isqrt(n);
  if (r * r !== n) r |= 1n;
  return norm(r, (a.e - k) / 2);
}

/** Sum of a series whose terms decrease: stops after the first term below the sum's precision (it still sets the jam bit). */
function series(first: Big, next: (term: Big, k: number) => Big): Big {
  let sum = first, term = first;
  for (let k = 1; k < 400; k++) {
    term = next(term, k);
    if (term.m === 0n) break;
    sum = add(sum, term);
    if (lead(term) < lead(sum) - PREC - 2) break;
  }
  return sum;
}

/** sin r, cos r for |r| <= pi/4 */
function sinSmall(r: Big): Big {
  const u = neg(mul(r, r));
  return series(r, (t, k) => div(mul(t, u), big((2 * k) * (2 * k + 1))));
}
function cosSmall(r: Big): Big {
  const u = neg(mul(r, r));
  return series(big(1), (t, k) => div(mul(t, u), big((2 * k - 1) * (2 * k))));
}
/** e^t - 1, |t| <= 1 */
const expm1Small = (t: Big): Big => series(t, (term, k) => div(mul(term, t), big(k + 1)));
/** atanh s (|s| small), atan z (|z| <= 0.2) as power series */
function oddSeries(z: Big, alternate: boolean): Big {
  const u = alternate ? neg(mul(z, z)) : mul(z, z);
  let p = z;
  return series(z, (_t, k) => { p = mul(p, u); return div(p, big(2 * k + 1)); });
}
/** atan z for 0 < z <= 1: two halvings of the angle (z / (1 + sqrt(1 + z^2))) bring z under 0.2 */
function atan01(z: Big): Big {
  for (let i = 0; i < 2; i++) z = div(z, add(big(1), sqrt(add(big(1), mul(z, z)))));
  return mul(oddSeries(z, true), big(4));
}

// pi (Machin: 16 atan(1/5) - 4 atan(1/239)) and ln 2 (2 atanh(1/3)) to PREC bits
const PI = sub(mul(oddSeries(div(big(1), big(5)), true), big(16)), mul(oddSeries(div(big(1), big(239)), true), big(4)));
const LN2 = mul(oddSeries(div(big(1), big(3)), false), big(2));
/** pi rounded to 66 bits, over 2: the hardware's reduction constant for FSIN FCOS FSINCOS FPTAN */
const P66_HALF = 0x3_243f_6a88_85a3_08d3n, P66_HALF_EXP = -65;

function fromF80(a: F80): Big {
  const { m, e } = unpack(a);
  return { m: isNeg(a) ? -m : m, e };
}

/** v rounded into the register by PC and RC (PE and C1 from the rounding) */
export function toF80(v: Big, pc: number, rc: number): F80Result {
  if (v.m === 0n) return { v: { se: 0, sig: 0n }, sw: SW_PE };
  const n = v.m < 0n;
  return roundF80(n, n ? -v.m : v.m, v.e, false, pc, rc);
}

/** x reduced by the nearest multiple q of P66/2: x - q * P66/2 (exact) and q mod 4 */
function reduce(x: F80): { r: Big; q: number } {
  const { m, e } = unpack(x);
  const E = Math.min(e, P66_HALF_EXP);
  const X = m << BigInt(e - E), H = P66_HALF << BigInt(P66_HALF_EXP - E);
  const q = (2n * X + H) / (2n * H);
  return { r: norm(X - q * H, E), q: Number(q & 3n) };
}

/** sin and cos of a finite |x| < 2^63 (the sign of x applied to sin) */
function sinCos(x: F80): { s: Big; c: Big } {
  const { r, q } = reduce({ se: x.se & 0x7fff, sig: x.sig });
  const S = r.m === 0n ? big(0) : sinSmall(r), C = cosSmall(r);
  const quads = [[S, C], [C, neg(S)], [neg(S), neg(C)], [neg(C), S]];
  const [s, c] = quads[q];
  return { s: isNeg(x) ? neg(s) : s, c };
}

export function sinF80(x: F80, pc: number, rc: number): F80Result { return toF80(sinCos(x).s, pc, rc); }
export function cosF80(x: F80, pc: number, rc: number): F80Result { return toF80(sinCos(x).c, pc, rc); }
export function tanF80(x: F80, pc: number, rc: number): F80Result {
  const { s, c } = sinCos(x);
  return toF80(div(s, c), pc, rc);
}

/** 2^x - 1 for 0 < |x| < 1 */
export function f2xm1F80(x: F80, pc: number, rc: number): F80Result {
  return toF80(expm1Small(mul(fromF80(x), LN2)), pc, rc);
}

/** sqrt(2) * 2^63, rounded down */
const SQRT2_SIG = 0xb504_f333_f9de_6484n;

/** log2 x of a finite x > 0: x = f * 2^k with f in [sqrt(1/2), sqrt(2)), log2 x = k + 2 atanh((f - 1) / (f + 1)) / ln 2 */
function log2Of(x: F80): Big {
  const { m, e } = unpack(x);
  const len = bitLength(m);
  // x = f * 2^k with f in [sqrt(1/2), sqrt(2))
  let k = e + len - 1;
  const top = m << BigInt(64 - len); // integer bit at bit 63
  let f: Big = big(top, -63);
  if (top > SQRT2_SIG) { f = big(top, -64); k++; }
  const s = div(sub(f, big(1)), add(f, big(1)));
  const l = div(mul(oddSeries(s, false), big(2)), LN2);
  return k === 0 ? l : add(big(k), l);
}

/** y * log2(x), x > 0 and y finite nonzero */
export function fyl2xF80(x: F80, y: F80, pc: number, rc: number): F80Result {
  return toF80(mul(fromF80(y), log2Of(x)), pc, rc);
}

/** y * log2(1 + x), |x| small (the instruction's domain), nonzero */
export function fyl2xp1F80(x: F80, y: F80, pc: number, rc: number): F80Result {
  const xb = fromF80(x);
  const s = div(xb, add(big(2), xb));
  const l = div(mul(oddSeries(s, false), big(2)), LN2);
  return toF80(mul(fromF80(y), l), pc, rc);
}

/** atan2(y, x) of finite nonzero y and x */
export function fpatanF80(y: F80, x: F80, pc: number, rc: number): F80Result {
  const ax = fromF80({ se: x.se & 0x7fff, sig: x.sig }), ay = fromF80({ se: y.se & 0x7fff, sig: y.sig });
  const yBelow = sub(ay, ax).m <= 0n;
  const theta = atan01(yBelow ? div(ay, ax) : div(ax, ay));
  const halfPi = { m: PI.m, e: PI.e - 1 };
  let v: Big;
  if (yBelow) v = isNeg(x) ? sub(PI, theta) : theta;
  else v = isNeg(x) ? add(halfPi, theta) : sub(halfPi, theta);
  return toF80(isNeg(y) ? neg(v) : v, pc, rc);
}

/** k * pi/4 rounded into the register (FPATAN's results on zeros and infinities) */
export function piQuartersF80(k: number, pc: number, rc: number): F80Result {
  return toF80(mul({ m: PI.m, e: PI.e - 2 }, big(k)), pc, rc);
}

