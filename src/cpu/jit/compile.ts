// Tier 2 of the block compiler: one block of decoded instructions becomes the source of one
// JavaScript function in which every templated instruction is specialised code (register
// numbers, sizes, displacements, immediates, branch targets as constants) and every other
// instruction calls its routine. Flags are recorded only where live (flag-analysis.ts) and
// conditions read the operands of the instruction that set them (flag-source.ts).
//
// A block that branches back to its start iterates inside the function (self-loop), and a
// superblock (superblock.ts) adds side exits and followed jumps; the function returns the
// instructions it retired.
//
// Fault protocol: `k` holds the index of the instruction that may throw next; the catch
// handler sets cpu.faultIndex (instructions completed) and cpu.rip (the faulting
// instruction), stores the cached registers written since they were last stored, writes the
// lazy-flag record that the faulting point must expose if liveness skipped it, and rethrows.

import type { Cpu } from '../cpu.js';
import type { Insn } from '../insn.js';
import { selectForm, type PrefixRule } from '../optable.js';
import { C_PENDING, G_CODE_GEN, P_INIT, P_NMI, P_SIPI, P_SMI, P_STOP } from '../../abi/control-block.js';
import { IF } from '../regs.js';
import { Emitter, num } from './emitter.js';
import { analyseFlags } from './flag-analysis.js';
import { PARITY } from './runtime.js';
import { ROLE_EXIT, ROLE_FOLLOW, ROLE_PLAIN } from './superblock-roles.js';
import { MODE_64, type TemplateFamily, type TemplateSpec } from './template.js';
import { aluFamily } from './templates/alu.js';
import { movesFamily } from './templates/moves.js';
import { shiftMulFamily } from './templates/shift-mul.js';
import { stackBranchFamily } from './templates/stack-branch.js';

/** see CompiledBlock in block-compiler.ts */
export type BlockFunction = (cpu: Cpu, left: number) => number;

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

/** specs already worked out (an instruction belongs to one code mode; superblocks ask twice) */
const specCache = new WeakMap<Insn, TemplateSpec | null>();

export function templateFor(ins: Insn, mode: number): TemplateSpec | null {
  const known = specCache.get(ins);
  if (known !== undefined) return known;
  let found: TemplateSpec | null = null;
  if (validForm(ins, mode)) {
    for (const family of FAMILIES) {
      found = family(ins, mode);
      if (found !== null) break;
    }
  }
  specCache.set(ins, found);
  return found;
}

/** Generated source and factory inputs of a block (exposed for tests and diagnostics). */
export interface BlockSource {
  params: string[];
  values: unknown[];
  source: string;
  /** instructions that call their routine */
  fallbacks: number;
}

/** Where the block's code lives, for a self-looping block's per-iteration validity check. */
export interface CodePages { page: number; gen: number; page2: number; gen2: number }

/** pending bits that stop a loop whatever IF says (Cpu.run's NON_MASKABLE) */
const NON_MASKABLE = P_STOP | P_INIT | P_SIPI | P_NMI | P_SMI;

/**
 * A block whose last instruction branches back to its first, made only of templates (so
 * nothing in it can change mode, paging or the event state): it iterates inside the
 * function while the run loop would have done nothing but look the same block up again.
 */
function selfLoops(ops: Insn[], specs: (TemplateSpec | null)[], mode: number, pages: CodePages | null): boolean {
  if (pages === null || mode !== MODE_64 || specs.some((sp) => sp === null)) return false;
  const last = ops[ops.length - 1];
  const opc = last.opcode;
  const relBranch = (opc >= 0x70 && opc <= 0x7f) || (opc >= 0x180 && opc <= 0x18f) || opc === 0xeb || opc === 0xe9;
  return relBranch && last.target === ops[0].rip;
}

/**
 * Source of one block, or of a superblock (`roles` from superblock.ts: side exits and
 * followed jumps). `pages` (the block's code pages) enables the self-loop form.
 */
