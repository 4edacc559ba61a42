// Exact integer products without BigInt: 32x32 -> 64 and 64x64 -> 128 from 16- and 32-bit
// pieces. One copy serves the interpreter (MUL/IMUL/MULX in ops/integer) and the code that
// compiled blocks call (jit/runtime.ts passes these into each block's factory).

import { TWO32 } from './regs.js';

/** Result limbs of the last 64x64 multiply, least significant first. */
export const prod = new Int32Array(4);

/** high half of an unsigned 32x32 product (the low half is Math.imul), from 16-bit pieces */
export function mulHiU32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const m1 = a1 * b0, m2 = a0 * b1; // each < 2^32
  const carry = (((a0 * b0) >>> 16) + (m1 & 0xffff) + (m2 & 0xffff)) >>> 16;
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + carry) | 0;
}

/** Low 64 bits of a 64x64 product (signed and unsigned agree): low half returned, high half in prod[1]. */
export function mulLo64(al: number, ah: number, bl: number, bh: number): number {
  prod[1] = (mulHiU32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
  return Math.imul(al, bl);
}

/** Unsigned 64x64 -> 128 product into prod[0..3]. */
export function mulU64(al: number, ah: number, bl: number, bh: number): void {
  const p00l = Math.imul(al, bl) >>> 0, p00h = mulHiU32(al, bl) >>> 0;
  const p01l = Math.imul(al, bh) >>> 0, p01h = mulHiU32(al, bh) >>> 0;
  const p10l = Math.imul(ah, bl) >>> 0, p10h = mulHiU32(ah, bl) >>> 0;
  const p11l = Math.imul(ah, bh) >>> 0, p11h = mulHiU32(ah, bh) >>> 0;
  const t = p00h + p01l + p10l;
  const u = p01h + p10h + p11l + Math.floor(t / TWO32);
  prod[0] = p00l;
  prod[1] = t % TWO32;
  prod[2] = u % TWO32;
  prod[3] = (p11h + Math.floor(u / TWO32)) | 0;
}

/** Signed 64x64 -> 128 product into prod[0..3]. */
export function mulS64(al: number, ah: number, bl: number, bh: number): void {
  mulU64(al, ah, bl, bh);
  if (ah < 0) subHigh(bl, bh);
  if (bh < 0) subHigh(al, ah);
}

/** prod[3]:prod[2] -= (l, h): the signed correction of an unsigned product */
function subHigh(l: number, h: number): void {
  const s = (prod[2] >>> 0) - (l >>> 0);
  prod[2] = s | 0;
  prod[3] = (prod[3] - h - (s < 0 ? 1 : 0)) | 0;
}

/** High half of a signed 32x32 product. */
export function mulHiS32(a: number, b: number): number {
  let h = mulHiU32(a, b);
  if (a < 0) h = (h - b) | 0;
  if (b < 0) h = (h - a) | 0;
  return h;
}
