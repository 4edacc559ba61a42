// Development aid: PARALLAX_JIT_PROFILE=<file prefix> counts executions of every compiled
// block and periodically writes an instruction histogram (name, operand form, whether a
// template or the routine ran it), weighted by executions, to <prefix>.<thread id>.txt.
// It answers "which forms matter" and "what still falls back" on a real guest.

import { writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import type { Insn } from '../insn.js';
import { generateBlock, templateFor, type BlockFunction, type CodePages } from './compile.js';

const PREFIX = process.env.PARALLAX_JIT_PROFILE ?? '';
export const PROFILING = PREFIX !== '';

interface Entry { ops: Insn[]; mode: number; runs: number; templated: boolean[]; pages: CodePages | null; roles: number[] }
const entries: Entry[] = [];
let calls = 0;
/** instructions between dumps */
const DUMP_EVERY = 1 << 23;

function formOf(ins: Insn): string {
  const kind = ins.hasMem ? 'm' : ins.modrm >= 0 ? 'r' : '-';
  return `${ins.name}/${ins.osize * 8}${kind} ${(ins.opcode >> 8) ? '0f ' : ''}${(ins.opcode & 0xff).toString(16)}`;
}

function dump(): void {
  const counts = new Map<string, number>();
  let total = 0, fallback = 0;
  for (const e of entries) {
    e.ops.forEach((ins, k) => {
      const key = `${e.templated[k] ? 'T' : 'F'} ${formOf(ins)}`;
      counts.set(key, (counts.get(key) ?? 0) + e.runs);
      total += e.runs;
      if (!e.templated[k]) fallback += e.runs;
    });
  }
  const rows = [...counts].sort((a, b) => b[1] - a[1]);
  const lines = [`instructions in compiled blocks: ${Math.round(total)}, by routine (F): ${(100 * fallback / Math.max(1, total)).toFixed(1)}%`,
    `blocks: ${entries.length}, average length ${(total / Math.max(1, entries.reduce((s, e) => s + e.runs, 0))).toFixed(2)}`];
  for (const [k, n] of rows) lines.push(`${(100 * n / total).toFixed(2).padStart(6)}%  ${Math.round(n).toString().padStart(12)}  ${k}`);
  // the hottest blocks' generated code
  const hot = [...entries].sort((a, b) => b.runs - a.runs).slice(0, 8);
  for (const e of hot) {
    lines.push('', `---- block at ${e.ops[0].rip.toString(16)}: ${Math.round(e.runs)} runs, ${e.ops.length} instructions`);
    lines.push(generateBlock(e.ops, e.mode, e.pages, e.roles).source);
  }
  writeFileSync(`${PREFIX}.${threadId}.txt`, lines.join('\n') + '\n');
}

/** Wrap a compiled block so its executions are counted. */
export function profiled(ops: Insn[], mode: number, fn: BlockFunction, pages: CodePages | null = null, roles: number[] = []): BlockFunction {
  const entry: Entry = { ops, mode, runs: 0, templated: ops.map((ins, k) => roles[k] === 2 || templateFor(ins, mode) !== null), pages, roles };
  entries.push(entry);
  const n = ops.length;
  return (cpu, left) => {
    const done = fn(cpu, left);
    entry.runs += done / n;
    calls += done;
    if (calls >= DUMP_EVERY) { calls = 0; dump(); }
    return done;
  };
}
