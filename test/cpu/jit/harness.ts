// A machine-less core for the block-compiler tests, and the internal oracle: the same decoded
// block run by the interpreter (each routine in turn) and by its compiled function, from the
// same starting state, must end in the same architectural state (registers, RFLAGS, RIP,
// memory, and at a fault: the same vector, error code, CR2 and faulting instruction).

import { Cpu } from '../../../src/cpu/cpu.js';
import { FAULT } from '../../../src/cpu/cpu-memory.js';
import { decode } from '../../../src/cpu/decoder.js';
import { arithFlags, LF_NONE } from '../../../src/cpu/flags.js';
import type { Insn } from '../../../src/cpu/insn.js';
import { JIT_TIER } from '../../../src/cpu/block-compiler.js';
import { compileTemplates, generateBlock, type CodePages } from '../../../src/cpu/jit/compile.js';
import { compileWasm } from '../../../src/cpu/wasm/wasm-tier.js';
import { translatedLength } from '../../../src/cpu/wasm/translate.js';
import { ARITH_FLAGS } from '../../../src/cpu/regs.js';
import { makeFlatCpu, type Mode } from '../flat-core.js';

/** small, so each case can save and compare all of it; addresses above it are (empty) MMIO */
export const RAM_BYTES = 1 << 20;
export const CODE = 0x10000;
export const DATA = 0x80000;
export const DATA_BYTES = 0x10000;
export const STACK_TOP = 0x70000;


export type { Mode };

export function makeCpu(mode: Mode): Cpu {
  return makeFlatCpu(mode, RAM_BYTES);
}

/** Decode a straight run of instructions from `bytes` placed at CODE (all of them, as one block). */
export function decodeBlock(cpu: Cpu, mode: Mode, bytes: number[]): Insn[] {
  cpu.ram.fill(0, CODE, CODE + 0x1000);
  cpu.ram.set(bytes, CODE);
  const dm = { mode64: mode === 64, def32: mode === 32 };
  const ops: Insn[] = [];
  let rip = CODE;
  while (rip < CODE + bytes.length) {
    const ins = decode(rip, dm, (lin) => cpu.ram[lin], Cpu.makeUd);
    ops.push(ins);
    rip = ins.nextRip;
    if (ins.ends) break;
  }
  return ops;
}

export interface Snapshot {
  lo: number[]; hi: number[];
  rflags: number;
  rip: number;
  ram: Uint8Array;
  /** index of the faulting instruction, or -1 */
  faultAt: number;
  vector: number; code: number; cr2: number;
}

export interface InitialState {
  lo: Int32Array; hi: Int32Array; flags: number; ram: Uint8Array;
}

export function captureInitial(cpu: Cpu): InitialState {
  return {
    lo: cpu.lo.slice(), hi: cpu.hi.slice(), flags: cpu.flags, ram: cpu.ram.slice(),
  };
}

export function restoreInitial(cpu: Cpu, s: InitialState): void {
  cpu.lo.set(s.lo);
  cpu.hi.set(s.hi);
  cpu.flags = s.flags;
  cpu.lfOp = LF_NONE;
  cpu.ram.set(s.ram);
  cpu.flushTlb(false);
  cpu.faultVector = -1;
  cpu.faultCode = -1;
  cpu.cr2 = 0;
  cpu.faultIndex = -1;
}

function snapshot(cpu: Cpu, faultAt: number): Snapshot {
  return {
    lo: [...cpu.lo], hi: [...cpu.hi],
    rflags: ((cpu.flags & ~ARITH_FLAGS) | arithFlags(cpu)) >>> 0,
    rip: cpu.rip,
    ram: cpu.ram.slice(),
    faultAt,
    vector: faultAt >= 0 ? cpu.faultVector : -1,
    code: faultAt >= 0 ? cpu.faultCode : -1,
    cr2: cpu.cr2,
  };
}

/** Run the block the way the run loop interprets it. */
export function runInterpreted(cpu: Cpu, ops: Insn[]): Snapshot {
  return interpretFrom(cpu, ops, 0) ?? snapshot(cpu, -1);
}

/** Interpret ops[start..] as the run loop would; the fault's snapshot, or null when none faulted. */
function interpretFrom(cpu: Cpu, ops: Insn[], start: number): Snapshot | null {
  cpu.rip = ops[ops.length - 1].nextRip;
  let i = start;
  try {
    for (; i < ops.length; i++) ops[i].exec(cpu, ops[i]);
  } catch (e) {
    if (e !== FAULT) throw e;
    cpu.rip = ops[i].rip;
    return snapshot(cpu, i);
  }
  return null;
}

