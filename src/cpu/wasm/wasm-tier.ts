// The JavaScript side of tier 3: compiles a translated block (translate.ts) into a
// WebAssembly.Module, instantiates it against this core's imports (slow-path memory access,
// faults, loop polling, flags at entry) and wraps it as a CompiledBlock for the run loop.
//
// Per call: the glue enters the core's chain dispatcher (chain.ts) at this block with the
// budget, the core's scratch offset and its current TLB tables; the dispatcher may run further
// translated blocks before it returns. The glue then takes the exit RIP and, when a block wrote
// one, the lazy-flag record from the scratch area. At a fault, the translated code has already
// stored the registers, the record and the faulting instruction's index before calling out.

import type { Cpu } from '../cpu.js';
import { getCF, materialize, testCC } from '../flags.js';
import { rmwRead } from '../ops/integer/operands.js';
import { CF, DF, OF, SS_VEC } from '../regs.js';
import { S_FAULT_DONE, S_FAULT_INDEX, S_STATS, S_TLB, S_VHI, TLB_TABLE_BYTES, WASM_PAGE } from '../../abi/core-scratch.js';
import { chainOf } from './chain.js';
import { ACC_RMW, ACC_SS, translateBlock } from './translate.js';
import type { Insn } from '../insn.js';


const CANON = 0x800000000000;

/** translation statistics of this thread (tests and bench/wasm-blocks; --stats reads the per-core copy in scratch) */
export const wasmStats = { translated: 0, declined: 0, translateMs: 0, compileMs: 0, bytes: 0, lastDecline: '', reasons: new Map<string, number>() };

type RunFn = (lim: number, scratch: number, tlb: number) => number;

export interface CodePagesRef { page: number; gen: number; page2: number; gen2: number }

/**
 * A tier-3 function for the (super)block `ops`/`roles`, or null when the translator declines
 * it (the caller then uses tier 2) or the machine has no wasm memory.
 */
export function compileWasm(ops: Insn[], roles: number[], mode: number, pages: CodePagesRef, cpu: Cpu):
  { fn: (cpu: Cpu, left: number) => number; chainIndex: number } | null {
  const memory = cpu.shared.wasmMemory;
  if (!memory || cpu.scratch < 0) return null;
  const t0 = performance.now();
  const memPages = memory.buffer.byteLength / WASM_PAGE;
  const tr = translateBlock(ops, roles, mode, memPages);
  const t1 = performance.now();
  wasmStats.translateMs += t1 - t0;
  // the core's counters live in its scratch area, where --stats on the main thread reads them
  const stats = new Float64Array(cpu.shared.ram, cpu.scratch + S_STATS, 4);
  stats[2] += t1 - t0;
  if ('declined' in tr) {
    stats[1]++;
    wasmStats.declined++;
    wasmStats.lastDecline = tr.declined;
    const key = tr.declined.replace(/ at [0-9a-f]+$/, '').replace(/instruction \d+/, 'instruction');
    wasmStats.reasons.set(key, (wasmStats.reasons.get(key) ?? 0) + 1);
    return null;
  }
  const module = new WebAssembly.Module(tr.bytes);
  const t2 = performance.now();
  wasmStats.compileMs += t2 - t1;
  stats[0]++; stats[2] += t2 - t1; stats[3] += tr.bytes.length;
  wasmStats.translated++;
  wasmStats.bytes += tr.bytes.length;
  return instantiate(module, tr.rips, pages, cpu);
}

function instantiate(module: WebAssembly.Module, rips: number[], pages: CodePagesRef, cpu: Cpu):
  { fn: (cpu: Cpu, left: number) => number; chainIndex: number } {
  const chain = chainOf(cpu);
  const sc = cpu.scratch;
  const s32 = chain.s32;
  const cg = cpu.shared.codeGen;
  const { page, gen, page2, gen2 } = pages;
  const codeChanged = (): boolean => cg[page] !== gen || (page2 >= 0 && cg[page2] !== gen2);
  const stackCheck = (lin: number): void => { if (lin >= CANON || lin < -CANON) cpu.fault(SS_VEC, 0); };
  const imports = {
    e: {
      rd: (sf: number, lin: number): number => {
        const size = sf & 15;
        if (sf & ACC_SS) stackCheck(lin);
        const v = (sf & ACC_RMW) ? rmwRead(cpu, size, lin) : cpu.readMem(size, lin);
        if (size === 8) s32[S_VHI >> 2] = cpu.vhi;
        chain.afterAccess();
        return v;
      },
      wr: (sf: number, lin: number, lo: number, hi: number): number => {
        const size = sf & 15;
        if (sf & ACC_SS) stackCheck(lin);
        cpu.writeMem(size, lin, lo, hi);
        chain.afterAccess();
        return codeChanged() ? 1 : 0;
      },
      fault: (vector: number, code: number): void => cpu.fault(vector, code),
      poll: chain.poll,
      // flags from the state at entry: the previous block of a chain may have left its record in scratch
      cc: (cc: number): number => { chain.copyRecord(); return testCC(cpu, cc) ? 1 : 0; },
      cf: (): number => { chain.copyRecord(); return getCF(cpu) ? 1 : 0; },
      // a rotate over the flags at entry (translate.ts `rotate`): they become materialised
      co: (cf: number, of: number): void => {
        chain.copyRecord(); materialize(cpu);
        cpu.flags = (cpu.flags & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
      },
      df: (): number => ((cpu.flags & DF) !== 0 ? 1 : 0),
    },
    m: { mem: cpu.shared.wasmMemory },
  };
  const run = new WebAssembly.Instance(module, imports).exports.run as RunFn;
  const chainIndex = chain.register(run, rips);
  const tlbBase = sc + S_TLB;
  const go = chain.go;
  const fn = (c: Cpu, left: number): number => {
    const lim = Math.max(-1, Math.min(left, c.clockCheckAt - c.retired, 0x3fffffff));
    const epoch = chain.enter();
    let done: number;
    try {
      done = go(chainIndex, lim, sc, tlbBase + c.userSet * 3 * TLB_TABLE_BYTES, epoch);
    } catch (x) {
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
