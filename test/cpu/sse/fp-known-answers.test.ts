// Known answers for SSE/SSE2 floating point: NaN propagation and quietening, MIN/MAX operand
// order with NaN and signed zeros, invalid operations, denormals with DAZ/FTZ, overflow and
// underflow under each rounding mode, comparisons and COMIS flags, and conversions at their
// limits. Expected values are IEEE 754 / Intel SDM facts (and agree with the host CPU, see
// edge-oracle.test.ts).

import { describe, expect, it } from 'vitest';
import { CF, PF, ZF } from '../../../src/cpu/regs.js';
import { arithFlags } from '../../../src/cpu/flags.js';
import {
  f32bits, f64bits, faultOf, fromF64bits, getSd, getSs, getX, gpr, run, setGpr, setPs, setSd, setX, sseCore,
} from './harness.js';

const QNAN_A = 0x7ff8000000000aaan, QNAN_B = 0x7ff8000000000bbbn, SNAN_A = 0x7ff0000000000aaan;
const DEFAULT_NAN = 0xfff8000000000000n;
const MIN_DENORMAL = 5e-324, MAX = Number.MAX_VALUE;
const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20;
const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

/** run one instruction with xmm0 = a, xmm1 = b (low lanes), MXCSR = mx; returns [xmm0 low bits, flags] */
function sd(insn: string, a: bigint, b: bigint, mx = 0x1f80): [bigint, number] {
  const t = sseCore();
  setX(t.cpu, 0, a | (0x1234n << 64n));
  setX(t.cpu, 1, b);
  t.cpu.mxcsr = mx;
  const rc = run(t, insn);
  expect(faultOf(t, rc)).toBe(-1);
  const x0 = getX(t.cpu, 0);
  expect(x0 >> 64n).toBe(0x1234n); // scalar forms keep the upper lane
  return [x0 & ((1n << 64n) - 1n), t.cpu.mxcsr & 0x3f];
}

const d = f64bits;

describe('SSE2 scalar double: NaN and invalid', () => {
  it('a QNaN in the first operand wins over one in the second', () => {
    expect(sd('addsd %xmm1, %xmm0', QNAN_A, QNAN_B)).toEqual([QNAN_A, 0]);
    expect(sd('mulsd %xmm1, %xmm0', d(1), QNAN_B)).toEqual([QNAN_B, 0]);
  });
  it('an SNaN is quietened and raises IE', () => {
    expect(sd('subsd %xmm1, %xmm0', SNAN_A, d(1))).toEqual([QNAN_A | 0x0008000000000000n, IE]);
    expect(sd('divsd %xmm1, %xmm0', QNAN_B, SNAN_A)).toEqual([QNAN_B, IE]);
  });
  it('invalid operations give the default NaN', () => {
    expect(sd('addsd %xmm1, %xmm0', d(Infinity), d(-Infinity))).toEqual([DEFAULT_NAN, IE]);
    expect(sd('mulsd %xmm1, %xmm0', d(0), d(-Infinity))).toEqual([DEFAULT_NAN, IE]);
    expect(sd('divsd %xmm1, %xmm0', d(0), d(-0))).toEqual([DEFAULT_NAN, IE]);
    expect(sd('sqrtsd %xmm1, %xmm0', 0n, d(-1))).toEqual([DEFAULT_NAN, IE]);
  });
  it('division by zero gives a signed infinity and ZE; sqrt(-0) is -0', () => {
    expect(sd('divsd %xmm1, %xmm0', d(-3), d(0))).toEqual([d(-Infinity), ZE]);
    expect(sd('sqrtsd %xmm1, %xmm0', 0n, d(-0))).toEqual([d(-0), 0]);
  });
});

