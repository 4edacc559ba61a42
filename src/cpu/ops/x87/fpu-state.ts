// The x87 register stack and status as the instruction routines use it. Registers hold
// binary64 values (cpu.fpr, indexed by physical register; ST(i) is fpr[(fpTop + i) & 7]): an
// 80-bit register is approximated by a double, which loses the 11 extra significand bits and
// the wider exponent range (documented in ops/x87/index.ts). The tag word keeps 2 bits per
// physical register; internally only "empty" (3) versus "in use" matters, the exact class is
// recomputed when the tag word is stored. The status word is kept without TOP (fpTop).
//
// Exceptions: flags are set in the status word; an unmasked one also sets ES and B, and the
// next waiting x87 instruction then raises #MF (CR0.NE = 1; the legacy FERR#/IRQ13 route is
// not modelled). Masked responses (QNaN indefinite, infinities, ...) are always stored.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { CR0_EM, CR0_NE, CR0_TS, MF, NM } from '../../regs.js';
import { f80Bits, fromReal80 } from './real80.js';

// status word
export const SW_IE = 0x0001, SW_DE = 0x0002, SW_ZE = 0x0004, SW_OE = 0x0008, SW_UE = 0x0010, SW_PE = 0x0020;
export const SW_SF = 0x0040, SW_ES = 0x0080, SW_C0 = 0x0100, SW_C1 = 0x0200, SW_C2 = 0x0400, SW_C3 = 0x4000;
export const SW_B = 0x8000;
export const SW_TOP_MASK = 0x3800;
export const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
// control word
export const CW_PC_SHIFT = 8, CW_RC_SHIFT = 10;
export const CW_INIT = 0x037f;

export const TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3;
/**
 * Internal tag meaning "this register holds a raw 64-bit significand whose sign/exponent word
 * is 0xFFFF": what an MMX instruction writes (and what FXRSTOR/FRSTOR load for such values), so
 * MMX data survives aliasing and save/restore bit-exactly. x87 reads convert it to a double.
 */
export const TAG_RAW = TAG_SPECIAL;

/** raw bits of the physical registers (NaN payloads are moved through this view) */
const viewOf = new WeakMap<Float64Array, Int32Array>();
export function fprBits(cpu: Cpu): Int32Array {
  let v = viewOf.get(cpu.fpr);
  if (!v) {
    v = new Int32Array(cpu.fpr.buffer, cpu.fpr.byteOffset, 16);
    viewOf.set(cpu.fpr, v);
  }
  return v;
}

/** #NM when x87 state is unavailable (CR0.EM emulation, CR0.TS lazy switch). */
export function fpuGate(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0) cpu.fault(NM);
}

/** Gate of a waiting instruction: also delivers a pending unmasked exception (#MF). */
export function fpuGateWait(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0) cpu.fault(NM);
  if ((cpu.fpStatus & SW_ES) !== 0 && (cpu.cr0 & CR0_NE) !== 0) cpu.fault(MF);
}

/** Remember the last non-control instruction (FIP, FOP, FDP) for FSTENV/FSAVE/FXSAVE. */
export function noteInstruction(cpu: Cpu, ins: Insn, dataAddr: number): void {
  cpu.fpIp = ins.rip;
  cpu.fpOpcode = ((ins.opcode & 7) << 8) | (ins.modrm & 0xff);
  cpu.fpDp = dataAddr;
}

/** Record exception flags; an unmasked one becomes pending (ES, B). */
export function fpuRaise(cpu: Cpu, flags: number): void {
  if (flags === 0) return;
  let s = cpu.fpStatus | flags;
  if ((flags & ~cpu.fpControl & 0x3f) !== 0) s |= SW_ES | SW_B;
  cpu.fpStatus = s;
}

export function isEmpty(cpu: Cpu, i: number): boolean {
  return ((cpu.fpTag >> (((cpu.fpTop + i) & 7) * 2)) & 3) === TAG_EMPTY;
}

function setTag(cpu: Cpu, phys: number, tag: number): void {
  cpu.fpTag = (cpu.fpTag & ~(3 << (phys * 2))) | (tag << (phys * 2));
}

export function physOf(cpu: Cpu, i: number): number {
  return (cpu.fpTop + i) & 7;
}

/** Stack underflow (reading an empty register): IE + SF, C1 = 0. */
export function underflow(cpu: Cpu): void {
  cpu.fpStatus &= ~SW_C1;
  fpuRaise(cpu, SW_IE | SW_SF);
}

/** Write the QNaN indefinite (the masked response to an invalid operation) into a register. */
export function setIndefinite(cpu: Cpu, phys: number): void {
  const b = fprBits(cpu);
  b[phys * 2] = 0;
  b[phys * 2 + 1] = 0xfff80000 | 0;
  setTag(cpu, phys, TAG_VALID);
}