export function generateBlock(ops: Insn[], mode: number, pages: CodePages | null = null, roles: number[] = []): BlockSource {
  const specs = ops.map((ins, i) => (roles[i] === ROLE_FOLLOW ? FOLLOW_SPEC : templateFor(ins, mode)));
  // where a segment of a superblock starts, its code is checked for writes made since entry
  const segmentStart = ops.map((_, i) => i > 0 && pages !== null && roles[i - 1] !== undefined && roles[i - 1] !== ROLE_PLAIN);
  const exposed = ops.map((_, i) => roles[i] === ROLE_EXIT || segmentStart[i]);
  const n = ops.length;
  const loop = selfLoops(ops, specs, mode, pages);
  let analysis = analyseFlags(specs, exposed);
  // A self-looping block whose flags are all rewritten before being read each iteration
  // need not record them at the end of every iteration: its exits write the record instead
  // (and a fault or exit before this iteration's first writer writes the last iteration's).
  let deferred = -1;
  if (loop) {
    const d = analyseFlags(specs, exposed, true);
    if (!d.readsLazily && d.endWriter >= 0 && !d.plans[d.endWriter].record) { analysis = d; deferred = d.endWriter; }
  }
  const plans = analysis.plans;
  const e = new Emitter(mode, plans);
  e.constant('PAR', PARITY);
  /** at an exposure point i (fault, exit): the previous iteration's deferred record, if nothing was written since */
  const previousRecord = (i: number, inBody = true): string => {
    if (deferred < 0 || Math.max(...plans[i].inProd) >= 0) return '';
    return `if (done > 0) { ${inBody ? e.recordLater(deferred) : e.recordOf(deferred)} }`;
  };
  // the final segment of an extended block: its fall-through RIP is not the run loop's endRip
  let lastSegment = 0;
  roles.forEach((r, i) => { if (r !== ROLE_PLAIN && i < n - 1) lastSegment = i + 1; });
  let fallbacks = 0;
  if (loop) e.forgetFaultPoint();
  for (let i = 0; i < n; i++) {
    const spec = specs[i];
    e.line(`// ${i}: ${ops[i].name}`);
    if (segmentStart[i]) {
      // the interpreter would re-check the code here (a block boundary): stop if it was written
      const w = plans[i].fixupWriter;
      const p2 = pages!.page2 >= 0 ? ` || cg[${pages!.page2}] !== ${pages!.gen2}` : '';
      e.raw(`if (cg[${pages!.page}] !== ${pages!.gen}${p2}) { ${e.exitStores(loop)} ${w >= 0 ? e.recordOf(w) : previousRecord(i)} ` +
        `cpu.rip = ${num(ops[i].rip)}; return done + ${i}; }`);
    }
    if (i === lastSegment && i > 0) e.line(`cpu.rip = ${num(ops[n - 1].nextRip)};`);
    if (loop && i === n - 1) {
      emitLoopBack(e, ops[i], i, n, pages!, deferred >= 0 ? e.recordLater(deferred) : '');
    } else if (roles[i] === ROLE_EXIT) {
      const w = plans[i].fixupWriter;
      e.raw(`if (${e.cond(i, ops[i].opcode & 15)}) { ${e.exitStores(loop)} ${w >= 0 ? e.recordOf(w) : previousRecord(i)} ` +
        `cpu.rip = ${num(ops[i].target)}; return done + ${i + 1}; }`);
    } else if (spec !== null) {
      spec.emit(e, ops[i], i);
    } else {
      fallbacks++;
      e.callRoutine(i, e.constant(`e${i}`, ops[i].exec), e.constant(`i${i}`, ops[i]));
    }
  }
  if (!loop) e.storeUnsaved();
  // catch handler, per faulting instruction k: the registers written since they were last
  // stored, and the flag record that liveness skipped but a fault at k must expose
  const perK = new Map<string, number[]>();
  for (const k of e.faultPoints()) {
    const w = plans[k].fixupWriter;
    const code = `${loop ? '' : e.unsavedStores(k)} ${w >= 0 ? e.recordOf(w) : previousRecord(k, false)}`.trim();
    if (code) perK.set(code, [...(perK.get(code) ?? []), k]);
  }
  let cases = '';
  for (const [code, list] of perK) cases += `${list.map((k) => `case ${k}:`).join(' ')} ${code} break;\n`;
  const handler = (loop ? `${e.storeAllWritten()}\n` : '') + (cases ? `switch (k) {\n${cases}}\n` : '');
  const rips = e.constant('RIP', ops.map((o) => o.rip));
  const cgDecl = !loop && segmentStart.some((x) => x) ? 'const cg = cpu.shared.codeGen;' : '';
  const loopHead = loop
    ? `const ctl = cpu.shared.ctl, cg = cpu.shared.codeGen, pend = cpu.ctlBase + ${C_PENDING}, cg0 = ctl[${G_CODE_GEN}];
const lim = Math.min(left, cpu.clockCheckAt - cpu.retired);
let p = 0;
for (;;) {`
    : '';
  const source = `return function block(cpu, left) {
const lo = cpu.lo, hi = cpu.hi, sb = cpu.segBase;
let k = 0, done = 0;
${e.declarations()}
${cgDecl}
try {
${loopHead}
${e.body()}
${loop ? `}\n${e.storeAllWritten()}` : ''}
} catch (x) {
cpu.faultIndex = done + k;
cpu.rip = ${rips}[k];
${handler}throw x;
}
return ${loop ? 'done' : n};
};`;
  return { params: e.params(), values: e.values(), source, fallbacks };
}

/** a followed jump: retires, emits nothing */
const FOLLOW_SPEC: TemplateSpec = { writes: 0, cc: -1, mayFault: false, emit: () => { /* the next instruction is its target */ } };

/**
 * The back edge of a self-looping block: count the iteration, and go round again unless the
 * run loop has something to do (budget or local-timer check reached, an event it would take,
 * an event check requested, an exit requested, the code or any code page changed).
 */
function emitLoopBack(e: Emitter, ins: Insn, i: number, n: number, pages: CodePages, finalRecord: string): void {
  const page2 = pages.page2 >= 0 ? ` && cg[${pages.page2}] === ${pages.gen2}` : '';
  const again = `done + ${n} <= lim && ((p = ctl[pend]) === 0 || ((p & ${NON_MASKABLE}) === 0 && (cpu.flags & ${IF}) === 0)) && ` +
    `!cpu.eventCheck && cpu.exitReason === 0 && cg[${pages.page}] === ${pages.gen}${page2} && ctl[${G_CODE_GEN}] === cg0`;
  const opc = ins.opcode;
  const conditional = opc !== 0xeb && opc !== 0xe9;
  e.line(`done += ${n};`);
  const start = num(ins.target);
  if (conditional) e.line(`if (${e.cond(i, opc & 15)}) { if (${again}) continue; cpu.rip = ${start}; }`);
  else e.line(`if (${again}) continue; cpu.rip = ${start};`);
  e.raw(`${finalRecord} break;`);
}

export function compileTemplates(ops: Insn[], mode: number, pages: CodePages | null = null, roles: number[] = []): BlockFunction {
  const g = generateBlock(ops, mode, pages, roles);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function(...g.params, g.source) as (...a: unknown[]) => BlockFunction;
  return factory(...g.values);
}
