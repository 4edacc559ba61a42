// The block compiler's internal oracle: random blocks, each decoded once and run both by the
// interpreter and by its tier-2 function from the same state; every architectural difference
// (registers, RFLAGS, RIP, memory, fault vector/code/CR2/index) is a failure.

import { describe, expect, test } from 'vitest';
import { CS, DS, ES, SS } from '../../../src/cpu/regs.js';
import type { Cpu } from '../../../src/cpu/cpu.js';
import {
  captureInitial, CODE, DATA, decodeBlock, diffSnapshots, interpreterVsCompiled, makeCpu, restoreInitial, runCompiled, runInterpreted, sourceOf,
  testTier, tierCounts,
  type Mode,
} from './harness.js';
import { BlockGen, Rng } from './random-blocks.js';
import { JIT_TIER } from '../../../src/cpu/block-compiler.js';
import { wasmStats } from '../../../src/cpu/wasm/wasm-tier.js';

const CASES = Number(process.env.JIT_ORACLE_CASES ?? 4000);
const SEED = Number(process.env.JIT_ORACLE_SEED ?? 0);

function setupMode(cpu: Cpu, mode: Mode): void {
  if (mode === 16) {
    cpu.segBase[CS] = CODE;
    for (const s of [DS, ES, SS]) cpu.segBase[s] = DATA;
  }
}

function runOracle(mode: Mode, cases: number, seed: number): string[] {
  const cpu = makeCpu(mode);
  setupMode(cpu, mode);
  const rng = new Rng(seed);
  const gen = new BlockGen(rng, mode);
  const failures: string[] = [];
  const wasmBefore = tierCounts.wasm;
  for (let c = 0; c < cases && failures.length < 3; c++) {
    const bytes = gen.block(1 + rng.int(12));
    const ops = decodeBlock(cpu, mode, bytes);
    gen.seedState(cpu);
    const init = captureInitial(cpu);
    const a = runInterpreted(cpu, ops);
    restoreInitial(cpu, init);
    let b;
    try {
      b = runCompiled(cpu, ops, mode);
    } catch (err) {
      failures.push(`case ${c}: compile/run error ${String(err)}\n${bytes.map((x) => x.toString(16).padStart(2, '0')).join(' ')}\n${sourceOf(ops, mode)}`);
      continue;
    }
    restoreInitial(cpu, init);
    const diff = diffSnapshots(a, b);
    if (diff.length) {
      const listing = ops.map((o, k) => `  ${k}: ${o.name} (${bytes.slice(o.rip - CODE, o.nextRip - CODE).map((x) => x.toString(16).padStart(2, '0')).join(' ')})`).join('\n');
      failures.push(`case ${c} (${mode}-bit):\n${listing}\n${diff.join('\n')}\n${sourceOf(ops, mode)}`);
    }
  }
  // with tier 3 forced, most 64-bit blocks must really have gone through it
  if (testTier.max >= 3 && mode === 64) {
    console.log(`${mode}-bit: tier 3 ran ${tierCounts.wasm - wasmBefore} of ${cases} blocks; declined: ` +
      [...wasmStats.reasons].sort((x, y) => y[1] - x[1]).slice(0, 12).map(([r, n]) => `${n} ${r}`).join(', '));
    if (tierCounts.wasm - wasmBefore < cases / 10) failures.push(`tier 3 ran only ${tierCounts.wasm - wasmBefore} blocks`);
  }
  return failures;
}

