// x87 comparisons: FCOM/FCOMP/FCOMPP (a NaN operand raises IE) and FUCOM/FUCOMP/FUCOMPP (only
// an SNaN does) setting C3 C2 C0 (greater 000, less 001, equal 100, unordered 111; C1 = 0);
// FICOM/FICOMP with m16/m32 integers; FCOMI/FCOMIP/FUCOMI/FUCOMIP setting ZF PF CF like
// COMISD; FTST (compare with 0.0) and FXAM (classify ST(0)).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { LF_NONE } from '../../flags.js';
import { defineOp, type OpMatch } from '../../optable.js';
import { ARITH_FLAGS, CF, PF, ZF } from '../../regs.js';
import { type F80, isDenormal, isInf, isNaN80, isNeg, isZero, SW_DE, SW_IE, unpack } from './f80-arith.js';
import { isSnan, isUnsupported } from './f80-convert.js';
import { fpuGateWait, fpuRaise, getReg, isEmpty, noteInstruction, pop, readSt, setCc, suppressed } from './fpu-state.js';
import { memOperand } from './operands.js';

function def(opcode: number, name: string, exec: (cpu: Cpu, ins: Insn) => void, match: OpMatch): void {
  defineOp(MAP_1B, opcode, { name, exec, modrm: true, size: 'x' }, match);
}

const LESS = -1, EQUAL = 0, GREATER = 1, UNORDERED = 2;

/** Compare a with b; raises IE (NaN, or only an SNaN when !signalQnan; unsupported) and DE. */
function relate(cpu: Cpu, a: F80, b: F80, signalQnan: boolean, de = 0): number {
  if (isUnsupported(a) || isUnsupported(b)) { fpuRaise(cpu, SW_IE); return UNORDERED; }
  if (isNaN80(a) || isNaN80(b)) {
    if (signalQnan || isSnan(a) || isSnan(b)) fpuRaise(cpu, SW_IE);
    return UNORDERED;
  }
  fpuRaise(cpu, de | (isDenormal(a) || isDenormal(b) ? SW_DE : 0));
  return order(a, b);
}

function order(a: F80, b: F80): number {
  if (isZero(a) && isZero(b)) return EQUAL;
  const an = isNeg(a), bn = isNeg(b);
  if (an !== bn) return an ? LESS : GREATER;
  const mag = magnitudeOrder(a, b);
  return an ? -mag : mag;
}

function magnitudeOrder(a: F80, b: F80): number {
  if (isInf(a) || isInf(b)) return isInf(a) === isInf(b) ? EQUAL : isInf(a) ? GREATER : LESS;
  if (isZero(a) || isZero(b)) return isZero(a) === isZero(b) ? EQUAL : isZero(a) ? LESS : GREATER;
  const ua = unpack(a), ub = unpack(b);
  const e = Math.min(ua.e, ub.e);
  const ma = ua.m << BigInt(ua.e - e), mb = ub.m << BigInt(ub.e - e);
  return ma === mb ? EQUAL : ma > mb ? GREATER : LESS;
}

function setCcOf(cpu: Cpu, rel: number): void {
  if (rel === UNORDERED) setCc(cpu, 1, 1, 0, 1);
  else if (rel === LESS) setCc(cpu, 0, 0, 0, 1);
  else if (rel === EQUAL) setCc(cpu, 1, 0, 0, 0);
  else setCc(cpu, 0, 0, 0, 0);
}

/** FCOM/FCOMP/FICOM/FICOMP with a memory operand (D8/DC/DA/DE /2 /3) */
function fcomMem(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  const m = memOperand(cpu, ins, lin);
  noteInstruction(cpu, ins, lin);
  const rel = relate(cpu, readSt(cpu, 0), m.v, true, m.sw);
  if (suppressed(cpu)) return;
  setCcOf(cpu, rel);
  if ((ins.reg & 7) === 3) pop(cpu);
}

