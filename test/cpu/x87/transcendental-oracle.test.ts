// The x87 transcendentals (FSIN FCOS FSINCOS FPTAN F2XM1 FYL2X FYL2XP1 FPATAN) of the emulator
// against the host CPU on the same snippets: ordinary 80-bit operands in each instruction's
// domain (the trigonometric ones up to 2^62, near multiples of pi/2 too), some zeros and
// infinities, under every rounding control and every precision control (which they ignore). Each result register
// and the status word (IE DE ZE OE UE SF PE, C1, C2) are compared. The emulator rounds a
// ~150-bit value once; hardware keeps a few bits beyond 64 in microcode, so a few results in a
// hundred differ from the host by one unit in the last place (with C1 following the rounding).
// Those are counted and printed per instruction, never hidden: the test fails on any other
// difference and when more of an instruction's results are off by one unit than BOUND allows.
// X87_TRANS_CASES sets the cases per instruction (default 1500).

import { describe, expect, it } from 'vitest';
import { runSnippets } from '../../../src/cpu/snippet.js';
import { runNative } from '../../isa/native-harness.js';
import { Prng } from '../../isa/prng.js';
import { assemble } from '../system/harness.js';

const CODE = 0x4000_0000, D = 0x5000_0000, SIZE = 0x10000;
const PER_OP = Number(process.env.X87_TRANS_CASES ?? 1500);
const SW_MASK = 0x067f; // IE DE ZE OE UE SF PE, C1, C2
const BIAS = 16383, TOP = 1n << 63n;
/** the share of results allowed off by one unit (or in C1 alone): about twice what was measured over 20,000 cases each */
const BOUND: Record<string, number> = { fptan: 0.2 };

interface V { se: number; sig: bigint }
interface Op { name: string; insn: string; operands: 1 | 2; results: 1 | 2; gen: (r: Prng) => V[] }

function sig(r: Prng): bigint {
  return r.chance(0.2) ? TOP | ((r.u64() & 0xfffn) << 52n) : TOP | (r.u64() & (TOP - 1n));
}
const at = (r: Prng, exp: number, sign = r.chance(0.5)): V => ({ se: (sign ? 0x8000 : 0) | (BIAS + exp), sig: sig(r) });
/** a multiple of pi/2 (66-bit pi) plus a small offset: the reduction's cancellation */
function nearHalfPi(r: Prng): V {
  const k = BigInt(r.range(1, 1 << 20));
  const p = (0x3_243f_6a88_85a3_08d3n * k) >> 1n; // units of 2^-64
  const off = BigInt(r.range(-(1 << 20), 1 << 20));
  const m = p + off;
  const len = m.toString(2).length;
  return { se: (r.chance(0.5) ? 0x8000 : 0) | (BIAS + len - 1 - 64), sig: len >= 64 ? m >> BigInt(len - 64) : m << BigInt(64 - len) };
}
function special(r: Prng): V {
  const sign = r.chance(0.5) ? 0x8000 : 0;
  return r.chance(0.5) ? { se: sign, sig: 0n } : { se: sign | 0x7fff, sig: TOP };
}
function trigArg(r: Prng): V {
  const k = r.below(10);
  if (k < 6) return at(r, r.range(-12, 3));
  if (k < 8) return nearHalfPi(r);
  if (k < 9) return at(r, r.range(4, 62));
  return at(r, r.range(-200, -13));
}

const OPS: Op[] = [
  { name: 'fsin', insn: 'fsin', operands: 1, results: 1, gen: (r) => [trigArg(r)] },
  { name: 'fcos', insn: 'fcos', operands: 1, results: 1, gen: (r) => [trigArg(r)] },
  { name: 'fsincos', insn: 'fsincos', operands: 1, results: 2, gen: (r) => [trigArg(r)] },
  { name: 'fptan', insn: 'fptan', operands: 1, results: 2, gen: (r) => [trigArg(r)] },
  { name: 'f2xm1', insn: 'f2xm1', operands: 1, results: 1, gen: (r) => [at(r, r.chance(0.7) ? r.range(-12, -1) : r.range(-100, -13))] },
  {
    name: 'fyl2x', insn: 'fyl2x', operands: 2, results: 1,
    gen: (r) => [r.chance(0.05) ? special(r) : at(r, r.range(-30, 30)), r.chance(0.05) ? special(r) : r.chance(0.3) ? at(r, r.pick([0, -1]), false) : at(r, r.range(-200, 200), false)],
  },
  {
    name: 'fyl2xp1', insn: 'fyl2xp1', operands: 2, results: 1,
    gen: (r) => [r.chance(0.05) ? special(r) : at(r, r.range(-30, 30)), r.chance(0.05) ? { se: r.chance(0.5) ? 0x8000 : 0, sig: 0n } : at(r, r.chance(0.7) ? r.range(-12, -3) : r.range(-100, -13))],
  },
  {
    name: 'fpatan', insn: 'fpatan', operands: 2, results: 1,
    gen: (r) => {
      const x = r.chance(0.05) ? special(r) : at(r, r.range(-20, 20));
      const y = r.chance(0.05) ? special(r) : r.chance(0.2) ? { se: (r.chance(0.5) ? 0x8000 : 0) | (x.se & 0x7fff), sig: sig(r) } : at(r, r.range(-20, 20));
      return [y, x]; // ST(1) = y, ST(0) = x
    },
  },
];

interface Case { label: string; code: Uint8Array; gpr: bigint[]; op: Op; pc: number }

