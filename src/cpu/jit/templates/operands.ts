// Operand plumbing shared by the templates: load an r/m operand into the instruction's locals
// (computing the address once), and write a result back to r/m. Locals are named after the
// instruction index so later instructions and the catch handler can see them.

import type { Insn } from '../../insn.js';
import { rmwRead } from '../../ops/integer/operands.js';
import type { Emitter } from '../emitter.js';

export interface Loaded {
  /** low half (whole value for sizes 1-4) and high half ('0' below size 8) */
  v: string;
  vh: string;
  /** local holding the linear address when the operand is in memory */
  lin: string | null;
}

/** register number encoded in the opcode's low 3 bits plus REX.B (50+r, B8+r, ...) */
export function opcodeReg(ins: Insn): number {
  return (ins.opcode & 7) | ((ins.rex & 1) << 3);
}

/**
 * The instruction's r/m operand at `size` into locals `<name><i>` / `<name>h<i>`. `rmw`: the
 * operand is read to be written back, so a memory read checks writability first, as the
 * routines' rmwRead does (a fault then reports a write).
 */
export function loadRm(e: Emitter, ins: Insn, i: number, size: number, name: string, rmw = false): Loaded {
  const v = e.local(`${name}${i}`);
  const vh = size === 8 ? e.local(`${name}h${i}`) : '0';
  if (ins.hasMem) {
    const lin = e.local(`m${i}`);
    e.faultPoint(i);
    e.line(`${lin} = ${e.ea(ins, i)};`);
    if (rmw) e.line(`${v} = ${e.constant('rmwRead', rmwRead)}(cpu, ${size}, ${lin});`);
    else e.line(`${v} = ${e.load(size, lin)};`);
    if (size === 8) e.line(`${vh} = cpu.vhi;`);
    return { v, vh, lin };
  }
  e.line(`${v} = ${e.reg(size, ins.rm, ins.rex)};`);
  if (size === 8) e.line(`${vh} = hi[${ins.rm}];`);
  return { v, vh, lin: null };
}

/** A register operand at `size` into locals. */
export function loadReg(e: Emitter, i: number, size: number, r: number, rex: number, name: string): Loaded {
  const v = e.local(`${name}${i}`);
  const vh = size === 8 ? e.local(`${name}h${i}`) : '0';
  e.line(`${v} = ${e.reg(size, r, rex)};`);
  if (size === 8) e.line(`${vh} = hi[${r}];`);
  return { v, vh, lin: null };
}

/** Write back to the r/m operand loaded earlier (memory: the same address). */
export function storeRm(e: Emitter, ins: Insn, size: number, at: Loaded, v: string, vh: string): void {
  if (at.lin !== null) e.line(e.store(size, at.lin, v, vh));
  else e.line(e.setReg(size, ins.rm, ins.rex, v, vh));
}

/** An immediate as literals (low, high) */
/** The locals that receive instruction i's result: its low 32 bits, and its high 32 bits when the operand is 64-bit ('0' otherwise). */
export function resultLocals(e: Emitter, i: number, size: number): { r: string; rh: string } {
  const r = e.local(`r${i}`);
  return { r, rh: size === 8 ? e.local(`rh${i}`) : '0' };
}

export function immOf(ins: Insn, size: number): Loaded {
  return { v: lit(ins.imm | 0), vh: size === 8 ? lit(ins.immHi | 0) : '0', lin: null };
}

export function lit(v: number): string {
  return v < 0 ? `(${v})` : String(v);
}
