// Where tier 3 is left: instructions retired in blocks that have no translated function,
// keyed by the form of their first instruction (the one the translator stops at) — the
// measurement that says which instruction forms are worth translating next. Off unless
// PARALLAX_TIER3_PROFILE names a file; each worker appends its table there at exit.

import { writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import type { Insn } from '../insn.js';
import { FS, GS } from '../regs.js';
import { translatedLength } from './translate.js';

const OUT = process.env.PARALLAX_TIER3_PROFILE ?? '';
export const DECLINE_PROFILE = OUT !== '';

const counts = new Map<string, number>();
const keys = new WeakMap<Insn[], string>();
let inside = 0, outside = 0;

/** the form of instruction `ins`: mnemonic, opcode, the prefixes and operand kinds that decide coverage */
export function formOf(ins: Insn, mode: number): string {
  const parts = [ins.name || '?', (ins.opcode >> 8 ? '0f ' : '') + (ins.opcode & 0xff).toString(16).padStart(2, '0')];
  if (ins.modrm >= 0) parts.push(`/${ins.reg & 7}`);
  if (mode !== 2) parts.push(`mode${mode}`);
  if (ins.lock) parts.push('lock');
  if (ins.rep) parts.push('rep');
  if (ins.hasMem) parts.push(ins.seg === FS ? 'fs:mem' : ins.seg === GS ? 'gs:mem' : 'mem');
  parts.push(`o${ins.osize}`);
  return parts.join(' ');
}

/** count `n` instructions retired by a block (translated or not) */
export function noteRetired(ops: Insn[], mode: number, translated: boolean, n: number): void {
  if ((inside + outside) >>> 22 !== (inside + outside + n) >>> 22) dump();
  if (translated) { inside += n; return; }
  outside += n;
  let k = keys.get(ops);
  if (k === undefined) {
    const stop = mode === 2 ? translatedLength(ops, []) : 0;
    k = stop < ops.length ? formOf(ops[stop], mode) + (stop ? ' (after a translatable start)' : '') : '(whole block declined: flags/control/warm-up)';
    keys.set(ops, k);
  }
  counts.set(k, (counts.get(k) ?? 0) + n);
}

/** the table so far, one file per thread (a terminated worker runs no exit handler) */
function dump(): void {
  const rows = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([k, v]) => `  ${v}\t${k}`);
  writeFileSync(`${OUT}.${process.pid}.${threadId}`, `inside tier 3 ${inside}, outside ${outside}\n${rows.join('\n')}\n`);
}
if (DECLINE_PROFILE) process.on('exit', dump);
