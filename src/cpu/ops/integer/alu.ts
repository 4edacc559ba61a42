// The eight classic two-operand ALU operations (ADD OR ADC SBB AND SUB XOR CMP) in all their
// encodings (00-3D, group 80-83), TEST, INC/DEC (FE/FF /0 /1 and 40-4F outside 64-bit mode),
// NEG and NOT. Memory destinations write before flags are recorded, so a faulting write
// leaves the flags as they were (the instruction restarts cleanly after #PF).

import type { Cpu } from '../../cpu.js';
import { LF_DEC, LF_INC, LF_SUB, setArithFlags, setResultFlags } from '../../flags.js';
import { calc64, calcHi, calcN, carryFlag, carryIn, flags64, flagsN, OP_ADD, OP_CMP, OP_SUB } from './alu-core.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp, defineRange } from '../../optable.js';
import { lockedAlu, lockedOldHi, lockedUpdate64, lockedUpdateN, UPD_DEC, UPD_INC, UPD_NEG, UPD_NOT } from './atomic.js';
import { binder, opcodeReg, rmwRead } from './operands.js';

// ------------------------------------------------------------------ operation number per form

/** 00-3F: the operation is opcode bits 5..3; 80-83: ModRM.reg */
function opOfLow(ins: Insn): number { return (ins.opcode >> 3) & 7; }
function opOfGroup(ins: Insn): number { return ins.reg & 7; }

// ------------------------------------------------------------------ one step, per destination
// Every form below fetches its operands its own way, then makes the same step: carry in, result,
// write-back (none for CMP), flags. A memory destination is written before the flags are
// recorded (see the header). Small and monomorphic, so V8 inlines them into each form.

/** 32-bit register destination (a 32-bit write clears the upper half) */
function stepReg32(cpu: Cpu, op: number, d: number, a: number, b: number): void {
  const c = carryIn(cpu, op);
  const r = calcN(op, a, b, c);
  if (op !== OP_CMP) { cpu.lo[d] = r; cpu.hi[d] = 0; }
  flagsN(cpu, op, 4, a, b, r, c);
}

/** 8/16/32-bit register destination (rex: whether byte registers 4-7 are SPL..DIL or AH..BH) */
function stepRegN(cpu: Cpu, op: number, size: number, d: number, rex: number, a: number, b: number): void {
  const c = carryIn(cpu, op);
  const r = calcN(op, a, b, c);
  if (op !== OP_CMP) cpu.writeReg(size, d, rex, r, 0);
  flagsN(cpu, op, size, a, b, r, c);
}

function stepMemN(cpu: Cpu, op: number, size: number, lin: number, a: number, b: number): void {
  const c = carryIn(cpu, op);
  const r = calcN(op, a, b, c);
  if (op !== OP_CMP) cpu.writeMem(size, lin, r, 0);
  flagsN(cpu, op, size, a, b, r, c);
}

function stepReg64(cpu: Cpu, op: number, d: number, al: number, ah: number, bl: number, bh: number): void {
  const c = carryIn(cpu, op);
  const rl = calc64(op, al, ah, bl, bh, c), rh = calcHi;
  if (op !== OP_CMP) { cpu.lo[d] = rl; cpu.hi[d] = rh; }
  flags64(cpu, op, al, ah, bl, bh, rl, rh, c);
}

function stepMem64(cpu: Cpu, op: number, lin: number, al: number, ah: number, bl: number, bh: number): void {
  const c = carryIn(cpu, op);
  const rl = calc64(op, al, ah, bl, bh, c), rh = calcHi;
  if (op !== OP_CMP) cpu.write64(lin, rl, rh);
  flags64(cpu, op, al, ah, bl, bh, rl, rh, c);
}

// ------------------------------------------------------------------ Eb/Ev <- Eb/Ev op Gb/Gv

function rmRegR32(cpu: Cpu, ins: Insn): void {
  stepReg32(cpu, opOfLow(ins), ins.rm, cpu.lo[ins.rm], cpu.lo[ins.reg]);
}

function rmRegRN(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const a = cpu.readReg(size, ins.rm, ins.rex), b = cpu.readReg(size, ins.reg, ins.rex);
  stepRegN(cpu, opOfLow(ins), size, ins.rm, ins.rex, a, b);
}

function rmRegMN(cpu: Cpu, ins: Insn): void {
  const op = opOfLow(ins), size = ins.osize;
  const b = cpu.readReg(size, ins.reg, ins.rex);
  const lin = ins.ea(cpu, ins);
  const a = op === OP_CMP ? cpu.readMem(size, lin) : rmwRead(cpu, size, lin);
  stepMemN(cpu, op, size, lin, a, b);
}

