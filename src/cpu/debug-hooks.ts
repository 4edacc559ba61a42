// What the run loop asks a debugger (the gdb stub's per-core part, src/gdb/core-debug.ts).
// While a core has hooks, every block is one instruction and the JIT tier is bypassed, so
// breakpoints and watchpoints never write guest memory.
import type { Cpu } from './cpu.js';
import type { Insn } from './insn.js';

export interface DebugHooks {
  /** before executing `next` at cpu.rip: true stops the core here (breakpoint, step finished, read/access watch) */
  before(cpu: Cpu, next: Insn): boolean;
  /** after an instruction retired: true stops the core (step, write watchpoint) */
  after(cpu: Cpu): boolean;
}
