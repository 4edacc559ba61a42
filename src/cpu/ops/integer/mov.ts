// Data movement without arithmetic: MOV (all integer forms incl. moffs and imm64), MOVZX,
// MOVSX, MOVSXD (ARPL outside 64-bit mode shares its opcode), LEA, XCHG with the
// accumulator (0x90 is NOP, F3 90 PAUSE), XLAT, CBW/CWDE/CDQE, CWD/CDQ/CQO, LAHF/SAHF,
// CMOVcc, SETcc, BSWAP, MOVBE and the hint/multi-byte NOPs (incl. ENDBR64).

import type { Cpu } from '../../cpu.js';
import { arithFlags, materialize, testCC } from '../../flags.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_0F, MAP_0F38, MAP_1B } from '../../insn.js';
import { defineOp, defineRange } from '../../optable.js';
import { ARITH_FLAGS, FIXED1, UD, ZF } from '../../regs.js';
import { binder, get8, hiOf, opcodeReg, set16, set8 } from './operands.js';
import { addrReg, linearOf } from './segment-offset.js';

// ------------------------------------------------------------------ MOV r/m, reg (88/89)

function movRmReg32R(cpu: Cpu, ins: Insn): void { cpu.lo[ins.rm] = cpu.lo[ins.reg]; cpu.hi[ins.rm] = 0; }
function movRmReg64R(cpu: Cpu, ins: Insn): void { cpu.lo[ins.rm] = cpu.lo[ins.reg]; cpu.hi[ins.rm] = cpu.hi[ins.reg]; }
function movRmReg32M(cpu: Cpu, ins: Insn): void { cpu.write32(ins.ea(cpu, ins), cpu.lo[ins.reg]); }
function movRmReg64M(cpu: Cpu, ins: Insn): void { cpu.write64(ins.ea(cpu, ins), cpu.lo[ins.reg], cpu.hi[ins.reg]); }
function movRmRegN(cpu: Cpu, ins: Insn): void {
  cpu.writeRm(ins, cpu.readReg(ins.osize, ins.reg, ins.rex), 0);
}

const movRmReg = binder((ins) => {
  if (ins.osize === 4) return ins.hasMem ? movRmReg32M : movRmReg32R;
  if (ins.osize === 8) return ins.hasMem ? movRmReg64M : movRmReg64R;
  return movRmRegN;
});

// ------------------------------------------------------------------ MOV reg, r/m (8A/8B)

function movRegRm32R(cpu: Cpu, ins: Insn): void { cpu.lo[ins.reg] = cpu.lo[ins.rm]; cpu.hi[ins.reg] = 0; }
function movRegRm64R(cpu: Cpu, ins: Insn): void { cpu.lo[ins.reg] = cpu.lo[ins.rm]; cpu.hi[ins.reg] = cpu.hi[ins.rm]; }
function movRegRm32M(cpu: Cpu, ins: Insn): void { cpu.lo[ins.reg] = cpu.read32(ins.ea(cpu, ins)); cpu.hi[ins.reg] = 0; }
function movRegRm64M(cpu: Cpu, ins: Insn): void {
  const lo = cpu.read64(ins.ea(cpu, ins));
  cpu.lo[ins.reg] = lo; cpu.hi[ins.reg] = cpu.vhi;
}
function movRegRmN(cpu: Cpu, ins: Insn): void {
  cpu.writeReg(ins.osize, ins.reg, ins.rex, cpu.readRm(ins), 0);
}

const movRegRm = binder((ins) => {
  if (ins.osize === 4) return ins.hasMem ? movRegRm32M : movRegRm32R;
  if (ins.osize === 8) return ins.hasMem ? movRegRm64M : movRegRm64R;
  return movRegRmN;
});

// ------------------------------------------------------------------ MOV with immediates

/** B0+r: MOV r8, imm8 (register number kept in ins.rm by the binder) */
const movR8Imm = binder((ins) => {
  ins.rm = opcodeReg(ins);
  return (cpu, i) => set8(cpu, i.rm, i.rex, i.imm);
});

