// Known answers for SSE2 data movement and packed integers: MOVSS/MOVSD/MOVQ upper-lane rules,
// MOVD/MOVQ with GPRs, half moves, sign masks, saturating arithmetic, multiplies, averages,
// PSADBW, compares, shifts (vector and immediate counts, byte shifts), packs, unpacks,
// shuffles, PEXTRW/PINSRW and MASKMOVDQU.

import { describe, expect, it } from 'vitest';
import { DATA, faultOf, getX, gpr, run, setGpr, setX, sseCore } from './harness.js';

const LO = (1n << 64n) - 1n;

function vec(src: string, x: Record<number, bigint>, regs: Record<number, bigint> = {}): ReturnType<typeof sseCore> {
  const t = sseCore();
  for (const [r, v] of Object.entries(x)) setX(t.cpu, Number(r), v);
  for (const [r, v] of Object.entries(regs)) setGpr(t.cpu, Number(r), v);
  const rc = run(t, src);
  expect(faultOf(t, rc)).toBe(-1);
  return t;
}

/** 16 bytes given lowest first */
function bytes(...b: number[]): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] & 0xff);
  return v;
}

function words(...w: number[]): bigint {
  let v = 0n;
  for (let i = w.length - 1; i >= 0; i--) v = (v << 16n) | BigInt(w[i] & 0xffff);
  return v;
}

describe('moves', () => {
  it('MOVSS/MOVSD: a load zeroes the upper lanes, a register move keeps them', () => {
    const t = sseCore();
    t.dv.setUint32(DATA, 0x11223344, true);
    t.dv.setUint32(DATA + 4, 0x55667788, true);
    setX(t.cpu, 0, -1n & ((1n << 128n) - 1n));
    setX(t.cpu, 1, (1n << 128n) - 1n);
    setX(t.cpu, 2, 0xaaaaaaaa_bbbbbbbb_cccccccc_ddddddddn);
    run(t, `movss ${DATA}, %xmm0\nmovsd ${DATA}, %xmm1\nmovss %xmm0, %xmm2`);
    expect(getX(t.cpu, 0)).toBe(0x11223344n);
    expect(getX(t.cpu, 1)).toBe(0x55667788_11223344n);
    expect(getX(t.cpu, 2)).toBe(0xaaaaaaaa_bbbbbbbb_cccccccc_11223344n);
  });
  it('MOVQ xmm, xmm zeroes the upper half; MOVD/MOVQ with GPRs zero-extend', () => {
    const t = vec('movq %xmm1, %xmm0\nmovd %eax, %xmm2\nmovq %rax, %xmm3\nmovq %xmm1, %rbx\nmovd %xmm1, %ecx',
      { 0: -1n & ((1n << 128n) - 1n), 1: 0x1111_2222_3333_4444_5555_6666_7777_8888n },
      { 0: 0xfedcba98_76543210n, 1: -1n & LO });
    expect(getX(t.cpu, 0)).toBe(0x5555_6666_7777_8888n);
    expect(getX(t.cpu, 2)).toBe(0x76543210n);
    expect(getX(t.cpu, 3)).toBe(0xfedcba98_76543210n);
    expect(gpr(t.cpu, 3)).toBe(0x5555_6666_7777_8888n);
    expect(gpr(t.cpu, 1)).toBe(0x7777_8888n);
  });
  it('MOVHLPS/MOVLHPS and MOVHPD/MOVLPD', () => {
    const t = vec(`movhlps %xmm1, %xmm0\nmovlhps %xmm1, %xmm2\nmovhpd %xmm1, ${DATA}\nmovlpd ${DATA}, %xmm3`,
      { 0: 0xaaaan << 64n | 0xbbbbn, 1: 0x1111n << 64n | 0x2222n, 2: 0x3333n << 64n | 0x4444n, 3: 0x5555n << 64n | 0x6666n });
    expect(getX(t.cpu, 0)).toBe(0xaaaan << 64n | 0x1111n);
    expect(getX(t.cpu, 2)).toBe(0x2222n << 64n | 0x4444n);
    expect(getX(t.cpu, 3)).toBe(0x5555n << 64n | 0x1111n);
  });
  it('MOVMSKPS/MOVMSKPD/PMOVMSKB', () => {
    const t = vec('movmskps %xmm0, %eax\nmovmskpd %xmm0, %ebx\npmovmskb %xmm0, %ecx',
      { 0: 0x80000000_00000000_ffffffff_00000001n }, { 0: -1n & LO, 3: -1n & LO, 1: -1n & LO });
    expect(gpr(t.cpu, 0)).toBe(0b1010n);
    expect(gpr(t.cpu, 3)).toBe(0b11n);
    expect(gpr(t.cpu, 1)).toBe(0x80f0n);
  });
  it('MASKMOVDQU stores only the selected bytes at [rdi]', () => {
    const t = sseCore();
    for (let i = 0; i < 16; i++) t.ram[DATA + i] = 0xee;
    setX(t.cpu, 0, bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16));
    setX(t.cpu, 1, bytes(0x80, 0, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80));
    setGpr(t.cpu, 7, BigInt(DATA));
    run(t, 'maskmovdqu %xmm1, %xmm0');
    expect([...t.ram.subarray(DATA, DATA + 16)]).toEqual([1, 0xee, 3, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 16]);
  });
});