describe('MINSD/MAXSD operand order', () => {
  it('returns the second operand when either is a NaN (IE even for a QNaN)', () => {
    expect(sd('minsd %xmm1, %xmm0', QNAN_A, d(5))).toEqual([d(5), IE]);
    expect(sd('maxsd %xmm1, %xmm0', d(5), QNAN_B)).toEqual([QNAN_B, IE]);
  });
  it('returns the second operand for equal values, so the sign of zero depends on order', () => {
    expect(sd('minsd %xmm1, %xmm0', d(0), d(-0))).toEqual([d(-0), 0]);
    expect(sd('minsd %xmm1, %xmm0', d(-0), d(0))).toEqual([d(0), 0]);
    expect(sd('maxsd %xmm1, %xmm0', d(-0), d(0))).toEqual([d(0), 0]);
    expect(sd('maxsd %xmm1, %xmm0', d(3), d(-7))).toEqual([d(3), 0]);
  });
});

describe('denormals, DAZ and FTZ', () => {
  it('a denormal operand sets DE; with DAZ it counts as zero', () => {
    expect(sd('addsd %xmm1, %xmm0', d(MIN_DENORMAL), d(0))).toEqual([d(MIN_DENORMAL), DE]);
    expect(sd('addsd %xmm1, %xmm0', d(MIN_DENORMAL), d(0), 0x1f80 | 0x40)).toEqual([d(0), 0]);
  });
  it('an inexact tiny result sets UE and PE; FTZ flushes it to zero', () => {
    const justAboveMin = 2 ** -1022 * (1 + 2 ** -52);
    expect(sd('mulsd %xmm1, %xmm0', d(justAboveMin), d(0.5))).toEqual([d(2 ** -1023), UE | PE]);
    expect(sd('mulsd %xmm1, %xmm0', d(2 ** -1000), d(2 ** -30))).toEqual([d(2 ** -1030), 0]); // exact denormal
    expect(sd('mulsd %xmm1, %xmm0', d(justAboveMin), d(0.5), 0x9f80)).toEqual([d(0), UE | PE]);
  });
  it('a denormal operand with a zero divisor reports ZE only', () => {
    expect(sd('divsd %xmm1, %xmm0', d(MIN_DENORMAL), d(0))).toEqual([d(Infinity), ZE]);
  });
});

describe('rounding control', () => {
  const mx = (rc: number): number => 0x1f80 | (rc << 13);
  it('1/3 rounds by MXCSR.RC', () => {
    const down = sd('divsd %xmm1, %xmm0', d(1), d(3), mx(RC_DOWN))[0];
    const up = sd('divsd %xmm1, %xmm0', d(1), d(3), mx(RC_UP))[0];
    expect(up - down).toBe(1n);
    expect(sd('divsd %xmm1, %xmm0', d(1), d(3), mx(RC_ZERO))[0]).toBe(down);
    expect(sd('divsd %xmm1, %xmm0', d(-1), d(3), mx(RC_ZERO))[0]).toBe(down | (1n << 63n));
    expect(sd('divsd %xmm1, %xmm0', d(1), d(3), mx(RC_NEAREST))).toEqual([d(1 / 3), PE]);
  });
  it('overflow gives infinity or the largest finite value by rounding mode', () => {
    expect(sd('mulsd %xmm1, %xmm0', d(MAX), d(2), mx(RC_NEAREST))).toEqual([d(Infinity), OE | PE]);
    expect(sd('mulsd %xmm1, %xmm0', d(MAX), d(2), mx(RC_ZERO))).toEqual([d(MAX), OE | PE]);
    expect(sd('mulsd %xmm1, %xmm0', d(-MAX), d(2), mx(RC_UP))).toEqual([d(-MAX), OE | PE]);
    expect(sd('mulsd %xmm1, %xmm0', d(-MAX), d(2), mx(RC_DOWN))).toEqual([d(-Infinity), OE | PE]);
  });
  it('x - x is +0, or -0 when rounding down', () => {
    expect(sd('subsd %xmm1, %xmm0', d(1.5), d(1.5))).toEqual([d(0), 0]);
    expect(sd('subsd %xmm1, %xmm0', d(1.5), d(1.5), mx(RC_DOWN))).toEqual([d(-0), 0]);
  });
  it('sqrt is correctly rounded', () => {
    expect(sd('sqrtsd %xmm1, %xmm0', 0n, d(2))).toEqual([0x3ff6a09e667f3bcdn, PE]);
    expect(sd('sqrtsd %xmm1, %xmm0', 0n, d(2), mx(RC_UP))).toEqual([0x3ff6a09e667f3bcdn, PE]);
    expect(sd('sqrtsd %xmm1, %xmm0', 0n, d(2), mx(RC_DOWN))).toEqual([0x3ff6a09e667f3bccn, PE]);
  });
});

