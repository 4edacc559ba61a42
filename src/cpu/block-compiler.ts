// Turns a hot block into one generated JavaScript function. Three tiers above the interpreter:
//   tier 1: the function calls each instruction's routine directly (monomorphic call sites
//           instead of the dispatch loop's megamorphic `ins.exec(cpu, ins)`);
//   tier 2: templates (src/cpu/jit/) emit specialised code for the common integer forms, with
//           flag liveness and compare-and-branch fusion; other instructions call their routine.
//   tier 3: 64-bit blocks translated to WebAssembly (src/cpu/wasm/), chained inside wasm.
// PARALLAX_JIT_TIER selects the highest tier (default 3; 2 is the fallback; 0 keeps every block interpreted).
//
// A fault inside the block records how many instructions completed in `cpu.faultIndex` before
// the FAULT propagates, so the run loop can report the faulting instruction's RIP.

import { setFlagsFromString } from 'node:v8';
import type { Block, Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { compileTemplates } from './jit/compile.js';
import { PROFILING, profiled } from './jit/profile.js';
import { extendBlock } from './jit/superblock.js';
import { compileWasm, requestWasm, type WasmBlock } from './wasm/wasm-tier.js';
import { compileClient, pollCompileClients } from './wasm/compile-client.js';

/**
 * Runs the block (`left`: the run loop's remaining budget) and returns the instructions it
 * retired: the block's length, or a multiple of it when a block that branches to itself
 * iterated inside the function. On a fault, cpu.faultIndex = instructions completed and
 * cpu.rip = the faulting instruction (a superblock's instructions are not the block's ops).
 */
export type CompiledBlock = (cpu: Cpu, left: number) => number;

/** a non-negative integer setting from the environment; anything else means the default */
function setting(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0) {
    process.emitWarning(`${name}=${raw} is not a non-negative integer; using ${dflt}`);
    return dflt;
  }
  return v;
}

/** Executions of a block before it is compiled (0: compile before its first execution). */
export const COMPILE_THRESHOLD = setting('PARALLAX_JIT_THRESHOLD', 8);
/**
 * 0: interpreter only, 1: direct calls, 2: templates, 3 (default): WebAssembly where the
 * translator covers a 64-bit block (src/cpu/wasm/), else 2. PARALLAX_JIT_TIER=2 is the fallback.
 */
export const JIT_TIER = setting('PARALLAX_JIT_TIER', 3);

// V8 compiles wasm with its baseline compiler (Liftoff) first and optimises later, but has no
// on-stack replacement for wasm: a long loop entered in Liftoff code stays there. Translated
// blocks are few and hot, so they go straight to the optimising compiler (V8 flags are
// process-wide; PARALLAX_WASM_LIFTOFF=1 keeps V8's default, for measurements).
if (JIT_TIER >= 3 && process.env.PARALLAX_WASM_LIFTOFF !== '1') setFlagsFromString('--no-liftoff');
/**
 * PARALLAX_JIT_ASYNC=0: tier 3 translates and compiles on the core's own thread, as before the
 * compile service (src/machine/compile-service.ts); the default hands hot blocks to the
 * machine's compile worker where there is one (measurements compare the two).
 */
export const ASYNC_COMPILE = process.env.PARALLAX_JIT_ASYNC !== '0';
/** PARALLAX_JIT_SUPERBLOCKS=0: compile each block alone (no extension past branches) */
const SUPERBLOCKS = process.env.PARALLAX_JIT_SUPERBLOCKS !== '0';
/** throw instead of falling back to tier 1 when tier 2 fails on a block (tests) */
const STRICT = process.env.PARALLAX_JIT_STRICT === '1';

/**
 * Tier 3 translates a block once it has run this many more times after reaching
 * PARALLAX_JIT_THRESHOLD; PARALLAX_JIT_WASM_THRESHOLD, default 64, and 0 whenever
 * PARALLAX_JIT_THRESHOLD=0 (the tests force every block through at once).
 */
