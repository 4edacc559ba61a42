// x87 data movement: FLD/FST/FSTP with m32real, m64real, m80real and ST(i); FILD/FIST/FISTP
// (m16/m32/m64 integers) and FISTTP (truncating, SSE3 but common in 64-bit code); FBLD/FBSTP
// (packed BCD); the constants FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ; FXCH, FFREE,
// FINCSTP/FDECSTP, FCMOVcc and FNOP. Loads of m32/m64/integers/BCD are exact; stores round once
// by RC to the destination format (f80-convert.ts).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { testCC } from '../../flags.js';
import { defineOp, type OpMatch } from '../../optable.js';
import { type F80, PC_64, QUIET, RC_ZERO, roundF80, SW_IE, SW_OE, SW_UE } from './f80-arith.js';
import { fromBcd, fromF32, fromF64, fromInt, isSnan, type Loaded, toBcd, toBinary, toInt } from './f80-convert.js';
import {
  fpuGateWait, fpuRaise, freeReg, noteInstruction, pop, push, readSt, roundingControl, SW_C1, suppressed, writeSt,
} from './fpu-state.js';

function def(opcode: number, name: string, exec: (cpu: Cpu, ins: Insn) => void, match: OpMatch): void {
  defineOp(MAP_1B, opcode, { name, exec, modrm: true, size: 'x' }, match);
}

// ---------------------------------------------------------------- loads

/** FLD m32/m64: an SNaN is quietened with IE, a denormal reports DE; both block the push when unmasked. */
function pushLoaded(cpu: Cpu, m: Loaded): void {
  let v = m.v, sw = m.sw;
  if (isSnan(v)) { v = { se: v.se, sig: v.sig | QUIET }; sw |= SW_IE; }
  fpuRaise(cpu, sw);
  if (!suppressed(cpu)) push(cpu, v);
}

function fldM32(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  const m = fromF32(cpu.read32(lin));
  noteInstruction(cpu, ins, lin);
  pushLoaded(cpu, m);
}

function fldM64(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  const lo = cpu.read64(lin);
  const m = fromF64(lo, cpu.vhi);
  noteInstruction(cpu, ins, lin);
  pushLoaded(cpu, m);
}

/** an 80-bit value in memory (no conversion, no exception: an SNaN loads as it is) */
export function readF80(cpu: Cpu, lin: number): F80 {
  const lo = cpu.read32(lin), hi = cpu.read32(lin + 4), se = cpu.read16(lin + 8);
  return { se: se & 0xffff, sig: (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0) };
}

export function writeF80(cpu: Cpu, lin: number, v: F80): void {
  cpu.write32(lin, Number(v.sig & 0xffffffffn) | 0);
  cpu.write32(lin + 4, Number(v.sig >> 32n) | 0);
  cpu.write16(lin + 8, v.se & 0xffff);
}

function fldM80(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  const v = readF80(cpu, lin);
  noteInstruction(cpu, ins, lin);
  push(cpu, v);
}

function fldSt(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const v = readSt(cpu, ins.rm & 7);
  if (!suppressed(cpu)) push(cpu, v);
}

def(0xd9, 'fld', fldM32, { reg: 0, mod: 'mem' });
def(0xdd, 'fld', fldM64, { reg: 0, mod: 'mem' });
def(0xdb, 'fld', fldM80, { reg: 5, mod: 'mem' });
def(0xd9, 'fld', fldSt, { reg: 0, mod: 'reg' });

// ---------------------------------------------------------------- stores

/** flags of a store to memory: C1 (rounded up), and whether an unmasked IE/OE/UE blocks it */
function storeFlags(cpu: Cpu, sw: number): boolean {
  cpu.fpStatus = (cpu.fpStatus & ~SW_C1) | (sw & SW_C1);
  fpuRaise(cpu, sw);
  return !suppressed(cpu) && (sw & ~cpu.fpControl & (SW_IE | SW_OE | SW_UE)) === 0;
}

/**
 * What every store from ST(0) to memory does first: the gate, the address, FIP/FDP, and ST(0);
 * null when reading ST(0) raised an unmasked exception (empty: stack underflow), so nothing is stored.
 */
function storeSource(cpu: Cpu, ins: Insn): { lin: number; a: F80 } | null {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  noteInstruction(cpu, ins, lin);
  const a = readSt(cpu, 0);
  return suppressed(cpu) ? null : { lin, a };
}

