// Edge-value sweep against the host CPU: every SSE/SSE2 floating-point arithmetic, compare and
// conversion form, over operand pairs drawn from the IEEE special classes (signed zeros,
// denormals, the normal-range limits, infinities, QNaN/SNaN, values that overflow, underflow
// or round), under MXCSR variants (each rounding mode, DAZ/FTZ, unmasked exceptions). Each
// case runs natively (test/isa's harness) and in the emulator's snippet runner; results,
// flags, MXCSR and faults must agree. Where the random differential test rarely lands on a
// corner, this lands on all of them.

import { describe, expect, it } from 'vitest';
import { runSnippets } from '../../../src/cpu/snippet.js';
import { runNative } from '../../isa/native-harness.js';
import type { SnippetCase } from '../../isa/snippet-api.js';

const DATA = 0x5000_0000, SIZE = 0x10000, MX_SLOT = 0xfff0;
const STMXCSR = [0x0f, 0xae, 0x1c, 0x25, 0xf0, 0xff, 0x00, 0x50]; // stmxcsr [DATA + MX_SLOT]

const F64 = [0n, 0x8000000000000000n, 1n, 0x800fffffffffffffn, 0x0010000000000000n, 0x3ff0000000000000n, 0xbff0000000000001n,
  0x7fefffffffffffffn, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000001n, 0xfff4000000000002n,
  0x4000000000000001n, 0x3fe0000000000000n, 0x0018000000000001n, 0x3ca0000000000000n];
const F32 = [0n, 0x80000000n, 1n, 0x807fffffn, 0x800000n, 0x3f800000n, 0xbf800001n, 0x7f7fffffn, 0x7f800000n, 0xff800000n,
  0x7fc00001n, 0xffa00002n, 0x40000001n, 0x3f000000n, 0x00c00001n, 0x33800000n];
/** default, each directed rounding, DAZ+FTZ, underflow/precision/overflow unmasked, everything unmasked */
const MXCSRS = [0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0, 0x1780, 0x0f80, 0x1d80, 0x0000];

interface Case { c: SnippetCase; label: string }

function mk(code: number[], x0: bigint, x1: bigint, mxcsr: number, rax = 0n): SnippetCase {
  const gpr = new Array<bigint>(16).fill(0n);
  gpr[0] = rax;
  gpr[4] = BigInt(DATA + 0x8000);
  const xmm = new Array<bigint>(16).fill(0n);
  xmm[0] = x0;
  xmm[1] = x1;
  return { code: Uint8Array.from([...code, ...STMXCSR, 0xcc]), init: { gpr, rflags: 0x202, xmm }, data: new Uint8Array(SIZE), mxcsr };
}

function arithmeticCases(): Case[] {
  const out: Case[] = [];
  const ops: [string, number][] = [['add', 0x58], ['mul', 0x59], ['sub', 0x5c], ['min', 0x5d], ['div', 0x5e], ['max', 0x5f], ['sqrt', 0x51]];
  const forms: [string, number[], bigint[], number][] = [['sd', [0xf2], F64, 64], ['ss', [0xf3], F32, 32], ['pd', [0x66], F64, 64], ['ps', [], F32, 32]];
  for (const [op, byte] of ops) {
    for (const [form, prefix, values, w] of forms) {
      const packed = form[0] === 'p';
      for (let i = 0; i < values.length; i++) {
        for (let j = 0; j < values.length; j++) {
          // packed forms: the upper lane pairs other values so lanes interact in the flags
          const a = values[i], b = values[j];
          const x0 = packed ? a | (values[(i + 5) % values.length] << BigInt(w)) : a | (0x1234n << 64n);
          const x1 = packed ? b | (values[(j + 3) % values.length] << BigInt(w)) : b;
          const mx = MXCSRS[(i * values.length + j) % MXCSRS.length];
          out.push({ c: mk([...prefix, 0x0f, byte, 0xc1], x0, x1, mx), label: `${op}${form} ${a.toString(16)}, ${b.toString(16)} mxcsr=${mx.toString(16)}` });
        }
      }
    }
  }
  return out;
}

function compareCases(): Case[] {
  const out: Case[] = [];
  const forms: [string, number[], bigint[]][] = [['sd', [0xf2], F64], ['ss', [0xf3], F32]];
  for (const [form, prefix, values] of forms) {
    for (const a of values) {
      for (const b of values) {
        for (let p = 0; p < 8; p++) out.push({ c: mk([...prefix, 0x0f, 0xc2, 0xc1, p], a, b, MXCSRS[p]), label: `cmp${form} $${p} ${a.toString(16)}, ${b.toString(16)}` });
        const w = form === 'sd' ? [0x66] : [];
        out.push({ c: mk([...w, 0x0f, 0x2f, 0xc1], a, b, 0x1f80), label: `comi${form} ${a.toString(16)}, ${b.toString(16)}` });
        out.push({ c: mk([...w, 0x0f, 0x2e, 0xc1], a, b, 0x1e80), label: `ucomi${form} ${a.toString(16)}, ${b.toString(16)} (IE unmasked)` });
      }
    }
  }
  return out;
}