describe('packed integer arithmetic', () => {
  it('wrapping and saturating byte/word adds and subtracts', () => {
    const a = bytes(0x7f, 0x80, 0xff, 0x01, 0x10), b = bytes(0x01, 0xff, 0x01, 0xff, 0x20);
    const t = vec('movdqa %xmm0, %xmm2\npaddb %xmm1, %xmm2\nmovdqa %xmm0, %xmm3\npaddsb %xmm1, %xmm3\n' +
      'movdqa %xmm0, %xmm4\npaddusb %xmm1, %xmm4\nmovdqa %xmm0, %xmm5\npsubusb %xmm1, %xmm5', { 0: a, 1: b });
    expect(getX(t.cpu, 2) & 0xffffffffffn).toBe(BigInt('0x30' + '00' + '00' + '7f' + '80'));
    expect(getX(t.cpu, 3) & 0xffffffffffn).toBe(BigInt('0x30' + '00' + '00' + '80' + '7f'));
    expect(getX(t.cpu, 4) & 0xffffffffffn).toBe(BigInt('0x30' + 'ff' + 'ff' + 'ff' + '80'));
    expect(getX(t.cpu, 5) & 0xffffffffffn).toBe(BigInt('0x00' + '00' + 'fe' + '00' + '7e'));
  });
  it('PADDQ/PSUBQ carry across the 32-bit halves', () => {
    const t = vec('paddq %xmm1, %xmm0\npsubq %xmm1, %xmm2', { 0: 0xffffffffn | (1n << 64n), 1: 1n | (3n << 64n), 2: 0n });
    expect(getX(t.cpu, 0)).toBe((4n << 64n) | 0x100000000n);
    expect(getX(t.cpu, 2)).toBe((((1n << 64n) - 3n) << 64n) | ((1n << 64n) - 1n));
  });
  it('multiplies: PMULLW PMULHW PMULHUW PMULUDQ PMADDWD', () => {
    const a = words(0x8000, 0x7fff, 0xffff, 3, 0x8000, 0x8000, 2, 5), b = words(0x8000, 0x7fff, 0xffff, 0xfffe, 0x8000, 0x8000, 3, 7);
    const t = vec('movdqa %xmm0, %xmm2\npmullw %xmm1, %xmm2\nmovdqa %xmm0, %xmm3\npmulhw %xmm1, %xmm3\n' +
      'movdqa %xmm0, %xmm4\npmulhuw %xmm1, %xmm4\nmovdqa %xmm0, %xmm5\npmaddwd %xmm1, %xmm5', { 0: a, 1: b });
    expect(getX(t.cpu, 2)).toBe(words(0, 1, 1, 0xfffa, 0, 0, 6, 35));
    expect(getX(t.cpu, 3)).toBe(words(0x4000, 0x3fff, 0, 0xffff, 0x4000, 0x4000, 0, 0));
    expect(getX(t.cpu, 4)).toBe(words(0x4000, 0x3fff, 0xfffe, 2, 0x4000, 0x4000, 0, 0));
    expect(getX(t.cpu, 5)).toBe(0x00000029_80000000_fffffffb_7fff0001n);
    const u = vec('pmuludq %xmm1, %xmm0', { 0: 0xffffffffn | (0x12345678n << 64n), 1: 0xffffffffn | (0x9abcdef0n << 64n) });
    expect(getX(u.cpu, 0)).toBe(((0x12345678n * 0x9abcdef0n) << 64n) | (0xffffffffn * 0xffffffffn));
  });
  it('PAVGB, PMINUB/PMAXSW, PSADBW', () => {
    const t = vec('movdqa %xmm0, %xmm2\npavgb %xmm1, %xmm2\nmovdqa %xmm0, %xmm3\npminub %xmm1, %xmm3\n' +
      'movdqa %xmm0, %xmm4\npsadbw %xmm1, %xmm4', { 0: bytes(255, 0, 1, 200, 0, 0, 0, 0, 9), 1: bytes(254, 1, 2, 100, 0, 0, 0, 0, 1) });
    expect(getX(t.cpu, 2) & 0xffffffffn).toBe(0x96020100n | 0xffn);
    expect(getX(t.cpu, 3) & 0xffffffffn).toBe(0x640100fen);
    expect(getX(t.cpu, 4)).toBe((8n << 64n) | 103n);
    const s = vec('pmaxsw %xmm1, %xmm0', { 0: words(0x8000, 5), 1: words(0x7fff, 0xfffb) });
    expect(getX(s.cpu, 0)).toBe(words(0x7fff, 5));
  });
  it('compares produce lane masks', () => {
    const t = vec('movdqa %xmm0, %xmm2\npcmpeqb %xmm1, %xmm2\npcmpgtd %xmm1, %xmm0',
      { 0: 0x00000001_80000000_00000005_00000000n, 1: 0x00000001_7fffffff_00000004_00000000n });
    expect(getX(t.cpu, 2)).toBe(0xffffffff_00000000_ffffff00_ffffffffn);
    expect(getX(t.cpu, 0)).toBe(0x00000000_00000000_ffffffff_00000000n);
  });
});

