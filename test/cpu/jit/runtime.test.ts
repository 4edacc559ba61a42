// The generated code's arithmetic helpers against BigInt on edge and random operands.

import { describe, expect, test } from 'vitest';
import { mulHiS32, mulHiU32, mulLo64, mulS64, mulU64, prod } from '../../../src/cpu/exact-multiply.js';
import { eaIndexed64, shift64, shiftOut } from '../../../src/cpu/jit/runtime.js';
import { Rng } from './random-blocks.js';

const EDGE = [0, 1, -1, 2, 0x7fffffff, -0x80000000, 0xffff, 0x10000, 0x8000, -0x8000, 3, 0x55555555, -0x55555556];

function pairs(rng: Rng, n: number): [number, number][] {
  const out: [number, number][] = [];
  for (const a of EDGE) for (const b of EDGE) out.push([a, b]);
  for (let i = 0; i < n; i++) out.push([rng.next() | 0, rng.next() | 0]);
  return out;
}

const u64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const s64 = (lo: number, hi: number): bigint => BigInt.asIntN(64, u64(lo, hi));

describe('runtime helpers', () => {
  const rng = new Rng(99);

  test('32x32 high halves', () => {
    for (const [a, b] of pairs(rng, 2000)) {
      expect(mulHiU32(a, b)).toBe(Number(BigInt.asIntN(32, (BigInt(a >>> 0) * BigInt(b >>> 0)) >> 32n)));
      expect(mulHiS32(a, b)).toBe(Number(BigInt.asIntN(32, (BigInt(a) * BigInt(b)) >> 32n)));
    }
  });

  test('64x64 products', () => {
    const vals = pairs(rng, 300);
    for (let i = 0; i + 1 < vals.length; i += 2) {
      const [al, ah] = vals[i], [bl, bh] = vals[i + 1];
      const uq = u64(al, ah) * u64(bl, bh), sq = s64(al, ah) * s64(bl, bh);
      mulU64(al, ah, bl, bh);
      expect([...prod]).toEqual([0, 1, 2, 3].map((k) => Number(BigInt.asIntN(32, uq >> BigInt(32 * k)))));
      mulS64(al, ah, bl, bh);
      expect([...prod]).toEqual([0, 1, 2, 3].map((k) => Number(BigInt.asIntN(32, sq >> BigInt(32 * k)))));
      const lo = mulLo64(al, ah, bl, bh);
      expect([lo, prod[1]]).toEqual([Number(BigInt.asIntN(32, uq)), Number(BigInt.asIntN(32, uq >> 32n))]);
    }
  });

  test('64-bit shifts', () => {
    for (const [l, h] of pairs(rng, 200)) {
      for (let c = 1; c < 64; c++) {
        const v = u64(l, h);
        shift64(4, l, h, c);
        const shl = BigInt.asUintN(64, v << BigInt(c));
        expect([shiftOut[0], shiftOut[1], shiftOut[2]]).toEqual([Number(BigInt.asIntN(32, shl)), Number(BigInt.asIntN(32, shl >> 32n)), Number((v >> BigInt(64 - c)) & 1n)]);
        shift64(5, l, h, c);
        const shr = v >> BigInt(c);
        expect([shiftOut[0], shiftOut[1], shiftOut[2]]).toEqual([Number(BigInt.asIntN(32, shr)), Number(BigInt.asIntN(32, shr >> 32n)), Number((v >> BigInt(c - 1)) & 1n)]);
        shift64(7, l, h, c);
        const sar = BigInt.asUintN(64, s64(l, h) >> BigInt(c));
        expect([shiftOut[0], shiftOut[1], shiftOut[2]]).toEqual([Number(BigInt.asIntN(32, sar)), Number(BigInt.asIntN(32, sar >> 32n)), Number((s64(l, h) >> BigInt(c - 1)) & 1n)]);
      }
    }
  });

  test('indexed 64-bit addresses wrap modulo 2^64', () => {
    for (const [x, y] of pairs(rng, 500)) {
      for (let sc = 0; sc < 4; sc++) {
        const want = BigInt.asIntN(64, u64(x, y) + (u64(y, x) << BigInt(sc)) - 5n);
        expect(eaIndexed64(x, y, y, x, sc, -5)).toBe(Number(want));
      }
    }
  });
});
