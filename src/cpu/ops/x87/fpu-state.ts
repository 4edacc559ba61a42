// The x87 register stack and status as the instruction routines use it. Physical register p
// lives in cpu.fpr[3p .. 3p+2] in the 80-bit register format: significand low and high 32 bits
// (integer bit at bit 63), then the sign/exponent word; ST(i) is physical (fpTop + i) & 7.
// MMX writes the same words (significand = the MMX value, sign/exponent = 0xFFFF, as hardware
// does), so aliasing and save/restore images are exact. The tag word keeps 2 bits per physical
// register; internally only "empty" (3) versus "in use" matters, the class is recomputed from
// the value when the tag word is stored. The status word is kept without TOP (fpTop).
//
// Exceptions: flags are set in the status word; an unmasked one also sets ES and B, and the
// next waiting x87 instruction then raises #MF (CR0.NE = 1). With CR0.NE = 0 (MS-DOS compatibility,
// SDM vol. 1 D.2.2) that instruction asserts FERR# instead (the PC routes it to IRQ 13: the
// platform's devices/fpu-error-latch.ts) and, unless IGNNE# is asserted, the core freezes before it
// until an interrupt; the handler's FNCLEX (or any later waiting instruction that finds ES clear)
// deasserts FERR#, and the frozen instruction runs again on return. An unmasked invalid
// operation, denormal or zero divide leaves the destination unchanged (SDM vol. 1 8.5); an
// unmasked overflow or underflow into a register stores the exponent-wrapped result (the value
// rounded with an unbounded exponent, scaled by 2^-24576 or 2^24576; F80Result.wrap).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { CR0_EM, CR0_NE, CR0_TS, MF, NM, X87_FREEZE } from '../../regs.js';
import { type F80, type F80Result, INDEFINITE } from './f80-arith.js';

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

/** exception flags raised by the current instruction so far (reset by the gates) */
let raised = 0;

/** #NM when x87 state is unavailable (CR0.EM emulation, CR0.TS lazy switch). */
export function fpuGate(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0) cpu.fault(NM);
  raised = 0;
}

/** Gate of a waiting instruction: also reports a pending unmasked exception. */
export function fpuGateWait(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0) cpu.fault(NM);
  reportPending(cpu);
  raised = 0;
}

/**
 * What a waiting instruction (x87, FWAIT, MMX) does about a pending unmasked exception (ES):
 * #MF with CR0.NE = 1; with CR0.NE = 0 it asserts FERR# and freezes unless IGNNE# is asserted.
 * With ES clear it deasserts a FERR# it left asserted.
 */
export function reportPending(cpu: Cpu): void {
  if ((cpu.fpStatus & SW_ES) === 0) {
    if (cpu.ferrAsserted) driveFerr(cpu, false);
    return;
  }
  if ((cpu.cr0 & CR0_NE) !== 0) cpu.fault(MF);
  if (!driveFerr(cpu, true)) cpu.fault(X87_FREEZE);
}

/** After an instruction that may clear ES (FNCLEX, FNINIT): FERR# follows it at once. */
export function ferrFollowsStatus(cpu: Cpu): void {
  if (cpu.ferrAsserted && (cpu.fpStatus & SW_ES) === 0) driveFerr(cpu, false);
}

/** Set FERR#; returns IGNNE# (asserted when nothing outside the core models it). */
function driveFerr(cpu: Cpu, asserted: boolean): boolean {
  cpu.ferrAsserted = asserted;
  return cpu.bus.ferr?.(asserted) ?? true;
}

/** Remember the last non-control instruction (FIP, FOP, FDP) for FSTENV/FSAVE/FXSAVE. */
export function noteInstruction(cpu: Cpu, ins: Insn, dataAddr: number): void {
  cpu.fpIp = ins.rip;
  cpu.fpOpcode = ((ins.opcode & 7) << 8) | (ins.modrm & 0xff);
  cpu.fpDp = dataAddr;
}

/** Record exception flags; an unmasked one becomes pending (ES, B). */
export function fpuRaise(cpu: Cpu, flags: number): void {
  flags &= 0x7f;
  if (flags === 0) return;
  raised |= flags;
  let s = cpu.fpStatus | flags;
  if ((flags & ~cpu.fpControl & 0x3f) !== 0) s |= SW_ES | SW_B;
  cpu.fpStatus = s;
}

/** An unmasked IE, DE or ZE was raised by this instruction: it must not write its destination. */
export function suppressed(cpu: Cpu): boolean {
  return (raised & ~cpu.fpControl & (SW_IE | SW_DE | SW_ZE)) !== 0;
}

export const precisionControl = (cpu: Cpu): number => (cpu.fpControl >> CW_PC_SHIFT) & 3;
export const roundingControl = (cpu: Cpu): number => (cpu.fpControl >> CW_RC_SHIFT) & 3;

export function isEmpty(cpu: Cpu, i: number): boolean {
  return ((cpu.fpTag >> (((cpu.fpTop + i) & 7) * 2)) & 3) === TAG_EMPTY;
}

function setTag(cpu: Cpu, phys: number, tag: number): void {
  cpu.fpTag = (cpu.fpTag & ~(3 << (phys * 2))) | (tag << (phys * 2));
}

export function physOf(cpu: Cpu, i: number): number {
  return (cpu.fpTop + i) & 7;
}

