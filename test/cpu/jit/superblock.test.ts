// Superblocks against the interpreter: random segments joined by conditional branches (side
// exits) and jumps to the next instruction (followed), optionally closed by a branch back to
// the start (self-loop), compiled as one function and compared with running the same
// instructions one routine at a time.

import { describe, expect, test } from 'vitest';
import type { Cpu } from '../../../src/cpu/cpu.js';
import { FAULT } from '../../../src/cpu/cpu-memory.js';
import { arithFlags } from '../../../src/cpu/flags.js';
import type { Insn } from '../../../src/cpu/insn.js';
import { compileTemplates, generateBlock, templateFor } from '../../../src/cpu/jit/compile.js';
import { extendBlock } from '../../../src/cpu/jit/superblock.js';
import { ROLE_EXIT, ROLE_FOLLOW } from '../../../src/cpu/jit/superblock-roles.js';
import { ARITH_FLAGS } from '../../../src/cpu/regs.js';
import { JIT_TIER } from '../../../src/cpu/block-compiler.js';
import { translatedLength } from '../../../src/cpu/wasm/translate.js';
import { captureInitial, CODE, compileForTest, decodeBlock, diffSnapshots, makeCpu, restoreInitial, testTier, tierCounts, type Snapshot } from './harness.js';
import { BlockGen, Rng } from './random-blocks.js';

const CASES = Number(process.env.JIT_SUPERBLOCK_CASES ?? 1500);

/** the state after a run, in the harness's snapshot format (so diffSnapshots compares it) */
function after(cpu: Cpu, faultAt: number): Snapshot {
  return {
    lo: [...cpu.lo], hi: [...cpu.hi], rflags: ((cpu.flags & ~ARITH_FLAGS) | arithFlags(cpu)) >>> 0, rip: cpu.rip,
    ram: cpu.ram.slice(), faultAt,
    vector: faultAt >= 0 ? cpu.faultVector : -1, code: faultAt >= 0 ? cpu.faultCode : -1, cr2: cpu.cr2,
  };
}

/**
 * The interpreter, instruction by instruction, following the superblock's roles. `done` counts
 * the instructions executed. Tier 3 (PARALLAX_JIT_TIER=3) turns a side exit whose target is a
 * later instruction of the superblock into a branch inside the function, so with it the
 * reference follows such a branch instead of leaving (`wasm`: the block went through tier 3).
 */
function reference(cpu: Cpu, ops: Insn[], roles: number[], loop: boolean, left: number, wasm: boolean): { faultAt: number; done: number } {
  // tier 3 ends its function before the first instruction it does not translate
  const n = wasm ? translatedLength(ops, roles) : ops.length;
  if (n < ops.length) loop = false;
  const page = CODE >>> 12, gen = cpu.shared.codeGen[page];
  let done = 0;
  for (;;) {
    for (let i = 0; i < n; i++) {
      const ins = ops[i];
      // a segment start is a block boundary for the interpreter: written code is decoded again
      if (i > 0 && roles[i - 1] !== 0 && cpu.shared.codeGen[page] !== gen) { cpu.rip = ins.rip; return { faultAt: -1, done }; }
      cpu.rip = ins.nextRip;
      try {
        ins.exec(cpu, ins);
      } catch (e) {
        if (e !== FAULT) throw e;
        cpu.rip = ins.rip;
        return { faultAt: done, done };
      }
      done++;
      if (roles[i] === ROLE_EXIT && cpu.rip !== ins.nextRip) {
        const j = wasm ? ops.findIndex((o, k) => k > i + 1 && k < n && o.rip === cpu.rip) : -1;
        if (j < 0) return { faultAt: -1, done };
        // the wasm branch re-checks the code first, as a segment start does
        if (cpu.shared.codeGen[page] !== gen) return { faultAt: -1, done };
        i = j - 1;
        continue;
      }
      if (roles[i] === ROLE_FOLLOW && cpu.rip !== ops[i + 1].rip) throw new Error('followed jump went elsewhere');
    }
    if (n < ops.length) { cpu.rip = ops[n].rip; return { faultAt: -1, done }; }
    if (!loop || cpu.rip !== ops[0].rip || done + n > left) return { faultAt: -1, done };
  }
}

/** `cases` random superblocks compiled with at most tier `tier`: the failures */
function runSuperblocks(cases: number, seed: number, tier: number): void {
  testTier.max = tier;
  try {
    superblocks(cases, seed);
  } finally {
    testTier.max = JIT_TIER;
  }
}

