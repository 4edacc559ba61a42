// BMI1 (ANDN BEXTR BLSI BLSMSK BLSR; TZCNT is in bitops.ts) and BMI2 (BZHI PDEP PEXT MULX
// RORX SARX SHLX SHRX): VEX-encoded general-register instructions. VEX.W selects 64-bit
// operands (in 64-bit mode), VEX.vvvv names the extra register, VEX.L=1 is #UD.

import type { Cpu } from '../../cpu.js';
import { setResultFlags } from '../../flags.js';
import type { Insn } from '../../insn.js';
import { MAP_0F38, MAP_0F3A } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { UD } from '../../regs.js';
import { mulHiU32, mulU64, prod } from '../../exact-multiply.js';

let outHi = 0; // high half of a 64-bit result

function size(ins: Insn): number {
  return ins.osize === 8 ? 8 : 4;
}

/** the r/m source (low half returned, high half in outHi) */
function src(cpu: Cpu, ins: Insn): number {
  if (ins.vexL) cpu.fault(UD);
  if (size(ins) === 8) {
    if (ins.hasMem) { const lo = cpu.read64(ins.ea(cpu, ins)); outHi = cpu.vhi; return lo; }
    outHi = cpu.hi[ins.rm]; return cpu.lo[ins.rm];
  }
  outHi = 0;
  return ins.hasMem ? cpu.read32(ins.ea(cpu, ins)) : cpu.lo[ins.rm];
}

function write(cpu: Cpu, r: number, s: number, lo: number, hi: number): void {
  cpu.lo[r] = lo;
  cpu.hi[r] = s === 8 ? hi : 0;
}

// ------------------------------------------------------------------ 64-bit shifts on halves

function shr64(lo: number, hi: number, n: number): number {
  if (n === 0) { outHi = hi; return lo; }
  if (n < 32) { outHi = hi >>> n; return (lo >>> n) | (hi << (32 - n)); }
  outHi = 0; return n >= 64 ? 0 : hi >>> (n - 32);
}
function sar64(lo: number, hi: number, n: number): number {
  if (n === 0) { outHi = hi; return lo; }
  if (n < 32) { outHi = hi >> n; return (lo >>> n) | (hi << (32 - n)); }
  outHi = hi >> 31; return hi >> (n - 32);
}
function shl64(lo: number, hi: number, n: number): number {
  if (n === 0) { outHi = hi; return lo; }
  if (n < 32) { outHi = (hi << n) | (lo >>> (32 - n)); return lo << n; }
  outHi = n >= 64 ? 0 : lo << (n - 32); return 0;
}
/** low n bits of a 64-bit value (n >= 64: all) */
function lowBits64(lo: number, hi: number, n: number): number {
  if (n >= 64) { outHi = hi; return lo; }
  if (n >= 32) { outHi = n === 32 ? 0 : hi & ((1 << (n - 32)) - 1); return lo; }
  outHi = 0; return n === 0 ? 0 : lo & (n === 32 ? -1 : (1 << n) - 1);
}

// ------------------------------------------------------------------ BMI1

function andn(cpu: Cpu, ins: Insn): void {
  const s = size(ins);
  const bl = src(cpu, ins), bh = outHi;
  const lo = ~cpu.lo[ins.vvvv] & bl, hi = s === 8 ? ~cpu.hi[ins.vvvv] & bh : 0;
  write(cpu, ins.reg, s, lo, hi);
  setResultFlags(cpu, s, lo, hi, 0, 0);
}

function bextr(cpu: Cpu, ins: Insn): void {
  const s = size(ins);
  const vl = src(cpu, ins), vh = outHi;
  const ctl = cpu.lo[ins.vvvv];
  const start = ctl & 0xff, len = (ctl >> 8) & 0xff;
  let lo: number, hi: number;
  if (s === 8) {
    const sl = start >= 64 ? 0 : shr64(vl, vh, start), sh = start >= 64 ? 0 : outHi;
    lo = lowBits64(sl, sh, len); hi = outHi;
  } else {
    const shifted = start >= 32 ? 0 : vl >>> start;
    lo = len >= 32 ? shifted : len === 0 ? 0 : shifted & ((1 << len) - 1); hi = 0;
  }
  write(cpu, ins.reg, s, lo, hi);
  setResultFlags(cpu, s, lo, hi, 0, 0);
}

