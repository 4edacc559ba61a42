// The BigInt-free FMUL (src/cpu/ops/x87/fast-path.ts: normal register operands, PC = 64 bits,
// round to nearest) against the host CPU through the instruction: FMUL ST(0),ST(i), FMUL
// ST(i),ST(0) and FMULP, on significands with many or few bits (exact products, ties), exponents
// across the range (products that overflow or underflow fall back to the exact path), and
// unmasked PE (the result is still written, ES set). Result, status word and TOP compared.

import { describe, expect, it } from 'vitest';
import { runSnippets } from '../../../src/cpu/snippet.js';
import { runNative } from '../../isa/native-harness.js';
import { Prng } from '../../isa/prng.js';
import { assemble } from '../system/harness.js';

const CODE = 0x4000_0000, D = 0x5000_0000, SIZE = 0x10000;
const TOP = 1n << 63n;
const FORMS: [string, string][] = [['fmul st0,st1', '0xd8, 0xc9'], ['fmul st1,st0', '0xdc, 0xc9'], ['fmulp st1,st0', '0xde, 0xc9']];

describe('x87 FMUL fast path against the host CPU', () => {
  it('random normal operands, PC=64 RC=nearest', () => {
    const r = new Prng(0xfa57);
    const cases: { label: string; code: Uint8Array; gpr: bigint[] }[] = [];
    for (let i = 0; i < 6000; i++) {
      const [name, bytes] = FORMS[i % FORMS.length];
      const sig = (): bigint => {
        const k = r.below(4);
        if (k === 0) return TOP | ((r.u64() & 0xffffn) << 47n); // few bits: exact products
        if (k === 1) return (1n << 64n) - 1n - (r.u64() & 0xffn); // all ones: carries through every word
        return TOP | (r.u64() & (TOP - 1n));
      };
      const exp = (): number => (r.chance(0.8) ? 16383 + r.range(-200, 200) : r.pick([r.range(1, 8300), r.range(8300, 0x7ffe)]));
      const a = { se: (r.chance(0.5) ? 0x8000 : 0) | exp(), sig: sig() }, b = { se: (r.chance(0.5) ? 0x8000 : 0) | exp(), sig: sig() };
      const cw = r.chance(0.1) ? 0x35f : 0x37f; // sometimes PE unmasked
      const src = `mov %rax, ${D}\nmov %bx, ${D + 8}\nmov %rcx, ${D + 16}\nmov %dx, ${D + 24}\nmovw $${cw}, ${D + 56}\n` +
        `fninit\nfldcw ${D + 56}\nfldt ${D}\nfldt ${D + 16}\n.byte ${bytes}\nfnsave ${D + 0x100}\n` +
        `mov ${D + 0x100 + 28}, %rax\nmovzwl ${D + 0x100 + 36}, %ecx\nmovzwl ${D + 0x100 + 4}, %edx\nmov ${D + 0x100 + 38}, %rsi\nmovzwl ${D + 0x100 + 46}, %edi\nint3`;
      const gpr = new Array<bigint>(16).fill(0n);
      gpr[0] = a.sig; gpr[3] = BigInt(a.se); gpr[1] = b.sig; gpr[2] = BigInt(b.se);
      gpr[4] = BigInt(D + 0x8000);
      cases.push({ label: `${name} cw=${cw.toString(16)} ${a.se.toString(16)}:${a.sig.toString(16)} ${b.se.toString(16)}:${b.sig.toString(16)}`, code: assemble(src, CODE), gpr });
    }
    const native = runNative(cases.map((c) => ({ code: c.code, init: { gpr: c.gpr, rflags: 0x202 }, segments: [] })));
    const emulated = runSnippets(cases.map((c) => ({ code: c.code, init: { gpr: c.gpr, rflags: 0x202 }, data: new Uint8Array(SIZE) })));
    const bad: string[] = [];
    cases.forEach((c, i) => {
      const show = (g: bigint[], f?: string) => `fault=${f ?? '-'} st0=${(g[1] & 0xffffn).toString(16)}:${BigInt.asUintN(64, g[0]).toString(16)} st1=${(g[7] & 0xffffn).toString(16)}:${BigInt.asUintN(64, g[6]).toString(16)} sw=${(Number(g[2]) & 0xffff).toString(16)}`;
      const n = show(native[i].final.gpr, native[i].fault), e = show(emulated[i].final.gpr, emulated[i].fault);
      if (n !== e) bad.push(`${c.label}: host ${n}, emulator ${e}`);
    });
    expect(bad.slice(0, 12), `${bad.length} mismatches of ${cases.length}`).toEqual([]);
  }, 120_000);
});