function rmRegR64(cpu: Cpu, ins: Insn): void {
  const d = ins.rm, s = ins.reg;
  stepReg64(cpu, opOfLow(ins), d, cpu.lo[d], cpu.hi[d], cpu.lo[s], cpu.hi[s]);
}

function rmRegM64(cpu: Cpu, ins: Insn): void {
  const op = opOfLow(ins);
  const bl = cpu.lo[ins.reg], bh = cpu.hi[ins.reg];
  const lin = ins.ea(cpu, ins);
  const al = op === OP_CMP ? cpu.read64(lin) : rmwRead(cpu, 8, lin), ah = cpu.vhi;
  stepMem64(cpu, op, lin, al, ah, bl, bh);
}

// ------------------------------------------------------------------ Gb/Gv <- Gb/Gv op Eb/Ev

function regRm32(cpu: Cpu, ins: Insn): void {
  const b = ins.hasMem ? cpu.read32(ins.ea(cpu, ins)) : cpu.lo[ins.rm];
  stepReg32(cpu, opOfLow(ins), ins.reg, cpu.lo[ins.reg], b);
}

function regRmN(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const b = cpu.readRm(ins);
  const a = cpu.readReg(size, ins.reg, ins.rex);
  stepRegN(cpu, opOfLow(ins), size, ins.reg, ins.rex, a, b);
}

function regRm64(cpu: Cpu, ins: Insn): void {
  let bl: number, bh: number;
  if (ins.hasMem) { bl = cpu.read64(ins.ea(cpu, ins)); bh = cpu.vhi; } else { bl = cpu.lo[ins.rm]; bh = cpu.hi[ins.rm]; }
  const d = ins.reg;
  stepReg64(cpu, opOfLow(ins), d, cpu.lo[d], cpu.hi[d], bl, bh);
}

// ------------------------------------------------------------------ AL/eAX <- op imm

function accImmN(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  stepRegN(cpu, opOfLow(ins), size, 0, 1, cpu.readReg(size, 0, 1), ins.imm);
}

function accImm64(cpu: Cpu, ins: Insn): void {
  stepReg64(cpu, opOfLow(ins), 0, cpu.lo[0], cpu.hi[0], ins.imm, ins.immHi);
}

// ------------------------------------------------------------------ Eb/Ev <- op imm (group 1)

function rmImmR32(cpu: Cpu, ins: Insn): void {
  stepReg32(cpu, opOfGroup(ins), ins.rm, cpu.lo[ins.rm], ins.imm);
}

function rmImmRN(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  stepRegN(cpu, opOfGroup(ins), size, ins.rm, ins.rex, cpu.readReg(size, ins.rm, ins.rex), ins.imm);
}

function rmImmMN(cpu: Cpu, ins: Insn): void {
  const op = opOfGroup(ins), size = ins.osize;
  const lin = ins.ea(cpu, ins);
  const a = op === OP_CMP ? cpu.readMem(size, lin) : rmwRead(cpu, size, lin);
  stepMemN(cpu, op, size, lin, a, ins.imm);
}

function rmImmR64(cpu: Cpu, ins: Insn): void {
  const d = ins.rm;
  stepReg64(cpu, opOfGroup(ins), d, cpu.lo[d], cpu.hi[d], ins.imm, ins.immHi);
}

function rmImmM64(cpu: Cpu, ins: Insn): void {
  const op = opOfGroup(ins);
  const lin = ins.ea(cpu, ins);
  const al = op === OP_CMP ? cpu.read64(lin) : rmwRead(cpu, 8, lin), ah = cpu.vhi;
  stepMem64(cpu, op, lin, al, ah, ins.imm, ins.immHi);
}

// ------------------------------------------------------------------ TEST

function testRmReg(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  if (size === 8) {
    let al: number, ah: number;
    if (ins.hasMem) { al = cpu.read64(ins.ea(cpu, ins)); ah = cpu.vhi; } else { al = cpu.lo[ins.rm]; ah = cpu.hi[ins.rm]; }
    setResultFlags(cpu, 8, al & cpu.lo[ins.reg], ah & cpu.hi[ins.reg], 0, 0);
    return;
  }
  const a = cpu.readRm(ins);
  setResultFlags(cpu, size, a & cpu.readReg(size, ins.reg, ins.rex), 0, 0, 0);
}

