// The exact extended-precision arithmetic core (src/cpu/ops/x87/f80-arith.ts) against the host
// CPU: FADDP/FSUBP/FMULP/FDIVP/FSQRT on 80-bit operands loaded with FLD m80, under every
// precision control (24/53/64 bits) and rounding control, result stored with FSTP m80 and the
// status word (IE DE ZE OE UE PE, C1) taken right after the operation. Values: random
// significands over exponents near 1, far apart (alignment), at the top of the range (overflow),
// cancellations, zeros, infinities, NaNs and denormals.
import { describe, expect, it } from 'vitest';
import { addF80, divF80, mulF80, sqrtF80, type F80, type F80Result } from '../../../src/cpu/ops/x87/f80-arith.js';
import { runNative } from '../../isa/native-harness.js';
import { Prng } from '../../isa/prng.js';
import { assemble } from '../system/harness.js';

const CODE = 0x4000_0000, D = 0x5000_0000;
const SW_MASK = 0x027f; // IE DE ZE OE UE SF PE, C1

interface Op { name: string; bytes: string; unary?: boolean; model: (a: F80, b: F80, pc: number, rc: number) => F80Result }
const OPS: Op[] = [
  { name: 'fadd', bytes: '0xde, 0xc1', model: (a, b, pc, rc) => addF80(a, b, false, pc, rc) }, // FADDP ST(1),ST(0): a + b
  { name: 'fsub', bytes: '0xde, 0xe9', model: (a, b, pc, rc) => addF80(a, b, true, pc, rc) }, // FSUBP ST(1),ST(0): a - b
  { name: 'fmul', bytes: '0xde, 0xc9', model: (a, b, pc, rc) => mulF80(a, b, pc, rc) },
  { name: 'fdiv', bytes: '0xde, 0xf9', model: (a, b, pc, rc) => divF80(a, b, pc, rc) }, // FDIVP ST(1),ST(0): a / b
  { name: 'fsqrt', bytes: '0xd9, 0xfa', unary: true, model: (a, _b, pc, rc) => sqrtF80(a, pc, rc) },
];

function values(): F80[] {
  const prng = new Prng(0x80f80);
  const rnd = () => prng.u32();
  const sig = () => (1n << 63n) | (BigInt(rnd() >>> 0) << 31n) | BigInt(rnd() >>> 1);
  const sign = () => ((rnd() & 1) !== 0 ? 0x8000 : 0);
  const out: F80[] = [];
  for (let i = 0; i < 24; i++) out.push({ se: sign() | (16383 + (rnd() % 9) - 4), sig: sig() });
  for (let i = 0; i < 4; i++) out.push({ se: sign() | (16383 + 70 + (rnd() % 20)), sig: sig() }); // far from the rest
  out.push({ se: 0x7ffe, sig: sig() }, { se: 0x7ffe, sig: (1n << 64n) - 1n }); // near overflow
  out.push({ se: 16383, sig: 1n << 63n }, { se: 16383, sig: (1n << 63n) | 1n }, { se: 0x8000 | 16383, sig: 1n << 63n }); // 1, 1+ulp, -1: cancellation
  out.push({ se: 0, sig: 0n }, { se: 0x8000, sig: 0n }, { se: 0x7fff, sig: 1n << 63n }, { se: 0xffff, sig: 1n << 63n }); // zeros, infinities
  out.push({ se: 0x7fff, sig: 0xc000_0000_0000_1234n }, { se: 0xffff, sig: 0x8000_0000_0000_0042n }); // QNaN, SNaN
  out.push({ se: 0, sig: 0x0000_0000_dead_beefn }, { se: 1, sig: sig() }); // a denormal, the smallest binade
  return out;
}

interface Case { label: string; code: Uint8Array; gpr: bigint[]; want: F80Result }

function cases(): Case[] {
  const vs = values();
  const out: Case[] = [];
  for (const op of OPS) {
    for (const a of vs) {
      for (const b of op.unary ? [vs[0]] : vs) {
        for (const pc of [0, 2, 3]) {
          for (const rc of [0, 1, 2, 3]) {
            const cw = 0x7f | (pc << 8) | (rc << 10);
            const src = `mov %rax, ${D}\nmov %bx, ${D + 8}\nmov %rcx, ${D + 16}\nmov %dx, ${D + 24}\nmovw $${cw}, ${D + 56}\n` +
              `fninit\nfldcw ${D + 56}\nfldt ${D}\n${op.unary ? '' : `fldt ${D + 16}\n`}.byte ${op.bytes}\nfnstsw ${D + 48}\nfstpt ${D + 32}\n` +
              `mov ${D + 32}, %rax\nmovzwl ${D + 40}, %ecx\nmovzwl ${D + 48}, %edx\nint3`;
            const gpr = new Array<bigint>(16).fill(0n);
            gpr[0] = a.sig; gpr[3] = BigInt(a.se); gpr[1] = b.sig; gpr[2] = BigInt(b.se); gpr[4] = BigInt(D + 0x8000);
            const label = `${op.name} pc=${pc} rc=${rc} ${a.se.toString(16)}:${a.sig.toString(16)} ${b.se.toString(16)}:${b.sig.toString(16)}`;
            out.push({ label, code: assemble(src, CODE), gpr, want: op.model(a, b, pc, rc) });
          }
        }
      }
    }
  }
  return out;
}

describe('x87 80-bit arithmetic core against the host CPU', () => {
  it('FADD/FSUB/FMUL/FDIV/FSQRT: result bits and status under every PC and RC', () => {
    const all = cases();
    expect(all.length).toBeGreaterThan(10_000);
    const native = runNative(all.map((c) => ({ code: c.code, init: { gpr: c.gpr, rflags: 0x202 }, segments: [] })));
    const bad: string[] = [];
    all.forEach((c, i) => {
      const n = native[i];
      const got = `fault=${n.fault ?? '-'} ${(n.final.gpr[1] & 0xffffn).toString(16)}:${BigInt.asUintN(64, n.final.gpr[0]).toString(16)} sw=${(Number(n.final.gpr[2]) & SW_MASK).toString(16)}`;
      const want = `fault=- ${c.want.v.se.toString(16)}:${c.want.v.sig.toString(16)} sw=${(c.want.sw & SW_MASK).toString(16)}`;
      if (got !== want) bad.push(`${c.label}: host ${got}, model ${want}`);
    });
    expect(bad.length, bad.slice(0, 12).join('\n')).toBe(0);
  }, 300_000);
});