function f64(x: number): bigint {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x, true);
  return v.getBigUint64(0, true);
}

function conversionCases(): Case[] {
  const out: Case[] = [];
  const doubles = [...F64, ...[2.5, -2.5, -0.5, 2147483647.5, -2147483648.5, 2 ** 63, -(2 ** 63), 1e300, 1e-300, 3.4028235677973366e38,
    1.1754942807573643e-38, 7.006492321624085e-46].map(f64)];
  const ints = [0n, 0xffffffffffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n, 0x20000000000001n, 0x1000001n, 0x80000000n, 0x7fffffffn];
  for (const mx of [0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0, 0x1f00]) {
    for (const v of doubles) {
      const forms: [string, number[]][] = [['cvtsd2ss', [0xf2, 0x0f, 0x5a, 0xc1]], ['cvtpd2ps', [0x66, 0x0f, 0x5a, 0xc1]],
        ['cvtsd2si r32', [0xf2, 0x0f, 0x2d, 0xc1]], ['cvtsd2si r64', [0xf2, 0x48, 0x0f, 0x2d, 0xc1]],
        ['cvttsd2si r64', [0xf2, 0x48, 0x0f, 0x2c, 0xc1]], ['cvtpd2dq', [0xf2, 0x0f, 0xe6, 0xc1]]];
      for (const [name, code] of forms) out.push({ c: mk(code, 0x5555n << 64n, v | (v << 64n), mx), label: `${name} ${v.toString(16)} mxcsr=${mx.toString(16)}` });
    }
    for (const v of F32) {
      const forms: [string, number[]][] = [['cvtss2sd', [0xf3, 0x0f, 0x5a, 0xc1]], ['cvtps2pd', [0x0f, 0x5a, 0xc1]],
        ['cvtss2si r64', [0xf3, 0x48, 0x0f, 0x2d, 0xc1]], ['cvttps2dq', [0xf3, 0x0f, 0x5b, 0xc1]]];
      for (const [name, code] of forms) out.push({ c: mk(code, 0n, v | (v << 96n), mx), label: `${name} ${v.toString(16)} mxcsr=${mx.toString(16)}` });
    }
    for (const v of ints) {
      out.push({ c: mk([0xf2, 0x48, 0x0f, 0x2a, 0xc0], 0n, 0n, mx, v), label: `cvtsi2sd r64 ${v.toString(16)} mxcsr=${mx.toString(16)}` });
      out.push({ c: mk([0xf3, 0x48, 0x0f, 0x2a, 0xc0], 0n, 0n, mx, v), label: `cvtsi2ss r64 ${v.toString(16)} mxcsr=${mx.toString(16)}` });
      out.push({ c: mk([0x0f, 0x5b, 0xc1], 0n, v | (v << 64n), mx), label: `cvtdq2ps ${v.toString(16)} mxcsr=${mx.toString(16)}` });
    }
  }
  return out;
}

/** Run natively and emulated; return descriptions of the disagreements. */
function disagreements(cases: Case[]): string[] {
  const native = runNative(cases.map(({ c }) => ({ code: c.code, init: c.init, segments: [], mxcsr: c.mxcsr })));
  const emulated = runSnippets(cases.map(({ c }) => c));
  const bad: string[] = [];
  for (let i = 0; i < cases.length; i++) {
    const n = native[i], e = emulated[i];
    const image = new Uint8Array(SIZE);
    for (const d of n.diffs) image.set(d.bytes, d.offset);
    const nMx = image[MX_SLOT] | (image[MX_SLOT + 1] << 8);
    const eMx = e.data[MX_SLOT] | (e.data[MX_SLOT + 1] << 8);
    const nf = (n.final.rflags & 0x8d5).toString(16), ef = (e.final.rflags & 0x8d5).toString(16);
    const nr = `fault=${n.fault ?? '-'} xmm0=${n.final.xmm[0].toString(16)} rax=${n.final.gpr[0].toString(16)} flags=${nf} mxcsr=${n.fault ? '?' : nMx.toString(16)}`;
    const er = `fault=${e.fault ?? '-'} xmm0=${(e.final.xmm ?? [])[0]?.toString(16)} rax=${e.final.gpr[0].toString(16)} flags=${ef} mxcsr=${e.fault ? '?' : eMx.toString(16)}`;
    if (nr !== er) bad.push(`${cases[i].label}\n    native:   ${nr}\n    emulator: ${er}`);
  }
  return bad;
}

describe('SSE floating point against the host CPU at the edges', () => {
  it('arithmetic: ADD SUB MUL DIV MIN MAX SQRT in SD/SS/PD/PS', () => {
    expect(disagreements(arithmeticCases()).slice(0, 10)).toEqual([]);
  }, 60_000);
  it('comparisons: CMPSD/CMPSS (8 predicates), COMIS/UCOMIS', () => {
    expect(disagreements(compareCases()).slice(0, 10)).toEqual([]);
  }, 60_000);
  it('conversions between double, single and integers', () => {
    expect(disagreements(conversionCases()).slice(0, 10)).toEqual([]);
  }, 60_000);
});
