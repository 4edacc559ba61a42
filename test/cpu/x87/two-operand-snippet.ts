// The snippet the x87 oracle tests share: two 80-bit operands passed in registers are stored,
// loaded under a given control word (the first becomes ST(1), the second ST(0)), one operation
// runs, and FNSAVE (which does not wait, so a pending unmasked exception is not delivered)
// stores the outcome; ST(0) comes back in RAX (significand) and RCX (sign/exponent), the status
// word in RDX. The same snippets run on the host CPU and in the emulator.

import { runSnippets } from '../../../src/cpu/snippet.js';
import { runNative } from '../../isa/native-harness.js';
import { assemble } from '../system/harness.js';
import { Prng } from '../../isa/prng.js';

export const CODE = 0x4000_0000, D = 0x5000_0000, SIZE = 0x10000;
/** where FNSAVE writes its 108-byte image */
export const SAVE = D + 0x100;
/** the significand's integer bit */
export const TOP = 1n << 63n;

export interface F80 { se: number; sig: bigint }
export interface OperandCase { label: string; code: Uint8Array; gpr: bigint[] }

/**
 * `op` runs with ST(0) = b and ST(1) = a under control word `cw`; `before` runs first (after
 * the operands are stored), `after` reads more of the FNSAVE image (at SAVE) into registers.
 */
export function twoOperandSnippet(op: string, cw: number, more: { before?: string; after?: string } = {}): Uint8Array {
  const src = `mov %rax, ${D}\nmov %bx, ${D + 8}\nmov %rcx, ${D + 16}\nmov %dx, ${D + 24}\nmovw $${cw}, ${D + 56}\n` +
    `${more.before ?? ''}fninit\nfldcw ${D + 56}\nfldt ${D}\nfldt ${D + 16}\n${op}\nfnsave ${SAVE}\n` +
    `mov ${SAVE + 28}, %rax\nmovzwl ${SAVE + 36}, %ecx\nmovzwl ${SAVE + 4}, %edx\n${more.after ?? ''}int3`;
  return assemble(src, CODE);
}

/** the registers that carry a and b into twoOperandSnippet (and a stack) */
export function operandRegisters(a: F80, b: F80): bigint[] {
  const gpr = new Array<bigint>(16).fill(0n);
  gpr[0] = a.sig; gpr[3] = BigInt(a.se); gpr[1] = b.sig; gpr[2] = BigInt(b.se);
  gpr[4] = BigInt(D + 0x8000);
  return gpr;
}

/**
 * `count` random cases from one generator seeded with `seed`: case i is made by `make` for form
 * `forms[i % forms.length]` ([mnemonic, instruction bytes]), in order.
 */
export function casesOverForms(seed: number, count: number, forms: [string, string][], make: (r: Prng, name: string, bytes: string) => OperandCase): OperandCase[] {
  const r = new Prng(seed);
  return Array.from({ length: count }, (_, i) => make(r, ...forms[i % forms.length]));
}

/**
 * Every case on the host CPU and in the emulator; `show` renders one outcome (final registers,
 * fault). Returns the cases whose renderings differ, and the host's final registers.
 */
export function hostVersusEmulator(cases: OperandCase[], show: (gpr: bigint[], fault?: string) => string): { bad: string[]; host: bigint[][] } {
  const native = runNative(cases.map((c) => ({ code: c.code, init: { gpr: c.gpr, rflags: 0x202 }, segments: [] })));
  const emulated = runSnippets(cases.map((c) => ({ code: c.code, init: { gpr: c.gpr, rflags: 0x202 }, data: new Uint8Array(SIZE) })));
  const bad: string[] = [];
  cases.forEach((c, i) => {
    const n = show(native[i].final.gpr, native[i].fault), e = show(emulated[i].final.gpr, emulated[i].fault);
    if (n !== e) bad.push(`${c.label}: host ${n}, emulator ${e}`);
  });
  return { bad, host: native.map((n) => n.final.gpr) };
}
