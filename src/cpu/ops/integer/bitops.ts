// Bit instructions: BT BTS BTR BTC (register and immediate offsets; with a memory operand
// and a register offset the offset is a signed bit index that may reach far outside the
// addressed operand), BSF BSR (destination unchanged for a zero source), TZCNT LZCNT POPCNT.

import type { Cpu } from '../../cpu.js';
import { materialize, setResultFlags } from '../../flags.js';
import type { Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { ARITH_FLAGS, CF, TWO32, ZF } from '../../regs.js';
import { rmwRead } from './operands.js';
import { lockedOldHi, lockedUpdate64, lockedUpdateN, UPD_BTC, UPD_BTR, UPD_BTS } from './atomic.js';

const BT = 0, BTS = 1, BTR = 2, BTC = 3;
const UPDATE_OF = [0, UPD_BTS, UPD_BTR, UPD_BTC];

function setCF(cpu: Cpu, bit: number): void {
  materialize(cpu);
  cpu.flags = bit ? cpu.flags | CF : cpu.flags & ~CF;
}

/** new value of a 32-bit chunk after the operation on bit mask m */
function modify(kind: number, v: number, m: number): number {
  return kind === BTS ? v | m : kind === BTR ? v & ~m : kind === BTC ? v ^ m : v;
}

/**
 * Perform BT* on the operand at `lin` (memory) or register rm, for bit index `bit`
 * (already reduced to 0..size*8-1).
 */
function bitOp(cpu: Cpu, ins: Insn, kind: number, lin: number, bit: number): void {
  const size = ins.osize;
  if (!ins.hasMem) {
    const r = ins.rm;
    if (size === 8 && bit >= 32) {
      const m = 1 << (bit - 32), v = cpu.hi[r];
      if (kind !== BT) cpu.hi[r] = modify(kind, v, m);
      setCF(cpu, v & m);
      return;
    }
    const v = cpu.lo[r], m = 1 << bit;
    if (kind !== BT) {
      const nv = modify(kind, v, m);
      if (size === 2) cpu.lo[r] = (v & ~0xffff) | (nv & 0xffff);
      else { cpu.lo[r] = nv; if (size === 4) cpu.hi[r] = 0; }
    }
    setCF(cpu, v & m);
    return;
  }
  // memory: operate on the 32-bit (or 16-bit) chunk holding the bit, which keeps 64-bit forms simple
  let chunkLin = lin, chunkSize = size, b = bit;
  if (size === 8) { chunkSize = 8; }
  const m = size === 8 ? (b >= 32 ? 1 << (b - 32) : 1 << b) : 1 << b;
  if (kind === BT) {
    let v: number;
    if (size === 8) { const lo = cpu.read64(chunkLin); v = b >= 32 ? cpu.vhi : lo; } else v = cpu.readMem(chunkSize, chunkLin);
    setCF(cpu, v & m);
    return;
  }
  let old: number;
  if (ins.lock) {
    if (size === 8) {
      const lo = lockedUpdate64(cpu, chunkLin, UPDATE_OF[kind], b >= 32 ? 0 : m, b >= 32 ? m : 0, 0);
      old = b >= 32 ? lockedOldHi : lo;
    } else {
      old = lockedUpdateN(cpu, chunkLin, chunkSize, UPDATE_OF[kind], m, 0);
    }
  } else if (size === 8) {
    const lo = rmwRead(cpu, 8, chunkLin), hi = cpu.vhi;
    if (b >= 32) { cpu.write64(chunkLin, lo, modify(kind, hi, m)); old = hi; } else { cpu.write64(chunkLin, modify(kind, lo, m), hi); old = lo; }
  } else {
    old = rmwRead(cpu, chunkSize, chunkLin);
    cpu.writeMem(chunkSize, chunkLin, modify(kind, old, m), 0);
  }
  setCF(cpu, old & m);
}

/** BT* r/m, reg: the register is a signed bit offset */
function btReg(cpu: Cpu, ins: Insn, kind: number): void {
  const size = ins.osize;
  const bits = size * 8;
  const r = ins.reg;
  if (!ins.hasMem) {
    const lo = cpu.lo[r];
    bitOp(cpu, ins, kind, 0, lo & (bits - 1));
    return;
  }
  // signed offset -> operand-sized displacement and bit within
  let disp: number;
  const lo = cpu.lo[r];
  if (size === 2) disp = ((lo << 16) >> 16 >> 4) * 2;
  else if (size === 4) disp = (lo >> 5) * 4;
  else disp = (cpu.hi[r] * 67108864 + (lo >>> 6)) * 8; // (hi:lo) >> 6, as a Number
  let lin = ins.ea(cpu, ins) + disp;
  if (!cpu.mode64) lin = ((lin % TWO32) + TWO32) % TWO32;
  bitOp(cpu, ins, kind, lin, lo & (bits - 1));
}

/** BT* r/m, imm8: the immediate is reduced modulo the operand width */
function btImm(cpu: Cpu, ins: Insn, kind: number): void {
  const bit = ins.imm & (ins.osize * 8 - 1);
  bitOp(cpu, ins, kind, ins.hasMem ? ins.ea(cpu, ins) : 0, bit);
}

// ------------------------------------------------------------------ bit scans and counts

function ctz32(x: number): number { return x === 0 ? 32 : 31 - Math.clz32(x & -x); }

function writeDest(cpu: Cpu, ins: Insn, v: number): void {
  cpu.writeReg(ins.osize, ins.reg, ins.rex, v, 0);
}

function setZF(cpu: Cpu, z: boolean): void {
  materialize(cpu);
  cpu.flags = z ? cpu.flags | ZF : cpu.flags & ~ZF;
}

/** BSF / BSR: the index of the lowest / highest set bit; a zero source sets ZF and leaves the destination */
function bitScan(cpu: Cpu, ins: Insn, highest: boolean): void {
  const size = ins.osize;
  let lo = cpu.readRm(ins);
  const hi = size === 8 ? cpu.vhi : 0;
  if (size === 2) lo &= 0xffff;
  if (lo === 0 && hi === 0) { setZF(cpu, true); return; }
  if (highest) writeDest(cpu, ins, hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo));
  else writeDest(cpu, ins, lo !== 0 ? ctz32(lo) : 32 + ctz32(hi));
  setZF(cpu, false);
}