function testRmImm(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  if (size === 8) {
    let al: number, ah: number;
    if (ins.hasMem) { al = cpu.read64(ins.ea(cpu, ins)); ah = cpu.vhi; } else { al = cpu.lo[ins.rm]; ah = cpu.hi[ins.rm]; }
    setResultFlags(cpu, 8, al & ins.imm, ah & ins.immHi, 0, 0);
    return;
  }
  setResultFlags(cpu, size, cpu.readRm(ins) & ins.imm, 0, 0, 0);
}

function testAccImm(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  if (size === 8) setResultFlags(cpu, 8, cpu.lo[0] & ins.imm, cpu.hi[0] & ins.immHi, 0, 0);
  else setResultFlags(cpu, size, cpu.readReg(size, 0, 1) & ins.imm, 0, 0, 0);
}

// ------------------------------------------------------------------ INC / DEC

const cfBit = carryFlag;

function incDecR(cpu: Cpu, ins: Insn, r: number, dec: boolean): void {
  const size = ins.osize;
  const cf = cfBit(cpu);
  if (size === 8) {
    const al = cpu.lo[r], ah = cpu.hi[r];
    const rl = calc64(dec ? OP_SUB : OP_ADD, al, ah, 1, 0, 0), rh = calcHi;
    cpu.lo[r] = rl; cpu.hi[r] = rh;
    setArithFlags(cpu, dec ? LF_DEC : LF_INC, 8, al, ah, 1, 0, rl, rh, cf);
    return;
  }
  const a = cpu.readReg(size, r, ins.rex);
  const res = dec ? (a - 1) | 0 : (a + 1) | 0;
  cpu.writeReg(size, r, ins.rex, res, 0);
  setArithFlags(cpu, dec ? LF_DEC : LF_INC, size, a, 0, 1, 0, res, 0, cf);
}

function incDecM(cpu: Cpu, ins: Insn, dec: boolean): void {
  const size = ins.osize;
  const lin = ins.ea(cpu, ins);
  const cf = cfBit(cpu);
  if (size === 8) {
    const al = rmwRead(cpu, 8, lin), ah = cpu.vhi;
    const rl = calc64(dec ? OP_SUB : OP_ADD, al, ah, 1, 0, 0), rh = calcHi;
    cpu.write64(lin, rl, rh);
    setArithFlags(cpu, dec ? LF_DEC : LF_INC, 8, al, ah, 1, 0, rl, rh, cf);
    return;
  }
  const a = rmwRead(cpu, size, lin);
  const res = dec ? (a - 1) | 0 : (a + 1) | 0;
  cpu.writeMem(size, lin, res, 0);
  setArithFlags(cpu, dec ? LF_DEC : LF_INC, size, a, 0, 1, 0, res, 0, cf);
}

function inc32R(cpu: Cpu, ins: Insn): void {
  const r = ins.rm;
  const a = cpu.lo[r], res = (a + 1) | 0;
  const cf = cfBit(cpu);
  cpu.lo[r] = res; cpu.hi[r] = 0;
  setArithFlags(cpu, LF_INC, 4, a, 0, 1, 0, res, 0, cf);
}

function dec32R(cpu: Cpu, ins: Insn): void {
  const r = ins.rm;
  const a = cpu.lo[r], res = (a - 1) | 0;
  const cf = cfBit(cpu);
  cpu.lo[r] = res; cpu.hi[r] = 0;
  setArithFlags(cpu, LF_DEC, 4, a, 0, 1, 0, res, 0, cf);
}

const incRm = binder((ins) => {
  if (ins.lock) return (cpu, i) => lockedUnary(cpu, i, UPD_INC);
  if (ins.hasMem) return (cpu, i) => incDecM(cpu, i, false);
  if (ins.osize === 4) return inc32R;
  return (cpu, i) => incDecR(cpu, i, i.rm, false);
});
const decRm = binder((ins) => {
  if (ins.lock) return (cpu, i) => lockedUnary(cpu, i, UPD_DEC);
  if (ins.hasMem) return (cpu, i) => incDecM(cpu, i, true);
  if (ins.osize === 4) return dec32R;
  return (cpu, i) => incDecR(cpu, i, i.rm, true);
});
/** 40+r / 48+r (16/32-bit modes only) */
const incDecOpcodeReg: Exec = (cpu, ins) => incDecR(cpu, ins, opcodeReg(ins), (ins.opcode & 8) !== 0);

// ------------------------------------------------------------------ NEG / NOT

