// Turns a hot block into one generated JavaScript function that calls each instruction's
// routine directly. Each generated function has its own feedback, so every call site in it is
// monomorphic and V8 can inline the routines — the dispatch loop's megamorphic
// `ins.exec(cpu, ins)` disappears. This is the first tier of the block compiler; routines that
// can also emit specialised source (templates) replace their call in a later tier.
//
// A fault inside the block records how many instructions completed in `cpu.faultIndex` before
// the FAULT propagates, so the run loop can report the faulting instruction's RIP.

import type { Cpu } from './cpu.js';
import type { Insn } from './insn.js';

export type CompiledBlock = (cpu: Cpu) => void;

/** Executions of a block before it is compiled. */
export const COMPILE_THRESHOLD = Number(process.env.PARALLAX_JIT_THRESHOLD ?? 8);

export function compileBlock(ops: Insn[]): CompiledBlock {
  const params: string[] = [];
  const args: unknown[] = [];
  let body = '';
  for (let k = 0; k < ops.length; k++) {
    params.push(`e${k}`, `i${k}`);
    args.push(ops[k].exec, ops[k]);
    body += k === 0 ? `e0(cpu, i0);\n` : `k = ${k}; e${k}(cpu, i${k});\n`;
  }
  const src = `return function block(cpu) {\n let k = 0;\n try {\n${body} } catch (x) { cpu.faultIndex = k; throw x; }\n};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function(...params, src) as (...a: unknown[]) => CompiledBlock;
  return factory(...args);
}
