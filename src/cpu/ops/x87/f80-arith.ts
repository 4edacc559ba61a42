// x87 extended-precision arithmetic, exact: values in the 80-bit register format (sign and
// 15-bit biased exponent, 64-bit significand with an explicit integer bit), results rounded once
// to the precision control's 24, 53 or 64 bits and by the rounding control, with the status
// bits the FPU sets when every exception is masked (IE DE ZE OE UE PE, C1 = rounded up).
//
// The x87 instructions compute through this core (ops/x87/*); test/cpu/x87/f80-arith-oracle.test.ts
// holds it to the host CPU bit for bit.

/** a value in the register format */
export interface F80 {
  /** sign (bit 15) and biased exponent (bits 14-0) */
  se: number;
  /** significand, integer bit at bit 63 */
  sig: bigint;
}

export interface F80Result {
  v: F80;
  /** status-word bits raised: IE DE ZE OE UE PE and C1 */
  sw: number;
  /**
   * For an overflow or a tiny result: what an unmasked OE or UE stores instead (SDM vol. 1
   * 8.5.3, 8.5.4): the value rounded with an unbounded exponent, then scaled by 2^-24576
   * (overflow) or 2^24576 (underflow), with OE or UE and the PE/C1 of that rounding.
   */
  wrap?: { v: F80; sw: number };
}

/** the SDM's bias adjustment of an unmasked overflow or underflow into a register */
export const WRAP_BIAS = 24576;

export const SW_IE = 0x1, SW_DE = 0x2, SW_ZE = 0x4, SW_OE = 0x8, SW_UE = 0x10, SW_PE = 0x20, SW_C1 = 0x200;
/** precision control (control word bits 9-8) */
export const PC_24 = 0, PC_53 = 2, PC_64 = 3;
/** rounding control (control word bits 11-10) */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

export const BIAS = 16383;
export const EXP_MAX = 0x7fff;
export const INT_BIT = 1n << 63n;
export const FRACTION = INT_BIT - 1n;
export const QUIET = 1n << 62n;
/** exponent of a significand's bit 0 in the smallest binade (exponent field 0 or 1) */
const MIN_LSB = 1 - BIAS - 63;
/** the QNaN indefinite an invalid operation gives */
export const INDEFINITE: F80 = { se: 0xffff, sig: 0xc000_0000_0000_0000n };

export const exponentOf = (a: F80) => a.se & EXP_MAX;
export const isNeg = (a: F80) => (a.se & 0x8000) !== 0;
export const isNaN80 = (a: F80) => exponentOf(a) === EXP_MAX && (a.sig & FRACTION) !== 0n;
export const isInf = (a: F80) => exponentOf(a) === EXP_MAX && (a.sig & FRACTION) === 0n;
export const isZero = (a: F80) => exponentOf(a) === 0 && a.sig === 0n;
export const isDenormal = (a: F80) => exponentOf(a) === 0 && a.sig !== 0n;
export const zero = (neg: boolean): F80 => ({ se: neg ? 0x8000 : 0, sig: 0n });
export const inf = (neg: boolean): F80 => ({ se: (neg ? 0x8000 : 0) | EXP_MAX, sig: INT_BIT });