/** BLSI / BLSMSK / BLSR (group 0F38 F3 /3 /2 /1): destination is VEX.vvvv */
function blsGroup(cpu: Cpu, ins: Insn, kind: number): void {
  const s = size(ins);
  const al = src(cpu, ins), ah = outHi;
  const zero = al === 0 && ah === 0;
  // src - 1 and -src on halves
  const ml = (al - 1) | 0, mh = s === 8 ? (ah - (al === 0 ? 1 : 0)) | 0 : 0;
  let lo: number, hi: number, cf: number;
  if (kind === 3) { // BLSI: src & -src
    const nl = (-al) | 0, nh = s === 8 ? (~ah + (al === 0 ? 1 : 0)) | 0 : 0;
    lo = al & nl; hi = ah & nh; cf = zero ? 0 : 1;
  } else if (kind === 2) { // BLSMSK: src ^ (src - 1)
    lo = al ^ ml; hi = s === 8 ? ah ^ mh : 0; cf = zero ? 1 : 0;
  } else { // BLSR: src & (src - 1)
    lo = al & ml; hi = s === 8 ? ah & mh : 0; cf = zero ? 1 : 0;
  }
  write(cpu, ins.vvvv, s, lo, hi);
  setResultFlags(cpu, s, lo, hi, cf, 0);
}

// ------------------------------------------------------------------ BMI2

function bzhi(cpu: Cpu, ins: Insn): void {
  const s = size(ins);
  const vl = src(cpu, ins), vh = outHi;
  const n = cpu.lo[ins.vvvv] & 0xff;
  let lo: number, hi: number;
  if (s === 8) { lo = lowBits64(vl, vh, n); hi = outHi; } else { lo = n >= 32 ? vl : n === 0 ? 0 : vl & ((1 << n) - 1); hi = 0; }
  write(cpu, ins.reg, s, lo, hi);
  setResultFlags(cpu, s, lo, hi, n > s * 8 - 1 ? 1 : 0, 0);
}

/**
 * PDEP and PEXT walk the set bits of the r/m mask alike: the k-th set bit, at position i, pairs
 * bit k of the packed value with bit i of the spread one. PDEP scatters vvvv's low bits to the
 * mask positions (k -> i); PEXT gathers vvvv's bits at the mask positions into the low bits (i -> k).
 */
function depositOrExtract(cpu: Cpu, ins: Insn, deposit: boolean): void {
  const s = size(ins);
  const ml = src(cpu, ins), mh = outHi;
  const sl = cpu.lo[ins.vvvv], sh = s === 8 ? cpu.hi[ins.vvvv] : 0;
  let lo = 0, hi = 0, k = 0;
  for (let i = 0; i < s * 8; i++) {
    const m = i < 32 ? (ml >>> i) & 1 : (mh >>> (i - 32)) & 1;
    if (!m) continue;
    const from = deposit ? k : i, to = deposit ? i : k;
    const bit = from < 32 ? (sl >>> from) & 1 : (sh >>> (from - 32)) & 1;
    if (bit) { if (to < 32) lo |= 1 << to; else hi |= 1 << (to - 32); }
    k++;
  }
  write(cpu, ins.reg, s, lo, hi);
}

const pdep = (cpu: Cpu, ins: Insn): void => depositOrExtract(cpu, ins, true);
const pext = (cpu: Cpu, ins: Insn): void => depositOrExtract(cpu, ins, false);

/** MULX: rDX * r/m unsigned; high half to reg, low half to vvvv (high wins if they are one) */
function mulx(cpu: Cpu, ins: Insn): void {
  const s = size(ins);
  const bl = src(cpu, ins), bh = outHi;
  if (s === 8) {
    mulU64(cpu.lo[2], cpu.hi[2], bl, bh);
    const l0 = prod[0], l1 = prod[1], h0 = prod[2], h1 = prod[3];
    write(cpu, ins.vvvv, 8, l0, l1);
    write(cpu, ins.reg, 8, h0, h1);
  } else {
    const a = cpu.lo[2];
    const lo = Math.imul(a, bl), hi = mulHiU32(a, bl);
    write(cpu, ins.vvvv, 4, lo, 0);
    write(cpu, ins.reg, 4, hi, 0);
  }
}