/** B8+r: MOV r16/r32/r64, imm16/32/64 */
const movRImm = binder((ins) => {
  ins.rm = opcodeReg(ins);
  if (ins.osize === 2) return (cpu, i) => set16(cpu, i.rm, i.imm);
  return (cpu, i) => { cpu.lo[i.rm] = i.imm; cpu.hi[i.rm] = i.immHi; }; // immHi is 0 unless imm64
});

/** C6 /0, C7 /0: MOV r/m, imm (Iz sign-extended to 64 bits under REX.W) */
function movRmImm(cpu: Cpu, ins: Insn): void {
  cpu.writeRm(ins, ins.imm, ins.immHi);
}

/** A0/A1: MOV AL/eAX, moffs; A2/A3: MOV moffs, AL/eAX */
function movAccMoffs(cpu: Cpu, ins: Insn): void {
  const v = cpu.readMem(ins.osize, linearOf(cpu, ins.seg, ins.absAddr));
  cpu.writeReg(ins.osize, 0, 1, v, cpu.vhi);
}
function movMoffsAcc(cpu: Cpu, ins: Insn): void {
  cpu.writeMem(ins.osize, linearOf(cpu, ins.seg, ins.absAddr), cpu.lo[0], cpu.hi[0]);
}

// ------------------------------------------------------------------ LEA

let leaHi = 0;

/** The effective address without any segment base, as halves (high half in leaHi). */
function leaOffset(cpu: Cpu, ins: Insn): number {
  const asize = ins.asize;
  if (asize === 8) {
    if (ins.ripRel) { leaHi = hiOf(ins.absAddr); return ins.absAddr | 0; }
    let s = ins.disp; // signed: floor(s / 2^32) below carries its sign extension
    let h = 0;
    if (ins.base >= 0) { s += cpu.lo[ins.base] >>> 0; h += cpu.hi[ins.base]; }
    if (ins.index >= 0) {
      const il = cpu.lo[ins.index], ih = cpu.hi[ins.index], sc = ins.scale;
      s += (il >>> 0) * (1 << sc); // exact; the carry into the high half comes from the floor below
      h += ih << sc;
    }
    leaHi = (h + Math.floor(s / 4294967296)) | 0;
    return s | 0;
  }
  leaHi = 0;
  let s = ins.disp;
  if (ins.base >= 0) s += cpu.lo[ins.base];
  if (ins.index >= 0) s += asize === 4 ? cpu.lo[ins.index] << ins.scale : cpu.lo[ins.index];
  if (ins.ripRel) s = ins.absAddr;
  return asize === 4 ? s | 0 : s & 0xffff;
}

function lea(cpu: Cpu, ins: Insn): void {
  const lo = leaOffset(cpu, ins);
  const size = ins.osize;
  if (size === 8) { cpu.lo[ins.reg] = lo; cpu.hi[ins.reg] = leaHi; } else cpu.writeReg(size, ins.reg, ins.rex, lo, 0);
}

// ------------------------------------------------------------------ MOVZX / MOVSX / MOVSXD

function readSrc8(cpu: Cpu, ins: Insn): number {
  return ins.hasMem ? cpu.read8(ins.ea(cpu, ins)) : get8(cpu, ins.rm, ins.rex);
}

function writeExtended(cpu: Cpu, ins: Insn, v: number, signHi: number): void {
  const size = ins.osize;
  if (size === 4) { cpu.lo[ins.reg] = v; cpu.hi[ins.reg] = 0; } else if (size === 8) { cpu.lo[ins.reg] = v; cpu.hi[ins.reg] = signHi; } else set16(cpu, ins.reg, v);
}

