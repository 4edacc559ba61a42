// x87 data movement: FLD/FST/FSTP with m32real, m64real, m80real and ST(i); FILD/FIST/FISTP
// (m16/m32/m64 integers) and FISTTP (truncating, SSE3 but common in 64-bit code); FBLD/FBSTP
// (packed BCD); the constants FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ; FXCH, FFREE,
// FINCSTP/FDECSTP, FCMOVcc and FNOP.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { testCC } from '../../flags.js';
import { defineOp, type OpMatch } from '../../optable.js';
import { roundToInteger } from '../sse/convert.js';
import { fpBegin, fpx, roundToF32 } from '../sse/fp-lane.js';
import {
  CW_RC_SHIFT, fprBits, fpuGateWait, fpuRaise, freeReg, noteInstruction, pop, push, pushCopy, readSt, SW_C1, SW_DE,
  SW_IE, SW_PE, TAG_RAW, writeSt,
} from './fpu-state.js';
import { storeReg80 } from './control.js';
import { fromReal80, f80Bits, r80, toReal80 } from './real80.js';

const f32 = new Float32Array(1);
const f32i = new Int32Array(f32.buffer);
const TWO32 = 4294967296;

function def(opcode: number, name: string, exec: (cpu: Cpu, ins: Insn) => void, match: OpMatch): void {
  defineOp(MAP_1B, opcode, { name, exec, modrm: true, size: 'x' }, match);
}

/** Push a value given by its binary64 bits. */
function pushBits(cpu: Cpu, lo: number, hi: number): void {
  if (push(cpu, 0)) {
    const b = fprBits(cpu), p = cpu.fpTop;
    b[p * 2] = lo;
    b[p * 2 + 1] = hi;
  }
}

// ---------------------------------------------------------------- loads

function fldM32(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  const bits = cpu.read32(lin);
  noteInstruction(cpu, ins, lin);
  if ((bits & 0x7fffffff) > 0x7f800000) {
    if ((bits & 0x400000) === 0) fpuRaise(cpu, SW_IE);
    const m = bits & 0x7fffff;
    pushBits(cpu, (m & 7) << 29, (bits & 0x80000000) | 0x7ff80000 | (m >>> 3));
    return;
  }
  if ((bits & 0x7f800000) === 0 && (bits & 0x7fffff) !== 0) fpuRaise(cpu, SW_DE);
  f32i[0] = bits;
  push(cpu, f32[0]);
}

function fldM64(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  let lo = cpu.read64(lin);
  let hi = cpu.vhi;
  noteInstruction(cpu, ins, lin);
  const e = hi & 0x7ff00000;
  if (e === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0 && (hi & 0x80000) === 0) {
    fpuRaise(cpu, SW_IE);
    hi |= 0x80000;
  } else if (e === 0 && ((hi & 0xfffff) | lo) !== 0) {
    fpuRaise(cpu, SW_DE);
  }
  lo |= 0;
  pushBits(cpu, lo, hi);
}

function fldM80(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  const lo = cpu.read32(lin), hi = cpu.read32(lin + 4), se = cpu.read16(lin + 8);
  noteInstruction(cpu, ins, lin);
  fromReal80(se, hi, lo);
  pushBits(cpu, f80Bits.lo, f80Bits.hi);
}

function fldSt(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  readSt(cpu, ins.rm & 7);
  pushCopy(cpu, (cpu.fpTop + (ins.rm & 7)) & 7);
}

def(0xd9, 'fld', fldM32, { reg: 0, mod: 'mem' });
def(0xdd, 'fld', fldM64, { reg: 0, mod: 'mem' });
def(0xdb, 'fld', fldM80, { reg: 5, mod: 'mem' });
def(0xd9, 'fld', fldSt, { reg: 0, mod: 'reg' });

// ---------------------------------------------------------------- stores

/** ST(0) bits (underflow -> indefinite) */
function st0Bits(cpu: Cpu): Int32Array {
  readSt(cpu, 0);
  return fprBits(cpu);
}

