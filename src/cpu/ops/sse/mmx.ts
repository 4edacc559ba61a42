// MMX (and the SSE/SSE2 additions to it) on the eight 64-bit MM registers: MOVD/MOVQ, EMMS, the
// packed add/sub/saturate/multiply/compare/logic/shift/pack/unpack forms (no mandatory prefix,
// the same opcodes as their 66-prefixed XMM versions), PAVG/PMIN/PMAX/PSADBW/PMULHUW/PSHUFW/
// PEXTRW/PINSRW/PMOVMSKB/MOVNTQ/MASKMOVQ, PADDQ/PSUBQ/PMULUDQ, MOVQ2DQ/MOVDQ2Q and the
// CVTPI2PS/CVT(T)PS2PI/CVTPI2PD/CVT(T)PD2PI conversions.
//
// MMn is physical x87 register n: an MMX write stores the 64 bits as its significand with the
// sign/exponent word 0xFFFF (as hardware does), so FXSAVE/FSAVE images and a later MMX read
// see them exactly; reading a register the x87 wrote gives its 80-bit significand. Every MMX instruction sets TOP = 0 and marks all registers in use; EMMS empties
// them. Lanes are computed by the XMM routines on the low half of the scratch vectors.

import type { Cpu } from '../../cpu.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp, type PrefixRule } from '../../optable.js';
import { CR0_EM, CR0_TS, NM, UD } from '../../regs.js';
import { reportPending, TAG_VALID } from '../x87/fpu-state.js';
import { INT_OPS } from './int-arith.js';
import { shiftLanes, SHIFT_SLL, SHIFT_SRA, SHIFT_SRL } from './int-shift.js';
import { PACK_UNPACK_OPS } from './pack-unpack.js';
import { fpBegin, fpx } from './fp-lane.js';
import { roundToInteger } from './convert.js';
import { MX_IE, MX_PE, signalSimd } from './mxcsr.js';
import { sfFlags, sfFromInt64, FMT32 } from './softfloat.js';
import { A, AU16, AU8, B, BF32, BF64, BU16, BU8, getXmm, loadB128, R, RF32, RF64, RU16, sseGate } from './xmm-access.js';

/** #UD under x87 emulation, #NM with CR0.TS, a pending x87 exception (#MF or FERR#); then enter MMX state. */
function mmxEnter(cpu: Cpu): void {
  const cr0 = cpu.cr0;
  if ((cr0 & CR0_EM) !== 0) cpu.fault(UD);
  if ((cr0 & CR0_TS) !== 0) cpu.fault(NM);
  reportPending(cpu);
  cpu.fpTop = 0;
  const t = cpu.fpTag;
  const empty = t & (t >> 1) & 0x5555; // registers tagged 11
  cpu.fpTag = t & ~(empty | (empty << 1));
}

/** MMi into dst[at], dst[at + 1] */
function readMm(cpu: Cpu, i: number, dst: Int32Array, at: number): void {
  dst[at] = cpu.fpr[i * 3];
  dst[at + 1] = cpu.fpr[i * 3 + 1];
}

function writeMm(cpu: Cpu, i: number, lo: number, hi: number): void {
  const r = cpu.fpr;
  r[i * 3] = lo;
  r[i * 3 + 1] = hi;
  r[i * 3 + 2] = 0xffff;
  cpu.fpTag = (cpu.fpTag & ~(3 << (i * 2))) | (TAG_VALID << (i * 2));
}

/** second operand (mm/m64) into B[0..1], B[2..3] = 0 */
function loadSource(cpu: Cpu, ins: Insn): void {
  if (ins.hasMem) {
    B[0] = cpu.read64(ins.ea(cpu, ins));
    B[1] = cpu.vhi;
  } else {
    readMm(cpu, ins.rm & 7, B, 0);
  }
  B[2] = 0; B[3] = 0;
}

const PLAIN = 0, PACK = 1, HIGH = 2;