const bsf = (cpu: Cpu, ins: Insn): void => bitScan(cpu, ins, false);
const bsr = (cpu: Cpu, ins: Insn): void => bitScan(cpu, ins, true);

/** CF = source was zero, ZF = result is zero (other flags: from the result) */
function countFlags(cpu: Cpu, size: number, src0: boolean, count: number): void {
  setResultFlags(cpu, size, count, 0, src0 ? 1 : 0, 0);
}

function tzcnt(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  let lo = cpu.readRm(ins);
  const hi = size === 8 ? cpu.vhi : 0;
  let n: number;
  if (size === 2) { lo &= 0xffff; n = lo === 0 ? 16 : ctz32(lo); } else if (size === 4) n = ctz32(lo);
  else n = lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
  writeDest(cpu, ins, n);
  countFlags(cpu, size, n === size * 8, n);
}

function lzcnt(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  let lo = cpu.readRm(ins);
  const hi = size === 8 ? cpu.vhi : 0;
  let n: number;
  if (size === 2) { lo &= 0xffff; n = Math.clz32(lo) - 16; } else if (size === 4) n = Math.clz32(lo);
  else n = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
  writeDest(cpu, ins, n);
  countFlags(cpu, size, n === size * 8, n);
}

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

function popcnt(cpu: Cpu, ins: Insn): void {
  const size = ins.osize;
  let lo = cpu.readRm(ins);
  const hi = size === 8 ? cpu.vhi : 0;
  if (size === 2) lo &= 0xffff;
  const n = popcount32(lo) + popcount32(hi);
  writeDest(cpu, ins, n);
  materialize(cpu);
  cpu.flags = (cpu.flags & ~ARITH_FLAGS) | (n === 0 ? ZF : 0);
}

// ------------------------------------------------------------------ registration

const NAMES = ['bt', 'bts', 'btr', 'btc'];
const REG_OPCODES = [0xa3, 0xab, 0xb3, 0xbb];
for (let k = 0; k < 4; k++) {
  const lockable = k !== BT;
  defineOp(MAP_0F, REG_OPCODES[k], { name: NAMES[k], exec: (cpu, ins) => btReg(cpu, ins, k), modrm: true, size: 'v', lockable });
  defineOp(MAP_0F, 0xba, { name: NAMES[k], exec: (cpu, ins) => btImm(cpu, ins, k), modrm: true, imm: 'Ibu', size: 'v', lockable },
    { reg: 4 + k });
}
defineOp(MAP_0F, 0xbc, { name: 'bsf', exec: bsf, modrm: true, size: 'v' });
defineOp(MAP_0F, 0xbd, { name: 'bsr', exec: bsr, modrm: true, size: 'v' });
defineOp(MAP_0F, 0xbc, { name: 'tzcnt', exec: tzcnt, modrm: true, size: 'v' }, { prefix: 'F3' });
defineOp(MAP_0F, 0xbd, { name: 'lzcnt', exec: lzcnt, modrm: true, size: 'v' }, { prefix: 'F3' });
defineOp(MAP_0F, 0xb8, { name: 'popcnt', exec: popcnt, modrm: true, size: 'v' }, { prefix: 'F3' });