describe('shifts', () => {
  it('immediate counts: beyond the width gives zero or the sign fill', () => {
    const t = vec('movdqa %xmm0, %xmm1\npsrlw $4, %xmm1\nmovdqa %xmm0, %xmm2\npsraw $16, %xmm2\n' +
      'movdqa %xmm0, %xmm3\npsllq $36, %xmm3\nmovdqa %xmm0, %xmm4\npsrldq $3, %xmm4\nmovdqa %xmm0, %xmm5\npslldq $17, %xmm5',
    { 0: 0x8001_0000_0000_0000_f00f_1234_0000_8000n });
    expect(getX(t.cpu, 1)).toBe(0x0800_0000_0000_0000_0f00_0123_0000_0800n);
    expect(getX(t.cpu, 2)).toBe(0xffff_0000_0000_0000_ffff_0000_0000_ffffn);
    expect(getX(t.cpu, 3)).toBe(0x0000_0000_0000_0000_0008_0000_0000_0000n);
    expect(getX(t.cpu, 4)).toBe(0x8001_0000_0000_0000_f00f_1234_0000_8000n >> 24n);
    expect(getX(t.cpu, 5)).toBe(0n);
  });
  it('vector counts use the whole low quadword', () => {
    const t = vec('movdqa %xmm0, %xmm2\npslld %xmm1, %xmm2\nmovdqa %xmm0, %xmm3\npsrad %xmm4, %xmm3',
      { 0: 0x80000000_00000001_00000002_00000003n, 1: 1n << 32n, 4: 3n });
    expect(getX(t.cpu, 2)).toBe(0n);
    expect(getX(t.cpu, 3)).toBe(0xf0000000_00000000_00000000_00000000n);
  });
});

