// Tier 2 of the block compiler: one block of decoded instructions becomes the source of one
// JavaScript function in which every templated instruction is specialised code (register
// numbers, sizes, displacements, immediates, branch targets as constants) and every other
// instruction calls its routine. Flags are recorded only where live (flag-analysis.ts) and
// conditions read the operands of the instruction that set them (flag-source.ts).
//
// Fault protocol (as tier 1): `k` holds the index of the instruction that may throw next; the
// catch handler stores it in cpu.faultIndex, writes the lazy-flag record that the faulting
// point must expose if a dead-flags optimisation skipped it, and rethrows.

import type { Cpu } from '../cpu.js';
import type { Insn } from '../insn.js';
import { selectForm, type PrefixRule } from '../optable.js';
import { Emitter } from './emitter.js';
import { analyseFlags } from './flag-analysis.js';
import { PARITY } from './runtime.js';
import { MODE_64, type TemplateFamily, type TemplateSpec } from './template.js';
import { aluFamily } from './templates/alu.js';
import { movesFamily } from './templates/moves.js';
import { shiftMulFamily } from './templates/shift-mul.js';
import { stackBranchFamily } from './templates/stack-branch.js';

export type BlockFunction = (cpu: Cpu) => void;

const FAMILIES: TemplateFamily[] = [aluFamily, movesFamily, stackBranchFamily, shiftMulFamily];

/**
 * Whether the instruction decoded to a valid table form (not a #UD shell for an invalid
 * LOCK, a form invalid in this mode, or the decoder's too-long stand-in).
 */
function validForm(ins: Insn, mode: number): boolean {
  const mand: PrefixRule = ins.pF3 ? 'F3' : ins.pF2 ? 'F2' : ins.p66 ? '66' : 'np';
  const form = selectForm(ins.opcode >> 8, ins.opcode & 0xff, mand, ins.modrm);
  if (!form || form.name !== ins.name) return false;
  const mode64 = mode === MODE_64;
  if ((mode64 && form.inv64) || (!mode64 && form.only64)) return false;
  if (ins.lock && !(form.lockable && ins.hasMem)) return false;
  return (form.ends ?? false) === ins.ends;
}

export function templateFor(ins: Insn, mode: number): TemplateSpec | null {
  if (!validForm(ins, mode)) return null;
  for (const family of FAMILIES) {
    const spec = family(ins, mode);
    if (spec !== null) return spec;
  }
  return null;
}

/** Generated source and factory inputs of a block (exposed for tests and diagnostics). */
export interface BlockSource {
  params: string[];
  values: unknown[];
  source: string;
  /** instructions that call their routine */
  fallbacks: number;
}

export function generateBlock(ops: Insn[], mode: number): BlockSource {
  const specs = ops.map((ins) => templateFor(ins, mode));
  const plans = analyseFlags(specs);
  const e = new Emitter(mode, plans);
  e.constant('PAR', PARITY);
  let fallbacks = 0;
  for (let i = 0; i < ops.length; i++) {
    const spec = specs[i];
    e.line(`// ${i}: ${ops[i].name}`);
    if (spec !== null) {
      spec.emit(e, ops[i], i);
    } else {
      fallbacks++;
      const f = e.constant(`e${i}`, ops[i].exec), d = e.constant(`i${i}`, ops[i]);
      e.faultPoint(i);
      e.line(`${f}(cpu, ${d});`);
    }
  }
  // catch handler: records skipped by liveness that a fault at k must expose
  const byWriter = new Map<number, number[]>();
  plans.forEach((p, k) => {
    if (p.fixupWriter >= 0) byWriter.set(p.fixupWriter, [...(byWriter.get(p.fixupWriter) ?? []), k]);
  });
  let fixups = '';
  for (const [w, ks] of byWriter) fixups += `${ks.map((k) => `case ${k}:`).join(' ')} ${e.recordOf(w)} break;\n`;
  const handler = fixups ? `switch (k) {\n${fixups}}\n` : '';
  const source = `return function block(cpu) {
const lo = cpu.lo, hi = cpu.hi, sb = cpu.segBase;
let k = 0;
${e.declarations()}
try {
${e.body()}
} catch (x) {
cpu.faultIndex = k;
${handler}throw x;
}
};`;
  return { params: e.params(), values: e.values(), source, fallbacks };
}

export function compileTemplates(ops: Insn[], mode: number): BlockFunction {
  const g = generateBlock(ops, mode);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function(...g.params, g.source) as (...a: unknown[]) => BlockFunction;
  return factory(...g.values);
}

