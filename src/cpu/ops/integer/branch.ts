// Near control transfers: JMP (rel8, rel16/32, r/m), Jcc (rel8, 0F 8x rel16/32), CALL (rel,
// r/m), RET (with and without imm16), LOOP/LOOPE/LOOPNE and JCXZ/JECXZ/JRCXZ. Relative
// targets were computed at decode time (ins.target); every form ends its block.

import type { Cpu } from '../../cpu.js';
import { getCF, getZF, testCC } from '../../flags.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_0F, MAP_1B } from '../../insn.js';
import { defineOp, defineRange } from '../../optable.js';
import { CS, GP, TWO32 } from '../../regs.js';
import { binder } from './operands.js';
import { pop64, popHi, push64 } from './stack64.js';

/** Jump to linear `t`: #GP(0) for a non-canonical target (only possible in 64-bit mode). */
function jumpTo(cpu: Cpu, t: number): void {
  if (t >= 0x800000000000 || t < -0x800000000000) cpu.fault(GP, 0);
  cpu.rip = t;
}

// Outside 64-bit mode RIP is linear (CS base included) while branch targets are offsets in
// CS truncated to the operand size; 64-bit near branches always have osize 8.

/** CS offset of a linear RIP */
function ipOf(cpu: Cpu, lin: number): number {
  return cpu.mode64 ? lin : lin - cpu.segBase[CS];
}

/** linear RIP of a CS offset truncated to the operand size */
function linOfIp(cpu: Cpu, ip: number, size: number): number {
  if (size === 8) return ip;
  const off = size === 4 ? ip >>> 0 : ip & 0xffff;
  return (cpu.segBase[CS] + off) % TWO32;
}

/** target of a relative branch */
function relTarget(cpu: Cpu, ins: Insn): number {
  if (ins.osize === 8) return ins.target;
  return linOfIp(cpu, ipOf(cpu, ins.nextRip) + ins.imm, ins.osize);
}

/** A target offset read from a register or memory at the operand size, as a linear RIP. */
function targetOf(cpu: Cpu, lo: number, hi: number, size: number): number {
  if (size === 8) return hi * TWO32 + (lo >>> 0);
  return linOfIp(cpu, lo, size);
}

function readTarget(cpu: Cpu, ins: Insn): number {
  const size = ins.osize;
  if (ins.hasMem) {
    const lo = cpu.readMem(size, ins.ea(cpu, ins));
    return targetOf(cpu, lo, cpu.vhi, size);
  }
  return targetOf(cpu, cpu.lo[ins.rm], cpu.hi[ins.rm], size);
}

// ------------------------------------------------------------------ JMP / Jcc

function jmpRel(cpu: Cpu, ins: Insn): void { jumpTo(cpu, relTarget(cpu, ins)); }
function jmpRm(cpu: Cpu, ins: Insn): void { jumpTo(cpu, readTarget(cpu, ins)); }

// specialised conditions for the commonest tests after CMP/SUB/TEST/DEC
const jz: Exec = (cpu, ins) => { if (getZF(cpu)) jumpTo(cpu, relTarget(cpu, ins)); };
const jnz: Exec = (cpu, ins) => { if (!getZF(cpu)) jumpTo(cpu, relTarget(cpu, ins)); };
const jb: Exec = (cpu, ins) => { if (getCF(cpu)) jumpTo(cpu, relTarget(cpu, ins)); };
const jnb: Exec = (cpu, ins) => { if (!getCF(cpu)) jumpTo(cpu, relTarget(cpu, ins)); };
const jcc: Exec = (cpu, ins) => { if (testCC(cpu, ins.opcode & 15)) jumpTo(cpu, relTarget(cpu, ins)); };

const jccBind = binder((ins) => {
  switch (ins.opcode & 15) {
    case 2: return jb;
    case 3: return jnb;
    case 4: return jz;
    case 5: return jnz;
    default: return jcc;
  }
});

// ------------------------------------------------------------------ CALL / RET

function pushReturn(cpu: Cpu, ins: Insn): void {
  const r = ipOf(cpu, ins.nextRip);
  if (ins.osize === 8) push64(cpu, r | 0, Math.floor(r / TWO32) | 0);
  else cpu.push(ins.osize, r | 0, 0);
}

function callRel(cpu: Cpu, ins: Insn): void {
  const t = relTarget(cpu, ins);
  if (t >= 0x800000000000 || t < -0x800000000000) cpu.fault(GP, 0);
  pushReturn(cpu, ins);
  cpu.rip = t;
}

