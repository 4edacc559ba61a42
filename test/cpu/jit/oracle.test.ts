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
import { LF_ADD, LF_RESULT, LF_SUB } from '../../../src/cpu/flags.js';

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

/**
 * `cases` runs of one 64-bit block, each from a random state that `prepare` then adjusts (it
 * returns the run's label, and optionally entry state to apply before each run), interpreted
 * and compiled; every difference fails, and with tier 3 forced every run must have used it.
 */
function blockAgainstInterpreter(bytes: number[], seed: number, cases: number,
  prepare: (cpu: Cpu, rng: Rng, rep: number) => { label: string; enter?: () => void }, tier3 = true): void {
  const cpu = makeCpu(64);
  const ops = decodeBlock(cpu, 64, bytes);
  const rng = new Rng(seed);
  const gen = new BlockGen(rng, 64);
  const failures: string[] = [];
  const wasmBefore = tierCounts.wasm;
  for (let rep = 0; rep < cases; rep++) {
    gen.seedState(cpu);
    const { label, enter } = prepare(cpu, rng, rep);
    const diff = interpreterVsCompiled(cpu, ops, 64, enter);
    if (diff.length) failures.push(`${label}: ${diff.join('; ')}`);
  }
  expect(failures).toEqual([]);
  if (tier3 && testTier.max >= 3) expect(tierCounts.wasm - wasmBefore).toBe(cases);
}

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
    blockAgainstInterpreter(bytes, 7, counts.length * 8, (cpu, _rng, rep) => {
      const cl = counts[rep >> 3];
      cpu.lo[1] = (cpu.lo[1] & ~0xff) | cl;
      return { label: `cl=${cl}` };
    });
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
    const dxs = [0, 0xff, 0xffff, 0x1234];
    blockAgainstInterpreter(bytes, 9, dxs.length, (cpu, _rng, rep) => {
      cpu.lo[7] = 0x180000; cpu.hi[7] = 0; // past the 1 MiB of RAM
      cpu.lo[2] = dxs[rep];
      return { label: `dx=${dxs[rep]}` };
    }, false);
  });
});

// Rotates write only CF and OF: SF ZF PF AF stay the previous writer's. Tier 3 builds the
// rotate's lazy record from that writer (in the block), or materialises the flags at entry
// (`co` import) when the rotate comes first; the entry state here is a lazy record half the
// time (as a chained block leaves it), materialised flags otherwise.
describe('rotates (CF/OF only) against the interpreter, lazy and materialised entry flags', () => {
  const blocks: [string, number[]][] = [
    ['ror eax,7 alone', [0xc1, 0xc8, 0x07, 0x90]],
    ['ror eax,7; jz (ZF from entry)', [0xc1, 0xc8, 0x07, 0x74, 0x00]],
    ['rol ax,8; rol r9,1; jo', [0x66, 0xc1, 0xc0, 0x08, 0x49, 0xd1, 0xc1, 0x70, 0x00]],
    ['add; ror ebx,11; jbe (CF rotate, ZF add)', [0x48, 0x01, 0xd8, 0xc1, 0xcb, 0x0b, 0x76, 0x00]],
    ['sub; rol byte [rsi],3; ror dl,9; jp', [0x48, 0x29, 0xc8, 0xc0, 0x06, 0x03, 0xc0, 0xca, 0x09, 0x7a, 0x00]],
    ['inc; ror r8,63; adc', [0xff, 0xc1, 0x49, 0xc1, 0xc8, 0x3f, 0x48, 0x11, 0xd8, 0x90]],
    ['shl ecx,cl; rol esi,31; jo (writer before: the shift or the entry)', [0xd3, 0xe1, 0xc1, 0xc6, 0x1f, 0x70, 0x00]],
    ['bswap eax; bswap r10; ror eax,16', [0x0f, 0xc8, 0x49, 0x0f, 0xca, 0xc1, 0xc8, 0x10, 0x90]],
  ];
  test.each(blocks)('%s', (_name, bytes) => {
    blockAgainstInterpreter(bytes, 11, 64, (cpu, rng, rep) => {
      if (rep % 4 < 2) cpu.lo[1] &= ~0xff; // a shift by CL of 0 writes no flags
      const lazy = rep & 1 ? lazyRecord(rng) : null;
      return { label: `rep ${rep}${lazy ? ` (lazy ${JSON.stringify(lazy)})` : ''}`, enter: lazy ? () => { Object.assign(cpu, lazy); } : undefined };
    });
  });
});