/** Turn a raw (MMX-written) register into the double an x87 instruction sees. */
export function cookRaw(cpu: Cpu, phys: number): void {
  if (((cpu.fpTag >> (phys * 2)) & 3) !== TAG_RAW) return;
  const b = fprBits(cpu);
  fromReal80(0xffff, b[phys * 2 + 1], b[phys * 2]);
  b[phys * 2] = f80Bits.lo;
  b[phys * 2 + 1] = f80Bits.hi;
  setTag(cpu, phys, TAG_VALID);
}

/** ST(i) for reading; an empty register underflows and reads as the QNaN indefinite. */
export function readSt(cpu: Cpu, i: number): number {
  const p = (cpu.fpTop + i) & 7;
  const tag = (cpu.fpTag >> (p * 2)) & 3;
  if (tag === TAG_EMPTY) {
    underflow(cpu);
    setIndefinite(cpu, p);
    setTag(cpu, p, TAG_EMPTY);
  } else if (tag === TAG_RAW) {
    cookRaw(cpu, p);
  }
  return cpu.fpr[p];
}

/** Store into ST(i) (marking it in use). */
export function writeSt(cpu: Cpu, i: number, v: number): void {
  const p = (cpu.fpTop + i) & 7;
  cpu.fpr[p] = v;
  setTag(cpu, p, TAG_VALID);
}

/**
 * Push: TOP - 1 then store. A push onto an in-use register is a stack overflow (IE, SF, C1) and
 * stores the indefinite. Returns false on overflow.
 */
export function push(cpu: Cpu, v: number): boolean {
  const top = (cpu.fpTop - 1) & 7;
  cpu.fpTop = top;
  if (((cpu.fpTag >> (top * 2)) & 3) !== TAG_EMPTY) {
    cpu.fpStatus |= SW_C1;
    fpuRaise(cpu, SW_IE | SW_SF);
    setIndefinite(cpu, top);
    return false;
  }
  cpu.fpr[top] = v;
  setTag(cpu, top, TAG_VALID);
  return true;
}

/** Push a physical register's raw value (bits preserved). */
export function pushCopy(cpu: Cpu, srcPhys: number): void {
  const v = cpu.fpr[srcPhys];
  const b = fprBits(cpu);
  const lo = b[srcPhys * 2], hi = b[srcPhys * 2 + 1];
  if (push(cpu, v)) {
    const p = cpu.fpTop;
    b[p * 2] = lo;
    b[p * 2 + 1] = hi;
  }
}

/** Mark ST(0) empty and increment TOP. */
export function pop(cpu: Cpu): void {
  setTag(cpu, cpu.fpTop, TAG_EMPTY);
  cpu.fpTop = (cpu.fpTop + 1) & 7;
}

export function freeReg(cpu: Cpu, i: number): void {
  setTag(cpu, (cpu.fpTop + i) & 7, TAG_EMPTY);
}

/** The status word as FNSTSW reports it (TOP included). */
export function statusWord(cpu: Cpu): number {
  return ((cpu.fpStatus & ~SW_TOP_MASK) | (cpu.fpTop << 11)) & 0xffff;
}

export function setStatusWord(cpu: Cpu, v: number): void {
  cpu.fpTop = (v >> 11) & 7;
  cpu.fpStatus = v & 0xffff & ~SW_TOP_MASK;
}

/** Class tag of a physical register's value (valid, zero, special) for a stored tag word. */
export function classTag(cpu: Cpu, phys: number): number {
  if (((cpu.fpTag >> (phys * 2)) & 3) === TAG_RAW) return TAG_SPECIAL;
  const hi = fprBits(cpu)[phys * 2 + 1];
  const v = cpu.fpr[phys];
  if (v === 0) return TAG_ZERO;
  const e = hi & 0x7ff00000;
  if (e === 0x7ff00000) return TAG_SPECIAL;
  return TAG_VALID;
}

/** The full tag word with each in-use register's class recomputed. */
export function tagWord(cpu: Cpu): number {
  let t = 0;
  for (let p = 0; p < 8; p++) {
    const tag = ((cpu.fpTag >> (p * 2)) & 3) === TAG_EMPTY ? TAG_EMPTY : classTag(cpu, p);
    t |= tag << (p * 2);
  }
  return t;
}

/** Condition codes C3 C2 C1 C0 set from a 4-bit value (C0 bit 0, C1 bit 1, C2 bit 2, C3 bit 3). */
export function setCc(cpu: Cpu, c3: number, c2: number, c1: number, c0: number): void {
  cpu.fpStatus = (cpu.fpStatus & ~SW_CC) | (c0 ? SW_C0 : 0) | (c1 ? SW_C1 : 0) | (c2 ? SW_C2 : 0) | (c3 ? SW_C3 : 0);
}

/** FNINIT state. */
export function fpuInit(cpu: Cpu): void {
  cpu.fpControl = CW_INIT;
  cpu.fpStatus = 0;
  cpu.fpTop = 0;
  cpu.fpTag = 0xffff;
  cpu.fpIp = 0;
  cpu.fpDp = 0;
  cpu.fpOpcode = 0;
}