function superblocks(CASES: number, seed: number): void {
  {
    const cpu = makeCpu(64);
    const rng = new Rng(seed);
    const wasm0 = tierCounts.wasm, templates0 = tierCounts.templates;
    const gen = new BlockGen(rng, 64);
    const failures: string[] = [];
    let extended = 0, loops = 0;
    for (let c = 0; c < CASES && failures.length < 3; c++) {
      const bytes: number[] = [];
      const segments = 1 + rng.int(4);
      for (let s = 0; s < segments; s++) {
        const count = 1 + rng.int(6);
        for (let k = 0; k < count; k++) bytes.push(...gen.instruction());
        if (s < segments - 1) bytes.push(...(rng.chance(0.75) ? [0x70 + rng.int(16), 0x70] : [0xeb, 0x00]));
      }
      const loop = rng.chance(0.3);
      if (loop) {
        const back = -(bytes.length + 2);
        if (back < -128) continue;
        bytes.push(0x70 + rng.int(16), back & 0xff);
      }
      const first = decodeBlock(cpu, 64, bytes);
      const sb = extendBlock(first, 2, cpu.ram, CODE, false);
      if (sb.ops.length > first.length) extended++;
      const last = sb.ops[sb.ops.length - 1];
      // compile.ts iterates only blocks made entirely of templates
      const isLoop = last.target === CODE && last.opcode >= 0x70 && last.opcode <= 0x7f &&
        sb.ops.every((o, k) => sb.roles[k] === ROLE_FOLLOW || templateFor(o, 2) !== null);
      if (isLoop) loops++;
      gen.seedState(cpu);
      cpu.eventCheck = false;
      cpu.clockCheckAt = 1e12;
      cpu.retired = 0;
      const left = 300;
      const init = captureInitial(cpu);
      const pages = { page: CODE >>> 12, gen: cpu.shared.codeGen[CODE >>> 12], page2: -1, gen2: 0 };
      const wasmBefore = tierCounts.wasm;
      const fn = compileForTest(cpu, sb.ops, 2, pages, sb.roles);
      // tier 3 iterates any self-looping block it translates (routines included); tier 2 only all-template ones
      const wasm = tierCounts.wasm > wasmBefore;
      const selfLoop = last.target === CODE && last.opcode >= 0x70 && last.opcode <= 0x7f;
      const ref = reference(cpu, sb.ops, sb.roles, isLoop || (wasm && selfLoop), left, wasm);
      const a = after(cpu, ref.faultAt);
      restoreInitial(cpu, init);
      cpu.eventCheck = false;
      cpu.rip = first[first.length - 1].nextRip; // what the run loop sets
      let faultAt = -1, done = 0;
      try {
        done = fn(cpu, left);
      } catch (e) {
        if (e !== FAULT) throw e;
        faultAt = done = cpu.faultIndex;
      }
      const b = after(cpu, faultAt);
      restoreInitial(cpu, init);
      const diff = diffSnapshots(a, b);
      if (ref.done !== done) diff.push(`retired: interp ${ref.done} jit ${done}`);
      if (diff.length) {
        const listing = sb.ops.map((o, k) => `  ${k}: ${o.name} ${['', '(exit)', '(follow)'][sb.roles[k]]} @${o.rip.toString(16)}`).join('\n');
        failures.push(`case ${c}:\n${listing}\n${diff.join('\n')}\n${generateBlock(sb.ops, 2, pages, sb.roles).source}`);
      }
    }
    if (failures.length) console.log(failures.join('\n\n'));
    expect(failures).toEqual([]);
    expect(extended).toBeGreaterThan(CASES / 5);
    expect(loops).toBeGreaterThan(CASES / 20);
    if (testTier.max >= 3) {
      console.log(`tier 3 ran ${tierCounts.wasm - wasm0} superblocks, tier 2 ${tierCounts.templates - templates0}`);
      expect(tierCounts.wasm - wasm0).toBeGreaterThan(CASES / 5);
    } else {
      expect(tierCounts.wasm).toBe(wasm0);
    }
  }
}

describe('superblocks against the interpreter', () => {
  test('random segments, side exits, followed jumps and self-loops', () => {
    runSuperblocks(CASES, 0x5b5b5b, JIT_TIER);
  });
  test('the same on tier 2 (what runs a superblock tier 3 declines)', () => {
    runSuperblocks(Math.ceil(CASES / 2), 0x2b2b2b, 2);
  });
});