function negRm(cpu: Cpu, ins: Insn): void {
  if (ins.lock) { lockedUnary(cpu, ins, UPD_NEG); return; }
  const size = ins.osize;
  if (size === 8) {
    let al: number, ah: number, lin = 0;
    if (ins.hasMem) { lin = ins.ea(cpu, ins); al = rmwRead(cpu, 8, lin); ah = cpu.vhi; } else { al = cpu.lo[ins.rm]; ah = cpu.hi[ins.rm]; }
    const rl = calc64(OP_SUB, 0, 0, al, ah, 0), rh = calcHi;
    if (ins.hasMem) cpu.write64(lin, rl, rh); else { cpu.lo[ins.rm] = rl; cpu.hi[ins.rm] = rh; }
    setArithFlags(cpu, LF_SUB, 8, 0, 0, al, ah, rl, rh);
    return;
  }
  if (ins.hasMem) {
    const lin = ins.ea(cpu, ins);
    const a = rmwRead(cpu, size, lin);
    const r = (-a) | 0;
    cpu.writeMem(size, lin, r, 0);
    setArithFlags(cpu, LF_SUB, size, 0, 0, a, 0, r, 0);
  } else {
    const a = cpu.readReg(size, ins.rm, ins.rex);
    const r = (-a) | 0;
    cpu.writeReg(size, ins.rm, ins.rex, r, 0);
    setArithFlags(cpu, LF_SUB, size, 0, 0, a, 0, r, 0);
  }
}

function notRm(cpu: Cpu, ins: Insn): void {
  if (ins.lock) { lockedUnary(cpu, ins, UPD_NOT); return; }
  const size = ins.osize;
  if (ins.hasMem) {
    const lin = ins.ea(cpu, ins);
    const a = rmwRead(cpu, size, lin);
    cpu.writeMem(size, lin, ~a, ~cpu.vhi);
  } else {
    const a = cpu.readReg(size, ins.rm, ins.rex);
    cpu.writeReg(size, ins.rm, ins.rex, ~a, ~cpu.hi[ins.rm]);
  }
}

// ------------------------------------------------------------------ LOCK forms

function lockedRmReg(cpu: Cpu, ins: Insn): void {
  const op = opOfLow(ins);
  const b = cpu.readReg(ins.osize, ins.reg, ins.rex);
  lockedAlu(cpu, ins, op, b, cpu.hi[ins.reg], carryIn(cpu, op));
}

function lockedRmImm(cpu: Cpu, ins: Insn): void {
  const op = opOfGroup(ins);
  lockedAlu(cpu, ins, op, ins.imm, ins.immHi, carryIn(cpu, op));
}

/** LOCK INC/DEC/NEG/NOT [mem] */
function lockedUnary(cpu: Cpu, ins: Insn, kind: number): void {
  const size = ins.osize;
  const lin = ins.ea(cpu, ins);
  const cf = kind === UPD_INC || kind === UPD_DEC ? cfBit(cpu) : 0;
  if (size === 8) {
    const al = lockedUpdate64(cpu, lin, kind, 0, 0, 0), ah = lockedOldHi;
    if (kind === UPD_NOT) return;
    if (kind === UPD_NEG) {
      const rl = calc64(OP_SUB, 0, 0, al, ah, 0);
      setArithFlags(cpu, LF_SUB, 8, 0, 0, al, ah, rl, calcHi);
    } else {
      const rl = calc64(kind === UPD_DEC ? OP_SUB : OP_ADD, al, ah, 1, 0, 0);
      setArithFlags(cpu, kind === UPD_DEC ? LF_DEC : LF_INC, 8, al, ah, 1, 0, rl, calcHi, cf);
    }
    return;
  }
  const a = lockedUpdateN(cpu, lin, size, kind, 0, 0);
  if (kind === UPD_NOT) return;
  if (kind === UPD_NEG) setArithFlags(cpu, LF_SUB, size, 0, 0, a, 0, (-a) | 0, 0);
  else if (kind === UPD_DEC) setArithFlags(cpu, LF_DEC, size, a, 0, 1, 0, (a - 1) | 0, 0, cf);
  else setArithFlags(cpu, LF_INC, size, a, 0, 1, 0, (a + 1) | 0, 0, cf);
}

// ------------------------------------------------------------------ registration