function callRm(cpu: Cpu, ins: Insn): void {
  const t = readTarget(cpu, ins);
  if (t >= 0x800000000000 || t < -0x800000000000) cpu.fault(GP, 0);
  pushReturn(cpu, ins);
  cpu.rip = t;
}

function retNear(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  if (size === 8) {
    const sl = cpu.lo[4], sh = cpu.hi[4];
    const lo = pop64(cpu);
    const t = popHi * TWO32 + (lo >>> 0);
    if (t >= 0x800000000000 || t < -0x800000000000) { cpu.lo[4] = sl; cpu.hi[4] = sh; cpu.fault(GP, 0); }
    if (ins.imm !== 0) cpu.addSp(ins.imm);
    cpu.rip = t;
    return;
  }
  const lo = cpu.readMem(size, cpu.stackAddr(0));
  const t = targetOf(cpu, lo, cpu.vhi, size);
  if (t >= 0x800000000000 || t < -0x800000000000) cpu.fault(GP, 0);
  cpu.addSp(size + ins.imm); // imm is 0 for C3
  cpu.rip = t;
}

// ------------------------------------------------------------------ LOOP family / JrCXZ

/** decrement rCX at the address size; returns whether it is now non-zero */
function decCount(cpu: Cpu, asize: number): boolean {
  if (asize === 8) {
    const l = cpu.lo[1];
    const nl = (l - 1) | 0;
    cpu.lo[1] = nl;
    if (l === 0) cpu.hi[1] = (cpu.hi[1] - 1) | 0;
    return nl !== 0 || cpu.hi[1] !== 0;
  }
  if (asize === 4) {
    const n = (cpu.lo[1] - 1) | 0;
    cpu.lo[1] = n; cpu.hi[1] = 0;
    return n !== 0;
  }
  const n = (cpu.lo[1] - 1) & 0xffff;
  cpu.lo[1] = (cpu.lo[1] & ~0xffff) | n;
  return n !== 0;
}

function countIsZero(cpu: Cpu, asize: number): boolean {
  if (asize === 8) return cpu.lo[1] === 0 && cpu.hi[1] === 0;
  if (asize === 4) return cpu.lo[1] === 0;
  return (cpu.lo[1] & 0xffff) === 0;
}

function loop(cpu: Cpu, ins: Insn): void { if (decCount(cpu, ins.asize)) jumpTo(cpu, relTarget(cpu, ins)); }
function loope(cpu: Cpu, ins: Insn): void { if (decCount(cpu, ins.asize) && getZF(cpu)) jumpTo(cpu, relTarget(cpu, ins)); }
function loopne(cpu: Cpu, ins: Insn): void { if (decCount(cpu, ins.asize) && !getZF(cpu)) jumpTo(cpu, relTarget(cpu, ins)); }
function jcxz(cpu: Cpu, ins: Insn): void { if (countIsZero(cpu, ins.asize)) jumpTo(cpu, relTarget(cpu, ins)); }

// ------------------------------------------------------------------ registration

const br = { ends: true, size: 'f64' as const };
defineOp(MAP_1B, 0xeb, { name: 'jmp', exec: jmpRel, imm: 'Jb', ...br });
defineOp(MAP_1B, 0xe9, { name: 'jmp', exec: jmpRel, imm: 'Jz', ...br });
defineOp(MAP_1B, 0xff, { name: 'jmp', exec: jmpRm, modrm: true, ...br }, { reg: 4 });
defineRange(MAP_1B, 0x70, 16, { name: 'jcc', exec: jccBind, imm: 'Jb', ...br });
defineRange(MAP_0F, 0x80, 16, { name: 'jcc', exec: jccBind, imm: 'Jz', ...br });
defineOp(MAP_1B, 0xe8, { name: 'call', exec: callRel, imm: 'Jz', ...br });
defineOp(MAP_1B, 0xff, { name: 'call', exec: callRm, modrm: true, ...br }, { reg: 2 });
defineOp(MAP_1B, 0xc3, { name: 'ret', exec: retNear, ...br });
defineOp(MAP_1B, 0xc2, { name: 'ret', exec: retNear, imm: 'Iw', ...br });
defineOp(MAP_1B, 0xe2, { name: 'loop', exec: loop, imm: 'Jb', ...br });
defineOp(MAP_1B, 0xe1, { name: 'loope', exec: loope, imm: 'Jb', ...br });
defineOp(MAP_1B, 0xe0, { name: 'loopne', exec: loopne, imm: 'Jb', ...br });
defineOp(MAP_1B, 0xe3, { name: 'jcxz', exec: jcxz, imm: 'Jb', ...br });