function rorx(cpu: Cpu, ins: Insn): void {
  const s = size(ins);
  const vl = src(cpu, ins), vh = outHi;
  const n = ins.imm & (s === 8 ? 63 : 31);
  if (s === 8) {
    const rl = shr64(vl, vh, n), rh = outHi;
    const ll = shl64(vl, vh, (64 - n) & 63), lh = outHi;
    write(cpu, ins.reg, 8, n === 0 ? vl : rl | ll, n === 0 ? vh : rh | lh);
  } else {
    write(cpu, ins.reg, 4, n === 0 ? vl : (vl >>> n) | (vl << (32 - n)), 0);
  }
}

/** SARX / SHLX / SHRX: shift r/m by vvvv (masked), no flags */
function shiftx(cpu: Cpu, ins: Insn, kind: 'sar' | 'shl' | 'shr'): void {
  const s = size(ins);
  const vl = src(cpu, ins), vh = outHi;
  const n = cpu.lo[ins.vvvv] & (s === 8 ? 63 : 31);
  let lo: number, hi = 0;
  if (s === 8) {
    lo = kind === 'sar' ? sar64(vl, vh, n) : kind === 'shl' ? shl64(vl, vh, n) : shr64(vl, vh, n);
    hi = outHi;
  } else {
    lo = kind === 'sar' ? vl >> n : kind === 'shl' ? vl << n : vl >>> n;
  }
  write(cpu, ins.reg, s, lo, hi);
}

// ------------------------------------------------------------------ registration

const V = { vex: true };
defineOp(MAP_0F38, 0xf2, { name: 'andn', exec: andn, modrm: true, size: 'v' }, { ...V, prefix: 'np' });
defineOp(MAP_0F38, 0xf7, { name: 'bextr', exec: bextr, modrm: true, size: 'v' }, { ...V, prefix: 'np' });
defineOp(MAP_0F38, 0xf3, { name: 'blsr', exec: (c, i) => blsGroup(c, i, 1), modrm: true, size: 'v' }, { ...V, prefix: 'np', reg: 1 });
defineOp(MAP_0F38, 0xf3, { name: 'blsmsk', exec: (c, i) => blsGroup(c, i, 2), modrm: true, size: 'v' }, { ...V, prefix: 'np', reg: 2 });
defineOp(MAP_0F38, 0xf3, { name: 'blsi', exec: (c, i) => blsGroup(c, i, 3), modrm: true, size: 'v' }, { ...V, prefix: 'np', reg: 3 });
defineOp(MAP_0F38, 0xf5, { name: 'bzhi', exec: bzhi, modrm: true, size: 'v' }, { ...V, prefix: 'np' });
defineOp(MAP_0F38, 0xf5, { name: 'pdep', exec: pdep, modrm: true, size: 'v' }, { ...V, prefix: 'F2' });
defineOp(MAP_0F38, 0xf5, { name: 'pext', exec: pext, modrm: true, size: 'v' }, { ...V, prefix: 'F3' });
defineOp(MAP_0F38, 0xf6, { name: 'mulx', exec: mulx, modrm: true, size: 'v' }, { ...V, prefix: 'F2' });
defineOp(MAP_0F3A, 0xf0, { name: 'rorx', exec: rorx, modrm: true, imm: 'Ibu', size: 'v' }, { ...V, prefix: 'F2' });
defineOp(MAP_0F38, 0xf7, { name: 'sarx', exec: (c, i) => shiftx(c, i, 'sar'), modrm: true, size: 'v' }, { ...V, prefix: 'F3' });
defineOp(MAP_0F38, 0xf7, { name: 'shlx', exec: (c, i) => shiftx(c, i, 'shl'), modrm: true, size: 'v' }, { ...V, prefix: '66' });
defineOp(MAP_0F38, 0xf7, { name: 'shrx', exec: (c, i) => shiftx(c, i, 'shr'), modrm: true, size: 'v' }, { ...V, prefix: 'F2' });