function fstM32(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  noteInstruction(cpu, ins, lin);
  const b = st0Bits(cpu), p = cpu.fpTop;
  const lo = b[p * 2], hi = b[p * 2 + 1];
  let out: number;
  const e = hi & 0x7ff00000;
  if (e === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0) {
    if ((hi & 0x80000) === 0) fpuRaise(cpu, SW_IE);
    out = (hi & 0x80000000) | 0x7fc00000 | (((hi & 0xfffff) << 3) | (lo >>> 29));
  } else {
    const v = cpu.fpr[p];
    fpBegin(0x1f80 | (((cpu.fpControl >> CW_RC_SHIFT) & 3) << 13));
    f32[0] = v - v !== 0 ? v : roundToF32(v);
    fpuRaise(cpu, fpx.post);
    // C1: the stored value was rounded up in magnitude
    if (Math.abs(f32[0]) > Math.abs(v)) cpu.fpStatus |= SW_C1; else cpu.fpStatus &= ~SW_C1;
    out = f32i[0];
  }
  cpu.write32(lin, out);
  if ((ins.reg & 7) === 3) pop(cpu);
}

function fstM64(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  noteInstruction(cpu, ins, lin);
  const b = st0Bits(cpu), p = cpu.fpTop;
  const lo = b[p * 2];
  let hi = b[p * 2 + 1];
  if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0 && (hi & 0x80000) === 0) {
    fpuRaise(cpu, SW_IE);
    hi |= 0x80000;
  }
  cpu.write64(lin, lo, hi);
  if ((ins.reg & 7) === 3) pop(cpu);
}

function fstpM80(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  noteInstruction(cpu, ins, lin);
  if (((cpu.fpTag >> (cpu.fpTop * 2)) & 3) === TAG_RAW) {
    // a raw 80-bit value (MMX data or a negative NaN restored by FXRSTOR): stored as it is
    cpu.probeWrite(lin, 10);
    storeReg80(cpu, lin, cpu.fpTop);
    pop(cpu);
    return;
  }
  const b = st0Bits(cpu), p = cpu.fpTop;
  toReal80(b[p * 2], b[p * 2 + 1]);
  cpu.probeWrite(lin, 10);
  cpu.write32(lin, r80.lo);
  cpu.write32(lin + 4, r80.hi);
  cpu.write16(lin + 8, r80.se);
  pop(cpu);
}

/** FST/FSTP ST(i): copy ST(0) (bits) */
function fstSt(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const b = st0Bits(cpu), p = cpu.fpTop;
  const lo = b[p * 2], hi = b[p * 2 + 1];
  writeSt(cpu, ins.rm & 7, 0);
  const q = (cpu.fpTop + (ins.rm & 7)) & 7;
  b[q * 2] = lo;
  b[q * 2 + 1] = hi;
  if ((ins.reg & 7) === 3) pop(cpu);
}

def(0xd9, 'fst', fstM32, { reg: 2, mod: 'mem' });
def(0xd9, 'fstp', fstM32, { reg: 3, mod: 'mem' });
def(0xdd, 'fst', fstM64, { reg: 2, mod: 'mem' });
def(0xdd, 'fstp', fstM64, { reg: 3, mod: 'mem' });
def(0xdb, 'fstp', fstpM80, { reg: 7, mod: 'mem' });
def(0xdd, 'fst', fstSt, { reg: 2, mod: 'reg' });
def(0xdd, 'fstp', fstSt, { reg: 3, mod: 'reg' });

// ---------------------------------------------------------------- integers

function fild(size: number): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    fpuGateWait(cpu);
    const lin = ins.ea(cpu, ins);
    let v: number;
    if (size === 2) v = (cpu.read16(lin) << 16) >> 16;
    else if (size === 4) v = cpu.read32(lin);
    else { const lo = cpu.read64(lin); v = cpu.vhi * TWO32 + (lo >>> 0); } // one rounding to nearest
    noteInstruction(cpu, ins, lin);
    push(cpu, v);
  };
}

const INT_LIMIT = [0, 0, 32768, 0, 2147483648, 0, 0, 0, 9223372036854775808];