function movzxB(cpu: Cpu, ins: Insn): void { writeExtended(cpu, ins, readSrc8(cpu, ins), 0); }
function movzxW(cpu: Cpu, ins: Insn): void { writeExtended(cpu, ins, cpu.readRm16(ins), 0); }
function movsxB(cpu: Cpu, ins: Insn): void { const v = (readSrc8(cpu, ins) << 24) >> 24; writeExtended(cpu, ins, v, v >> 31); }
function movsxW(cpu: Cpu, ins: Insn): void { const v = (cpu.readRm16(ins) << 16) >> 16; writeExtended(cpu, ins, v, v >> 31); }

/** 63: MOVSXD in 64-bit mode, ARPL elsewhere */
function movsxdOrArpl(cpu: Cpu, ins: Insn): void {
  if (!cpu.mode64) { arpl(cpu, ins); return; }
  const size = ins.osize;
  if (size === 8) {
    const v = ins.hasMem ? cpu.read32(ins.ea(cpu, ins)) : cpu.lo[ins.rm];
    cpu.lo[ins.reg] = v; cpu.hi[ins.reg] = v >> 31;
  } else {
    cpu.writeReg(size, ins.reg, ins.rex, cpu.readRm(ins), 0);
  }
}

/** ARPL r/m16, r16: raise the destination selector's RPL to the source's (ZF = adjusted). */
function arpl(cpu: Cpu, ins: Insn): void {
  if (!cpu.protectedMode) cpu.fault(UD);
  const lin = ins.hasMem ? ins.ea(cpu, ins) : 0;
  const dst = ins.hasMem ? cpu.read16(lin) : cpu.lo[ins.rm] & 0xffff;
  const src = cpu.lo[ins.reg] & 0xffff;
  materialize(cpu);
  if ((dst & 3) < (src & 3)) {
    const v = (dst & ~3) | (src & 3);
    if (ins.hasMem) cpu.write16(lin, v); else set16(cpu, ins.rm, v);
    cpu.flags |= ZF;
  } else {
    cpu.flags &= ~ZF;
  }
}

// ------------------------------------------------------------------ XCHG with rAX, NOP, PAUSE

/** 90+r: XCHG rAX, r (0x90 without REX.B is NOP) */
const xchgAcc = binder((ins) => {
  const r = opcodeReg(ins);
  if (r === 0) return nop;
  ins.rm = r;
  return (cpu, i) => {
    const size = i.osize;
    const a = cpu.readReg(size, 0, 1), ah = cpu.hi[0];
    const b = cpu.readReg(size, i.rm, 1), bh = cpu.hi[i.rm];
    cpu.writeReg(size, 0, 1, b, bh);
    cpu.writeReg(size, i.rm, 1, a, ah);
  };
});

export const nop: Exec = () => { /* nothing */ };

// ------------------------------------------------------------------ XLAT, CBW..CQO

function xlat(cpu: Cpu, ins: Insn): void {
  const asize = ins.asize;
  let off = addrReg(cpu, 3, asize) + (cpu.lo[0] & 0xff);
  off = asize === 8 ? off : asize === 4 ? off % 4294967296 : off & 0xffff;
  set8(cpu, 0, 1, cpu.read8(linearOf(cpu, ins.seg, off)));
}

/** 98: CBW / CWDE / CDQE */
function cbw(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  if (size === 2) set16(cpu, 0, (cpu.lo[0] << 24) >> 24);
  else if (size === 4) { cpu.lo[0] = (cpu.lo[0] << 16) >> 16; cpu.hi[0] = 0; } else cpu.hi[0] = cpu.lo[0] >> 31;
}

/** 99: CWD / CDQ / CQO */
function cwd(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  if (size === 2) set16(cpu, 2, (cpu.lo[0] << 16) >> 31);
  else if (size === 4) { cpu.lo[2] = cpu.lo[0] >> 31; cpu.hi[2] = 0; } else { const s = cpu.hi[0] >> 31; cpu.lo[2] = s; cpu.hi[2] = s; }
}

// ------------------------------------------------------------------ LAHF / SAHF

const AH_FLAGS = 0xd5; // SF ZF AF PF CF

