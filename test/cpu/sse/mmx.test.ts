// MMX against the host CPU: every packed-integer, logic, shift, pack/unpack and SSE-extension
// form on MM registers, fed and read back through MOVQ with GPRs; the aliasing of MM registers
// with the x87 stack (an MMX write leaves sign/exponent 0xFFFF in FXSAVE, an x87 value reads
// back as its significand, FXSAVE/FXRSTOR keep MMX data exactly); EMMS.

import { describe, expect, it } from 'vitest';
import { runSnippets } from '../../../src/cpu/snippet.js';
import { runNative } from '../../isa/native-harness.js';
import type { SnippetCase } from '../../isa/snippet-api.js';
import { assemble } from '../system/harness.js';
import { faultOf, gpr, run, setGpr, sseCore } from './harness.js';

const CODE = 0x4000_0000, D = 0x5000_0000;

const BINARY = ['paddb', 'paddw', 'paddd', 'paddq', 'psubb', 'psubw', 'psubd', 'psubq', 'paddsb', 'paddsw', 'paddusb', 'paddusw',
  'psubsb', 'psubsw', 'psubusb', 'psubusw', 'pmullw', 'pmulhw', 'pmulhuw', 'pmuludq', 'pmaddwd', 'pavgb', 'pavgw', 'pminub',
  'pmaxub', 'pminsw', 'pmaxsw', 'psadbw', 'pcmpeqb', 'pcmpeqw', 'pcmpeqd', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd', 'packsswb',
  'packssdw', 'packuswb', 'punpcklbw', 'punpcklwd', 'punpckldq', 'punpckhbw', 'punpckhwd', 'punpckhdq', 'pand', 'pandn',
  'por', 'pxor', 'psrlw', 'psrld', 'psrlq', 'psraw', 'psrad', 'psllw', 'pslld', 'psllq'];
const VALUES = [0n, 0xffffffffffffffffn, 0x8000800080008000n, 0x7fff7fff7fff7fffn, 0x00ff00ff80017f80n, 0x0123456789abcdefn, 3n, 40n];

function differences(list: { src: string; rax: bigint; rbx: bigint }[]): string[] {
  const cases: SnippetCase[] = list.map(({ src, rax, rbx }) => {
    const gpr = new Array<bigint>(16).fill(0n);
    gpr[0] = rax;
    gpr[3] = rbx;
    gpr[4] = BigInt(D + 0x8000);
    return { code: assemble(`${src}\nint3`, CODE), init: { gpr, rflags: 0x202 }, data: new Uint8Array(0x10000) };
  });
  const native = runNative(cases.map((c) => ({ code: c.code, init: c.init, segments: [] })));
  const emulated = runSnippets(cases);
  const bad: string[] = [];
  cases.forEach((_, i) => {
    const n = `${native[i].fault ?? '-'} ${native[i].final.gpr[0].toString(16)}`;
    const e = `${emulated[i].fault ?? '-'} ${emulated[i].final.gpr[0].toString(16)}`;
    if (n !== e) bad.push(`${list[i].src.replace(/\n/g, '; ')} [rax=${list[i].rax.toString(16)} rbx=${list[i].rbx.toString(16)}]: native ${n}, emulator ${e}`);
  });
  return bad;
}

describe('MMX against the host CPU', () => {
  it('two-operand forms', () => {
    const list = [];
    for (const op of BINARY) {
      for (const a of VALUES) for (const b of VALUES) list.push({ src: `movq %rax, %mm0\nmovq %rbx, %mm1\n${op} %mm1, %mm0\nmovq %mm0, %rax\nemms`, rax: a, rbx: b });
    }
    expect(differences(list).slice(0, 10)).toEqual([]);
  }, 60_000);
  it('immediate shifts, PSHUFW, PEXTRW, PINSRW, PMOVMSKB', () => {
    const list = [];
    for (const a of VALUES) {
      for (const op of ['psrlw', 'psraw', 'psllw', 'psrld', 'psrad', 'pslld', 'psrlq', 'psllq']) {
        for (const n of [0, 1, 15, 16, 31, 33, 63, 64, 200]) list.push({ src: `movq %rax, %mm3\n${op} $${n}, %mm3\nmovq %mm3, %rax\nemms`, rax: a, rbx: 0n });
      }
      for (const imm of [0, 0x1b, 0xe4, 0xff, 6]) {
        list.push({ src: `movq %rax, %mm1\npshufw $${imm}, %mm1, %mm2\nmovq %mm2, %rax\nemms`, rax: a, rbx: 0n });
        list.push({ src: `movq %rax, %mm1\npextrw $${imm}, %mm1, %eax\nemms`, rax: a, rbx: 0n });
        list.push({ src: `movq %rax, %mm1\npinsrw $${imm}, %ebx, %mm1\nmovq %mm1, %rax\nemms`, rax: a, rbx: 0x1234n });
      }
      list.push({ src: 'movq %rax, %mm1\npmovmskb %mm1, %eax\nemms', rax: a, rbx: 0n });
    }
    expect(differences(list).slice(0, 10)).toEqual([]);
  }, 60_000);
  it('MM registers alias the x87 registers, also through FXSAVE/FXRSTOR', () => {
    const list = [];
    for (const a of VALUES) {
      for (const off of [64, 72]) list.push({ src: `fninit\nmovq %rax, %mm2\nfxsave ${D}\nemms\nmov ${D + off}, %rax`, rax: a, rbx: 0n });
      list.push({ src: `movq %rax, %mm3\nfxsave ${D}\nfninit\nfxrstor ${D}\nmovq %mm3, %rax\nemms`, rax: a, rbx: 0n });
      list.push({ src: `movq %rax, %mm0\nemms\nfnstenv ${D}\nmovzwl ${D + 8}, %eax`, rax: a, rbx: 0n });
    }
    list.push({ src: 'fninit\nfld1\nfchs\nmovq %mm7, %rax\nemms', rax: 0n, rbx: 0n });
    list.push({ src: 'fninit\nfld1\nmovq %rax, %mm5\nfnstsw %ax\nemms', rax: 0n, rbx: 0n });
    expect(differences(list).slice(0, 10)).toEqual([]);
  }, 60_000);
});

describe('MMX state', () => {
  it('#UD under CR0.EM, #NM with CR0.TS', () => {
    const t = sseCore();
    t.cpu.cr0 |= 4;
    expect(faultOf(t, run(t, 'movq %rax, %mm0'))).toBe(6);
    t.cpu.cr0 = (t.cpu.cr0 & ~4) | 8;
    expect(faultOf(t, run(t, 'paddb %mm1, %mm0'))).toBe(7);
  });
  it('an MMX instruction sets TOP = 0 and tags every register in use; EMMS empties them', () => {
    const t = sseCore();
    setGpr(t.cpu, 0, 0x1122334455667788n);
    expect(faultOf(t, run(t, 'fninit\nfld1\nmovq %rax, %mm7\nmovq %mm7, %rcx'))).toBe(-1);
    expect(t.cpu.fpTop).toBe(0);
    expect(gpr(t.cpu, 1)).toBe(0x1122334455667788n);
    expect(t.cpu.fpTag & 0x5555 & (t.cpu.fpTag >> 1)).toBe(0);
    run(t, 'emms');
    expect(t.cpu.fpTag).toBe(0xffff);
  });
});