/** mm = mm op mm/m64 through an XMM lane routine (`shape` adapts packs and high unpacks) */
function binary(compute: () => void, shape: number): Exec {
  return (cpu, ins) => {
    mmxEnter(cpu);
    loadSource(cpu, ins);
    const d = ins.reg & 7;
    readMm(cpu, d, A, 0);
    A[2] = 0; A[3] = 0;
    if (shape === PACK) { A[2] = B[0]; A[3] = B[1]; }
    else if (shape === HIGH) { A[0] = A[1]; B[0] = B[1]; }
    compute();
    writeMm(cpu, d, R[0], R[1]);
  };
}

const HIGH_UNPACKS: Record<number, number> = { 0x68: 0x60, 0x69: 0x61, 0x6a: 0x62 };
const lanes = new Map<number, () => void>();
for (const [, opcode, compute] of INT_OPS) lanes.set(opcode, compute);
for (const [, opcode, , compute] of PACK_UNPACK_OPS) if (opcode >= 0x60) lanes.set(opcode, compute);

for (const [name, opcode] of INT_OPS) {
  defineOp(MAP_0F, opcode, { name, exec: binary(lanes.get(opcode)!, PLAIN), modrm: true, size: 'x' }, { prefix: 'np' });
}
for (const [name, opcode] of [['packsswb', 0x63], ['packssdw', 0x6b], ['packuswb', 0x67]] as const) {
  defineOp(MAP_0F, opcode, { name, exec: binary(lanes.get(opcode)!, PACK), modrm: true, size: 'x' }, { prefix: 'np' });
}
for (const [name, opcode] of [['punpcklbw', 0x60], ['punpcklwd', 0x61], ['punpckldq', 0x62]] as const) {
  defineOp(MAP_0F, opcode, { name, exec: binary(lanes.get(opcode)!, PLAIN), modrm: true, size: 'x' }, { prefix: 'np' });
}
for (const [name, opcode] of [['punpckhbw', 0x68], ['punpckhwd', 0x69], ['punpckhdq', 0x6a]] as const) {
  defineOp(MAP_0F, opcode, { name, exec: binary(lanes.get(HIGH_UNPACKS[opcode])!, HIGH), modrm: true, size: 'x' }, { prefix: 'np' });
}

// ---------------------------------------------------------------- logic