/** FCOM/FCOMP/FUCOM/FUCOMP ST(i) (`pops` times popped afterwards) */
function fcomSt(signalQnan: boolean, pops: number): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    fpuGateWait(cpu);
    noteInstruction(cpu, ins, 0);
    const a = readSt(cpu, 0), b = readSt(cpu, pops === 2 ? 1 : ins.rm & 7);
    const rel = relate(cpu, a, b, signalQnan);
    if (suppressed(cpu)) return;
    setCcOf(cpu, rel);
    for (let k = 0; k < pops; k++) pop(cpu);
  };
}

/** FCOMI/FCOMIP/FUCOMI/FUCOMIP ST(0), ST(i): ZF PF CF */
function fcomi(signalQnan: boolean, popAfter: boolean): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    fpuGateWait(cpu);
    noteInstruction(cpu, ins, 0);
    const a = readSt(cpu, 0), b = readSt(cpu, ins.rm & 7);
    const rel = relate(cpu, a, b, signalQnan);
    if (suppressed(cpu)) return;
    const f = rel === LESS ? CF : rel === EQUAL ? ZF : rel === GREATER ? 0 : ZF | PF | CF;
    cpu.flags = (cpu.flags & ~ARITH_FLAGS) | f;
    cpu.lfOp = LF_NONE;
    cpu.fpStatus &= ~0x0200; // C1
    if (popAfter) pop(cpu);
  };
}

function ftst(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const rel = relate(cpu, readSt(cpu, 0), { se: 0, sig: 0n }, true);
  if (suppressed(cpu)) return;
  setCcOf(cpu, rel);
}

/** FXAM: C3 C2 C0 = class (000 unsupported, 001 NaN, 010 normal, 011 infinity, 100 zero, 101 empty, 110 denormal), C1 = sign */
function fxam(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const a = getReg(cpu, cpu.fpTop);
  const sign = isNeg(a) ? 1 : 0;
  if (isEmpty(cpu, 0)) setCc(cpu, 1, 0, sign, 1);
  else if (isUnsupported(a)) setCc(cpu, 0, 0, sign, 0);
  else if (isNaN80(a)) setCc(cpu, 0, 0, sign, 1);
  else if (isInf(a)) setCc(cpu, 0, 1, sign, 1);
  else if (isZero(a)) setCc(cpu, 1, 0, sign, 0);
  else if (isDenormal(a)) setCc(cpu, 1, 1, sign, 0);
  else setCc(cpu, 0, 1, sign, 0);
}

for (const op of [0xd8, 0xdc, 0xda, 0xde]) {
  const i = op === 0xda || op === 0xde ? 'i' : '';
  def(op, `f${i}com`, fcomMem, { reg: 2, mod: 'mem' });
  def(op, `f${i}comp`, fcomMem, { reg: 3, mod: 'mem' });
}
def(0xd8, 'fcom', fcomSt(true, 0), { reg: 2, mod: 'reg' });
def(0xd8, 'fcomp', fcomSt(true, 1), { reg: 3, mod: 'reg' });
def(0xdc, 'fcom', fcomSt(true, 0), { reg: 2, mod: 'reg' }); // alias encodings
def(0xdc, 'fcomp', fcomSt(true, 1), { reg: 3, mod: 'reg' });
def(0xde, 'fcomp', fcomSt(true, 1), { reg: 2, mod: 'reg' });
def(0xde, 'fcompp', fcomSt(true, 2), { reg: 3, rm: 1, mod: 'reg' });
def(0xdd, 'fucom', fcomSt(false, 0), { reg: 4, mod: 'reg' });
def(0xdd, 'fucomp', fcomSt(false, 1), { reg: 5, mod: 'reg' });
def(0xda, 'fucompp', fcomSt(false, 2), { reg: 5, rm: 1, mod: 'reg' });
def(0xdb, 'fucomi', fcomi(false, false), { reg: 5, mod: 'reg' });
def(0xdb, 'fcomi', fcomi(true, false), { reg: 6, mod: 'reg' });
def(0xdf, 'fucomip', fcomi(false, true), { reg: 5, mod: 'reg' });
def(0xdf, 'fcomip', fcomi(true, true), { reg: 6, mod: 'reg' });
def(0xd9, 'ftst', ftst, { reg: 4, rm: 4, mod: 'reg' });
def(0xd9, 'fxam', fxam, { reg: 4, rm: 5, mod: 'reg' });
