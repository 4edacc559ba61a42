// Stack instructions: PUSH/POP (50+r, 58+r, imm, r/m), PUSHF/POPF (flag masks by CPL and
// IOPL), PUSHA/POPA, ENTER and LEAVE. Every memory access happens before RSP is committed,
// so a faulting push or pop leaves the registers unchanged.

import type { Cpu } from '../../cpu.js';
import { materialize } from '../../flags.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp, defineRange } from '../../optable.js';
import { AC, AF, CF, DF, ID, IF, IOPL, NT, OF, PF, RF, SF, SS, SS_VEC, TF, TWO32, VM, ZF } from '../../regs.js';
import { binder, opcodeReg, set16 } from './operands.js';
import { pop64, popHi, push64 } from './stack64.js';

// ------------------------------------------------------------------ stack pointer as a Number

/** RSP/ESP/SP at the stack width, as a Number (64-bit: signed canonical) */
function readSp(cpu: Cpu): number {
  const w = cpu.stackSize;
  if (w === 8) return cpu.hi[4] * TWO32 + (cpu.lo[4] >>> 0);
  return w === 4 ? cpu.lo[4] >>> 0 : cpu.lo[4] & 0xffff;
}

function writeSp(cpu: Cpu, sp: number): void {
  const w = cpu.stackSize;
  if (w === 8) { cpu.lo[4] = sp | 0; cpu.hi[4] = Math.floor(sp / TWO32) | 0; } else if (w === 4) cpu.lo[4] = sp | 0;
  else set16(cpu, 4, sp);
}

/** linear address of stack offset `sp` (wrapped to the stack width, SS base added outside 64-bit mode) */
function stackLin(cpu: Cpu, sp: number): number {
  const w = cpu.stackSize;
  if (w === 8) {
    if (sp >= 0x800000000000 || sp < -0x800000000000) cpu.fault(SS_VEC, 0);
    return sp;
  }
  const off = w === 4 ? sp >>> 0 : sp & 0xffff;
  return (off + cpu.segBase[SS]) % TWO32;
}

// ------------------------------------------------------------------ PUSH / POP

function push64r(cpu: Cpu, ins: Insn): void { push64(cpu, cpu.lo[ins.rm], cpu.hi[ins.rm]); }
function pushNr(cpu: Cpu, ins: Insn): void { cpu.push(ins.osize, cpu.lo[ins.rm], 0); }

function pop64r(cpu: Cpu, ins: Insn): void {
  const lo = pop64(cpu);
  cpu.lo[ins.rm] = lo; cpu.hi[ins.rm] = popHi;
}
function popNr(cpu: Cpu, ins: Insn): void {
  const v = cpu.pop(ins.osize);
  cpu.writeReg(ins.osize, ins.rm, 1, v, 0);
}

/** 50+r */
const pushR = binder((ins) => { ins.rm = opcodeReg(ins); return ins.osize === 8 ? push64r : pushNr; });
/** 58+r */
const popR = binder((ins) => { ins.rm = opcodeReg(ins); return ins.osize === 8 ? pop64r : popNr; });

/** 68 / 6A: PUSH imm (sign-extended to the operand size) */
function pushImm(cpu: Cpu, ins: Insn): void {
  cpu.push(ins.osize, ins.imm, ins.imm >> 31);
}

/** FF /6: PUSH r/m */
function pushRm(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const v = ins.hasMem ? cpu.readMem(size, ins.ea(cpu, ins)) : cpu.readReg(size, ins.rm, 1);
  cpu.push(size, v, size === 8 ? (ins.hasMem ? cpu.vhi : cpu.hi[ins.rm]) : 0);
}

/** 8F /0: POP r/m (a memory address based on RSP uses the value after the pop) */
function popRm(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const sp = readSp(cpu);
  const v = cpu.readMem(size, stackLin(cpu, sp)), vh = cpu.vhi;
  if (!ins.hasMem) {
    writeSp(cpu, sp + size);
    cpu.writeReg(size, ins.rm, 1, v, vh);
    return;
  }
  writeSp(cpu, sp + size);
  const lin = ins.ea(cpu, ins);
  writeSp(cpu, sp);
  cpu.writeMem(size, lin, v, vh);
  writeSp(cpu, sp + size);
}

// ------------------------------------------------------------------ PUSHF / POPF

/** 9C: PUSHF/PUSHFD/PUSHFQ (VM and RF read as 0 in the image) */
function pushf(cpu: Cpu, ins: Insn): void {
  materialize(cpu);
  cpu.push(ins.osize, cpu.flags & ~(VM | RF), 0);
}

const POPF_ALWAYS = CF | PF | AF | ZF | SF | TF | DF | OF | NT;