describe('packs, unpacks, shuffles', () => {
  it('PACKSSWB/PACKUSWB/PACKSSDW saturate', () => {
    const t = vec('movdqa %xmm0, %xmm2\npacksswb %xmm1, %xmm2\nmovdqa %xmm0, %xmm3\npackuswb %xmm1, %xmm3\npackssdw %xmm1, %xmm0',
      { 0: words(0x0100, 0xff00, 0x007f, 0xffff, 0, 0, 0, 0x80), 1: words(0x8000, 0x7fff) });
    expect(getX(t.cpu, 2)).toBe(bytes(0x7f, 0x80, 0x7f, 0xff, 0, 0, 0, 0x7f, 0x80, 0x7f));
    expect(getX(t.cpu, 3)).toBe(bytes(0xff, 0, 0x7f, 0, 0, 0, 0, 0x80, 0, 0xff));
    expect(getX(t.cpu, 0)).toBe(words(0x8000, 0x8000, 0, 0x7fff, 0x7fff, 0));
  });
  it('unpacks interleave the destination and source', () => {
    const t = vec('movdqa %xmm0, %xmm2\npunpcklbw %xmm1, %xmm2\nmovdqa %xmm0, %xmm3\npunpckhqdq %xmm1, %xmm3\nunpcklps %xmm1, %xmm0',
      { 0: 0x0f0e0d0c_0b0a0908_07060504_03020100n, 1: 0x1f1e1d1c_1b1a1918_17161514_13121110n });
    expect(getX(t.cpu, 2)).toBe(0x17071606_15051404_13031202_11011000n);
    expect(getX(t.cpu, 3)).toBe(0x1f1e1d1c_1b1a1918_0f0e0d0c_0b0a0908n);
    expect(getX(t.cpu, 0)).toBe(0x17161514_07060504_13121110_03020100n);
  });
  it('PSHUFD/PSHUFLW/PSHUFHW/SHUFPS/SHUFPD, PEXTRW/PINSRW', () => {
    const x = 0x33333333_22222222_11111111_00000000n;
    const t = vec('pshufd $0x1b, %xmm0, %xmm1\nmovdqa %xmm0, %xmm2\nshufps $0x4e, %xmm1, %xmm2\nmovdqa %xmm0, %xmm3\nshufpd $1, %xmm1, %xmm3\n' +
      'pshuflw $0x1b, %xmm4, %xmm5\npshufhw $0x1b, %xmm4, %xmm6\npextrw $6, %xmm4, %eax\npinsrw $1, %ebx, %xmm4',
    { 0: x, 4: words(0, 1, 2, 3, 4, 5, 6, 7) }, { 3: 0xabcdn });
    expect(getX(t.cpu, 1)).toBe(0x00000000_11111111_22222222_33333333n);
    expect(getX(t.cpu, 2)).toBe(0x22222222_33333333_33333333_22222222n);
    expect(getX(t.cpu, 3)).toBe(0x22222222_33333333_33333333_22222222n);
    expect(getX(t.cpu, 5)).toBe(words(3, 2, 1, 0, 4, 5, 6, 7));
    expect(getX(t.cpu, 6)).toBe(words(0, 1, 2, 3, 7, 6, 5, 4));
    expect(gpr(t.cpu, 0)).toBe(6n);
    expect(getX(t.cpu, 4)).toBe(words(0, 0xabcd, 2, 3, 4, 5, 6, 7));
  });
  it('the XOR zeroing idiom and logic ops', () => {
    const t = vec('pxor %xmm0, %xmm0\nmovdqa %xmm1, %xmm2\nandnps %xmm3, %xmm2\norpd %xmm3, %xmm1',
      { 0: 123n, 1: 0xff00n, 3: 0x0ff0n });
    expect(getX(t.cpu, 0)).toBe(0n);
    expect(getX(t.cpu, 2)).toBe(0x00f0n);
    expect(getX(t.cpu, 1)).toBe(0xfff0n);
  });
});