function precisionBits(pc: number): number {
  return pc === PC_24 ? 24 : pc === PC_53 ? 53 : 64; // PC=1 is reserved; hardware treats it as 64
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** Bits in m > 0 (0 for 0): from the exponent of Number(m), which is exact unless m rounded up to a power of 2 */
export function bitLength(m: bigint): number {
  const x = Number(m);
  if (x < 2 ** 1000) {
    if (x === 0) return 0;
    F64[0] = x;
    let e = (U32[1] >>> 20) - 1022;
    if (U32[0] === 0 && (U32[1] & 0xfffff) === 0 && m >> BigInt(e - 1) === 0n) e--;
    return e;
  }
  const h = m.toString(16);
  return (h.length - 1) * 4 + (32 - Math.clz32(parseInt(h[0], 16)));
}

/**
 * Rounds (-1)^neg * (m + ε) * 2^e, where m > 0 and ε in [0, 1) is nonzero exactly when `sticky`,
 * to `pc` bits by `rc`; underflow, overflow and precision as with those exceptions masked.
 * `sw`: status bits the operation raised before rounding (a denormal operand's DE), added to the result's.
 */
export function roundF80(neg: boolean, m: bigint, e: number, sticky: boolean, pc: number, rc: number, sw = 0): F80Result {
  const top = e + bitLength(m) - 1; // exponent of the leading bit, unbounded
  const r = roundBounded(neg, m, e, top, sticky, pc, rc);
  // an unmasked underflow is signalled for every tiny result, exact or not
  if (top + BIAS < 1) r.wrap = wrapped(neg, m, e + WRAP_BIAS, sticky, pc, rc, SW_UE);
  else if ((r.sw & SW_OE) !== 0) r.wrap = wrapped(neg, m, e - WRAP_BIAS, sticky, pc, rc, SW_OE);
  r.sw |= sw;
  return r;
}

function wrapped(neg: boolean, m: bigint, e: number, sticky: boolean, pc: number, rc: number, flag: number): { v: F80; sw: number } {
  const w = roundBounded(neg, m, e, e + bitLength(m) - 1, sticky, pc, rc);
  return { v: w.v, sw: (w.sw & (SW_PE | SW_C1)) | flag };
}

function roundBounded(neg: boolean, m: bigint, e: number, top: number, sticky: boolean, pc: number, rc: number): F80Result {
  const p = precisionBits(pc);
  const tiny = top + BIAS < 1;
  // a denormal result keeps the precision control's bits of the significand field too: its
  // lowest 64 - p bits stay zero (measured on the host: 0xdeadbeef at PC=53 rounds to 0xdeadc000)
  let lsb = Math.max(top - (p - 1), MIN_LSB + 64 - p);
  const drop = lsb - e;
  let q: bigint;
  // what was dropped, against half an lsb: 0 exact, 1 below, 2 exactly half, 3 above
  let rest: 0 | 1 | 2 | 3;
  if (drop <= 0) {
    q = m << BigInt(-drop);
    rest = sticky ? 1 : 0;
  } else {
    const s = BigInt(drop);
    q = m >> s;
    const r = m & ((1n << s) - 1n);
    const half = 1n << (s - 1n);
    rest = r === 0n ? (sticky ? 1 : 0) : r < half ? 1 : r > half || sticky ? 3 : 2;
  }
  let sw = 0;
  let up = false;
  if (rest !== 0) {
    sw |= SW_PE;
    if (rc === RC_NEAREST) up = rest === 3 || (rest === 2 && (q & 1n) === 1n);
    else if (rc === RC_DOWN) up = neg;
    else if (rc === RC_UP) up = !neg;
    if (up) {
      q += 1n;
      sw |= SW_C1;
      if (bitLength(q) > p) { q >>= 1n; lsb++; }
    }
    if (tiny) sw |= SW_UE;
  }
  if (q === 0n) return { v: zero(neg), sw };
  const lead = lsb + bitLength(q) - 1;
  const biased = lead + BIAS;
  if (biased >= EXP_MAX) {
    // masked overflow: infinity, or the largest finite value where rounding goes toward zero
    const toInf = rc === RC_NEAREST || (rc === RC_UP && !neg) || (rc === RC_DOWN && neg);
    if (toInf) return { v: inf(neg), sw: SW_OE | SW_PE | SW_C1 };
    const max = ((1n << BigInt(p)) - 1n) << BigInt(64 - p);
    return { v: { se: (neg ? 0x8000 : 0) | (EXP_MAX - 1), sig: max }, sw: SW_OE | SW_PE };
  }
  if (biased >= 1) return { v: { se: (neg ? 0x8000 : 0) | biased, sig: q << BigInt(63 - (bitLength(q) - 1)) }, sw };
  return { v: { se: neg ? 0x8000 : 0, sig: q << BigInt(lsb - MIN_LSB) }, sw }; // denormal
}

/** finite a = m * 2^e */
export function unpack(a: F80): { m: bigint; e: number } {
  const x = exponentOf(a);
  return { m: a.sig, e: (x === 0 ? 1 : x) - BIAS - 63 };
}

/** Invalid and NaN operands: the result, or null when both are ordinary values. */
export function special(a: F80, b: F80 | null): F80Result | null {
  const an = isNaN80(a), bn = b !== null && isNaN80(b);
  if (!an && !bn) return null;
  const snan = (an && (a.sig & QUIET) === 0n) || (bn && (b!.sig & QUIET) === 0n);
  const quiet = (x: F80): F80 => ({ se: x.se, sig: x.sig | QUIET });
  let r: F80;
  if (an && bn) {
    const aq = (a.sig & QUIET) !== 0n, bq = (b!.sig & QUIET) !== 0n;
    // a QNaN over an SNaN, then the larger significand, then the positive sign
    if (aq !== bq) r = aq ? a : b!;
    else {
      // equal significands: the positive one (measured on the host)
      const fa = a.sig & FRACTION, fb = b!.sig & FRACTION;
      r = fa > fb ? a : fb > fa ? b! : isNeg(a) ? b! : a;
    }
  } else r = an ? a : b!;
  return { v: quiet(r), sw: snan ? SW_IE : 0 };
}

const denormalFlag = (...xs: F80[]) => (xs.some(isDenormal) ? SW_DE : 0);

/** a + b, or a - b with `subtract` */
export function addF80(a: F80, b: F80, subtract: boolean, pc: number, rc: number): F80Result {
  const s = special(a, b);
  if (s) return s;
  const an = isNeg(a), bn = isNeg(b) !== subtract;
  const de = denormalFlag(a, b); // reported before anything else about the operands
  if (isInf(a) || isInf(b)) {
    if (isInf(a) && isInf(b) && an !== bn) return { v: INDEFINITE, sw: SW_IE };
    return { v: isInf(a) ? inf(an) : inf(bn), sw: de };
  }
  const ua = unpack(a), ub = unpack(b);
  const e = Math.min(ua.e, ub.e);
  const ma = ua.m << BigInt(ua.e - e), mb = ub.m << BigInt(ub.e - e);
  const sum = (an ? -ma : ma) + (bn ? -mb : mb);
  if (sum === 0n) {
    // an exact zero: the operands' sign when they agree, else + (- when rounding down)
    return { v: zero(an === bn ? an : rc === RC_DOWN), sw: de };
  }
  return roundF80(sum < 0n, sum < 0n ? -sum : sum, e, false, pc, rc, de);
}

export function mulF80(a: F80, b: F80, pc: number, rc: number): F80Result {
  const s = special(a, b);
  if (s) return s;
  const neg = isNeg(a) !== isNeg(b);
  const de = denormalFlag(a, b);
  if (isInf(a) || isInf(b)) {
    if (isZero(a) || isZero(b)) return { v: INDEFINITE, sw: SW_IE };
    return { v: inf(neg), sw: de };
  }
  if (isZero(a) || isZero(b)) return { v: zero(neg), sw: de };
  const ua = unpack(a), ub = unpack(b);
  return roundF80(neg, ua.m * ub.m, ua.e + ub.e, false, pc, rc, de);
}

/** a / b */
export function divF80(a: F80, b: F80, pc: number, rc: number): F80Result {
  const s = special(a, b);
  if (s) return s;
  const neg = isNeg(a) !== isNeg(b);
  const de = denormalFlag(a, b);
  if (isInf(a)) return isInf(b) ? { v: INDEFINITE, sw: SW_IE } : { v: inf(neg), sw: de };
  if (isInf(b)) return { v: zero(neg), sw: de };
  // divide by zero is reported alone (measured: a denormal dividend adds no DE)
  if (isZero(b)) return isZero(a) ? { v: INDEFINITE, sw: SW_IE } : { v: inf(neg), sw: SW_ZE };
  if (isZero(a)) return { v: zero(neg), sw: de };
  const ua = unpack(a), ub = unpack(b);
  // at least 66 quotient bits (64, a guard bit and one more; the remainder gives the sticky bit)
  const K = 66 + Math.max(0, bitLength(ub.m) - bitLength(ua.m));
  const n = ua.m << BigInt(K);
  const q = n / ub.m;
  return roundF80(neg, q, ua.e - ub.e - K, q * ub.m !== n, pc, rc, de);
}

export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrtF80(a: F80, pc: number, rc: number): F80Result {
  const s = special(a, null);
  if (s) return s;
  if (isZero(a)) return { v: a, sw: 0 };
  if (isNeg(a)) return { v: INDEFINITE, sw: SW_IE };
  if (isInf(a)) return { v: a, sw: 0 };
  const de = denormalFlag(a);
  const ua = unpack(a);
  let shift = 140; // the root keeps 70+ bits
  if (((ua.e - shift) & 1) !== 0) shift++;
  const n = ua.m << BigInt(shift);
  const root = isqrt(n);
  return roundF80(false, root, (ua.e - shift) / 2, root * root !== n, pc, rc, de);
}
