// Unmasked overflow and underflow into a register against the host CPU: with OM or UM clear,
// FADD/FMUL/FDIV/FSCALE whose result leaves the exponent range store the result rounded with an
// unbounded exponent and scaled by 2^-24576 (overflow) or 2^24576 (underflow), SDM vol. 1
// 8.5.3-8.5.4, and the exception stays pending. FNSAVE does not wait, so it stores that register
// and the status word (ES and B set) before the pending #MF would be delivered, and reinitialises
// the FPU; ST(0) and the status word are compared bit for bit.

import { describe, expect, it } from 'vitest';
import { casesOverForms, hostVersusEmulator, operandRegisters, TOP, twoOperandSnippet, type F80 } from './two-operand-snippet.js';

const SW_MASK = 0x82ff; // B, ES, SF, PE UE OE ZE DE IE, C1

const OPS: [string, string][] = [['fmul', '0xde, 0xc9'], ['fdiv', '0xde, 0xf9'], ['fadd', '0xde, 0xc1'], ['fscale', '0xd9, 0xfd']];

describe('x87 unmasked overflow/underflow: the exponent-wrapped result (host CPU)', () => {
  it('FMUL FDIV FADD FSCALE under every PC and RC with OM or UM unmasked', () => {
    const cases = casesOverForms(0x24576, 1200, OPS, (r, name, bytes) => {
      const over = r.chance(0.5);
      const sig = () => (r.chance(0.3) ? TOP | ((r.u64() & 0xfffn) << 52n) : TOP | (r.u64() & (TOP - 1n)));
      const sign = () => (r.chance(0.5) ? 0x8000 : 0);
      let a: F80, b: F80;
      if (name === 'fscale') {
        // ST(1) = the scale (an integer), ST(0) = the value
        const n = over ? r.range(1, 200) : -r.range(1, 200);
        const m = BigInt(Math.abs(n)), len = m.toString(2).length;
        a = { se: (n < 0 ? 0x8000 : 0) | (16383 + len - 1), sig: m << BigInt(64 - len) };
        b = { se: sign() | (over ? 0x7ffe - r.range(0, 100) : r.range(1, 100)), sig: sig() };
      } else if (name === 'fdiv') {
        a = { se: sign() | (over ? 0x7ffe - r.range(0, 60) : r.range(1, 60)), sig: sig() };
        b = { se: sign() | (over ? 16383 - r.range(1, 100) : 16383 + r.range(1, 100)), sig: sig() };
      } else if (name === 'fadd') {
        // overflow: two large values of one sign; underflow: a near-cancellation of tiny values
        const e = over ? 0x7ffe : r.range(1, 3);
        a = { se: (over ? 0 : 0) | e, sig: sig() };
        b = { se: (over ? 0 : 0x8000) | e, sig: over ? sig() : a.sig ^ (r.u64() & 0xffffn) };
      } else {
        a = { se: sign() | (over ? 16383 + 8192 + r.range(0, 200) : 16383 - 8192 - r.range(0, 200)), sig: sig() };
        b = { se: sign() | (over ? 16383 + 8192 + r.range(0, 200) : 16383 - 8192 - r.range(0, 200)), sig: sig() };
      }
      const pc = r.pick([0, 2, 3, 3]), rc = r.below(4);
      const cw = (over ? 0x77 : 0x6f) | (pc << 8) | (rc << 10);
      return { label: `${name} ${over ? 'OM' : 'UM'} unmasked pc=${pc} rc=${rc} ${a.se.toString(16)}:${a.sig.toString(16)} ${b.se.toString(16)}:${b.sig.toString(16)}`, code: twoOperandSnippet(`.byte ${bytes}`, cw), gpr: operandRegisters(a, b) };
    });
    const show = (g: bigint[], f?: string) => `fault=${f ?? '-'} ${(g[1] & 0xffffn).toString(16)}:${BigInt.asUintN(64, g[0]).toString(16)} sw=${(Number(g[2]) & SW_MASK).toString(16)}`;
    const { bad, host } = hostVersusEmulator(cases, show);
    const wrapped = host.filter((g) => (Number(g[2]) & 0x18) !== 0).length;
    console.log(`unmasked O/U: ${cases.length} cases, ${wrapped} with OE or UE raised on the host, ${bad.length} mismatches`);
    expect(wrapped).toBeGreaterThan(cases.length / 2);
    expect(bad.slice(0, 12), `${bad.length} mismatches`).toEqual([]);
  }, 120_000);
});
