// Small helpers that generated block code calls (passed into each block's factory as
// constants, so every call site is monomorphic and V8 inlines them). They hold the pieces of
// arithmetic that are too long to paste inline: indexed 64-bit addresses, 64-bit
// shifts and rotates, and the parity table (exact products: ../exact-multiply.ts, shared with
// the interpreter).

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
