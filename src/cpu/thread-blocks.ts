// Decoded 64-bit blocks held by this thread, shared by every core it hosts (--cores-per-worker):
// after a start from a snapshot the 32 cores of a worker decode the same kernel blocks one after
// another, each into its own instruction objects (measured: ~0.2 s of CPU per 32-core worker
// with the garbage it made). A block's decoded instructions are a function of its linear
// address, the mode and the code bytes; the bytes are those of physical page `page` at
// generation `gen` (writes to a page holding code move its generation on every core:
// cpu-memory.ts), so (RIP, page, generation) names them, plus the second page and its generation
// when the block's last instruction crosses into it, which a core taking the entry checks
// through its own page tables. Blocks stay per core (their counters and compiled functions);
// only the instruction objects are shared. Instructions change after decoding only to pick
// their routine from decode-time facts (`binder` in ops/integer/operands.ts), the same choice on
// every core. Debugging cores (one-instruction blocks, armed breakpoints) do not take part.

import type { Insn } from './insn.js';

export interface DecodedBlock {
  ops: Insn[];
  /** the second code page (-1: none), its generation, and the linear address that reached it */
  page2: number;
  gen2: number;
  lin2: number;
}

/** entries kept per machine; its map is emptied when full (cores then decode again) */
const LIMIT = 16384;
/**
 * Per machine, named by its code-generation array: generations count from zero in every
 * machine, so a thread that hosts cores of several (tests) must not mix their entries.
 */
const machines = new WeakMap<Int32Array, Map<string, DecodedBlock>>();

/** this thread's counter: blocks a core took from another core's decoding */
export const threadBlockStats = { hits: 0 };

export function decodedBlock(codeGen: Int32Array, rip: number, page: number, gen: number): DecodedBlock | undefined {
  return machines.get(codeGen)?.get(`${rip}/${page}/${gen}`);
}

export function keepDecodedBlock(codeGen: Int32Array, rip: number, page: number, gen: number, b: DecodedBlock): void {
  let blocks = machines.get(codeGen);
  if (blocks === undefined) machines.set(codeGen, blocks = new Map());
  if (blocks.size >= LIMIT) blocks.clear();
  blocks.set(`${rip}/${page}/${gen}`, b);
}

/** A core dropped its blocks (reset, a loaded snapshot replaced RAM, debugging): so does the thread. */
export function forgetDecodedBlocks(codeGen: Int32Array): void {
  machines.get(codeGen)?.clear();
}