const rmReg = binder((ins) => {
  if (ins.lock) return lockedRmReg;
  if (ins.osize === 8) return ins.hasMem ? rmRegM64 : rmRegR64;
  if (ins.hasMem) return rmRegMN;
  return ins.osize === 4 ? rmRegR32 : rmRegRN;
});
const regRm = binder((ins) => ins.osize === 8 ? regRm64 : ins.osize === 4 ? regRm32 : regRmN);
const accImm = binder((ins) => ins.osize === 8 ? accImm64 : accImmN);
const rmImm = binder((ins) => {
  if (ins.lock) return lockedRmImm;
  if (ins.osize === 8) return ins.hasMem ? rmImmM64 : rmImmR64;
  if (ins.hasMem) return rmImmMN;
  return ins.osize === 4 ? rmImmR32 : rmImmRN;
});

const NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

for (let op = 0; op < 8; op++) {
  const base = op * 8;
  const name = NAMES[op];
  const lockable = op !== OP_CMP;
  defineOp(MAP_1B, base + 0, { name, exec: rmReg, modrm: true, size: 'b', lockable });
  defineOp(MAP_1B, base + 1, { name, exec: rmReg, modrm: true, size: 'v', lockable });
  defineOp(MAP_1B, base + 2, { name, exec: regRm, modrm: true, size: 'b' });
  defineOp(MAP_1B, base + 3, { name, exec: regRm, modrm: true, size: 'v' });
  defineOp(MAP_1B, base + 4, { name, exec: accImm, imm: 'Ib', size: 'b' });
  defineOp(MAP_1B, base + 5, { name, exec: accImm, imm: 'Iz', size: 'v' });
  defineOp(MAP_1B, 0x80, { name, exec: rmImm, modrm: true, imm: 'Ib', size: 'b', lockable }, { reg: op });
  defineOp(MAP_1B, 0x81, { name, exec: rmImm, modrm: true, imm: 'Iz', size: 'v', lockable }, { reg: op });
  defineOp(MAP_1B, 0x82, { name, exec: rmImm, modrm: true, imm: 'Ib', size: 'b', lockable, inv64: true }, { reg: op });
  defineOp(MAP_1B, 0x83, { name, exec: rmImm, modrm: true, imm: 'Ib', size: 'v', lockable }, { reg: op });
}

defineOp(MAP_1B, 0x84, { name: 'test', exec: testRmReg, modrm: true, size: 'b' });
defineOp(MAP_1B, 0x85, { name: 'test', exec: testRmReg, modrm: true, size: 'v' });
defineOp(MAP_1B, 0xa8, { name: 'test', exec: testAccImm, imm: 'Ib', size: 'b' });
defineOp(MAP_1B, 0xa9, { name: 'test', exec: testAccImm, imm: 'Iz', size: 'v' });
for (const reg of [0, 1]) { // /1 is an undocumented alias of /0
  defineOp(MAP_1B, 0xf6, { name: 'test', exec: testRmImm, modrm: true, imm: 'Ib', size: 'b' }, { reg });
  defineOp(MAP_1B, 0xf7, { name: 'test', exec: testRmImm, modrm: true, imm: 'Iz', size: 'v' }, { reg });
}
defineOp(MAP_1B, 0xf6, { name: 'not', exec: notRm, modrm: true, size: 'b', lockable: true }, { reg: 2 });
defineOp(MAP_1B, 0xf7, { name: 'not', exec: notRm, modrm: true, size: 'v', lockable: true }, { reg: 2 });
defineOp(MAP_1B, 0xf6, { name: 'neg', exec: negRm, modrm: true, size: 'b', lockable: true }, { reg: 3 });
defineOp(MAP_1B, 0xf7, { name: 'neg', exec: negRm, modrm: true, size: 'v', lockable: true }, { reg: 3 });

defineOp(MAP_1B, 0xfe, { name: 'inc', exec: incRm, modrm: true, size: 'b', lockable: true }, { reg: 0 });
defineOp(MAP_1B, 0xfe, { name: 'dec', exec: decRm, modrm: true, size: 'b', lockable: true }, { reg: 1 });
defineOp(MAP_1B, 0xff, { name: 'inc', exec: incRm, modrm: true, size: 'v', lockable: true }, { reg: 0 });
defineOp(MAP_1B, 0xff, { name: 'dec', exec: decRm, modrm: true, size: 'v', lockable: true }, { reg: 1 });
defineRange(MAP_1B, 0x40, 8, { name: 'inc', exec: incDecOpcodeReg, size: 'v', inv64: true });
defineRange(MAP_1B, 0x48, 8, { name: 'dec', exec: incDecOpcodeReg, size: 'v', inv64: true });