describe('compiled blocks (tier 3 where it covers them, else tier 2) against the interpreter on random blocks', () => {
  test('64-bit mode', () => {
    const f = runOracle(64, CASES, 0x64646464 + SEED);
    if (f.length) console.log(f.join('\n\n'));
    expect(f).toEqual([]);
  });

  test('64-bit mode on tier 2 (what runs a block tier 3 declines)', () => {
    testTier.max = 2;
    try {
      const f = runOracle(64, Math.ceil(CASES / 2), 0x26262626 + SEED);
      if (f.length) console.log(f.join('\n\n'));
      expect(f).toEqual([]);
    } finally {
      testTier.max = JIT_TIER;
    }
  });

  test('32-bit mode', () => {
    const f = runOracle(32, Math.ceil(CASES / 3), 0x32323232 + SEED);
    if (f.length) console.log(f.join('\n\n'));
    expect(f).toEqual([]);
  });

  test('16-bit mode', () => {
    const f = runOracle(16, Math.ceil(CASES / 4), 0x16161616 + SEED);
    if (f.length) console.log(f.join('\n\n'));
    expect(f).toEqual([]);
  });
});

// Shifts by CL are conditional flag writers in tier 3: a masked count of 0 leaves the flags of
// the previous writer (here a CMP), which the record left at the block's end must then carry.
describe('shifts by CL (count 0 keeps the earlier flags) against the interpreter', () => {
  const blocks: [string, number[]][] = [
    ['cmp; shr eax,cl', [0x48, 0x39, 0xd8, 0xd3, 0xe8, 0x90]],
    ['cmp; shl rax,cl; sar dx,cl', [0x48, 0x39, 0xd8, 0x48, 0xd3, 0xe0, 0x66, 0xd3, 0xfa, 0x90]],
    ['sub; shr bh,cl; shl r9b,cl', [0x48, 0x29, 0xd8, 0xd2, 0xef, 0x41, 0xd2, 0xe1, 0x90]],
    ['shr esi,cl alone', [0xd3, 0xee, 0x90]],
    ['shl ecx,cl; add; sar r8,cl', [0xd3, 0xe1, 0x48, 0x01, 0xd8, 0x49, 0xd3, 0xf8, 0x90]],
  ];
  const counts = [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 0xff];
  test.each(blocks)('%s', (_name, bytes) => {
    const cpu = makeCpu(64);
    const ops = decodeBlock(cpu, 64, bytes);
    const rng = new Rng(7);
    const gen = new BlockGen(rng, 64);
    const failures: string[] = [];
    const wasmBefore = tierCounts.wasm;
    for (const cl of counts) {
      for (let rep = 0; rep < 8; rep++) {
        gen.seedState(cpu);
        cpu.lo[1] = (cpu.lo[1] & ~0xff) | cl;
        const diff = interpreterVsCompiled(cpu, ops, 64);
        if (diff.length) failures.push(`cl=${cl}: ${diff.join('; ')}`);
      }
    }
    expect(failures).toEqual([]);
    if (testTier.max >= 3) expect(tierCounts.wasm - wasmBefore).toBe(counts.length * 8);
  });
});

// A read the slow path serves (here an address past the end of RAM) must come back at its size:
// a 16-bit CMP against it then sets CF as the interpreter does (found by the random oracle at 20,000 cases).
describe('8/16-bit reads through the slow path against the interpreter', () => {
  const blocks: [string, number[]][] = [
    ['cmp dx,[rdi]; sbb r8d,ebx', [0x66, 0x3b, 0x17, 0x41, 0x19, 0xd8, 0x90]],
    ['cmp dl,[rdi]; sbb r8d,ebx', [0x3a, 0x17, 0x41, 0x19, 0xd8, 0x90]],
    ['movzx eax,word [rdi]', [0x0f, 0xb7, 0x07, 0x90]],
  ];
  test.each(blocks)('%s', (_name, bytes) => {
    const cpu = makeCpu(64);
    const ops = decodeBlock(cpu, 64, bytes);
    const gen = new BlockGen(new Rng(9), 64);
    const failures: string[] = [];
    for (const dx of [0, 0xff, 0xffff, 0x1234]) {
      gen.seedState(cpu);
      cpu.lo[7] = 0x180000; cpu.hi[7] = 0; // past the 1 MiB of RAM
      cpu.lo[2] = dx;
      const diff = interpreterVsCompiled(cpu, ops, 64);
      if (diff.length) failures.push(`dx=${dx}: ${diff.join('; ')}`);
    }
    expect(failures).toEqual([]);
  });
});
