// Flag liveness and fusion across one block.
//
// Forward pass: for each of the six flags, which instruction of the block produced its current
// value (-1: the value is in the lazy record / cpu.flags, as at block entry or after a
// fallback routine). A reader whose flags all come from templates is *fused*: it evaluates its
// condition from those templates' operand locals and needs nothing recorded.
//
// Backward pass: `lazy` is the set of flags that must be exact in the lazy record at a point.
// At the block end all are (the next block may read them); a fallback routine reads all; a
// non-fused reader adds what it reads. A template writer records its flags only if one of
// them is in `lazy` after it.
//
// Faults: a fault exposes every flag (the exception frame holds RFLAGS). For each template
// that may fault, the last writer before it is found; if that writer did not record, the
// block's catch handler records it (from its locals) before rethrowing.

import { ARITH_FLAGS, CF } from '../regs.js';
import { CC_READS, FLAG_BITS } from './flag-source.js';
import type { TemplateSpec } from './template.js';

export interface InsnPlan {
  spec: TemplateSpec | null;
  /** producer of each flag (FLAG_BITS order) when the instruction starts */
  inProd: Int16Array;
  /** its flag reads come from template locals */
  fused: boolean;
  /** must write the lazy-flag record */
  record: boolean;
  /** INC/DEC: compute the CF it carries (it records, or a catch handler may record it) */
  needsCarry: boolean;
  /** writer whose record the catch handler (or a side exit) must write if this instruction faults (exits), or -1 */
  fixupWriter: number;
  /** some reader, record or catch handler needs the flags this instruction writes */
  flagsUsed: boolean;
}

function bitIndex(bit: number): number {
  return FLAG_BITS.indexOf(bit);
}

function readsOf(spec: TemplateSpec): number {
  let r = spec.cc >= 0 ? CC_READS[spec.cc >> 1] : 0;
  if (spec.carryIn) r |= CF;
  return r;
}

/** The plans, and what a self-looping block needs to know to defer its final record. */
export interface FlagAnalysis {
  plans: InsnPlan[];
  /** flags that must be exact in the lazy record when the block starts */
  lazyAtStart: number;
  /** the last flag writer of the block (-1: none) */
  endWriter: number;
  /** whether a flag read anywhere takes the lazy record (not a template's locals) */
  readsLazily: boolean;
}

/**
 * `exits[i]`: instruction i is a side exit of a superblock (all flags observable when taken,
 * handled like a fault: the exit path writes the skipped record). `lazyAtEnd`: flags that
 * must be exact in the lazy record when the block ends (all, unless a self-looping block
 * writes the final record on its way out instead, `deferEnd`).
 */
export function analyseFlags(specs: (TemplateSpec | null)[], exits: boolean[] = [], deferEnd = false): FlagAnalysis {
  const n = specs.length;
  const plans: InsnPlan[] = [];
  const prod = new Int16Array(6).fill(-1);
  // forward: producers and fusion
  for (let i = 0; i < n; i++) {
    const spec = specs[i];
    const plan: InsnPlan = { spec, inProd: prod.slice(), fused: false, record: false, needsCarry: false, fixupWriter: -1, flagsUsed: false };
    plans.push(plan);
    if (spec === null || spec.maybeWrites) {
      prod.fill(-1);
      continue;
    }
    const reads = readsOf(spec);
    if (reads !== 0) {
      let fused = true;
      for (let f = 0; f < 6; f++) if ((reads & FLAG_BITS[f]) && prod[f] < 0) fused = false;
      plan.fused = fused;
    }
    for (let f = 0; f < 6; f++) if (spec.writes & FLAG_BITS[f]) prod[f] = i;
  }
  let endWriter = -1;
  for (let f = 0; f < 6; f++) endWriter = Math.max(endWriter, prod[f]);
  // backward: lazy liveness decides which writers record
  let lazy = deferEnd ? 0 : ARITH_FLAGS;
  for (let i = n - 1; i >= 0; i--) {
    const plan = plans[i];
    const spec = plan.spec;
    if (spec === null) { lazy = ARITH_FLAGS; continue; }
    if (spec.maybeWrites) { plan.record = true; lazy = ARITH_FLAGS; continue; }
    if (spec.writes !== 0 && (lazy & spec.writes) !== 0) {
      plan.record = true;
      if (spec.keepsCarry) {
        plan.needsCarry = true;
        lazy = plan.inProd[bitIndex(CF)] < 0 ? CF : 0;
      } else {
        lazy &= ~spec.writes;
      }
    } else {
      lazy &= ~spec.writes;
    }
    if (!plan.fused) lazy |= readsOf(spec);
  }
  // faults: which unrecorded writer the catch handler must record
  for (let k = 0; k < n; k++) {
    const plan = plans[k];
    if (plan.spec === null || !(plan.spec.mayFault || exits[k])) continue;
    let w = -1;
    for (let f = 0; f < 6; f++) w = Math.max(w, plan.inProd[f]);
    if (w >= 0 && !plans[w].record) {
      plan.fixupWriter = w;
      if (plans[w].spec!.keepsCarry) plans[w].needsCarry = true;
    }
  }
  // a deferred final record is written by the exits: the end writer must keep its values
  if (deferEnd && endWriter >= 0 && !plans[endWriter].record) {
    plans[endWriter].flagsUsed = true;
    if (plans[endWriter].spec!.keepsCarry) plans[endWriter].needsCarry = true;
  }
  // which writers' flag values are needed at all (else templates may skip computing CF/OF)
  for (let i = 0; i < n; i++) {
    const plan = plans[i];
    if (plan.record) plan.flagsUsed = true;
    if (plan.fixupWriter >= 0) plans[plan.fixupWriter].flagsUsed = true;
    if (plan.spec === null) continue;
    let reads = plan.fused ? readsOf(plan.spec) : 0;
    if (plan.needsCarry) reads |= CF;
    for (let f = 0; f < 6; f++) if ((reads & FLAG_BITS[f]) && plan.inProd[f] >= 0) plans[plan.inProd[f]].flagsUsed = true;
  }
  let readsLazily = false;
  for (const plan of plans) {
    if (plan.spec === null || plan.spec.maybeWrites) { readsLazily = true; continue; }
    if (readsOf(plan.spec) !== 0 && !plan.fused) readsLazily = true;
    if (plan.needsCarry && plan.inProd[bitIndex(CF)] < 0) readsLazily = true;
  }
  return { plans, lazyAtStart: lazy, endWriter, readsLazily };
}