function fstBinary(fmt: 32 | 64): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    const src = storeSource(cpu, ins);
    if (src === null) return;
    const { lin, a } = src;
    const r = toBinary(a, fmt, roundingControl(cpu));
    if (!storeFlags(cpu, r.sw & ~0x2)) return; // a denormal source is no DE for a store
    if (fmt === 32) cpu.write32(lin, Number(r.bits) | 0);
    else cpu.write64(lin, Number(r.bits & 0xffffffffn) | 0, Number(r.bits >> 32n) | 0);
    if ((ins.reg & 7) === 3) pop(cpu);
  };
}

function fstpM80(cpu: Cpu, ins: Insn): void {
  const src = storeSource(cpu, ins);
  if (src === null) return;
  const { lin, a } = src;
  cpu.probeWrite(lin, 10);
  writeF80(cpu, lin, a);
  cpu.fpStatus &= ~SW_C1;
  pop(cpu);
}

/** FST/FSTP ST(i): copy ST(0) */
function fstSt(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const a = readSt(cpu, 0);
  if (suppressed(cpu)) return;
  writeSt(cpu, ins.rm & 7, a);
  cpu.fpStatus &= ~SW_C1;
  if ((ins.reg & 7) === 3) pop(cpu);
}

def(0xd9, 'fst', fstBinary(32), { reg: 2, mod: 'mem' });
def(0xd9, 'fstp', fstBinary(32), { reg: 3, mod: 'mem' });
def(0xdd, 'fst', fstBinary(64), { reg: 2, mod: 'mem' });
def(0xdd, 'fstp', fstBinary(64), { reg: 3, mod: 'mem' });
def(0xdb, 'fstp', fstpM80, { reg: 7, mod: 'mem' });
def(0xdd, 'fst', fstSt, { reg: 2, mod: 'reg' });
def(0xdd, 'fstp', fstSt, { reg: 3, mod: 'reg' });

// ---------------------------------------------------------------- integers

function fild(size: number): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    fpuGateWait(cpu);
    const lin = ins.ea(cpu, ins);
    let v: bigint;
    if (size === 2) v = BigInt((cpu.read16(lin) << 16) >> 16);
    else if (size === 4) v = BigInt(cpu.read32(lin) | 0);
    else { const lo = cpu.read64(lin); v = (BigInt(cpu.vhi | 0) << 32n) | BigInt(lo >>> 0); }
    noteInstruction(cpu, ins, lin);
    push(cpu, fromInt(v));
  };
}

/** FIST/FISTP (rounding by RC) and FISTTP (truncating) to m16/m32/m64 */
function fist(size: number, truncate: boolean, popAfter: boolean): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    const src = storeSource(cpu, ins);
    if (src === null) return;
    const { lin, a } = src;
    const r = toInt(a, size * 8, truncate ? RC_ZERO : roundingControl(cpu));
    if (!storeFlags(cpu, r.sw)) return;
    const v = r.value ?? -(1n << BigInt(size * 8 - 1)); // the integer indefinite
    if (size === 2) cpu.write16(lin, Number(v & 0xffffn));
    else if (size === 4) cpu.write32(lin, Number(v & 0xffffffffn) | 0);
    else cpu.write64(lin, Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0);
    if (popAfter) pop(cpu);
  };
}

def(0xdf, 'fild', fild(2), { reg: 0, mod: 'mem' });
def(0xdb, 'fild', fild(4), { reg: 0, mod: 'mem' });
def(0xdf, 'fild', fild(8), { reg: 5, mod: 'mem' });
def(0xdf, 'fist', fist(2, false, false), { reg: 2, mod: 'mem' });
def(0xdf, 'fistp', fist(2, false, true), { reg: 3, mod: 'mem' });
def(0xdb, 'fist', fist(4, false, false), { reg: 2, mod: 'mem' });
def(0xdb, 'fistp', fist(4, false, true), { reg: 3, mod: 'mem' });
def(0xdf, 'fistp', fist(8, false, true), { reg: 7, mod: 'mem' });
def(0xdf, 'fisttp', fist(2, true, true), { reg: 1, mod: 'mem' });
def(0xdb, 'fisttp', fist(4, true, true), { reg: 1, mod: 'mem' });
def(0xdd, 'fisttp', fist(8, true, true), { reg: 1, mod: 'mem' });

// ---------------------------------------------------------------- packed BCD (18 digits + sign byte)

function fbld(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  noteInstruction(cpu, ins, lin);
  const bytes: number[] = [];
  for (let k = 0; k < 10; k++) bytes.push(cpu.read8(lin + k));
  push(cpu, fromBcd(bytes));
}

