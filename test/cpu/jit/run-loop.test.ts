// Whole programs through Cpu.run (blocks get compiled after PARALLAX_JIT_THRESHOLD visits,
// self-looping blocks iterate inside their function) against a step-by-step reference that
// decodes and executes one instruction at a time: same registers, flags, memory, retired
// count, and at a fault the same RIP and vector. Plus the conditions that must make a
// self-looping block hand control back to the run loop.

import { describe, expect, test } from 'vitest';
import { COMPILE_THRESHOLD, JIT_TIER } from '../../../src/cpu/block-compiler.js';
import { Cpu, RUN_BUDGET, RUN_FAULT } from '../../../src/cpu/cpu.js';
import { decode } from '../../../src/cpu/decoder.js';
import { executeDecoded } from '../../../src/cpu/interrupts.js';
import { arithFlags } from '../../../src/cpu/flags.js';
import { ARITH_FLAGS, UD } from '../../../src/cpu/regs.js';
import { C_PENDING, P_NMI } from '../../../src/abi/control-block.js';
import { CODE, DATA, decodeBlock, makeCpu, STACK_TOP } from './harness.js';
import { asm } from '../integer/core.js';
import { extendBlock } from '../../../src/cpu/jit/superblock.js';
import { tier3Regions, translateBlock } from '../../../src/cpu/wasm/translate.js';

/** GNU as output for 64-bit `source`, ending in UD2 (the tests' end marker) */
const asm64 = (source: string): number[] => asm(64, `${source}\nud2`);

function load(cpu: Cpu, code: number[]): void {
  cpu.ram.set(code, CODE);
  cpu.flushBlocks();
  for (let p = CODE >>> 12; p <= (CODE + code.length) >>> 12; p++) if (cpu.shared.codeFlags[p]) cpu.noteCodeWrite(p * 4096, 1);
  cpu.rip = CODE;
  cpu.lo[4] = STACK_TOP; cpu.hi[4] = 0;
  cpu.lo[6] = DATA; cpu.hi[6] = 0;
}

/** one instruction at a time until a fault (ud2 ends the program) */
function stepReference(cpu: Cpu, limit: number): number {
  const dm = { mode64: true, def32: false, csBase: 0 };
  for (let n = 0; n < limit; n++) {
    const ins = decode(cpu.rip, dm, (lin) => cpu.fetch8(lin), Cpu.makeUd);
    if (!executeDecoded(cpu, ins)) return cpu.faultVector;
  }
  throw new Error('reference: no fault within the limit');
}

interface Outcome { regs: number[]; rflags: number; rip: number; vector: number; retired: number; data: number[] }

function outcome(cpu: Cpu, vector: number): Outcome {
  return {
    regs: [...cpu.lo, ...cpu.hi], rflags: ((cpu.flags & ~ARITH_FLAGS) | arithFlags(cpu)) >>> 0, rip: cpu.rip, vector,
    retired: cpu.retired, data: [...cpu.ram.subarray(DATA, DATA + 256)],
  };
}

function both(source: string, setup: (cpu: Cpu) => void = () => { /* none */ }): { ref: Outcome; jit: Outcome; cpu: Cpu } {
  const code = asm64(source);
  const a = makeCpu(64);
  load(a, code);
  setup(a);
  const ref = outcome(a, stepReference(a, 10_000_000));
  const b = makeCpu(64);
  load(b, code);
  setup(b);
  let why = RUN_BUDGET;
  while (why === RUN_BUDGET) why = b.run(100_000);
  expect(why).toBe(RUN_FAULT);
  return { ref, jit: outcome(b, b.faultVector), cpu: b };
}

/**
 * Runs the endless loop `source` (RBX = `rbx`, its bound): after a warm-up run (it gets
 * compiled), a run with `budget` must retire at least `budget` and fewer than
 * `budget + overshoot` instructions; then with an NMI pending (and no IDT) a long run must
 * hand control back to the run loop within 10 instructions.
 */
