// The JavaScript side of tier 3: compiles a translated block (translate.ts) into a
// WebAssembly.Module (here, or in the machine's compile worker: compile-service.ts), instantiates it against this core's
// memory and helper table (the slow paths: slow-paths.ts) and wraps it as a CompiledBlock for the run loop.
//
// Per call: the glue enters the core's chain dispatcher (chain.ts) at this block with the
// budget, the core's scratch offset and its current TLB tables; the dispatcher may run further
// translated blocks before it returns. The glue then takes the exit RIP and, when a block wrote
// one, the lazy-flag record from the scratch area. At a fault, the translated code has already
// stored the registers, the record and the faulting instruction's index before calling out.

import type { Cpu } from '../cpu.js';
import { S_FAULT_DONE, S_FAULT_INDEX, S_STATS, S_TLB, TLB_TABLE_BYTES, WASM_PAGE } from '../../abi/core-scratch.js';
import { chainOf } from './chain.js';
import { translateAndCompile, type CompiledTranslation } from './translate-compile.js';
import { expectTranslation, joinTranslation, madeTranslation, settleTranslation, translationKey } from './thread-translations.js';
import type { Insn } from '../insn.js';
import type { CompileClient } from './compile-client.js';



/**
 * PARALLAX_JIT_THREAD_SHARE=0: every core asks for (or translates) its blocks itself, as before
 * translations were shared between the cores of a thread (thread-translations.ts); measurements.
 */
const SHARE_IN_THREAD = process.env.PARALLAX_JIT_THREAD_SHARE !== '0';

/** translation statistics of this thread (tests and bench/wasm-blocks; --stats reads the per-core copy in scratch) */
export const wasmStats = { translated: 0, declined: 0, translateMs: 0, compileMs: 0, bytes: 0, lastDecline: '', reasons: new Map<string, number>(),
  /** through the compile service: modules another core had asked for; replies that failed */
  shared: 0, serviceErrors: 0 };

type RunFn = (lim: number, scratch: number, tlb: number) => number;

export interface CodePagesRef { page: number; gen: number; page2: number; gen2: number }

/** the core's tier-3 counters in its scratch area, where --stats on the main thread reads them */
export function coreWasmStats(cpu: Cpu): Float64Array {
  return new Float64Array(cpu.shared.ram, cpu.scratch + S_STATS, 4);
}

/** Count a translation's outcome on this thread (and, with `coreMs`, on the core's --stats counters). */
export function countTranslation(cpu: Cpu, r: CompiledTranslation, coreMs: number): void {
  const stats = coreWasmStats(cpu);
  stats[2] += coreMs;
  wasmStats.translateMs += r.translateMs;
  if ('declined' in r) {
    stats[1]++;
    wasmStats.declined++;
    wasmStats.lastDecline = r.declined;
    const key = r.declined.replace(/ at [0-9a-f]+$/, '').replace(/instruction \d+/, 'instruction');
    wasmStats.reasons.set(key, (wasmStats.reasons.get(key) ?? 0) + 1);
    return;
  }
  wasmStats.compileMs += r.compileMs;
  stats[0]++; stats[3] += r.bytes;
  wasmStats.translated++;
  wasmStats.bytes += r.bytes;
}

/** the wasm memory's size in pages, or -1 when this machine has no tier 3 */
export function wasmMemoryPages(cpu: Cpu): number {
  const memory = cpu.shared.wasmMemory;
  if (!memory || cpu.scratch < 0) return -1;
  return memory.buffer.byteLength / WASM_PAGE;
}

/**
 * A tier-3 function for the (super)block `ops`/`roles`, translated and compiled here, on the
 * core's own thread (offered to the compile service's cache when `offerTo` is given), or null when the translator declines it (the caller then uses tier 2) or
 * the machine has no wasm memory.
 */