/** 9D: POPF: IOPL only at CPL 0, IF only when CPL <= IOPL; VM, VIF, VIP unchanged; RF cleared */
function popf(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const v = cpu.pop(size);
  materialize(cpu);
  let mask = POPF_ALWAYS;
  if (size !== 2) mask |= AC | ID;
  const iopl = (cpu.flags & IOPL) >> 12;
  if (cpu.cpl === 0) mask |= IOPL | IF;
  else if (cpu.cpl <= iopl) mask |= IF;
  if (!cpu.protectedMode) mask |= IOPL | IF;
  cpu.flags = ((cpu.flags & ~mask) | (v & mask)) & ~RF;
  cpu.eventCheck = true; // IF or TF may have changed: interrupts / single-step become due
}

// ------------------------------------------------------------------ PUSHA / POPA

function pusha(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  let sp = readSp(cpu);
  const origSp = cpu.lo[4];
  for (let r = 0; r < 8; r++) {
    sp -= size;
    cpu.writeMem(size, stackLin(cpu, sp), r === 4 ? origSp : cpu.lo[r], 0);
  }
  writeSp(cpu, sp);
}

function popa(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  let sp = readSp(cpu);
  const vals = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let r = 7; r >= 0; r--) {
    vals[r] = cpu.readMem(size, stackLin(cpu, sp));
    sp += size;
  }
  for (let r = 0; r < 8; r++) if (r !== 4) cpu.writeReg(size, r, 1, vals[r], 0);
  writeSp(cpu, sp);
}

// ------------------------------------------------------------------ ENTER / LEAVE

/** C8: ENTER size, level */
function enter(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const level = ins.imm2 & 31;
  let sp = readSp(cpu);
  const w = cpu.stackSize;
  let bp = w === 8 ? cpu.hi[5] * TWO32 + (cpu.lo[5] >>> 0) : w === 4 ? cpu.lo[5] >>> 0 : cpu.lo[5] & 0xffff;
  sp -= size;
  cpu.writeMem(size, stackLin(cpu, sp), cpu.lo[5], cpu.hi[5]);
  const frame = sp;
  if (level > 0) {
    for (let i = 1; i < level; i++) {
      bp -= size;
      const v = cpu.readMem(size, stackLin(cpu, bp)), vh = cpu.vhi;
      sp -= size;
      cpu.writeMem(size, stackLin(cpu, sp), v, vh);
    }
    sp -= size;
    cpu.writeMem(size, stackLin(cpu, sp), frame | 0, Math.floor(frame / TWO32) | 0);
  }
  sp -= ins.imm;
  cpu.writeReg(size, 5, 1, frame | 0, Math.floor(frame / TWO32) | 0);
  writeSp(cpu, w === 8 ? sp : w === 4 ? sp >>> 0 : sp & 0xffff);
}

/** C9: LEAVE: rSP = rBP, then pop rBP */
function leave(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const w = cpu.stackSize;
  const bp = w === 8 ? cpu.hi[5] * TWO32 + (cpu.lo[5] >>> 0) : w === 4 ? cpu.lo[5] >>> 0 : cpu.lo[5] & 0xffff;
  const v = cpu.readMem(size, stackLin(cpu, bp)), vh = cpu.vhi;
  writeSp(cpu, bp + size);
  cpu.writeReg(size, 5, 1, v, vh);
}

// ------------------------------------------------------------------ registration

defineRange(MAP_1B, 0x50, 8, { name: 'push', exec: pushR, size: 'd64' });
defineRange(MAP_1B, 0x58, 8, { name: 'pop', exec: popR, size: 'd64' });
defineOp(MAP_1B, 0x68, { name: 'push', exec: pushImm, imm: 'Iz', size: 'd64' });
defineOp(MAP_1B, 0x6a, { name: 'push', exec: pushImm, imm: 'Ib', size: 'd64' });
defineOp(MAP_1B, 0xff, { name: 'push', exec: pushRm, modrm: true, size: 'd64' }, { reg: 6 });
defineOp(MAP_1B, 0x8f, { name: 'pop', exec: popRm, modrm: true, size: 'd64' }, { reg: 0 });
defineOp(MAP_1B, 0x9c, { name: 'pushf', exec: pushf, size: 'd64' });
defineOp(MAP_1B, 0x9d, { name: 'popf', exec: popf, size: 'd64', ends: true });
defineOp(MAP_1B, 0x60, { name: 'pusha', exec: pusha, size: 'v', inv64: true });
defineOp(MAP_1B, 0x61, { name: 'popa', exec: popa, size: 'v', inv64: true });
defineOp(MAP_1B, 0xc8, { name: 'enter', exec: enter, imm: 'IwIb', size: 'd64' });
defineOp(MAP_1B, 0xc9, { name: 'leave', exec: leave, size: 'd64' });