/** blocks the tests ran through tier 3 (WebAssembly) and through tier 2 */
export const tierCounts = { wasm: 0, templates: 0 };
/** the highest tier compileForTest uses (tests set 2 to check tier 2 where tier 3 is the default) */
export const testTier = { max: JIT_TIER };

/**
 * The compiled function the run loop would use for these instructions: tier 3 when
 * PARALLAX_JIT_TIER=3 and the translator covers the block, else tier 2.
 */
export function compileForTest(cpu: Cpu, ops: Insn[], mode: number, pages: CodePages | null = null, roles: number[] = []):
  (cpu: Cpu, left: number) => number {
  if (testTier.max >= 3) {
    const p = pages ?? { page: ops[0].rip >>> 12, gen: cpu.shared.codeGen[ops[0].rip >>> 12], page2: -1, gen2: 0 };
    const w = compileWasm(ops, roles, mode, p, cpu);
    if (w) { tierCounts.wasm++; return w.fn; }
  }
  tierCounts.templates++;
  return compileTemplates(ops, mode, pages, roles);
}

/** Run the block through its compiled function (tier 2, or tier 3 with PARALLAX_JIT_TIER=3). */
export function runCompiled(cpu: Cpu, ops: Insn[], mode: Mode): Snapshot {
  const wasmBefore = tierCounts.wasm;
  const fn = compileForTest(cpu, ops, mode === 64 ? 2 : mode === 32 ? 1 : 0);
  // tier 3 ends its function before an instruction it does not translate; the run loop then
  // runs a block starting there (here: the routines, as the interpreter would)
  const covered = tierCounts.wasm > wasmBefore ? translatedLength(ops, []) : ops.length;
  cpu.rip = ops[ops.length - 1].nextRip;
  try {
    fn(cpu, 1 << 30);
  } catch (e) {
    if (e !== FAULT) throw e;
    return snapshot(cpu, cpu.faultIndex);
  }
  if (covered < ops.length && cpu.rip === ops[covered].rip) {
    const faulted = interpretFrom(cpu, ops, covered);
    if (faulted) return faulted;
  }
  return snapshot(cpu, -1);
}

/**
 * Run the block from the CPU's present state once through the interpreter and once compiled,
 * with the state put back after each: the differences (empty when the two agree). `enter` runs
 * before each run (entry state that the captured snapshot does not hold, e.g. a lazy-flag record).
 */
export function interpreterVsCompiled(cpu: Cpu, ops: Insn[], mode: Mode, enter?: () => void): string[] {
  const init = captureInitial(cpu);
  enter?.();
  const a = runInterpreted(cpu, ops);
  restoreInitial(cpu, init);
  enter?.();
  const b = runCompiled(cpu, ops, mode);
  restoreInitial(cpu, init);
  return diffSnapshots(a, b);
}

const REG_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

function hex64(lo: number, hi: number): string {
  return `0x${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`;
}

/** Differences between two snapshots, as readable lines (empty when equal). */
export function diffSnapshots(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  for (let r = 0; r < 16; r++) {
    if (a.lo[r] !== b.lo[r] || a.hi[r] !== b.hi[r]) out.push(`${REG_NAMES[r]}: interp ${hex64(a.lo[r], a.hi[r])} jit ${hex64(b.lo[r], b.hi[r])}`);
  }
  if (a.rflags !== b.rflags) out.push(`rflags: interp ${a.rflags.toString(16)} jit ${b.rflags.toString(16)}`);
  if (a.rip !== b.rip) out.push(`rip: interp ${a.rip.toString(16)} jit ${b.rip.toString(16)}`);
  if (a.faultAt !== b.faultAt || a.vector !== b.vector || a.code !== b.code) {
    out.push(`fault: interp #${a.vector}(${a.code}) at ${a.faultAt}, jit #${b.vector}(${b.code}) at ${b.faultAt}`);
  }
  if (a.cr2 !== b.cr2) out.push(`cr2: interp ${a.cr2.toString(16)} jit ${b.cr2.toString(16)}`);
  if (Buffer.compare(a.ram, b.ram) !== 0) {
    for (let k = 0; k < a.ram.length; k++) {
      if (a.ram[k] !== b.ram[k]) { out.push(`memory at ${k.toString(16)}: interp ${a.ram[k]} jit ${b.ram[k]}`); break; }
    }
  }
  return out;
}

/** The block's generated source (for failure reports). */
export function sourceOf(ops: Insn[], mode: Mode): string {
  return generateBlock(ops, mode === 64 ? 2 : mode === 32 ? 1 : 0).source;
}