describe('single precision', () => {
  it('ten times 0.1f accumulates like hardware', () => {
    const t = sseCore();
    setPs(t.cpu, 1, [0.1]);
    setPs(t.cpu, 0, [0]);
    run(t, 'mov $10, %ecx\n1: addss %xmm1, %xmm0\nloop 1b');
    expect(f32bits(getSs(t.cpu, 0))).toBe(0x3f800001);
    expect(t.cpu.mxcsr).toBe(0x1f80 | PE);
  });
  it('packed single lanes are independent; an SNaN lane is quietened', () => {
    const t = sseCore();
    setPs(t.cpu, 0, [1, 2, 3, 4]);
    setPs(t.cpu, 1, [0.5, -2, 3e38, 0]);
    t.cpu.xmm[7] = 0x7f800001; // lane 3 of xmm1: SNaN
    run(t, 'addps %xmm1, %xmm0\nmulps %xmm0, %xmm0');
    expect([getSs(t.cpu, 0, 0), getSs(t.cpu, 0, 1), getSs(t.cpu, 0, 2)]).toEqual([2.25, 0, Infinity]);
    expect(t.cpu.xmm[3] >>> 0).toBe(0x7fc00001);
    expect(t.cpu.mxcsr & 0x3f).toBe(IE | OE | PE);
  });
});

describe('comparisons', () => {
  function cmp(pred: number, a: number, b: number): bigint {
    return sd(`cmpsd $${pred}, %xmm1, %xmm0`, d(a), d(b))[0];
  }
  it('the eight predicates', () => {
    const ones = (1n << 64n) - 1n;
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((p) => cmp(p, 1, 2))).toEqual([0n, ones, ones, 0n, ones, 0n, 0n, ones]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((p) => cmp(p, 2, 2))).toEqual([ones, 0n, ones, 0n, 0n, ones, 0n, ones]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((p) => cmp(p, NaN, 2))).toEqual([0n, 0n, 0n, ones, ones, ones, ones, 0n]);
  });
  it('LT signals on a QNaN, EQ does not', () => {
    expect(sd('cmpsd $1, %xmm1, %xmm0', QNAN_A, d(1))[1]).toBe(IE);
    expect(sd('cmpsd $0, %xmm1, %xmm0', QNAN_A, d(1))[1]).toBe(0);
  });
  it('COMISD/UCOMISD set ZF PF CF and clear OF SF AF', () => {
    const flags = (insn: string, a: bigint, b: bigint): [number, number] => {
      const t = sseCore();
      setX(t.cpu, 0, a);
      setX(t.cpu, 1, b);
      run(t, 'mov $-1, %eax\nadd $1, %eax\n' + insn); // leaves ZF/CF/AF set beforehand
      return [arithFlags(t.cpu), t.cpu.mxcsr & 0x3f];
    };
    expect(flags('comisd %xmm1, %xmm0', d(1), d(2))).toEqual([CF, 0]);
    expect(flags('comisd %xmm1, %xmm0', d(2), d(1))).toEqual([0, 0]);
    expect(flags('comisd %xmm1, %xmm0', d(2), d(2))).toEqual([ZF, 0]);
    expect(flags('ucomisd %xmm1, %xmm0', QNAN_A, d(2))).toEqual([ZF | PF | CF, 0]);
    expect(flags('comisd %xmm1, %xmm0', QNAN_A, d(2))).toEqual([ZF | PF | CF, IE]);
  });
});