const WASM_THRESHOLD = COMPILE_THRESHOLD === 0 ? 0 : setting('PARALLAX_JIT_WASM_THRESHOLD', 64);

/**
 * After a start from a snapshot every core of the machine resumes at once into code its fresh
 * worker has never run, and on a host with few CPUs the translations it would ask for (V8's
 * optimising wasm compiler runs on the same CPUs) compete with the guest's own first steps
 * (the 64-core start measured in docs/ARCHITECTURE.md). For PARALLAX_JIT_RESTORE_HOLD_MS
 * (default 400) after a restore, a block that reaches the threshold keeps running its routines
 * and asks again WASM_THRESHOLD runs later. Never under -icount (the restoring core does not
 * set it there).
 */
const RESTORE_HOLD_MS = setting('PARALLAX_JIT_RESTORE_HOLD_MS', 400);
let heldUntil = 0;

/** A core of this thread was restored from a snapshot: hold tier 3's translations for a while. */
export function holdTranslationsAfterRestore(): void {
  heldUntil = performance.now() + RESTORE_HOLD_MS;
}

/**
 * Tier 3's warm-up: the block keeps running its routines one by one (no tier-2 code: V8's
 * parse and optimisation of a block function cost more than the translation it would precede)
 * until it has run WASM_THRESHOLD times, then its translation replaces it; tier 2 is compiled
 * only for a block the translator declines.
 */
function warmUp(block: Block, translate: () => ReturnType<typeof compileWasm>, tier2: () => CompiledBlock,
  request: ((done: (w: WasmBlock | null) => void) => boolean) | null): CompiledBlock {
  const ops = block.ops, n = ops.length;
  let runs = 0;
  /** asked the compile service; its reply installs the block's function */
  let asked = false;
  const install = (w: WasmBlock | null): void => {
    if (w) block.chainIndex = w.chainIndex;
    block.fn = w ? w.fn : tier2();
  };
  return (cpu) => {
    if (asked) pollCompileClients();
    else if (++runs === WASM_THRESHOLD && heldUntil !== 0 && performance.now() < heldUntil) runs = 0;
    else if (runs === WASM_THRESHOLD) {
      try {
        if (request !== null) asked = request((w) => guarded(block, () => install(w), tier2));
      } catch (err) {
        if (STRICT) throw err; // the request could not be posted: translate here
      }
      // at a start the worker catches up: ask again after as many runs rather than translate here
      if (!asked && request !== null && deferring(cpu)) runs = 0;
      else if (!asked) guarded(block, () => install(translate()), tier2);
    }
    let k = 0;
    try {
      for (; k < n; k++) { const ins = ops[k]; ins.exec(cpu, ins); }
    } catch (x) {
      cpu.faultIndex = k;
      cpu.rip = ops[k].rip;
      throw x;
    }
    return n;
  };
}

/** the core's compile client is full and still in its start window (compile-client.ts) */
function deferring(cpu: Cpu): boolean {
  return compileClient(cpu.coreIndex)?.deferring ?? false;
}

/** Run `install`; a translator bug gives the block tier 2 (counted) unless PARALLAX_JIT_STRICT=1. */
function guarded(block: Block, install: () => void, tier2: () => CompiledBlock): void {
  try {
    install();
  } catch (err) {
    if (STRICT) throw err;
    jitStats.tier2Failures++; // a translator bug: the block gets tier 2
    jitStats.lastFailure = `tier 3 at ${block.rip.toString(16)}: ${err instanceof Error ? err.message : String(err)}`;
    block.fn = tier2();
  }
}

/** blocks that tier 2 could not compile (a bug: they ran on tier 1 instead) */
export const jitStats = { tier2Failures: 0, lastFailure: '' };