function logic(kind: number): Exec {
  return (cpu, ins) => {
    mmxEnter(cpu);
    loadSource(cpu, ins);
    const d = ins.reg & 7;
    readMm(cpu, d, A, 0);
    for (let k = 0; k < 2; k++) {
      const a = A[k], b = B[k];
      R[k] = kind === 0 ? a & b : kind === 1 ? ~a & b : kind === 2 ? a | b : a ^ b;
    }
    writeMm(cpu, d, R[0], R[1]);
  };
}
defineOp(MAP_0F, 0xdb, { name: 'pand', exec: logic(0), modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0xdf, { name: 'pandn', exec: logic(1), modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0xeb, { name: 'por', exec: logic(2), modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0xef, { name: 'pxor', exec: logic(3), modrm: true, size: 'x' }, { prefix: 'np' });

// ---------------------------------------------------------------- shifts

function shiftBy(kind: number, width: number, byImm: boolean): Exec {
  return (cpu, ins) => {
    mmxEnter(cpu);
    let n: number;
    let d: number;
    if (byImm) {
      d = ins.rm & 7;
      n = ins.imm & 0xff;
    } else {
      loadSource(cpu, ins);
      d = ins.reg & 7;
      n = B[1] !== 0 || (B[0] >>> 0) > 255 ? 255 : B[0];
    }
    readMm(cpu, d, A, 0);
    A[2] = 0; A[3] = 0;
    shiftLanes(kind, width, n);
    writeMm(cpu, d, R[0], R[1]);
  };
}

const SHIFTS: [string, number, number, number, number, number][] = [
  // name, vector opcode, imm opcode, imm /digit, kind, width
  ['psrlw', 0xd1, 0x71, 2, SHIFT_SRL, 16], ['psraw', 0xe1, 0x71, 4, SHIFT_SRA, 16], ['psllw', 0xf1, 0x71, 6, SHIFT_SLL, 16],
  ['psrld', 0xd2, 0x72, 2, SHIFT_SRL, 32], ['psrad', 0xe2, 0x72, 4, SHIFT_SRA, 32], ['pslld', 0xf2, 0x72, 6, SHIFT_SLL, 32],
  ['psrlq', 0xd3, 0x73, 2, SHIFT_SRL, 64], ['psllq', 0xf3, 0x73, 6, SHIFT_SLL, 64],
];
for (const [name, vop, iop, digit, kind, width] of SHIFTS) {
  defineOp(MAP_0F, vop, { name, exec: shiftBy(kind, width, false), modrm: true, size: 'x' }, { prefix: 'np' });
  defineOp(MAP_0F, iop, { name, exec: shiftBy(kind, width, true), modrm: true, imm: 'Ibu', size: 'x' }, { prefix: 'np', reg: digit, mod: 'reg' });
}

// ---------------------------------------------------------------- moves

function movdToMm(cpu: Cpu, ins: Insn): void {
  mmxEnter(cpu);
  let lo: number, hi = 0;
  if (ins.osize === 8) {
    if (ins.hasMem) { lo = cpu.read64(ins.ea(cpu, ins)); hi = cpu.vhi; } else { lo = cpu.lo[ins.rm]; hi = cpu.hi[ins.rm]; }
  } else {
    lo = ins.hasMem ? cpu.read32(ins.ea(cpu, ins)) : cpu.lo[ins.rm];
  }
  writeMm(cpu, ins.reg & 7, lo, hi);
}

function movdFromMm(cpu: Cpu, ins: Insn): void {
  mmxEnter(cpu);
  readMm(cpu, ins.reg & 7, A, 0);
  if (ins.osize === 8) {
    if (ins.hasMem) cpu.write64(ins.ea(cpu, ins), A[0], A[1]);
    else { cpu.lo[ins.rm] = A[0]; cpu.hi[ins.rm] = A[1]; }
  } else if (ins.hasMem) cpu.write32(ins.ea(cpu, ins), A[0]);
  else { cpu.lo[ins.rm] = A[0]; cpu.hi[ins.rm] = 0; }
}

function movqLoad(cpu: Cpu, ins: Insn): void {
  mmxEnter(cpu);
  loadSource(cpu, ins);
  writeMm(cpu, ins.reg & 7, B[0], B[1]);
}

/** MOVQ mm/m64, mm and MOVNTQ m64, mm */
function movqStore(cpu: Cpu, ins: Insn): void {
  mmxEnter(cpu);
  readMm(cpu, ins.reg & 7, A, 0);
  if (ins.hasMem) cpu.write64(ins.ea(cpu, ins), A[0], A[1]);
  else writeMm(cpu, ins.rm & 7, A[0], A[1]);
}

function emms(cpu: Cpu): void {
  if ((cpu.cr0 & CR0_EM) !== 0) cpu.fault(UD);
  if ((cpu.cr0 & CR0_TS) !== 0) cpu.fault(NM);
  cpu.fpTag = 0xffff;
}

defineOp(MAP_0F, 0x6e, { name: 'movd', exec: movdToMm, modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0x7e, { name: 'movd', exec: movdFromMm, modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0x6f, { name: 'movq', exec: movqLoad, modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0x7f, { name: 'movq', exec: movqStore, modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0xe7, { name: 'movntq', exec: movqStore, modrm: true, size: 'x' }, { prefix: 'np', mod: 'mem' });
defineOp(MAP_0F, 0x77, { name: 'emms', exec: emms, size: 'x' }, { prefix: 'np' });

/** MOVQ2DQ xmm, mm (F3 0F D6) and MOVDQ2Q mm, xmm (F2 0F D6) */
function movq2dq(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  mmxEnter(cpu);
  readMm(cpu, ins.rm & 7, A, 0);
  const x = cpu.xmm, d = ins.reg << 2;
  x[d] = A[0]; x[d + 1] = A[1]; x[d + 2] = 0; x[d + 3] = 0;
}

function movdq2q(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  mmxEnter(cpu);
  const x = cpu.xmm, s = ins.rm << 2;
  writeMm(cpu, ins.reg & 7, x[s], x[s + 1]);
}

defineOp(MAP_0F, 0xd6, { name: 'movq2dq', exec: movq2dq, modrm: true, size: 'x' }, { prefix: 'F3', mod: 'reg' });
defineOp(MAP_0F, 0xd6, { name: 'movdq2q', exec: movdq2q, modrm: true, size: 'x' }, { prefix: 'F2', mod: 'reg' });

// ---------------------------------------------------------------- SSE integer additions

function pshufw(cpu: Cpu, ins: Insn): void {
  mmxEnter(cpu);
  loadSource(cpu, ins);
  const m = ins.imm;
  for (let k = 0; k < 4; k++) RU16[k] = BU16[(m >> (2 * k)) & 3];
  writeMm(cpu, ins.reg & 7, R[0], R[1]);
}

function pextrw(cpu: Cpu, ins: Insn): void {
  mmxEnter(cpu);
  readMm(cpu, ins.rm & 7, A, 0);
  cpu.lo[ins.reg] = AU16[ins.imm & 3];
  cpu.hi[ins.reg] = 0;
}

function pinsrw(cpu: Cpu, ins: Insn): void {
  mmxEnter(cpu);
  const v = cpu.readRm16(ins);
  const d = ins.reg & 7;
  readMm(cpu, d, A, 0);
  AU16[ins.imm & 3] = v;
  writeMm(cpu, d, A[0], A[1]);
}

function pmovmskb(cpu: Cpu, ins: Insn): void {
  mmxEnter(cpu);
  readMm(cpu, ins.rm & 7, A, 0);
  let m = 0;
  for (let k = 0; k < 8; k++) m |= (AU8[k] >> 7) << k;
  cpu.lo[ins.reg] = m;
  cpu.hi[ins.reg] = 0;
}

/** MASKMOVQ mm1, mm2: bytes of mm1 selected by the top bits of mm2 go to [rDI] */
function maskmovq(cpu: Cpu, ins: Insn): void {
  mmxEnter(cpu);
  readMm(cpu, ins.reg & 7, A, 0);
  readMm(cpu, ins.rm & 7, B, 0);
  let base = ins.asize === 8 ? cpu.hi[7] * 4294967296 + (cpu.lo[7] >>> 0) : ins.asize === 4 ? cpu.lo[7] >>> 0 : cpu.lo[7] & 0xffff;
  if (!cpu.mode64) base = (base + cpu.segBase[ins.seg]) % 4294967296;
  for (let k = 0; k < 8; k++) if (BU8[k] & 0x80) cpu.probeWrite(base + k, 1);
  for (let k = 0; k < 8; k++) if (BU8[k] & 0x80) cpu.write8(base + k, AU8[k]);
}

defineOp(MAP_0F, 0x70, { name: 'pshufw', exec: pshufw, modrm: true, imm: 'Ibu', size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0xc5, { name: 'pextrw', exec: pextrw, modrm: true, imm: 'Ibu', size: 'x' }, { prefix: 'np', mod: 'reg' });
defineOp(MAP_0F, 0xc4, { name: 'pinsrw', exec: pinsrw, modrm: true, imm: 'Ibu', size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0xd7, { name: 'pmovmskb', exec: pmovmskb, modrm: true, size: 'x' }, { prefix: 'np', mod: 'reg' });
defineOp(MAP_0F, 0xf7, { name: 'maskmovq', exec: maskmovq, modrm: true, size: 'x' }, { prefix: 'np', mod: 'reg' });

// ---------------------------------------------------------------- conversions with MMX operands

/** CVTPI2PS xmm, mm/m64: two int32 to the low two singles (MXCSR rounding) */
function cvtpi2ps(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  if (!ins.hasMem) mmxEnter(cpu);
  loadSource(cpu, ins);
  fpBegin(cpu.mxcsr);
  for (let k = 0; k < 2; k++) {
    const v = B[k];
    if (v < 16777216 && v > -16777216) RF32[k] = v;
    else { RF32[k] = sfFromInt64(v, v >> 31, FMT32, (cpu.mxcsr >> 13) & 3); fpx.post |= sfFlags; }
  }
  if (fpx.post !== 0) signalSimd(cpu, 0, fpx.post);
  cpu.xmm[ins.reg << 2] = R[0];
  cpu.xmm[(ins.reg << 2) + 1] = R[1];
}

/** CVTPI2PD xmm, mm/m64: exact */
function cvtpi2pd(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  if (!ins.hasMem) mmxEnter(cpu);
  loadSource(cpu, ins);
  const b0 = B[0], b1 = B[1];
  RF64[0] = b0;
  RF64[1] = b1;
  const x = cpu.xmm, d = ins.reg << 2;
  x[d] = R[0]; x[d + 1] = R[1]; x[d + 2] = R[2]; x[d + 3] = R[3];
}

/** CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128: to two int32 */
function toPi(double: boolean, truncate: boolean): Exec {
  return (cpu, ins) => {
    sseGate(cpu);
    mmxEnter(cpu);
    if (double) loadB128(cpu, ins);
    else if (ins.hasMem) { B[0] = cpu.read64(ins.ea(cpu, ins)); B[1] = cpu.vhi; } else getXmm(cpu, ins.rm, B);
    fpBegin(cpu.mxcsr);
    const rc = (cpu.mxcsr >> 13) & 3;
    for (let k = 0; k < 2; k++) {
      const isNaN = double ? (B[2 * k + 1] & 0x7ff00000) === 0x7ff00000 && ((B[2 * k + 1] & 0xfffff) | B[2 * k]) !== 0
        : (B[k] & 0x7fffffff) > 0x7f800000;
      let x = double ? BF64[k] : BF32[k];
      const denormal = double ? (B[2 * k + 1] & 0x7ff00000) === 0 : (B[k] & 0x7f800000) === 0;
      if (denormal && (cpu.mxcsr & 0x40) !== 0) x = 0;
      const r = isNaN ? NaN : truncate ? Math.trunc(x) : roundToInteger(x, rc);
      if (r >= -2147483648 && r < 2147483648) {
        if (r !== x) fpx.post |= MX_PE;
        A[k] = r | 0;
      } else {
        fpx.pre |= MX_IE;
        A[k] = 0x80000000 | 0;
      }
    }
    if ((fpx.pre | fpx.post) !== 0) signalSimd(cpu, fpx.pre, fpx.post);
    writeMm(cpu, ins.reg & 7, A[0], A[1]);
  };
}

const CVT: [number, PrefixRule, string, Exec][] = [
  [0x2a, 'np', 'cvtpi2ps', cvtpi2ps], [0x2a, '66', 'cvtpi2pd', cvtpi2pd],
  [0x2d, 'np', 'cvtps2pi', toPi(false, false)], [0x2c, 'np', 'cvttps2pi', toPi(false, true)],
  [0x2d, '66', 'cvtpd2pi', toPi(true, false)], [0x2c, '66', 'cvttpd2pi', toPi(true, true)],
];
for (const [opcode, prefix, name, exec] of CVT) defineOp(MAP_0F, opcode, { name, exec, modrm: true, size: 'x' }, { prefix });

