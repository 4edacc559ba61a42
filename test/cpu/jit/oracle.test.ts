// The block compiler's internal oracle: random blocks, each decoded once and run both by the
// interpreter and by its tier-2 function from the same state; every architectural difference
// (registers, RFLAGS, RIP, memory, fault vector/code/CR2/index) is a failure.

import { describe, expect, test } from 'vitest';
import { CS, DS, ES, SS } from '../../../src/cpu/regs.js';
import type { Cpu } from '../../../src/cpu/cpu.js';
import {
  captureInitial, CODE, DATA, decodeBlock, diffSnapshots, makeCpu, restoreInitial, runCompiled, runInterpreted, sourceOf, testTier, tierCounts,
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