/**
 * Superblocks by the decoded instructions they extend: cores of one thread that share a block's
 * instructions (thread-blocks.ts) share its extension too; it reads the rest of the same code
 * page, whose generation the shared instructions were decoded at.
 */
const superblocks = new WeakMap<Insn[], ReturnType<typeof extendBlock>>();

function superblockOf(block: Block, cpu: Cpu): ReturnType<typeof extendBlock> {
  if (!SUPERBLOCKS) return { ops: block.ops, roles: [] };
  let sb = superblocks.get(block.ops);
  if (sb === undefined) {
    sb = extendBlock(block.ops, block.mode, cpu.ram, block.physPage * 4096, block.physPage2 >= 0);
    superblocks.set(block.ops, sb);
  }
  return sb;
}

export function compileBlock(block: Block, cpu: Cpu): CompiledBlock {
  const ops = block.ops, mode = block.mode;
  if (JIT_TIER >= 2) {
    try {
      const pages = { page: block.physPage, gen: block.gen, page2: block.physPage2, gen2: block.gen2 };
      if (JIT_TIER >= 3 && !PROFILING && WASM_THRESHOLD === 0) {
        const sb = superblockOf(block, cpu);
        const w = compileWasm(sb.ops, sb.roles, mode, pages, cpu);
        if (w !== null) { block.chainIndex = w.chainIndex; return w.fn; }
      }
      if (JIT_TIER >= 3 && !PROFILING && mode === 2 && cpu.scratch >= 0) {
        const client = ASYNC_COMPILE ? compileClient(cpu.coreIndex) : null;
        // the block's extension is worked out when its translation is asked for, not before:
        // most blocks never run WASM_THRESHOLD times (boot, a restore's first steps)
        let ext: ReturnType<typeof extendBlock> | null = null;
        const sbOf = (): ReturnType<typeof extendBlock> => (ext ??= superblockOf(block, cpu));
        // the compile worker is behind: translate here (and offer the result to its cache)
        const request = client === null ? null
          : (done: (w: WasmBlock | null) => void): boolean => { const sb = sbOf(); return !client.full && requestWasm(sb.ops, sb.roles, mode, pages, cpu, client, done); };
        return warmUp(block, () => { const sb = sbOf(); return compileWasm(sb.ops, sb.roles, mode, pages, cpu, client); }, () => {
          const sb = sbOf();
          try {
            return compileTemplates(sb.ops, mode, pages, sb.roles);
          } catch (err) {
            if (STRICT) throw err;
            jitStats.tier2Failures++;
            jitStats.lastFailure = `${ops[0].rip.toString(16)}: ${err instanceof Error ? err.message : String(err)}`;
            return compileDirectCalls(ops);
          }
        }, request);
      }
      const sb = superblockOf(block, cpu);
      const fn = compileTemplates(sb.ops, mode, pages, sb.roles);
      return PROFILING ? profiled(sb.ops, mode, fn, pages, sb.roles) : fn;
    } catch (err) {
      if (STRICT) throw err;
      jitStats.tier2Failures++;
      jitStats.lastFailure = `${ops[0].rip.toString(16)}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return compileDirectCalls(ops);
}

/** tier 1 */
export function compileDirectCalls(ops: Insn[]): CompiledBlock {
  const params: string[] = ['RIP'];
  const args: unknown[] = [ops.map((o) => o.rip)];
  let body = '';
  for (let k = 0; k < ops.length; k++) {
    params.push(`e${k}`, `i${k}`);
    args.push(ops[k].exec, ops[k]);
    body += k === 0 ? `e0(cpu, i0);\n` : `k = ${k}; e${k}(cpu, i${k});\n`;
  }
  const src = `return function block(cpu) {\n let k = 0;\n try {\n${body} } catch (x) { cpu.faultIndex = k; cpu.rip = RIP[k]; throw x; }\n return ${ops.length};\n};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function(...params, src) as (...a: unknown[]) => CompiledBlock;
  return factory(...args);
}