export function compileWasm(ops: Insn[], roles: number[], mode: number, pages: CodePagesRef, cpu: Cpu,
  /** the machine's compile service, to offer the translation to its cache */
  offerTo: CompileClient | null = null): WasmBlock | null {
  const memPages = wasmMemoryPages(cpu);
  if (memPages < 0) return null;
  const key = SHARE_IN_THREAD ? translationKey(ops, roles, mode, memPages, pages, cpu.ram) : null;
  const had = key === null ? null : madeTranslation(key);
  let r: CompiledTranslation;
  if (had !== null) {
    r = had;
    countTranslation(cpu, r, 0);
  } else {
    r = translateAndCompile(ops, roles, mode, memPages);
    if (key !== null) settleTranslation(key, r);
    offerTo?.offer(ops, roles, mode, memPages, r);
    countTranslation(cpu, r, r.translateMs + ('declined' in r ? 0 : r.compileMs));
  }
  return 'declined' in r ? null : instantiate(r.module, r.rips, pages, cpu);
}

/**
 * Tier 3 through the machine's compile service (compile-client.ts): the compile worker
 * translates and compiles, or hands over the module another core asked for; `done` gets this
 * core's instance, or null when the translator declined the block. If the worker fails, the
 * block is translated here instead. Returns false when this machine has no tier 3.
 */
export function requestWasm(ops: Insn[], roles: number[], mode: number, pages: CodePagesRef, cpu: Cpu,
  client: CompileClient, done: (w: WasmBlock | null) => void): boolean {
  const memPages = wasmMemoryPages(cpu);
  if (memPages < 0) return false;
  let inReply = 0;
  const t0 = performance.now();
  const key = SHARE_IN_THREAD ? translationKey(ops, roles, mode, memPages, pages, cpu.ram) : null;
  if (key !== null) {
    // another core of this thread has it, or has asked for it: no request of this core's own
    const had = madeTranslation(key);
    const take = (r: CompiledTranslation | null): void => {
      const t1 = performance.now();
      if (r === null) done(compileWasm(ops, roles, mode, pages, cpu)); // that request failed
      else {
        countTranslation(cpu, r, 0);
        done('declined' in r ? null : instantiate(r.module, r.rips, pages, cpu));
      }
      coreWasmStats(cpu)[2] += performance.now() - t1;
    };
    if (had !== null) { take(had); return true; }
    if (joinTranslation(key, take)) return true;
    expectTranslation(key);
  }
  client.request(ops, roles, mode, memPages, (r) => {
    const t1 = performance.now();
    if (key !== null) settleTranslation(key, 'error' in r ? null : r);
    if ('error' in r) {
      wasmStats.serviceErrors++;
      done(compileWasm(ops, roles, mode, pages, cpu));
    } else if ('declined' in r) {
      countTranslation(cpu, r, 0);
      done(null);
    } else {
      const w = instantiate(r.module, r.rips, pages, cpu);
      countTranslation(cpu, r, 0);
      if (r.shared) wasmStats.shared++;
      done(w);
    }
    const ms = performance.now() - t1;
    inReply += ms;
    coreWasmStats(cpu)[2] += ms;
  });
  coreWasmStats(cpu)[2] += performance.now() - t0 - inReply;
  return true;
}

/** a translated block ready for the run loop: its glue and its index in the core's chain table */
export interface WasmBlock { fn: (cpu: Cpu, left: number) => number; chainIndex: number }

/** Instantiate a compiled translation against this core's memory and helper table (instances are per core). */
export function instantiate(module: WebAssembly.Module, rips: number[], pages: CodePagesRef, cpu: Cpu): WasmBlock {
  const chain = chainOf(cpu);
  const sc = cpu.scratch;
  const s32 = chain.s32;
  const imports = { m: { mem: cpu.shared.wasmMemory, tab: chain.helperTable } };
  const run = new WebAssembly.Instance(module, imports).exports.run as RunFn;
  const chainIndex = chain.register(run, rips, pages);
  const tlbBase = sc + S_TLB;
  const go = chain.go;
  const fn = (c: Cpu, left: number): number => {
    const lim = Math.max(-1, Math.min(left, c.clockCheckAt - c.retired, 0x3fffffff));
    const epoch = chain.enter();
    let done: number;
    try {
      done = go(chainIndex, lim, sc, tlbBase + c.userSet * 3 * TLB_TABLE_BYTES, epoch);
    } catch (x) {
      chain.registersOut();
      c.faultIndex = chain.faultDone() + s32[S_FAULT_DONE >> 2];
      c.rip = chain.faultRips()[s32[S_FAULT_INDEX >> 2]];
      chain.copyRecord();
      throw x;
    }
    c.rip = chain.exitRip();
    chain.copyRecord();
    return done;
  };
  return { fn, chainIndex };
}