describe('conversions', () => {
  function toInt(insn: string, x: number, mx = 0x1f80): [bigint, number] {
    const t = sseCore();
    setSd(t.cpu, 1, x);
    t.cpu.mxcsr = mx;
    setGpr(t.cpu, 0, 0x1111111111111111n);
    run(t, insn);
    return [gpr(t.cpu, 0), t.cpu.mxcsr & 0x3f];
  }
  it('out of range or NaN gives the integer indefinite with IE', () => {
    expect(toInt('cvttsd2si %xmm1, %eax', 2147483648)).toEqual([0x80000000n, IE]);
    expect(toInt('cvttsd2si %xmm1, %eax', -2147483648.9)).toEqual([0x80000000n, PE]);
    expect(toInt('cvttsd2si %xmm1, %rax', 2 ** 63)).toEqual([0x8000000000000000n, IE]);
    expect(toInt('cvtsd2si %xmm1, %rax', NaN)).toEqual([0x8000000000000000n, IE]);
    expect(toInt('cvttsd2si %xmm1, %rax', -(2 ** 63))).toEqual([0x8000000000000000n, 0]);
  });
  it('cvtsd2si rounds by MXCSR.RC (ties to even when nearest)', () => {
    const r = (x: number, rc: number): bigint => BigInt.asIntN(32, toInt('cvtsd2si %xmm1, %eax', x, 0x1f80 | (rc << 13))[0]);
    expect([2.5, -2.5, 3.5, -0.5].map((x) => r(x, RC_NEAREST))).toEqual([2n, -2n, 4n, 0n]);
    expect([2.5, -2.5].map((x) => r(x, RC_DOWN))).toEqual([2n, -3n]);
    expect([2.5, -2.5].map((x) => r(x, RC_UP))).toEqual([3n, -2n]);
    expect([2.5, -2.5].map((x) => r(x, RC_ZERO))).toEqual([2n, -2n]);
  });
  it('cvtsi2sd of a 64-bit integer rounds by RC and sets PE', () => {
    const conv = (v: bigint, rc: number): [number, number] => {
      const t = sseCore();
      setGpr(t.cpu, 0, v);
      t.cpu.mxcsr = 0x1f80 | (rc << 13);
      run(t, 'cvtsi2sd %rax, %xmm0');
      return [getSd(t.cpu, 0), t.cpu.mxcsr & 0x3f];
    };
    expect(conv((1n << 53n) + 1n, RC_NEAREST)).toEqual([2 ** 53, PE]);
    expect(conv((1n << 53n) + 1n, RC_UP)).toEqual([2 ** 53 + 2, PE]);
    expect(conv(-1n, RC_NEAREST)).toEqual([-1, 0]);
    expect(conv(1n << 63n, RC_NEAREST)).toEqual([-(2 ** 63), 0]);
  });
  it('cvtsd2ss narrows with overflow and keeps NaN payloads', () => {
    expect(sd('cvtsd2ss %xmm1, %xmm0', 0n, d(1e300))).toEqual([0x7f800000n, OE | PE]);
    const t = sseCore();
    setX(t.cpu, 1, 0x7ff4000020000000n);
    run(t, 'cvtsd2ss %xmm1, %xmm0\ncvtss2sd %xmm0, %xmm2');
    expect(t.cpu.xmm[0] >>> 0).toBe(0x7fe00001);
    expect(getX(t.cpu, 2) & ((1n << 64n) - 1n)).toBe(0x7ffc000020000000n);
    expect(t.cpu.mxcsr & 0x3f).toBe(IE);
  });
  it('packed conversions', () => {
    const t = sseCore();
    setX(t.cpu, 1, 0xfffffffd_7fffffff_00000007_80000000n); // ints: -2^31, 7, 2^31-1, -3
    run(t, 'cvtdq2pd %xmm1, %xmm2\ncvtdq2ps %xmm1, %xmm3\ncvttps2dq %xmm3, %xmm4');
    expect([getSd(t.cpu, 2, 0), getSd(t.cpu, 2, 1)]).toEqual([-(2 ** 31), 7]);
    expect([0, 1, 2, 3].map((k) => getSs(t.cpu, 3, k))).toEqual([-(2 ** 31), 7, 2 ** 31, -3]);
    expect(getX(t.cpu, 4)).toBe(0xfffffffd_80000000_00000007_80000000n);
    expect(t.cpu.mxcsr & 0x3f).toBe(IE | PE);
    expect(fromF64bits(d(1))).toBe(1);
  });
});
