// A machine-less core for the integer-instruction tests, in 16-bit real mode, 32-bit flat
// protected mode or 64-bit long mode (identity-mapped 2 MiB pages over the first 4 MiB), at
// CPL 0 unless asked. Code runs until the first fault; tests end their code with `hlt`-free
// markers (ud2) so that stopping there is the normal end.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cpu, RUN_FAULT } from '../../../src/cpu/cpu.js';
import { arithFlags } from '../../../src/cpu/flags.js';
import { UD } from '../../../src/cpu/regs.js';
import { expect } from 'vitest';
import { makeFlatCpu, type Mode } from '../flat-core.js';

export const RAM_BYTES = 4 << 20;
export const CODE = 0x10000;
export const DATA = 0x80000;
export const STACK_TOP = 0x70000;
/** ud2: the end marker every test program finishes with */
export const END = [0x0f, 0x0b];


export interface Core { cpu: Cpu; ram: Uint8Array; dv: DataView }

export function makeCore(mode: Mode, opts: { cpl?: number } = {}): Core {
  const cpu = makeFlatCpu(mode, RAM_BYTES, { cpl: opts.cpl, realModeCodeBase: CODE }); // IP 0 at CODE
  const ram = cpu.ram;
  const dv = new DataView(cpu.shared.ram);
  cpu.lo[4] = STACK_TOP;
  return { cpu, ram, dv };
}

/** Load `code` (+ the ud2 end marker) at CODE and run it; returns the fault vector that stopped it. */
export function run(core: Core, code: number[] | Uint8Array, opts: { at?: number; budget?: number } = {}): number {
  const at = opts.at ?? CODE;
  const bytes = [...code, ...END];
  core.ram.set(bytes, at);
  core.cpu.flushBlocks();
  for (let p = at >>> 12; p <= (at + bytes.length) >>> 12; p++) {
    if (core.cpu.shared.codeFlags[p]) core.cpu.noteCodeWrite(p * 4096, 1);
  }
  core.cpu.rip = at;
  const why = core.cpu.run(opts.budget ?? 1_000_000);
  if (why !== RUN_FAULT) throw new Error(`program did not stop at a fault (run returned ${why}, rip ${core.cpu.rip.toString(16)})`);
  return core.cpu.faultVector;
}

/** run and expect the end marker to be what stopped it */
export function runToEnd(core: Core, code: number[] | Uint8Array, opts: { at?: number; budget?: number } = {}): void {
  const at = opts.at ?? CODE;
  const v = run(core, code, opts);
  const endAt = at + code.length;
  if (v !== UD || core.cpu.rip !== endAt) {
    throw new Error(`stopped by vector ${v} (code ${core.cpu.faultCode}) at ${core.cpu.rip.toString(16)}, expected the end at ${endAt.toString(16)}` +
      (core.cpu.unknownOpcode ? ` [${core.cpu.unknownOpcode}]` : ''));
  }
}

/** 64-bit register as an unsigned BigInt */
export function reg(core: Core, r: number): bigint {
  return (BigInt(core.cpu.hi[r] >>> 0) << 32n) | BigInt(core.cpu.lo[r] >>> 0);
}

export function setReg(core: Core, r: number, v: bigint): void {
  core.cpu.lo[r] = Number(BigInt.asIntN(32, v));
  core.cpu.hi[r] = Number(BigInt.asIntN(32, v >> 32n));
}

/** full RFLAGS with lazy flags folded in */
export function rflags(core: Core): number {
  const c = core.cpu;
  return (c.flags & ~0x8d5) | arithFlags(c);
}

const asmCache = new Map<string, number[]>();

/**
 * Assemble Intel-syntax source for a code mode with GNU as (+ objcopy to flat bytes). Position-
 * dependent operands (absolute jumps) assume the code is loaded at CODE.
 */
export function asm(mode: 16 | 32 | 64, source: string): number[] {
  const key = `${mode}\n${source}`;
  const hit = asmCache.get(key);
  if (hit) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'cpu-int-'));
  const src = join(dir, 'a.s'), obj = join(dir, 'a.o'), bin = join(dir, 'a.bin');
  writeFileSync(src, `.intel_syntax noprefix\n.code${mode}\n${source}\n`);
  execFileSync('as', [mode === 64 ? '--64' : '--32', '-o', obj, src], { stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('objcopy', ['-O', 'binary', '-j', '.text', obj, bin]);
  const bytes = Array.from(readFileSync(bin));
  rmSync(dir, { recursive: true, force: true });
  asmCache.set(key, bytes);
  return bytes;
}

/** A fresh core in `mode` with `regs` set (register number -> value), `code` run to its end marker. */
export function runWith(mode: Mode, regs: Record<number, bigint>, code: number[] | Uint8Array): Core {
  const core = makeCore(mode);
  for (const [r, v] of Object.entries(regs)) setReg(core, Number(r), v);
  runToEnd(core, code);
  return core;
}

/** Registers (number -> expected 64-bit value), compared all at once so a failure shows them all. */
export function expectRegs(core: Core, want: Record<number, bigint>): void {
  const got = Object.fromEntries(Object.keys(want).map((r) => [r, reg(core, Number(r))]));
  expect(got).toEqual(want);
}
