// Translate a (super)block and compile it to a WebAssembly.Module: what tier 3 does per block,
// on the core's thread (wasm-tier.ts) or in the machine's compile worker (compile-worker.ts).
// Kept apart from the per-core glue so the compile worker loads only the translator.

import type { Insn } from '../insn.js';
import { translateBlock } from './translate.js';

/** A translation compiled to a module (or why the translator declined), with what it cost. */
export type CompiledTranslation =
  | { module: WebAssembly.Module; rips: number[]; bytes: number; translateMs: number; compileMs: number }
  | { declined: string; translateMs: number };

/**
 * A pure function of the instructions' decoded fields, roles, mode and memory size, so its
 * result may be shared by every core that decoded the same instructions.
 */
export function translateAndCompile(ops: Insn[], roles: number[], mode: number, memPages: number): CompiledTranslation {
  const t0 = performance.now();
  const tr = translateBlock(ops, roles, mode, memPages);
  const t1 = performance.now();
  if ('declined' in tr) return { declined: tr.declined, translateMs: t1 - t0 };
  const module = new WebAssembly.Module(tr.bytes);
  return { module, rips: tr.rips, bytes: tr.bytes.length, translateMs: t1 - t0, compileMs: performance.now() - t1 };
}