function lahf(cpu: Cpu): void {
  set8(cpu, 4, 0, (arithFlags(cpu) & AH_FLAGS) | FIXED1);
}

function sahf(cpu: Cpu): void {
  materialize(cpu);
  const ah = (cpu.lo[0] >> 8) & AH_FLAGS;
  cpu.flags = (cpu.flags & ~(ARITH_FLAGS & AH_FLAGS)) | ah;
}

// ------------------------------------------------------------------ CMOVcc / SETcc

function cmov(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  const v = cpu.readRm(ins), vh = cpu.vhi; // the source is read (and may fault) either way
  if (testCC(cpu, ins.opcode & 15)) cpu.writeReg(size, ins.reg, ins.rex, v, vh);
  else if (size === 4) cpu.hi[ins.reg] = 0; // a 32-bit destination is zero-extended regardless
}

function setcc(cpu: Cpu, ins: Insn): void {
  const v = testCC(cpu, ins.opcode & 15) ? 1 : 0;
  if (ins.hasMem) cpu.write8(ins.ea(cpu, ins), v); else set8(cpu, ins.rm, ins.rex, v);
}

// ------------------------------------------------------------------ BSWAP / MOVBE

function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/** 0F C8+r: BSWAP (the 16-bit form is undefined; hardware clears the low word) */
const bswap = binder((ins) => {
  ins.rm = opcodeReg(ins);
  if (ins.osize === 8) {
    return (cpu, i) => {
      const lo = cpu.lo[i.rm];
      cpu.lo[i.rm] = bswap32(cpu.hi[i.rm]);
      cpu.hi[i.rm] = bswap32(lo);
    };
  }
  if (ins.osize === 2) return (cpu, i) => set16(cpu, i.rm, 0);
  return (cpu, i) => { cpu.lo[i.rm] = bswap32(cpu.lo[i.rm]); cpu.hi[i.rm] = 0; };
});

/** operand size of MOVBE: its 66 prefix is consumed as "mandatory" by the table, so apply it here */
function movbeSize(ins: Insn): number {
  return ins.osize === 8 ? 8 : ins.p66 ? 2 : 4;
}

/** 0F 38 F0: MOVBE reg, mem */
function movbeLoad(cpu: Cpu, ins: Insn): void {
  const size = movbeSize(ins);
  const lin = ins.ea(cpu, ins);
  if (size === 2) set16(cpu, ins.reg, ((cpu.read16(lin) & 0xff) << 8) | (cpu.read16(lin) >>> 8));
  else if (size === 4) { cpu.lo[ins.reg] = bswap32(cpu.read32(lin)); cpu.hi[ins.reg] = 0; } else {
    const lo = cpu.read64(lin), hi = cpu.vhi;
    cpu.lo[ins.reg] = bswap32(hi); cpu.hi[ins.reg] = bswap32(lo);
  }
}

/** 0F 38 F1: MOVBE mem, reg */
function movbeStore(cpu: Cpu, ins: Insn): void {
  const size = movbeSize(ins);
  const lin = ins.ea(cpu, ins);
  const lo = cpu.lo[ins.reg];
  if (size === 2) cpu.write16(lin, ((lo & 0xff) << 8) | ((lo >>> 8) & 0xff));
  else if (size === 4) cpu.write32(lin, bswap32(lo));
  else cpu.write64(lin, bswap32(cpu.hi[ins.reg]), bswap32(lo));
}

// ------------------------------------------------------------------ registration

