// Operand values biased towards the edges where implementations go wrong: zero, one, all ones,
// the signed extremes, powers of two and their neighbours, small counts, special floats.

import type { Prng } from './prng.js';

export function mask(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** An integer of the given width, edge-biased. */
export function edgeInt(rng: Prng, bits: number): bigint {
  const m = mask(bits);
  const signBit = 1n << BigInt(bits - 1);
  switch (rng.below(14)) {
    case 0: return 0n;
    case 1: return 1n;
    case 2: return m; // -1
    case 3: return signBit - 1n; // max signed
    case 4: return signBit; // min signed
    case 5: return (1n << BigInt(rng.below(bits))) & m;
    case 6: return ((1n << BigInt(rng.below(bits))) - 1n) & m;
    case 7: return BigInt(rng.below(64));
    case 8: return (m - BigInt(rng.below(64))) & m; // small negative
    case 9: return (signBit + BigInt(rng.range(-3, 3))) & m;
    case 10: return BigInt.asUintN(bits, BigInt(rng.u32()) & (rng.chance(0.5) ? 0xffn : 0xffffn));
    default: return rng.u64() & m;
  }
}

/** A full 64-bit register value: an edge value of a random width, with random or sign-extended upper bits. */
export function edgeReg(rng: Prng): bigint {
  const bits = rng.pick([8, 16, 32, 64, 64]);
  const low = edgeInt(rng, bits);
  if (bits === 64) return low;
  switch (rng.below(3)) {
    case 0: return low;
    case 1: return BigInt.asUintN(64, BigInt.asIntN(bits, low));
    default: return (rng.u64() & ~mask(bits) & mask(64)) | low;
  }
}

/** A shift or rotate count, biased to the boundaries of each operand size. */
export function edgeCount(rng: Prng): number {
  if (rng.chance(0.7)) return rng.pick([0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65]);
  return rng.below(256);
}

const F64_SPECIALS: bigint[] = [
  0x0000000000000000n, 0x8000000000000000n, // +0, -0
  0x3ff0000000000000n, 0xbff0000000000000n, // 1, -1
  0x3ff8000000000000n, 0x4000000000000000n, // 1.5, 2
  0x3fe0000000000000n, 0x3fb999999999999an, // 0.5, 0.1
  0x7fefffffffffffffn, 0xffefffffffffffffn, // max, -max
  0x0010000000000000n, 0x8010000000000000n, // smallest normal
  0x0000000000000001n, 0x000fffffffffffffn, 0x800fffffffffffffn, // denormals
  0x7ff0000000000000n, 0xfff0000000000000n, // infinities
  0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff8000000000123n, // quiet NaNs (incl. indefinite)
  0x7ff0000000000001n, 0xfff4000000000000n, // signalling NaNs
  0x41e0000000000000n, 0xc1e0000000000000n, // +-2^31
  0x43e0000000000000n, 0xc3e0000000000000n, // +-2^63
  0x43f0000000000000n, 0x41dfffffffc00000n, // 2^64, 2^31-1
  0x40c81c8000000000n, 0xc0c81c8000000000n, // +-12345
  0x3ff0000000000001n, 0x3fefffffffffffffn, // 1 +- ulp
  0x4004000000000000n, 0x400c000000000000n, // 2.5, 3.5 (round-to-even ties)
];

const F32_SPECIALS: number[] = [
  0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40000000, 0x3f000000, 0x3dcccccd,
  0x7f7fffff, 0xff7fffff, 0x00800000, 0x80800000, 0x00000001, 0x007fffff, 0x807fffff,
  0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc00123, 0x7f800001, 0xffa00000,
  0x4f000000, 0xcf000000, 0x5f000000, 0xdf000000, 0x4f800000, 0x4640e400, 0xc640e400,
  0x3f800001, 0x3f7fffff, 0x40200000, 0x40600000,
];

export function edgeF64(rng: Prng): bigint {
  if (rng.chance(0.6)) return rng.pick(F64_SPECIALS);
  if (rng.chance(0.5)) {
    // an ordinary number of moderate magnitude
    const exp = BigInt(1023 + rng.range(-40, 70));
    return (BigInt(rng.below(2)) << 63n) | (exp << 52n) | (rng.u64() & mask(52));
  }
  return rng.u64();
}

export function edgeF32(rng: Prng): number {
  if (rng.chance(0.6)) return rng.pick(F32_SPECIALS) >>> 0;
  if (rng.chance(0.5)) {
    const exp = 127 + rng.range(-20, 40);
    return ((rng.below(2) << 31) | (exp << 23) | (rng.u32() & 0x7fffff)) >>> 0;
  }
  return rng.u32();
}

/** A 128-bit XMM value: two doubles, four singles, packed integers or random bits. */
export function edgeXmm(rng: Prng): bigint {
  switch (rng.below(5)) {
    case 0:
    case 1:
      return edgeF64(rng) | (edgeF64(rng) << 64n);
    case 2: {
      let v = 0n;
      for (let i = 0; i < 4; i++) v |= BigInt(edgeF32(rng)) << BigInt(32 * i);
      return v;
    }
    case 3: {
      const lane = rng.pick([8, 16, 32, 64]);
      let v = 0n;
      for (let i = 0; i < 128 / lane; i++) v |= edgeInt(rng, lane) << BigInt(lane * i);
      return v;
    }
    default:
      return rng.u64() | (rng.u64() << 64n);
  }
}

/** An MXCSR image: mostly the default, sometimes other rounding, DAZ/FTZ, unmasked exceptions or sticky flags. */
export function edgeMxcsr(rng: Prng): number {
  if (rng.chance(0.6)) return 0x1f80;
  let v = 0x1f80;
  v = (v & ~0x6000) | (rng.below(4) << 13); // rounding control
  if (rng.chance(0.3)) v |= 0x8000; // FTZ
  if (rng.chance(0.3)) v |= 0x0040; // DAZ
  if (rng.chance(0.2)) v &= ~(1 << (7 + rng.below(6))); // unmask one exception
  if (rng.chance(0.2)) v |= rng.below(64); // sticky exception flags already set
  return v;
}

export function bytesLe(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function readLe(bytes: Uint8Array, offset: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i]);
  return v;
}