function cases(): Case[] {
  const r = new Prng(0x7a15);
  const out: Case[] = [];
  for (const op of OPS) {
    for (let i = 0; i < PER_OP; i++) {
      const vs = op.gen(r);
      const pc = r.pick([3, 3, 3, 3, 2, 0]), rc = r.below(4);
      const cw = 0x7f | (pc << 8) | (rc << 10);
      const second = op.results === 2 ? `fstpt ${D + 64}\nmov ${D + 64}, %rsi\nmovzwl ${D + 72}, %edi\n` : '';
      const src = `mov %rax, ${D}\nmov %bx, ${D + 8}\nmov %rcx, ${D + 16}\nmov %dx, ${D + 24}\nmovw $${cw}, ${D + 56}\n` +
        `fninit\nfldcw ${D + 56}\nfldt ${D}\n${op.operands === 2 ? `fldt ${D + 16}\n` : ''}${op.insn}\nfnstsw ${D + 48}\nfstpt ${D + 32}\n${second}` +
        `mov ${D + 32}, %rax\nmovzwl ${D + 40}, %ecx\nmovzwl ${D + 48}, %edx\nint3`;
      const gpr = new Array<bigint>(16).fill(0n);
      const [a, b] = vs;
      gpr[0] = a.sig; gpr[3] = BigInt(a.se);
      if (b) { gpr[1] = b.sig; gpr[2] = BigInt(b.se); }
      gpr[4] = BigInt(D + 0x8000);
      const label = `${op.name} pc=${pc} rc=${rc} ${vs.map((v) => `${v.se.toString(16)}:${v.sig.toString(16)}`).join(' ')}`;
      out.push({ label, code: assemble(src, CODE), gpr, op, pc });
    }
  }
  return out;
}

/** position of a finite value among the 64-bit ones of its sign (the transcendentals ignore precision control) */
function ordinal(se: number, s: bigint): bigint {
  return (BigInt(se & 0x7fff) << 63n) + (s & (TOP - 1n));
}

describe('x87 transcendentals against the host CPU', () => {
  it(`${PER_OP} cases per instruction: bit-exact or one unit in the last place, counted`, () => {
    const all = cases();
    expect(all.length).toBeGreaterThan(0);
    const native = runNative(all.map((c) => ({ code: c.code, init: { gpr: c.gpr, rflags: 0x202 }, segments: [] })));
    const emulated = runSnippets(all.map((c) => ({ code: c.code, init: { gpr: c.gpr, rflags: 0x202 }, data: new Uint8Array(SIZE) })));
    const stats = new Map<string, { exact: number; c1: number; ulp: number; other: number }>();
    const bad: string[] = [], ulpSamples: string[] = [];
    all.forEach((c, i) => {
      const n = native[i].final.gpr, e = emulated[i].final.gpr;
      const st = stats.get(c.op.name) ?? { exact: 0, c1: 0, ulp: 0, other: 0 };
      stats.set(c.op.name, st);
      const pairs: [number, bigint, number, bigint][] = [[Number(n[1] & 0xffffn), BigInt.asUintN(64, n[0]), Number(e[1] & 0xffffn), BigInt.asUintN(64, e[0])]];
      if (c.op.results === 2) pairs.push([Number(n[7] & 0xffffn), BigInt.asUintN(64, n[6]), Number(e[7] & 0xffffn), BigInt.asUintN(64, e[6])]);
      const swN = Number(n[2]) & SW_MASK, swE = Number(e[2]) & SW_MASK;
      const fault = native[i].fault ?? emulated[i].fault;
      const show = () => `${c.label}: host ${pairs.map((p) => `${p[0].toString(16)}:${p[1].toString(16)}`).join(' ')} sw=${swN.toString(16)}, emulator ${pairs.map((p) => `${p[2].toString(16)}:${p[3].toString(16)}`).join(' ')} sw=${swE.toString(16)}`;
      if (fault) { st.other++; bad.push(`${c.label}: fault ${native[i].fault ?? '-'} / ${emulated[i].fault ?? '-'}`); return; }
      const same = pairs.every((p) => p[0] === p[2] && p[1] === p[3]);
      if (same && swN === swE) { st.exact++; return; }
      // the same value with C1 (rounded up) differing: the host rounded a value on the other side of it
      if (same && (swN & ~0x200) === (swE & ~0x200)) { st.c1++; if (ulpSamples.length < 8) ulpSamples.push(show()); return; }
      // one unit in the last place, same sign, finite: flags may differ only in C1 (the rounding direction)
      const ulp = pairs.every((p) => p[0] === p[2] && p[1] === p[3]
        || ((p[0] & 0x8000) === (p[2] & 0x8000) && (p[0] & 0x7fff) !== 0x7fff && (p[2] & 0x7fff) !== 0x7fff
          && (ordinal(p[0], p[1]) - ordinal(p[2], p[3]) === 1n || ordinal(p[2], p[3]) - ordinal(p[0], p[1]) === 1n)));
      if (ulp && (swN & ~0x200) === (swE & ~0x200)) { st.ulp++; if (ulpSamples.length < 8) ulpSamples.push(show()); return; }
      st.other++;
      bad.push(show());
    });
    const table = [...stats].map(([k, s]) => `${k.padEnd(8)} ${String(s.exact + s.c1 + s.ulp + s.other).padStart(6)} cases: bit-exact ${s.exact}, same value but C1 ${s.c1}, 1 ulp ${s.ulp}, other ${s.other}`);
    console.log(`x87 transcendentals vs host (seed 0x7a15):\n${table.join('\n')}\nsome 1-ulp cases:\n${ulpSamples.join('\n')}`);
    expect(bad.slice(0, 12), `${bad.length} results differ by more than 1 ulp or in flags`).toEqual([]);
    for (const [k, s] of stats) expect(s.ulp + s.c1, `${k}: results off by 1 ulp or in C1`).toBeLessThanOrEqual((BOUND[k] ?? 0.05) * (s.exact + s.c1 + s.ulp + s.other));
  }, 600_000);
});