defineOp(MAP_1B, 0x88, { name: 'mov', exec: movRmReg, modrm: true, size: 'b' });
defineOp(MAP_1B, 0x89, { name: 'mov', exec: movRmReg, modrm: true, size: 'v' });
defineOp(MAP_1B, 0x8a, { name: 'mov', exec: movRegRm, modrm: true, size: 'b' });
defineOp(MAP_1B, 0x8b, { name: 'mov', exec: movRegRm, modrm: true, size: 'v' });
defineOp(MAP_1B, 0xc6, { name: 'mov', exec: movRmImm, modrm: true, imm: 'Ib', size: 'b' }, { reg: 0 });
defineOp(MAP_1B, 0xc7, { name: 'mov', exec: movRmImm, modrm: true, imm: 'Iz', size: 'v' }, { reg: 0 });
defineRange(MAP_1B, 0xb0, 8, { name: 'mov', exec: movR8Imm, imm: 'Ib', size: 'b' });
defineRange(MAP_1B, 0xb8, 8, { name: 'mov', exec: movRImm, imm: 'Iv', size: 'v' });
defineOp(MAP_1B, 0xa0, { name: 'mov', exec: movAccMoffs, imm: 'Ob', size: 'b' });
defineOp(MAP_1B, 0xa1, { name: 'mov', exec: movAccMoffs, imm: 'Ob', size: 'v' });
defineOp(MAP_1B, 0xa2, { name: 'mov', exec: movMoffsAcc, imm: 'Ob', size: 'b' });
defineOp(MAP_1B, 0xa3, { name: 'mov', exec: movMoffsAcc, imm: 'Ob', size: 'v' });
defineOp(MAP_1B, 0x8d, { name: 'lea', exec: lea, modrm: true, size: 'v' }, { mod: 'mem' });

defineOp(MAP_0F, 0xb6, { name: 'movzx', exec: movzxB, modrm: true, size: 'v' });
defineOp(MAP_0F, 0xb7, { name: 'movzx', exec: movzxW, modrm: true, size: 'v' });
defineOp(MAP_0F, 0xbe, { name: 'movsx', exec: movsxB, modrm: true, size: 'v' });
defineOp(MAP_0F, 0xbf, { name: 'movsx', exec: movsxW, modrm: true, size: 'v' });
defineOp(MAP_1B, 0x63, { name: 'movsxd', exec: movsxdOrArpl, modrm: true, size: 'v' });

defineRange(MAP_1B, 0x90, 8, { name: 'xchg', exec: xchgAcc, size: 'v' });
defineOp(MAP_1B, 0x90, { name: 'pause', exec: (cpu) => cpu.pauseHint(), size: 'v' }, { prefix: 'F3' });
defineOp(MAP_1B, 0xd7, { name: 'xlat', exec: xlat, size: 'b' });
defineOp(MAP_1B, 0x98, { name: 'cbw', exec: cbw, size: 'v' });
defineOp(MAP_1B, 0x99, { name: 'cwd', exec: cwd, size: 'v' });
defineOp(MAP_1B, 0x9e, { name: 'sahf', exec: sahf, size: 'b' });
defineOp(MAP_1B, 0x9f, { name: 'lahf', exec: lahf, size: 'b' });

defineRange(MAP_0F, 0x40, 16, { name: 'cmovcc', exec: cmov, modrm: true, size: 'v' });
defineRange(MAP_0F, 0x90, 16, { name: 'setcc', exec: setcc, modrm: true, size: 'b' });
defineRange(MAP_0F, 0xc8, 8, { name: 'bswap', exec: bswap, size: 'v' });
for (const prefix of ['np', '66'] as const) {
  defineOp(MAP_0F38, 0xf0, { name: 'movbe', exec: movbeLoad, modrm: true, size: 'v' }, { prefix, mod: 'mem' });
  defineOp(MAP_0F38, 0xf1, { name: 'movbe', exec: movbeStore, modrm: true, size: 'v' }, { prefix, mod: 'mem' });
}

// Hint NOPs: 0F 0D (PREFETCHW), 0F 18-0F 1F (prefetch hints, reserved NOPs, ENDBR64 as F3 0F 1E FA,
// the multi-byte NOP 0F 1F /0). None of them touch memory.
defineOp(MAP_0F, 0x0d, { name: 'prefetchw', exec: nop, modrm: true, size: 'v' });
defineRange(MAP_0F, 0x18, 8, { name: 'nop', exec: nop, modrm: true, size: 'v' });