/** The value of a physical register (whatever its tag). */
export function getReg(cpu: Cpu, p: number): F80 {
  const r = cpu.fpr;
  return { se: r[p * 3 + 2] & 0xffff, sig: (BigInt(r[p * 3 + 1] >>> 0) << 32n) | BigInt(r[p * 3] >>> 0) };
}

/** Set a physical register's value (the tag is the caller's business). */
export function setReg(cpu: Cpu, p: number, v: F80): void {
  const r = cpu.fpr;
  r[p * 3] = Number(v.sig & 0xffffffffn) | 0;
  r[p * 3 + 1] = Number((v.sig >> 32n) & 0xffffffffn) | 0;
  r[p * 3 + 2] = v.se & 0xffff;
}

/** Copy a physical register's words. */
export function copyReg(cpu: Cpu, from: number, to: number): void {
  const r = cpu.fpr;
  r[to * 3] = r[from * 3]; r[to * 3 + 1] = r[from * 3 + 1]; r[to * 3 + 2] = r[from * 3 + 2];
}

/** Stack underflow (reading an empty register): IE + SF, C1 = 0. */
export function underflow(cpu: Cpu): void {
  cpu.fpStatus &= ~SW_C1;
  fpuRaise(cpu, SW_IE | SW_SF);
}

/** ST(i) for reading; an empty register underflows and reads as the QNaN indefinite. */
export function readSt(cpu: Cpu, i: number): F80 {
  const p = (cpu.fpTop + i) & 7;
  if (((cpu.fpTag >> (p * 2)) & 3) === TAG_EMPTY) {
    underflow(cpu);
    return INDEFINITE;
  }
  return getReg(cpu, p);
}

/** Store into ST(i) (marking it in use). */
export function writeSt(cpu: Cpu, i: number, v: F80): void {
  const p = (cpu.fpTop + i) & 7;
  setReg(cpu, p, v);
  setTag(cpu, p, TAG_VALID);
}

/**
 * Write an arithmetic result into ST(i): its flags go to the status word (C1 = rounded up), and
 * the value is stored unless an unmasked IE/DE/ZE suppresses it (the wrapped value where an
 * unmasked OE/UE applies). Returns whether it was stored.
 */
export function commit(cpu: Cpu, i: number, r: F80Result): boolean {
  // unmasked overflow/underflow: the exponent-wrapped value is stored (DE is the only flag callers add)
  if (r.wrap && (r.wrap.sw & (SW_OE | SW_UE) & ~cpu.fpControl) !== 0) r = { v: r.wrap.v, sw: r.wrap.sw | (r.sw & SW_DE) };
  if ((raised & SW_SF) === 0) cpu.fpStatus = (cpu.fpStatus & ~SW_C1) | (r.sw & SW_C1);
  const pre = r.sw & (SW_IE | SW_DE | SW_ZE);
  if ((pre & ~cpu.fpControl) !== 0) {
    fpuRaise(cpu, pre);
    return false;
  }
  fpuRaise(cpu, r.sw);
  if (suppressed(cpu)) return false;
  writeSt(cpu, i, r.v);
  return true;
}

/**
 * Push: TOP - 1 then store. A push onto an in-use register is a stack overflow (IE, SF, C1):
 * masked, the indefinite is pushed; unmasked, nothing changes. Returns false on overflow.
 */
export function push(cpu: Cpu, v: F80): boolean {
  const top = (cpu.fpTop - 1) & 7;
  if (((cpu.fpTag >> (top * 2)) & 3) !== TAG_EMPTY) {
    cpu.fpStatus |= SW_C1;
    fpuRaise(cpu, SW_IE | SW_SF);
    if ((cpu.fpControl & SW_IE) === 0) return false;
    cpu.fpTop = top;
    writeSt(cpu, 0, INDEFINITE);
    return false;
  }
  cpu.fpTop = top;
  writeSt(cpu, 0, v);
  return true;
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

/** Class tag of a physical register's value: zero, special (NaN, infinity, denormal, unsupported) or valid. */
export function classTag(cpu: Cpu, phys: number): number {
  const r = cpu.fpr;
  const e = r[phys * 3 + 2] & 0x7fff, hi = r[phys * 3 + 1], lo = r[phys * 3];
  if (e === 0) return (hi | lo) === 0 ? TAG_ZERO : TAG_SPECIAL;
  if (e === 0x7fff || hi >= 0) return TAG_SPECIAL; // hi >= 0: integer bit clear
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

/** Condition codes C3 C2 C1 C0. */
export function setCc(cpu: Cpu, c3: number, c2: number, c1: number, c0: number): void {
  cpu.fpStatus = (cpu.fpStatus & ~SW_CC) | (c0 ? SW_C0 : 0) | (c1 ? SW_C1 : 0) | (c2 ? SW_C2 : 0) | (c3 ? SW_C3 : 0);
}

/** FNINIT state (the registers keep their contents, as on hardware). */
export function fpuInit(cpu: Cpu): void {
  cpu.fpControl = CW_INIT;
  cpu.fpStatus = 0;
  cpu.fpTop = 0;
  cpu.fpTag = 0xffff;
  cpu.fpIp = 0;
  cpu.fpDp = 0;
  cpu.fpOpcode = 0;
}
