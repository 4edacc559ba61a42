// Small helpers that generated block code calls (passed into each block's factory as
// constants, so every call site is monomorphic and V8 inlines them). They hold the pieces of
// arithmetic that are too long to paste inline: exact 64-bit products, indexed 64-bit
// addresses, and the parity table.

import type { Cpu } from '../cpu.js';
import { getCF } from '../flags.js';
import { TWO32 } from '../regs.js';

/** 1 where the byte has even parity (PF set), else 0 */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let p = 1;
  for (let b = 0; b < 8; b++) if (i & (1 << b)) p ^= 1;
  PARITY[i] = p;
}

/** CF of the recorded lazy flags as 0/1 */
export function lazyCarry(cpu: Cpu): number {
  return getCF(cpu) ? 1 : 0;
}

/**
 * Linear address of [base + index*2^scale + disp] with 64-bit address size, exactly modulo
 * 2^64 (as a signed canonical Number). An absent base is passed as 0, 0.
 */
export function eaIndexed64(bl: number, bh: number, il: number, ih: number, scale: number, disp: number): number {
  const s = disp + (bl >>> 0) + (il >>> 0) * (1 << scale); // exact; its carry comes from the floor below
  const h = bh + (ih << scale);
  return ((h + Math.floor(s / TWO32)) | 0) * TWO32 + (s >>> 0);
}

/** Result limbs of the last 64x64 multiply, least significant first. */
export const prod = new Int32Array(4);

/** high half of an unsigned 32x32 product (the low half is Math.imul), from 16-bit pieces */
function mulHiU32(a: number, b: number): number {
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

export { mulHiU32 };

/** Results of the last shift64: low, high, CF, OF. */
export const shiftOut = new Int32Array(4);

/**
 * SHL (4), SHR (5) or SAR (7) of a 64-bit value by a count 1..63 (the group-2 kind numbers),
 * with CF and OF as the interpreter's shift routines define them.
 */
export function shift64(kind: number, lo: number, hi: number, c: number): void {
  let rl: number, rh: number, cf: number, of: number;
  if (kind === 5) {
    if (c < 32) { rl = (lo >>> c) | (hi << (32 - c)); rh = hi >>> c; } else { rl = hi >>> (c - 32); rh = 0; }
    cf = c - 1 < 32 ? (lo >>> (c - 1)) & 1 : (hi >>> (c - 33)) & 1;
    of = hi >>> 31;
  } else if (kind === 7) {
    if (c < 32) { rl = (lo >>> c) | (hi << (32 - c)); rh = hi >> c; } else { rl = hi >> (c - 32); rh = hi >> 31; }
    cf = c - 1 < 32 ? (lo >>> (c - 1)) & 1 : (hi >> (c - 33)) & 1;
    of = 0;
  } else {
    if (c < 32) { rh = (hi << c) | (lo >>> (32 - c)); rl = lo << c; } else { rh = lo << (c - 32); rl = 0; }
    const n = 64 - c;
    cf = n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1;
    of = ((rh >>> 31) ^ cf) & 1;
  }
  shiftOut[0] = rl; shiftOut[1] = rh; shiftOut[2] = cf; shiftOut[3] = of;
}

/** ROL (0) or ROR (1) of a 64-bit value by a count 1..63 into shiftOut (low, high, CF, OF). */
export function rotate64(kind: number, lo: number, hi: number, c: number): void {
  let e = kind === 0 ? c : 64 - c;
  let l = lo, h = hi;
  if (e >= 32) { l = hi; h = lo; e -= 32; }
  if (e > 0) { const nl = (l << e) | (h >>> (32 - e)); h = (h << e) | (l >>> (32 - e)); l = nl; }
  let cf: number, of: number;
  if (kind === 0) { cf = l & 1; of = ((h >>> 31) ^ cf) & 1; } else { cf = h >>> 31; of = (cf ^ ((h >>> 30) & 1)) & 1; }
  shiftOut[0] = l; shiftOut[1] = h; shiftOut[2] = cf; shiftOut[3] = of;
}
