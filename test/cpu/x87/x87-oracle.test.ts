// x87 against the host CPU on binary64 operands (FLD m64): integer stores under each rounding
// mode (FIST/FISTP/FISTTP, with the status word), FRNDINT, FXAM/FTST, FBSTP, FSTP m32 (value and
// C1) and m80, FCOM/FCOMI/FUCOMIP flags, FADD/FMUL/FDIV results stored as m64, FPREM (complete
// and partial), FSCALE and NaN precedence. The 80-bit operands, every precision control and the
// status after each operation are held to the host by test/isa (x87 groups).

import { describe, expect, it } from 'vitest';
import { runSnippets } from '../../../src/cpu/snippet.js';
import { runNative } from '../../isa/native-harness.js';
import type { SnippetCase } from '../../isa/snippet-api.js';
import { assemble } from '../system/harness.js';

const CODE = 0x4000_0000, D = 0x5000_0000, SIZE = 0x10000;

function f64(x: number): bigint {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x, true);
  return v.getBigUint64(0, true);
}

const VALUES = [0, -0, 1, -1, 2.5, -2.5, 3.5, -0.5, 1e10, 2147483647.5, -2147483648.5, 32767.5, -32768.5, 1e19, -9.3e18,
  5e-324, Infinity, -Infinity, NaN, 1 / 3, 123456.789, 4503599627370497];

interface Case { c: SnippetCase; label: string }

function cases(): Case[] {
  const out: Case[] = [];
  const add = (label: string, src: string, x: number, y = 0): void => {
    const code = assemble(`mov %rax, ${D}\nmov %rbx, ${D + 8}\nfninit\n${src}\nint3`, CODE);
    const gpr = new Array<bigint>(16).fill(0n);
    gpr[0] = f64(x);
    gpr[3] = f64(y);
    gpr[4] = BigInt(D + 0x8000);
    out.push({ c: { code, init: { gpr, rflags: 0x202 }, data: new Uint8Array(SIZE) }, label });
  };
  const status = (reg: string): string => `fnstsw ${D + 48}\nmovzwl ${D + 48}, ${reg}`;
  for (const x of VALUES) {
    for (const rc of [0, 1, 2, 3]) {
      const cw = `movw $${0x37f | (rc << 10)}, ${D + 16}\nfldcw ${D + 16}\nfldl ${D}`;
      add(`fistpl rc=${rc} ${x}`, `${cw}\nfistpl ${D + 24}\n${status('%eax')}\nshl $32, %rax\nmovl ${D + 24}, %ecx\nor %rcx, %rax`, x);
      add(`fistps rc=${rc} ${x}`, `${cw}\nfistps ${D + 24}\n${status('%eax')}\nshl $32, %rax\nmovzwl ${D + 24}, %ecx\nor %rcx, %rax`, x);
      add(`fistpll rc=${rc} ${x}`, `${cw}\nfistpll ${D + 24}\nmov ${D + 24}, %rax`, x);
      add(`frndint rc=${rc} ${x}`, `${cw}\nfrndint\nfstpl ${D + 24}\nmov ${D + 24}, %rax`, x);
    }
    add(`fisttpl ${x}`, `fldl ${D}\nfisttpl ${D + 24}\n${status('%eax')}\nshl $32, %rax\nmovl ${D + 24}, %ecx\nor %rcx, %rax`, x);
    add(`fxam ${x}`, `fldl ${D}\nfxam\nfnstsw %ax`, x);
    add(`ftst ${x}`, `fldl ${D}\nftst\nfnstsw %ax`, x);
    add(`fbstp ${x}`, `fldl ${D}\nfbstp ${D + 32}\nmov ${D + 32}, %rax`, x);
    add(`fbstp sign ${x}`, `fldl ${D}\nfbstp ${D + 32}\nmovzwl ${D + 40}, %eax`, x);
    add(`fstps ${x}`, `fldl ${D}\nfstps ${D + 24}\nmovl ${D + 24}, %eax\n${status('%ecx')}\nshl $32, %rcx\nor %rcx, %rax`, x);
    add(`fstpt ${x}`, `fldl ${D}\nfstpt ${D + 24}\nmov ${D + 24}, %rax`, x);
    add(`fstpt exponent ${x}`, `fldl ${D}\nfstpt ${D + 24}\nmovzwl ${D + 32}, %eax`, x);
    for (const y of VALUES) {
      const flags = `pushf\npop %rax\nand $0x8d5, %eax\n${status('%ecx')}\nshl $32, %rcx\nor %rcx, %rax`;
      add(`fcomi ${x} ${y}`, `fldl ${D + 8}\nfldl ${D}\nfcomi %st(1), %st\n${flags}`, x, y);
      add(`fucomip ${x} ${y}`, `fldl ${D + 8}\nfldl ${D}\nfucomip %st(1), %st\n${flags}`, x, y);
      add(`fcom ${x} ${y}`, `fldl ${D}\nfcoml ${D + 8}\nfnstsw %ax`, x, y);
      for (const op of ['faddl', 'fmull', 'fdivl']) add(`${op} ${x} ${y}`, `fldl ${D}\n${op} ${D + 8}\nfstpl ${D + 24}\nmov ${D + 24}, %rax`, x, y);
      add(`fprem ${x} ${y}`, `fldl ${D + 8}\nfldl ${D}\nfprem\nfnstsw %ax\nshl $32, %rax\nfstpl ${D + 24}\nmovl ${D + 24}, %ecx\nor %rcx, %rax`, x, y);
      add(`fscale ${x} ${y}`, `fldl ${D + 8}\nfldl ${D}\nfscale\nfstpl ${D + 24}\nmov ${D + 24}, %rax`, x, y);
    }
  }
  // NaN precedence: QNaN over SNaN, then the larger significand
  const nans = [0x7ff8000000000001n, 0x7ff8000000000002n, 0xfff8000000000005n, 0x7ff0000000000009n, 0xfff4000000000000n, 0x3ff0000000000000n];
  for (const a of nans) {
    for (const b of nans) {
      for (const op of ['faddl', 'fsubrl', 'fdivl']) {
        const code = assemble(`mov %rax, ${D}\nmov %rbx, ${D + 8}\nfninit\nfldl ${D}\n${op} ${D + 8}\nfstpl ${D + 24}\nmov ${D + 24}, %rax\nint3`, CODE);
        const gpr = new Array<bigint>(16).fill(0n);
        gpr[0] = a;
        gpr[3] = b;
        gpr[4] = BigInt(D + 0x8000);
        out.push({ c: { code, init: { gpr, rflags: 0x202 }, data: new Uint8Array(SIZE) }, label: `${op} NaN precedence ${a.toString(16)} ${b.toString(16)}` });
      }
    }
  }
  return out;
}

describe('x87 against the host CPU', () => {
  it('integer stores, rounding, classification, BCD, m32/m80 stores, compares, FPREM, FSCALE', () => {
    const all = cases();
    const native = runNative(all.map(({ c }) => ({ code: c.code, init: c.init, segments: [] })));
    const emulated = runSnippets(all.map(({ c }) => c));
    const bad: string[] = [];
    for (let i = 0; i < all.length; i++) {
      const n = native[i], e = emulated[i];
      const nr = `fault=${n.fault ?? '-'} rax=${n.final.gpr[0].toString(16)}`;
      const er = `fault=${e.fault ?? '-'} rax=${e.final.gpr[0].toString(16)}`;
      if (nr !== er) bad.push(`${all[i].label}: native ${nr}, emulator ${er}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  }, 60_000);
});