function expectLoopStopsForBudgetAndNmi(source: string, o: { rbx: number; warmUp: number; budget: number; overshoot: number }): void {
  const cpu = makeCpu(64);
  load(cpu, asm64(source));
  cpu.lo[3] = o.rbx;
  cpu.run(o.warmUp);
  const before = cpu.retired;
  cpu.run(o.budget);
  expect(cpu.retired - before).toBeGreaterThanOrEqual(o.budget);
  expect(cpu.retired - before).toBeLessThan(o.budget + o.overshoot);
  cpu.shared.ctl[cpu.ctlBase + C_PENDING] |= P_NMI;
  const r0 = cpu.retired;
  cpu.run(1_000_000);
  expect(cpu.retired - r0).toBeLessThan(10);
}

describe('compiled blocks inside the run loop', () => {
  test('the tier and threshold this file runs with', () => {
    expect(JIT_TIER).toBeGreaterThanOrEqual(2); // 3: tier 3 where it covers a block, else 2
    expect(COMPILE_THRESHOLD).toBeLessThan(20);
  });

  test('counted loop (self-looping block), flags live after it', () => {
    const { ref, jit } = both(`
      mov ecx, 100000
      xor eax, eax
    1: add rax, rcx
      imul rdx, rax, 7
      dec ecx
      jnz 1b
      cmp rax, rdx`);
    expect(jit).toEqual(ref);
    expect(jit.vector).toBe(UD);
  });

  test('two-block loop with memory and a byte compare (strlen-like)', () => {
    const { ref, jit } = both(`
      mov rdi, rsi
      mov ecx, 200
    2: mov byte ptr [rdi], cl
      inc rdi
      dec ecx
      jnz 2b
      mov rdi, rsi
    1: movzx eax, byte ptr [rdi]
      inc rdi
      test al, al
      jz 3f
      cmp al, 7
      jne 1b
    3: sub rdi, rsi
      setae bl`);
    expect(jit).toEqual(ref);
  });

  test('a fault in a late iteration of a self-looping block reports the right RIP and count', () => {
    // walks from the data window up into unmapped memory (above 4 MiB): #PF after many iterations
    const { ref, jit } = both(`
      mov rdi, rsi
      xor eax, eax
    1: add eax, dword ptr [rdi]
      add rdi, 4096
      cmp eax, 12345
      jmp 1b`);
    expect(jit.vector).toBe(14);
    expect(jit).toEqual(ref);
  });

  test('nested loops with calls and pushes', () => {
    const { ref, jit } = both(`
      mov r8d, 300
    1: mov ecx, 50
    2: push rcx
      call 5f
      pop rcx
      sub ecx, 1
      jnz 2b
      dec r8d
      jnz 1b
      jmp 9f
    5: lea rax, [rax + rcx * 2 + 1]
      shl rax, 3
      shr rax, 2
      ret
    9: nop`);
    expect(jit).toEqual(ref);
  });

  test('translated blocks chained through calls and returns: flags across blocks, a fault in a chained block', () => {
    // the block after each RET reads CF left by the callee's CMP (flags from the state at entry);
    // the walk runs into unmapped memory after ~8,000 iterations, long after every block is hot
    const { ref, jit, cpu } = both(`
      mov rdi, rsi
      xor eax, eax
      xor ebx, ebx
    1: call 5f
      jb 2f
      add ebx, 3
    2: add eax, dword ptr [rdi]
      add rdi, 512
      jmp 1b
    5: inc eax
      cmp eax, 200
      ret`);
    expect(jit.vector).toBe(14);
    expect(jit).toEqual(ref);
    // tier 3: most blocks ran chained inside the dispatcher, not one return to JavaScript each
    if (JIT_TIER >= 3 && process.env.PARALLAX_JIT_CHAIN !== '0') expect(cpu.chain?.entries ?? Infinity).toBeLessThan(2000);
  });

  test('code written by a compiled superblock in its own page is decoded again at the next block boundary', () => {
    // iteration 30 (long after compilation) stores into the immediate of the MOV that
    // follows the not-taken branch: the interpreter would see the new value at once
    const { ref, jit } = both(`
      lea r8, [rip + 3f + 1]
      mov r9, rsi
      xor ecx, ecx
      xor edx, edx
    1: mov rdi, r9
      cmp ecx, 30
      cmove rdi, r8
      mov dword ptr [rdi], ecx
      cmp ecx, 1000
      je 4f
    3: mov ebx, 7
      add edx, ebx
      inc ecx
      cmp ecx, 50
      jne 1b
    4: nop`);
    expect(jit).toEqual(ref);
    expect(jit.regs[2]).toBe(7 * 30 + 30 * 20);
  });

  test('a self-looping block stops for a pending event, the budget and its own code changing', () => {
    expectLoopStopsForBudgetAndNmi(`
    1: add rax, 1
      cmp rax, rbx
      jne 1b`, { rbx: 2_000_000, warmUp: 200, budget: 3000, overshoot: 3 });
  });

  // inner loops of a superblock: the inner loop's back edge is a side exit of the outer
  // superblock, which tier 3 turns into a wasm loop inside the same function (opt-in: the
  // tests run both ways)
  const withRegions = (on: boolean, body: () => void): void => {
    const was = tier3Regions.on;
    tier3Regions.on = on;
    try { body(); } finally { tier3Regions.on = was; }
  };
  const NESTED = `
      mov r8d, 400
      xor eax, eax
      xor ebx, ebx
    1: mov ecx, 37
    2: add rax, rcx
      cmp rax, rdx
      adc rbx, 0
      sub ecx, 1
      jnz 2b
      mov dword ptr [rsi + r8 * 4 - 4], eax
      test r8b, 7
      jz 3f
    4: lea rdx, [rax + rbx * 2]
      dec r8d
      jnz 1b
      jmp 9f
    3: xor rdx, rbx
      jmp 4b
    9: cmp rbx, rdx`;

  for (const on of [true, false]) {
    test(`nested loops inside one superblock (inner back edge a side exit, stores, a branch out) (inner loops ${on ? 'on' : 'off'})`, () => withRegions(on, () => {
      const { ref, jit } = both(NESTED);
      expect(jit).toEqual(ref);
    }));
  }

  for (const on of [true, false]) {
    test(`a fault in a late iteration of an inner loop reports the right RIP and count (inner loops ${on ? 'on' : 'off'})`, () => withRegions(on, () => {
      // the inner loop walks its pointer into unmapped memory (above 4 MiB) after ~1,000 passes
      const { ref, jit } = both(`
          mov rdi, rsi
          xor eax, eax
      1: mov ecx, 16
      2: add eax, dword ptr [rdi]
          add rdi, 256
          dec ecx
          jnz 2b
          add eax, 1
          jmp 1b`);
      expect(jit.vector).toBe(14);
      expect(jit).toEqual(ref);
    }));
  }

  for (const on of [true, false]) {
    test(`the inner loop stops for a pending event and for the budget (inner loops ${on ? 'on' : 'off'})`, () => withRegions(on, () => {
      expectLoopStopsForBudgetAndNmi(`
      1: mov ecx, 1000
      2: add rax, 1
          dec ecx
          jnz 2b
          cmp rax, rbx
          jne 1b`, { rbx: 0x7fffffff, warmUp: 20_000, budget: 30_000, overshoot: 8 });
    }));
  }

  test('the translator makes the inner loop a wasm loop (regions), and only the self-loop without', () => {
    const cpu = makeCpu(64);
    const all = decodeBlock(cpu, 64, asm64(NESTED));
    const first = all.slice(0, all.findIndex((ins) => ins.ends) + 1);
    const sb = extendBlock(first, 2, cpu.ram, CODE, false);
    const pages = (cpu.shared.wasmMemory?.buffer.byteLength ?? 0) / 65536;
    const on = translateBlock(sb.ops, sb.roles, 2, pages, true), off = translateBlock(sb.ops, sb.roles, 2, pages, false);
    if ('declined' in on || 'declined' in off) throw new Error('declined');
    expect(on.loops).toBe(2); // the outer loop (back to 1:, a side exit) and the inner one
    expect(off.loops).toBe(0);
    expect(WebAssembly.validate(on.bytes)).toBe(true);
  });
});