/** a lazy-flag record as an arithmetic instruction leaves it (SUB/ADD/LF_RESULT, random operands and size) */
function lazyRecord(rng: Rng): Record<string, number> {
  const size = rng.pick([1, 2, 4, 8]), op = rng.pick([LF_ADD, LF_SUB, LF_RESULT]);
  const a = rng.next() | 0, ah = rng.next() | 0, b = rng.chance(0.3) ? a : rng.next() | 0, bh = rng.next() | 0;
  const r = op === LF_ADD ? (a + b) | 0 : op === LF_SUB ? (a - b) | 0 : (a & b);
  return { lfOp: op, lfSize: size, lfA: a, lfAh: ah, lfB: b, lfBh: bh, lfR: r, lfRh: rng.chance(0.5) ? 0 : ah ^ bh,
    lfCarry: rng.int(2), lfOver: rng.int(2), lfAux: rng.int(2) };
}

// DIV r/m32/64 and IDIV r/m32 in tier 3: 64-bit dividends, 128-bit ones (RDX not 0: divided bit
// by bit), zero divisors and quotients that do not fit (#DE), against the interpreter.
describe('DIV / IDIV against the interpreter', () => {
  const blocks: [string, number[]][] = [
    ['div rbx', [0x48, 0xf7, 0xf3, 0x90]],
    ['div ecx', [0xf7, 0xf1, 0x90]],
    ['idiv ecx', [0xf7, 0xf9, 0x90]],
    ['cmp; div qword [rsi]; jb (flags kept)', [0x48, 0x39, 0xd8, 0x48, 0xf7, 0x36, 0x72, 0x00]],
  ];
  const pick = (rng: Rng): [number, number] => rng.pick([
    [0, 0], [0, 1], [1, 0], [-1, -1], [0x7fffffff, -1], [0x80000000 | 0, -1], [0, 0x80000000 | 0],
    [rng.next() | 0, 0], [rng.next() | 0, rng.next() | 0], [rng.int(4), 0], [1, 1],
  ]);
  test.each(blocks)('%s', (_name, bytes) => {
    blockAgainstInterpreter(bytes, 13, 96, (cpu, rng, rep) => {
      for (const r of [0, 2, 1, 3]) { const [lo, hi] = pick(rng); cpu.lo[r] = lo; cpu.hi[r] = hi; }
      if (rep % 3 === 0) { cpu.lo[2] = 0; cpu.hi[2] = 0; }
      if (rep % 5 === 0) { cpu.lo[2] = rng.int(16); cpu.hi[2] = 0; cpu.hi[3] = rng.int(16) + 1; }
      return { label: `rep ${rep}` };
    });
  });
});

// REP MOVS / STOS in tier 3: both directions (DF), counts of 0, short, across pages and past
// one slice (4,096 elements: the instruction is run again), sources and destinations that fault.
describe('REP MOVS / REP STOS against the interpreter', () => {
  const blocks: [string, number[]][] = [
    ['add; rep movsb', [0x48, 0x01, 0xd8, 0xf3, 0xa4]],
    ['rep movsq', [0xf3, 0x48, 0xa5]],
    ['rep movsw', [0x66, 0xf3, 0xa5]],
    ['rep stosb', [0xf3, 0xaa]],
    ['rep stosd', [0xf3, 0xab]],
    ['repne stosq', [0xf2, 0x48, 0xab]],
  ];
  test.each(blocks)('%s', (_name, bytes) => {
    blockAgainstInterpreter(bytes, 17, 48, (cpu, rng, rep) => {
      cpu.lo[1] = rng.pick([0, 1, 3, 17, 300, 4095, 4096, 4097, 5000]); cpu.hi[1] = 0;
      if (rep % 8 === 7) { cpu.lo[6] = 0x180000 - rng.int(64); cpu.hi[6] = 0; } // source runs past RAM's end
      if (rep % 8 === 6) { cpu.hi[7] = 0x8000; } // non-canonical destination
      return { label: `rep ${rep} rcx=${cpu.lo[1]}` };
    });
  });
});