/** FIST/FISTP (rounding by RC) and FISTTP (truncating) to m16/m32/m64 */
function fist(size: number, truncate: boolean, popAfter: boolean): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    fpuGateWait(cpu);
    const lin = ins.ea(cpu, ins);
    noteInstruction(cpu, ins, lin);
    const x = readSt(cpu, 0);
    let lo: number, hi = 0;
    const lim = INT_LIMIT[size];
    const r = x !== x ? NaN : truncate ? Math.trunc(x) : roundToInteger(x, (cpu.fpControl >> CW_RC_SHIFT) & 3);
    if (r >= -lim && r < lim) {
      if (r !== x) {
        fpuRaise(cpu, SW_PE);
        if (Math.abs(r) > Math.abs(x)) cpu.fpStatus |= SW_C1; else cpu.fpStatus &= ~SW_C1;
      }
      if (size === 8) { hi = Math.floor(r / TWO32); lo = (r - hi * TWO32) | 0; } else lo = r | 0;
    } else {
      fpuRaise(cpu, SW_IE);
      if (size === 2) lo = 0x8000; else if (size === 4) lo = 0x80000000 | 0; else { lo = 0; hi = 0x80000000 | 0; }
    }
    if (size === 2) cpu.write16(lin, lo & 0xffff);
    else if (size === 4) cpu.write32(lin, lo);
    else cpu.write64(lin, lo, hi | 0);
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
  let v = 0;
  for (let k = 8; k >= 0; k--) {
    const byte = cpu.read8(lin + k);
    v = v * 100 + (byte >> 4) * 10 + (byte & 15);
  }
  const sign = cpu.read8(lin + 9) & 0x80;
  push(cpu, sign ? -v : v);
}

function fbstp(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  noteInstruction(cpu, ins, lin);
  const x = readSt(cpu, 0);
  const r = x !== x ? NaN : roundToInteger(x, (cpu.fpControl >> CW_RC_SHIFT) & 3);
  cpu.probeWrite(lin, 10);
  if (!(Math.abs(r) < 1e18)) {
    // invalid: the packed-BCD indefinite
    fpuRaise(cpu, SW_IE);
    for (let k = 0; k < 7; k++) cpu.write8(lin + k, 0);
    cpu.write8(lin + 7, 0xc0);
    cpu.write8(lin + 8, 0xff);
    cpu.write8(lin + 9, 0xff);
  } else {
    if (r !== x) fpuRaise(cpu, SW_PE);
    let m = Math.abs(r);
    for (let k = 0; k < 9; k++) {
      const two = m % 100;
      m = Math.floor(m / 100);
      cpu.write8(lin + k, ((Math.floor(two / 10) << 4) | (two % 10)) & 0xff);
    }
    cpu.write8(lin + 9, x < 0 || Object.is(x, -0) ? 0x80 : 0);
  }
  pop(cpu);
}

def(0xdf, 'fbld', fbld, { reg: 4, mod: 'mem' });
def(0xdf, 'fbstp', fbstp, { reg: 6, mod: 'mem' });

// ---------------------------------------------------------------- constants (D9 E8..EE)

const CONSTANTS: [number, string, number][] = [
  [0, 'fld1', 1], [1, 'fldl2t', Math.log2(10)], [2, 'fldl2e', Math.LOG2E], [3, 'fldpi', Math.PI],
  [4, 'fldlg2', Math.log10(2)], [5, 'fldln2', Math.LN2], [6, 'fldz', 0],
];
for (const [rm, name, value] of CONSTANTS) {
  def(0xd9, name, (cpu, ins) => {
    fpuGateWait(cpu);
    noteInstruction(cpu, ins, 0);
    push(cpu, value);
  }, { reg: 5, rm, mod: 'reg' });
}

// ---------------------------------------------------------------- register management

function fxch(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const i = ins.rm & 7;
  readSt(cpu, 0);
  readSt(cpu, i);
  const b = fprBits(cpu);
  const p = cpu.fpTop, q = (cpu.fpTop + i) & 7;
  const lo = b[p * 2], hi = b[p * 2 + 1];
  b[p * 2] = b[q * 2]; b[p * 2 + 1] = b[q * 2 + 1];
  b[q * 2] = lo; b[q * 2 + 1] = hi;
  cpu.fpTag &= ~((3 << (p * 2)) | (3 << (q * 2)));
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
    const i = ins.rm & 7;
    readSt(cpu, i);
    if (!testCC(cpu, cc)) return;
    const b = fprBits(cpu);
    const q = (cpu.fpTop + i) & 7;
    const lo = b[q * 2], hi = b[q * 2 + 1];
    writeSt(cpu, 0, 0);
    b[cpu.fpTop * 2] = lo;
    b[cpu.fpTop * 2 + 1] = hi;
  };
}

for (let k = 0; k < 4; k++) {
  def(0xda, ['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu'][k], fcmov(FCMOV_CC[0][k]), { reg: k, mod: 'reg' });
  def(0xdb, ['fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu'][k], fcmov(FCMOV_CC[1][k]), { reg: k, mod: 'reg' });
}

