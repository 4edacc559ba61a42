// The JavaScript side of tier 3: compiles a translated block (translate.ts) into a
// WebAssembly.Module, instantiates it against this core's imports (slow-path memory access,
// faults, loop polling, flags at entry) and wraps it as a CompiledBlock for the run loop.
//
// Per call: the glue passes the loop budget, the core's scratch offset and its current TLB
// tables; after the call it takes the exit RIP and, when the block wrote one, the lazy-flag
// record from the scratch area. At a fault, the translated code has already stored the
// registers, the record and the faulting instruction's index before calling out.

import { setFlagsFromString } from 'node:v8';
import type { Cpu } from '../cpu.js';
import { getCF, testCC } from '../flags.js';
import { rmwRead } from '../ops/integer/operands.js';
import { IF, SS_VEC } from '../regs.js';
import { C_PENDING, G_CODE_GEN, P_INIT, P_NMI, P_SIPI, P_SMI, P_STOP } from '../../abi/control-block.js';
import { S_EXIT_RIP, S_FAULT_DONE, S_FAULT_INDEX, S_REC, S_REC_VALID, S_STATS, S_TLB, S_VHI, TLB_TABLE_BYTES, WASM_PAGE } from '../../abi/core-scratch.js';
import { ACC_RMW, ACC_SS, translateBlock } from './translate.js';
import type { Insn } from '../insn.js';

const NON_MASKABLE = P_STOP | P_INIT | P_SIPI | P_NMI | P_SMI;

// V8 compiles wasm with its baseline compiler (Liftoff) first and optimises later, but has no
// on-stack replacement for wasm: a long loop entered in Liftoff code stays there. Translated
// blocks are few and hot, so they go straight to the optimising compiler (V8 flags are
// process-wide; PARALLAX_WASM_LIFTOFF=1 keeps V8's default, for measurements).
if (process.env.PARALLAX_JIT_TIER === '3' && process.env.PARALLAX_WASM_LIFTOFF !== '1') setFlagsFromString('--no-liftoff');
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
  ((cpu: Cpu, left: number) => number) | null {
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
  return instantiate(module, tr.rips, tr.loop, pages, cpu);
}

function instantiate(module: WebAssembly.Module, rips: number[], loop: boolean, pages: CodePagesRef, cpu: Cpu):
  (cpu: Cpu, left: number) => number {
  const sc = cpu.scratch;
  const buf = cpu.shared.ram;
  const s32 = new Int32Array(buf, sc, 64);
  const f64 = new Float64Array(buf, sc, 32);
  const ctl = cpu.shared.ctl, cg = cpu.shared.codeGen, pend = cpu.ctlBase + C_PENDING;
  const { page, gen, page2, gen2 } = pages;
  let cg0 = 0;
  const codeChanged = (): boolean => cg[page] !== gen || (page2 >= 0 && cg[page2] !== gen2);
  const stackCheck = (lin: number): void => { if (lin >= CANON || lin < -CANON) cpu.fault(SS_VEC, 0); };
  const imports = {
    e: {
      rd: (sf: number, lin: number): number => {
        const size = sf & 15;
        if (sf & ACC_SS) stackCheck(lin);
        const v = (sf & ACC_RMW) ? rmwRead(cpu, size, lin) : cpu.readMem(size, lin);
        if (size === 8) s32[S_VHI >> 2] = cpu.vhi;
        return v;
      },
      wr: (sf: number, lin: number, lo: number, hi: number): number => {
        const size = sf & 15;
        if (sf & ACC_SS) stackCheck(lin);
        cpu.writeMem(size, lin, lo, hi);
        return codeChanged() ? 1 : 0;
      },
      fault: (vector: number, code: number): void => cpu.fault(vector, code),
      poll: (): number => {
        const p = ctl[pend];
        if (p !== 0 && ((p & NON_MASKABLE) !== 0 || (cpu.flags & IF) !== 0)) return 1;
        if (cpu.eventCheck || cpu.exitReason !== 0 || codeChanged() || ctl[G_CODE_GEN] !== cg0) return 1;
        return 0;
      },
      cc: (cc: number): number => (testCC(cpu, cc) ? 1 : 0),
      cf: (): number => (getCF(cpu) ? 1 : 0),
    },
    m: { mem: cpu.shared.wasmMemory },
  };
  const run = new WebAssembly.Instance(module, imports).exports.run as RunFn;
  const tlbBase = sc + S_TLB;
  const copyRecord = (): void => {
    if (s32[S_REC_VALID >> 2] === 0) return;
    const r = S_REC >> 2;
    cpu.lfOp = s32[r]; cpu.lfSize = s32[r + 1];
    cpu.lfA = s32[r + 2]; cpu.lfAh = s32[r + 3];
    cpu.lfB = s32[r + 4]; cpu.lfBh = s32[r + 5];
    cpu.lfR = s32[r + 6]; cpu.lfRh = s32[r + 7];
    cpu.lfCarry = s32[r + 8]; cpu.lfOver = s32[r + 9]; cpu.lfAux = s32[r + 10];
  };
  return (c: Cpu, left: number): number => {
    const lim = loop ? Math.max(-1, Math.min(left, c.clockCheckAt - c.retired, 0x3fffffff)) : 0;
    s32[S_REC_VALID >> 2] = 0;
    if (loop) cg0 = ctl[G_CODE_GEN];
    let done: number;
    try {
      done = run(lim, sc, tlbBase + c.userSet * 3 * TLB_TABLE_BYTES);
    } catch (x) {
      c.faultIndex = s32[S_FAULT_DONE >> 2];
      c.rip = rips[s32[S_FAULT_INDEX >> 2]];
      copyRecord();
      throw x;
    }
    c.rip = f64[S_EXIT_RIP >> 3];
    copyRecord();
    return done;
  };
}
