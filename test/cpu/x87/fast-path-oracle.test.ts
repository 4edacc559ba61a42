// The BigInt-free FMUL/FADD/FSUB/FSUBR (src/cpu/ops/x87/fast-path.ts: normal operands, PC = 64
// bits, round to nearest) against the host CPU through the instruction: the D8/DC/DE register
// forms and the m64real/m32real forms, on significands with many or few bits (exact products, ties), exponents
// across the range (products that overflow or underflow fall back to the exact path), and
// unmasked PE (the result is still written, ES set). Result, status word and TOP compared.

import { describe, expect, it } from 'vitest';
import { Prng } from '../../isa/prng.js';
import { casesOverForms, D, hostVersusEmulator, operandRegisters, SAVE, TOP, twoOperandSnippet } from './two-operand-snippet.js';

const M = D + 64;
const FORMS: [string, string][] = [
  ['fmul st0,st1', '.byte 0xd8, 0xc9'], ['fmul st1,st0', '.byte 0xdc, 0xc9'], ['fmulp st1,st0', '.byte 0xde, 0xc9'],
  ['fmul m64', `fmull ${M}`], ['fmul m32', `fmuls ${M}`],
  // D8: FADD/FSUB/FSUBR ST(0),ST(1); DC: ST(1) op= ST(0) with SUB/SUBR exchanged; DE: and pop
  ['fadd st0,st1', '.byte 0xd8, 0xc1'], ['fsub st0,st1', '.byte 0xd8, 0xe1'], ['fsubr st0,st1', '.byte 0xd8, 0xe9'],
  ['fadd st1,st0', '.byte 0xdc, 0xc1'], ['(dc e9) st1,st0', '.byte 0xdc, 0xe9'], ['(dc e1) st1,st0', '.byte 0xdc, 0xe1'],
  ['faddp', '.byte 0xde, 0xc1'], ['(de e9)', '.byte 0xde, 0xe9'], ['(de e1)', '.byte 0xde, 0xe1'],
  ['fadd m64', `faddl ${M}`], ['fsub m64', `fsubl ${M}`], ['fsubr m64', `fsubrl ${M}`],
  ['fadd m32', `fadds ${M}`], ['fsub m32', `fsubs ${M}`], ['fsubr m32', `fsubrs ${M}`],
];
/** binary64 bits: mostly normal, some zeros, denormals, infinities and NaNs (the exact path) */
function memValue(r: Prng): bigint {
  const sign = r.chance(0.5) ? 1n << 63n : 0n;
  const k = r.below(10);
  if (k === 0) return sign | r.pick([0n, 0x7ffn << 52n, (0x7ffn << 52n) | 1n, r.u64() & ((1n << 52n) - 1n)]);
  if (k === 1) return sign | (BigInt(r.pick([1, 2, 0x7fe, 0x7fd, 0x380, 0x381, 0x47e, 0x47f])) << 52n) | (r.u64() & ((1n << 52n) - 1n));
  return sign | (BigInt(1023 + r.range(-300, 300)) << 52n) | (r.chance(0.3) ? (r.u64() & 0xffn) << 44n : r.u64() & ((1n << 52n) - 1n));
}
/** binary32 bits in the low half (same mix) */
function memValue32(r: Prng): bigint {
  const sign = r.chance(0.5) ? 0x8000_0000n : 0n;
  const k = r.below(10);
  if (k === 0) return sign | r.pick([0n, 0xffn << 23n, (0xffn << 23n) | 1n, r.u64() & 0x7f_ffffn]);
  return sign | (BigInt(r.range(1, 254)) << 23n) | (r.u64() & 0x7f_ffffn);
}

describe('x87 FMUL/FADD/FSUB fast path against the host CPU', () => {
  it('random normal operands, PC=64 RC=nearest', () => {
    const cases = casesOverForms(0xfa57, 20000, FORMS, (r, name, bytes) => {
      const sig = (): bigint => {
        const k = r.below(4);
        if (k === 0) return TOP | ((r.u64() & 0xffffn) << 47n); // few bits: exact products
        if (k === 1) return (1n << 64n) - 1n - (r.u64() & 0xffn); // all ones: carries through every word
        return TOP | (r.u64() & (TOP - 1n));
      };
      const exp = (): number => (r.chance(0.8) ? 16383 + r.range(-200, 200) : r.pick([r.range(1, 8300), r.range(8300, 0x7ffe)]));
      const a = { se: (r.chance(0.5) ? 0x8000 : 0) | exp(), sig: sig() }, b = { se: (r.chance(0.5) ? 0x8000 : 0) | exp(), sig: sig() };
      if (!name.includes('mul') && r.chance(0.8)) {
        // additions: exponents within the window, sometimes nearly equal values (cancellation)
        b.se = (b.se & 0x8000) | Math.min(0x7ffe, Math.max(1, (a.se & 0x7fff) + r.range(-70, 70)));
        if (r.chance(0.3)) { b.se = (b.se & 0x8000) | (a.se & 0x7fff); b.sig = a.sig ^ (r.u64() & ((1n << BigInt(r.range(1, 64))) - 1n)) | TOP; }
      }
      const cw = r.chance(0.1) ? 0x35f : 0x37f; // sometimes PE unmasked
      const code = twoOperandSnippet(bytes, cw, { before: `mov %r8, ${M}\n`, after: `mov ${SAVE + 38}, %rsi\nmovzwl ${SAVE + 46}, %edi\n` });
      const gpr = operandRegisters(a, b);
      gpr[8] = name.endsWith('m64') ? memValue(r) : memValue32(r);
      return { label: `${name} m=${gpr[8].toString(16)} cw=${cw.toString(16)} ${a.se.toString(16)}:${a.sig.toString(16)} ${b.se.toString(16)}:${b.sig.toString(16)}`, code, gpr };
    });
    const show = (g: bigint[], f?: string) => `fault=${f ?? '-'} st0=${(g[1] & 0xffffn).toString(16)}:${BigInt.asUintN(64, g[0]).toString(16)} st1=${(g[7] & 0xffffn).toString(16)}:${BigInt.asUintN(64, g[6]).toString(16)} sw=${(Number(g[2]) & 0xffff).toString(16)}`;
    const { bad } = hostVersusEmulator(cases, show);
    expect(bad.slice(0, 12), `${bad.length} mismatches of ${cases.length}`).toEqual([]);
  }, 120_000);
});