function fbstp(cpu: Cpu, ins: Insn): void {
  const src = storeSource(cpu, ins);
  if (src === null) return;
  const { lin, a } = src;
  const r = toBcd(a, roundingControl(cpu));
  cpu.probeWrite(lin, 10);
  if (!storeFlags(cpu, r.sw)) return;
  // invalid: the packed-BCD indefinite
  const bytes = r.bytes ?? [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff];
  for (let k = 0; k < 10; k++) cpu.write8(lin + k, bytes[k]);
  pop(cpu);
}

def(0xdf, 'fbld', fbld, { reg: 4, mod: 'mem' });
def(0xdf, 'fbstp', fbstp, { reg: 6, mod: 'mem' });

// ---------------------------------------------------------------- constants (D9 E8..EE)

// 128 leading bits of each constant and the exponent of its leading bit (computed from series
// in BigInt); loading rounds them to 64 bits by RC, without PE, as current processors do
const CONSTANTS: [number, string, bigint, number][] = [
  [0, 'fld1', 1n << 127n, 0],
  [1, 'fldl2t', 0xd49a784bcd1b8afe492bf6ff4dafdb4cn, 1],
  [2, 'fldl2e', 0xb8aa3b295c17f0bbbe87fed0691d3e88n, 0],
  [3, 'fldpi', 0xc90fdaa22168c234c4c6628b80dc1cd1n, 1],
  [4, 'fldlg2', 0x9a209a84fbcff7988f8959ac0b7c9178n, -2],
  [5, 'fldln2', 0xb17217f7d1cf79abc9e3b39803f2f6afn, -1],
  [6, 'fldz', 0n, 0],
];
for (const [rm, name, sig, exp] of CONSTANTS) {
  def(0xd9, name, (cpu, ins) => {
    fpuGateWait(cpu);
    noteInstruction(cpu, ins, 0);
    const v = sig === 0n ? { se: 0, sig: 0n } : roundF80(false, sig, exp - 127, rm !== 0, PC_64, roundingControl(cpu)).v;
    push(cpu, v);
  }, { reg: 5, rm, mod: 'reg' });
}

// ---------------------------------------------------------------- register management

function fxch(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const i = ins.rm & 7;
  const a = readSt(cpu, 0), b = readSt(cpu, i);
  if (suppressed(cpu)) return;
  writeSt(cpu, 0, b);
  writeSt(cpu, i, a);
  cpu.fpStatus &= ~SW_C1;
}

function ffree(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  freeReg(cpu, ins.rm & 7);
}

/** FFREEP (DF C0+i, undocumented but used by some compilers): free ST(i) and pop */
function ffreep(cpu: Cpu, ins: Insn): void {
  ffree(cpu, ins);
  pop(cpu);
}

function fincstp(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  cpu.fpTop = (cpu.fpTop + 1) & 7;
  cpu.fpStatus &= ~SW_C1;
}

function fdecstp(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  cpu.fpTop = (cpu.fpTop - 1) & 7;
  cpu.fpStatus &= ~SW_C1;
}

function fnop(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
}

def(0xd9, 'fxch', fxch, { reg: 1, mod: 'reg' });
def(0xdd, 'ffree', ffree, { reg: 0, mod: 'reg' });
def(0xdf, 'ffreep', ffreep, { reg: 0, mod: 'reg' });
def(0xd9, 'fincstp', fincstp, { reg: 6, rm: 7, mod: 'reg' });
def(0xd9, 'fdecstp', fdecstp, { reg: 6, rm: 6, mod: 'reg' });
def(0xd9, 'fnop', fnop, { reg: 2, rm: 0, mod: 'reg' });

// ---------------------------------------------------------------- FCMOVcc (DA/DB C0..DF)

// condition codes (Jcc numbering) of DA /0../3 and DB /0../3: B E BE U, NB NE NBE NU
const FCMOV_CC = [[2, 4, 6, 10], [3, 5, 7, 11]];

function fcmov(cc: number): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    fpuGateWait(cpu);
    noteInstruction(cpu, ins, 0);
    const v = readSt(cpu, ins.rm & 7);
    if (!suppressed(cpu) && testCC(cpu, cc)) writeSt(cpu, 0, v);
  };
}

for (let k = 0; k < 4; k++) {
  def(0xda, ['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu'][k], fcmov(FCMOV_CC[0][k]), { reg: k, mod: 'reg' });
  def(0xdb, ['fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu'][k], fcmov(FCMOV_CC[1][k]), { reg: k, mod: 'reg' });
}

