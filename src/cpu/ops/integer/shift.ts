// Shifts and rotates: group 2 (ROL ROR RCL RCR SHL SHR SAL SAR by 1, CL or imm8) and the
// double shifts SHLD/SHRD. The count is masked to 5 bits (6 with a 64-bit operand); a masked
// count of 0 changes no flags. Flags the SDM leaves undefined get what the formula for a
// count of 1 gives (OF) or what shifting one bit at a time gives (CF).

import type { Cpu } from '../../cpu.js';
import { getCF, materialize, setResultFlags } from '../../flags.js';
import type { Insn } from '../../insn.js';
import { MAP_0F, MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { CF, OF } from '../../regs.js';
import { rmwRead } from './operands.js';

const K_ROL = 0, K_ROR = 1, K_RCL = 2, K_RCR = 3, K_SHL = 4, K_SHR = 5, K_SAR = 7;

const MASKS = [0, 0xff, 0xffff, 0, -1];

// results of the last compute: value halves and the two flags
let rLo = 0, rHi = 0, rCF = 0, rOF = 0;

function bit64(lo: number, hi: number, n: number): number {
  return n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1;
}

/** Shift/rotate an 8/16/32-bit value by a non-zero masked count. */
function computeN(kind: number, size: number, v: number, c: number, cfIn: number): void {
  const bits = size * 8;
  const mask = MASKS[size];
  const msb = bits - 1;
  v &= mask;
  switch (kind) {
    case K_ROL: {
      const e = c % bits;
      const r = e === 0 ? v : ((v << e) | (v >>> (bits - e))) & mask;
      rLo = r; rCF = r & 1; rOF = ((r >>> msb) & 1) ^ rCF;
      return;
    }
    case K_ROR: {
      const e = c % bits;
      const r = e === 0 ? v : ((v >>> e) | (v << (bits - e))) & mask;
      rLo = r; rCF = (r >>> msb) & 1; rOF = rCF ^ ((r >>> (msb - 1)) & 1);
      return;
    }
    case K_RCL: {
      const e = size === 4 ? c : c % (bits + 1);
      let r = v, cf = cfIn;
      for (let i = 0; i < e; i++) {
        const out = (r >>> msb) & 1;
        r = ((r << 1) | cf) & mask;
        cf = out;
      }
      rLo = r; rCF = cf; rOF = ((r >>> msb) & 1) ^ cf;
      return;
    }
    case K_RCR: {
      const e = size === 4 ? c : c % (bits + 1);
      let r = v, cf = cfIn;
      for (let i = 0; i < e; i++) {
        const out = r & 1;
        r = ((r >>> 1) | (cf << msb)) & mask;
        cf = out;
      }
      rLo = r; rCF = cf; rOF = ((r >>> msb) & 1) ^ ((r >>> (msb - 1)) & 1);
      return;
    }
    case K_SHR: {
      const r = v >>> c;
      rLo = r; rCF = (v >>> (c - 1)) & 1; rOF = (v >>> msb) & 1;
      return;
    }
    case K_SAR: {
      const s = (v << (32 - bits)) >> (32 - bits);
      rLo = (s >> c) & mask; rCF = (s >> (c - 1)) & 1; rOF = 0;
      return;
    }
    default: { // SHL / SAL
      const r = c >= 32 ? 0 : (v << c) & mask;
      rLo = r; rCF = c > bits ? 0 : (v >>> (bits - c)) & 1; rOF = ((r >>> msb) & 1) ^ rCF;
    }
  }
}

/** Shift/rotate a 64-bit value (halves) by a non-zero count 1..63. */
function compute64(kind: number, lo: number, hi: number, c: number, cfIn: number): void {
  switch (kind) {
    case K_ROL: case K_ROR: {
      let e = kind === K_ROL ? c : 64 - c;
      let l = lo, h = hi;
      if (e >= 32) { l = hi; h = lo; e -= 32; }
      if (e > 0) { const nl = (l << e) | (h >>> (32 - e)); h = (h << e) | (l >>> (32 - e)); l = nl; }
      rLo = l; rHi = h;
      if (kind === K_ROL) { rCF = l & 1; rOF = (h >>> 31) ^ rCF; } else { rCF = h >>> 31; rOF = rCF ^ ((h >>> 30) & 1); }
      return;
    }
    case K_RCL: case K_RCR: {
      let l = lo, h = hi, cf = cfIn;
      for (let i = 0; i < c; i++) {
        if (kind === K_RCL) {
          const out = h >>> 31;
          h = (h << 1) | (l >>> 31); l = (l << 1) | cf; cf = out;
        } else {
          const out = l & 1;
          l = (l >>> 1) | (h << 31); h = (h >>> 1) | (cf << 31); cf = out;
        }
      }
      rLo = l; rHi = h; rCF = cf;
      rOF = kind === K_RCL ? (h >>> 31) ^ cf : (h >>> 31) ^ ((h >>> 30) & 1);
      return;
    }
    case K_SHR:
      if (c < 32) { rLo = (lo >>> c) | (hi << (32 - c)); rHi = hi >>> c; } else { rLo = hi >>> (c - 32); rHi = 0; }
      rCF = bit64(lo, hi, c - 1); rOF = hi >>> 31;
      return;
    case K_SAR:
      if (c < 32) { rLo = (lo >>> c) | (hi << (32 - c)); rHi = hi >> c; } else { rLo = hi >> (c - 32); rHi = hi >> 31; }
      rCF = c - 1 < 32 ? (lo >>> (c - 1)) & 1 : (hi >> (c - 33)) & 1; rOF = 0;
      return;
    default: // SHL
      if (c < 32) { rHi = (hi << c) | (lo >>> (32 - c)); rLo = lo << c; } else { rHi = lo << (c - 32); rLo = 0; }
      rCF = bit64(lo, hi, 64 - c); rOF = (rHi >>> 31) ^ rCF;
  }
}

/** Record the flags of the last compute: rotates change only CF and OF. */
function applyFlags(cpu: Cpu, kind: number, size: number): void {
  if (kind <= K_RCR) {
    materialize(cpu);
    cpu.flags = (cpu.flags & ~(CF | OF)) | (rCF ? CF : 0) | (rOF ? OF : 0);
  } else {
    setResultFlags(cpu, size, rLo, rHi, rCF, rOF, 0);
  }
}

/** The whole group-2 instruction with the raw count (before masking). */
function shiftBy(cpu: Cpu, ins: Insn, raw: number): void {
  const size = ins.osize;
  const kind = ins.reg & 7;
  const c = raw & (size === 8 ? 63 : 31);
  if (c === 0) {
    // nothing changes, but the operand is still accessed: a memory operand must be writable
    if (ins.hasMem) cpu.probeWrite(ins.ea(cpu, ins), size);
    else if (size === 4) cpu.hi[ins.rm] = 0; // the 32-bit write still zero-extends
    return;
  }
  const cfIn = kind === K_RCL || kind === K_RCR ? (getCF(cpu) ? 1 : 0) : 0;
  if (ins.hasMem) {
    const lin = ins.ea(cpu, ins);
    const v = rmwRead(cpu, size, lin);
    if (size === 8) compute64(kind, v, cpu.vhi, c, cfIn); else computeN(kind, size, v, c, cfIn);
    cpu.writeMem(size, lin, rLo, rHi);
  } else {
    const v = cpu.readReg(size, ins.rm, ins.rex);
    if (size === 8) compute64(kind, v, cpu.hi[ins.rm], c, cfIn); else computeN(kind, size, v, c, cfIn);
    cpu.writeReg(size, ins.rm, ins.rex, rLo, rHi);
  }
  applyFlags(cpu, kind, size);
}

function shiftImm(cpu: Cpu, ins: Insn): void { shiftBy(cpu, ins, ins.imm); }
function shiftOne(cpu: Cpu, ins: Insn): void { shiftBy(cpu, ins, 1); }
function shiftCl(cpu: Cpu, ins: Insn): void { shiftBy(cpu, ins, cpu.lo[1] & 0xff); }

// ------------------------------------------------------------------ SHLD / SHRD

function doubleShift(cpu: Cpu, ins: Insn, raw: number, left: boolean): void {
  const size = ins.osize;
  const c = raw & (size === 8 ? 63 : 31);
  if (c === 0) {
    if (ins.hasMem) cpu.probeWrite(ins.ea(cpu, ins), size);
    else if (size === 4) cpu.hi[ins.rm] = 0;
    return;
  }
  const lin = ins.hasMem ? ins.ea(cpu, ins) : 0;
  const dl = ins.hasMem ? rmwRead(cpu, size, lin) : cpu.readReg(size, ins.rm, ins.rex);
  const dh = size === 8 ? (ins.hasMem ? cpu.vhi : cpu.hi[ins.rm]) : 0;
  const sl = cpu.readReg(size, ins.reg, ins.rex), sh = cpu.hi[ins.reg];
  let msbBefore: number, msbAfter: number;
  if (size === 8) {
    computeDouble64(left, dl, dh, sl, sh, c);
    msbBefore = dh >>> 31; msbAfter = rHi >>> 31;
  } else if (size === 4) {
    if (left) { rLo = (dl << c) | (sl >>> (32 - c)); rCF = (dl >>> (32 - c)) & 1; } else { rLo = (dl >>> c) | (sl << (32 - c)); rCF = (dl >>> (c - 1)) & 1; }
    msbBefore = dl >>> 31; msbAfter = rLo >>> 31;
  } else {
    computeDouble16(left, dl & 0xffff, sl & 0xffff, c);
    msbBefore = (dl >>> 15) & 1; msbAfter = (rLo >>> 15) & 1;
  }
  rOF = msbBefore ^ msbAfter;
  if (ins.hasMem) cpu.writeMem(size, lin, rLo, rHi); else cpu.writeReg(size, ins.rm, ins.rex, rLo, rHi);
  setResultFlags(cpu, size, rLo, rHi, rCF, rOF, 0);
}

/**
 * 16-bit double shift. Counts above 16 are undefined; hardware (measured) shifts through
 * d:s:s for SHLD and s:s:d for SHRD, i.e. the result is the source rotated by count-16.
 */
function computeDouble16(left: boolean, d: number, s: number, c: number): void {
  if (left) {
    if (c <= 16) { rLo = ((d << c) | (s >>> (16 - c))) & 0xffff; rCF = (d >>> (16 - c)) & 1; } else {
      const e = c - 16;
      rLo = ((s << e) | (s >>> (16 - e))) & 0xffff; rCF = (s >>> (16 - e)) & 1;
    }
  } else if (c <= 16) {
    rLo = ((d >>> c) | (s << (16 - c))) & 0xffff; rCF = (d >>> (c - 1)) & 1;
  } else {
    const e = c - 16;
    rLo = ((s >>> e) | (s << (16 - e))) & 0xffff; rCF = (s >>> (e - 1)) & 1;
  }
}

function computeDouble64(left: boolean, dl: number, dh: number, sl: number, sh: number, c: number): void {
  if (left) {
    rCF = bit64(dl, dh, 64 - c);
    if (c < 32) {
      rHi = (dh << c) | (dl >>> (32 - c)); rLo = (dl << c) | (sh >>> (32 - c));
    } else {
      const e = c - 32;
      rHi = e === 0 ? dl : (dl << e) | (sh >>> (32 - e)); rLo = e === 0 ? sh : (sh << e) | (sl >>> (32 - e));
    }
  } else {
    rCF = bit64(dl, dh, c - 1);
    if (c < 32) {
      rLo = (dl >>> c) | (dh << (32 - c)); rHi = (dh >>> c) | (sl << (32 - c));
    } else {
      const e = c - 32;
      rLo = e === 0 ? dh : (dh >>> e) | (sl << (32 - e)); rHi = e === 0 ? sl : (sl >>> e) | (sh << (32 - e));
    }
  }
}

// ------------------------------------------------------------------ registration

const NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
for (let k = 0; k < 8; k++) {
  const name = NAMES[k];
  defineOp(MAP_1B, 0xc0, { name, exec: shiftImm, modrm: true, imm: 'Ibu', size: 'b' }, { reg: k });
  defineOp(MAP_1B, 0xc1, { name, exec: shiftImm, modrm: true, imm: 'Ibu', size: 'v' }, { reg: k });
  defineOp(MAP_1B, 0xd0, { name, exec: shiftOne, modrm: true, size: 'b' }, { reg: k });
  defineOp(MAP_1B, 0xd1, { name, exec: shiftOne, modrm: true, size: 'v' }, { reg: k });
  defineOp(MAP_1B, 0xd2, { name, exec: shiftCl, modrm: true, size: 'b' }, { reg: k });
  defineOp(MAP_1B, 0xd3, { name, exec: shiftCl, modrm: true, size: 'v' }, { reg: k });
}
defineOp(MAP_0F, 0xa4, { name: 'shld', exec: (cpu, ins) => doubleShift(cpu, ins, ins.imm, true), modrm: true, imm: 'Ibu', size: 'v' });
defineOp(MAP_0F, 0xa5, { name: 'shld', exec: (cpu, ins) => doubleShift(cpu, ins, cpu.lo[1] & 0xff, true), modrm: true, size: 'v' });
defineOp(MAP_0F, 0xac, { name: 'shrd', exec: (cpu, ins) => doubleShift(cpu, ins, ins.imm, false), modrm: true, imm: 'Ibu', size: 'v' });
defineOp(MAP_0F, 0xad, { name: 'shrd', exec: (cpu, ins) => doubleShift(cpu, ins, cpu.lo[1] & 0xff, false), modrm: true, size: 'v' });
