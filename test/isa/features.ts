// CPU features, read the same way on both sides: a CPUID snippet (CPUID is legal at CPL 3).
// The differential run keeps only forms whose feature both the host and the emulator advertise.

import type { Feature } from './form.js';
import { STACK_TOP } from './layout.js';
import { BASE_RFLAGS } from './flags.js';
import { SNIPPET_DATA_BASE, SNIPPET_DATA_SIZE, type SnippetCase, type SnippetState } from './snippet-api.js';

const LEAVES: [number, number][] = [[0, 0], [1, 0], [7, 0], [0x8000_0000, 0], [0x8000_0001, 0]];

export function cpuidCases(): SnippetCase[] {
  return LEAVES.map(([leaf, sub]) => {
    const gpr = new Array<bigint>(16).fill(0n);
    gpr[0] = BigInt(leaf);
    gpr[1] = BigInt(sub);
    gpr[4] = BigInt(SNIPPET_DATA_BASE + STACK_TOP);
    return { code: Uint8Array.from([0x0f, 0xa2, 0xcc]), init: { gpr, rflags: BASE_RFLAGS }, data: new Uint8Array(SNIPPET_DATA_SIZE) };
  });
}

interface Regs { eax: number; ebx: number; ecx: number; edx: number }

/** Decodes the results of cpuidCases() (in the same order) into the features the table knows. */
export function featuresFromCpuid(finals: (SnippetState | undefined)[]): Set<Feature> {
  const regs: (Regs | undefined)[] = finals.map((s) => s && {
    eax: Number(s.gpr[0] & 0xffff_ffffn), ebx: Number(s.gpr[3] & 0xffff_ffffn),
    ecx: Number(s.gpr[1] & 0xffff_ffffn), edx: Number(s.gpr[2] & 0xffff_ffffn),
  });
  const [l0, l1, l7, e0, e1] = regs;
  const f = new Set<Feature>();
  const bit = (v: number | undefined, b: number) => v !== undefined && ((v >>> b) & 1) === 1;
  const maxLeaf = l0?.eax ?? 0;
  const maxExt = e0?.eax ?? 0;
  if (maxLeaf >= 1 && l1) {
    if (bit(l1.edx, 0)) f.add('fpu');
    if (bit(l1.edx, 8)) f.add('cx8');
    if (bit(l1.edx, 19)) f.add('clflush');
    if (bit(l1.edx, 23)) f.add('mmx');
    if (bit(l1.edx, 24)) f.add('fxsr');
    if (bit(l1.edx, 15)) f.add('cmov');
    if (bit(l1.edx, 26)) f.add('sse2');
    if (bit(l1.ecx, 0)) f.add('sse3');
    if (bit(l1.ecx, 9)) f.add('ssse3');
    if (bit(l1.ecx, 13)) f.add('cx16');
    if (bit(l1.ecx, 19)) f.add('sse41');
    if (bit(l1.ecx, 20)) f.add('sse42');
    if (bit(l1.ecx, 22)) f.add('movbe');
    if (bit(l1.ecx, 23)) f.add('popcnt');
  }
  if (maxLeaf >= 7 && l7) {
    if (bit(l7.ebx, 3)) f.add('bmi1');
    if (bit(l7.ebx, 8)) f.add('bmi2');
    if (bit(l7.ebx, 19)) f.add('adx');
  }
  if (maxExt >= 0x8000_0001 && e1) {
    if (bit(e1.ecx, 0)) f.add('lahf64');
    if (bit(e1.ecx, 5)) f.add('lzcnt');
    if (bit(e1.edx, 27)) f.add('rdtscp');
  }
  return f;
}
