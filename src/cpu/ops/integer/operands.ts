// Small operand helpers shared by the integer instruction routines: 8-bit register access
// with the legacy AH..BH encoding, 64-bit values split into Int32 halves, canonical checks,
// and the "bind on first execution" trick that lets one table entry pick a routine
// specialised for the decoded operand size and operand kind.

import type { Cpu } from '../../cpu.js';
import type { Exec, Insn } from '../../insn.js';
import { TLB_SIZE } from '../../cpu-memory.js';
import { GP, TWO32 } from '../../regs.js';

/** Read an 8-bit register (zero-extended); without REX, 4..7 name AH CH DH BH. */
export function get8(cpu: Cpu, r: number, rex: number): number {
  if (rex === 0 && r >= 4 && r < 8) return (cpu.lo[r - 4] >> 8) & 0xff;
  return cpu.lo[r] & 0xff;
}

/** Write an 8-bit register, leaving the other bits alone. */
export function set8(cpu: Cpu, r: number, rex: number, v: number): void {
  if (rex === 0 && r >= 4 && r < 8) cpu.lo[r - 4] = (cpu.lo[r - 4] & ~0xff00) | ((v & 0xff) << 8);
  else cpu.lo[r] = (cpu.lo[r] & ~0xff) | (v & 0xff);
}

/** Write a 16-bit register, leaving the upper 48 bits alone. */
export function set16(cpu: Cpu, r: number, v: number): void {
  cpu.lo[r] = (cpu.lo[r] & ~0xffff) | (v & 0xffff);
}

/** Low 32 bits of an integral Number (linear address, RIP) as Int32. */
export function loOf(v: number): number {
  return v | 0;
}

/** High 32 bits of an integral Number in (-2^63, 2^63) as Int32. */
export function hiOf(v: number): number {
  return Math.floor(v / TWO32) | 0;
}

/** A 64-bit register value as a signed Number (exact for canonical addresses). */
export function reg64(cpu: Cpu, r: number): number {
  return cpu.hi[r] * TWO32 + (cpu.lo[r] >>> 0);
}

/** A 64-bit value held as halves, as a signed Number. */
export function join64(lo: number, hi: number): number {
  return hi * TWO32 + (lo >>> 0);
}

/** #GP(0) unless a 64-bit-mode branch target is canonical (bits 63..47 all equal). */
export function checkCanonical(cpu: Cpu, t: number): void {
  if (t >= 0x800000000000 || t < -0x800000000000) cpu.fault(GP, 0);
}

/** register number encoded in the low 3 opcode bits (plus REX.B): 0x50+r, 0xB8+r, ... */
export function opcodeReg(ins: Insn): number {
  return (ins.opcode & 7) | ((ins.rex & 1) << 3);
}

/**
 * Build a table routine that, the first time an instruction runs, picks its specialised
 * routine once (from decode-time facts only), stores it in `ins.exec`, and runs it.
 */
export function binder(choose: (ins: Insn) => Exec): Exec {
  return (cpu, ins) => {
    const f = choose(ins);
    ins.exec = f;
    f(cpu, ins);
  };
}

/**
 * Read the destination of a read-modify-write instruction. Hardware checks write access
 * first (a fault reports W=1 in its #PF error code), so a missing write-TLB entry is
 * filled through a write translation before the read.
 */
export function rmwRead(cpu: Cpu, size: number, lin: number): number {
  const page = Math.floor(lin / 4096);
  if (cpu.wTag[page & (TLB_SIZE - 1)] !== page) cpu.probeWrite(lin, size);
  return cpu.readMem(size, lin);
}
