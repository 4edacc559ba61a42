// The 80-bit extended-precision memory format (sign + 15-bit exponent, 64-bit significand with
// an explicit integer bit) converted to and from the binary64 values the registers hold.
// Loading rounds the 64-bit significand to 53 bits (to nearest) and values beyond the double
// range become infinities or zeros; NaN payloads keep their top 52 bits. Unnormals,
// pseudo-NaNs and pseudo-infinities are invalid encodings and load as the QNaN indefinite.

const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);

const TWO32 = 4294967296;

/** Result of toReal80: sign/exponent word and significand halves. */
export const r80 = { se: 0, hi: 0, lo: 0 };

/** Convert a binary64 (given by its bits) into r80. */
export function toReal80(lo: number, hi: number): void {
  const sign = hi < 0 ? 0x8000 : 0;
  const exp = (hi >>> 20) & 0x7ff;
  let mhi = hi & 0xfffff, mlo = lo >>> 0;
  if (exp === 0x7ff) {
    r80.se = sign | 0x7fff;
    // infinity: integer bit only; NaN: integer bit + payload
    r80.hi = (0x80000000 | (mhi << 11) | (mlo >>> 21)) | 0;
    r80.lo = (mlo << 11) | 0;
    return;
  }
  if (exp === 0) {
    if (mhi === 0 && mlo === 0) { r80.se = sign; r80.hi = 0; r80.lo = 0; return; }
    // a binary64 denormal is a normal number in the 80-bit format: normalise it
    let e = -1022;
    while ((mhi & 0x100000) === 0) {
      mhi = (mhi << 1) | (mlo >>> 31);
      mlo = (mlo << 1) >>> 0;
      e--;
    }
    mhi &= 0xfffff;
    r80.se = sign | (e + 16383);
    r80.hi = (0x80000000 | (mhi << 11) | (mlo >>> 21)) | 0;
    r80.lo = (mlo << 11) | 0;
    return;
  }
  r80.se = sign | (exp - 1023 + 16383);
  r80.hi = (0x80000000 | (mhi << 11) | (mlo >>> 21)) | 0;
  r80.lo = (mlo << 11) | 0;
}

/** bits of the last fromReal80 result (NaNs are returned through these) */
export const f80Bits = { lo: 0, hi: 0 };

/**
 * Convert an 80-bit value to binary64; returns the value and leaves its exact bits in f80Bits
 * (use the bits when the result is a NaN). `invalid` is set for unsupported encodings.
 */
export function fromReal80(se: number, hi: number, lo: number): number {
  const neg = (se & 0x8000) !== 0;
  const exp = se & 0x7fff;
  const intBit = (hi & 0x80000000) !== 0;
  const fracHi = hi & 0x7fffffff, ulo = lo >>> 0;
  let v: number;
  if (exp === 0x7fff) {
    if (!intBit) return indefinite();
    if (fracHi === 0 && ulo === 0) v = neg ? -Infinity : Infinity;
    else {
      // NaN: keep the top 52 fraction bits (bit 62 is the quiet bit)
      f80Bits.hi = (neg ? 0x80000000 : 0) | 0x7ff00000 | (fracHi >>> 11);
      f80Bits.lo = ((fracHi << 21) | (ulo >>> 11)) | 0;
      if ((f80Bits.hi & 0xfffff) === 0 && f80Bits.lo === 0) f80Bits.hi |= 0x80000; // payload lost below bit 11
      i32[0] = f80Bits.lo;
      i32[1] = f80Bits.hi;
      return f64[0];
    }
  } else if (exp === 0) {
    // denormal or zero: far below the binary64 range unless zero
    v = neg ? -0 : 0;
  } else {
    if (!intBit) return indefinite();
    const m = (hi >>> 0) * TWO32 + ulo; // rounded to 53 bits once, to nearest
    let e = exp - 16383 - 63;
    v = m;
    // scale in steps so no intermediate power of two leaves the double range
    while (e > 1000) { v *= 2 ** 1000; e -= 1000; }
    while (e < -1000) { v *= 2 ** -1000; e += 1000; }
    v *= 2 ** e;
    if (neg) v = -v;
  }
  f64[0] = v;
  f80Bits.lo = i32[0];
  f80Bits.hi = i32[1];
  return v;
}

function indefinite(): number {
  f80Bits.lo = 0;
  f80Bits.hi = 0xfff80000 | 0;
  i32[0] = 0;
  i32[1] = f80Bits.hi;
  return f64[0];
}
