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
import { compareF64, fpBegin, fpx } from '../sse/fp-lane.js';
import { A, B, BF64 } from '../sse/xmm-access.js';
import { cookRaw, fprBits, fpuGateWait, fpuRaise, isEmpty, noteInstruction, pop, setCc } from './fpu-state.js';
import { memOperandToB, stToLane } from './operands.js';

function def(opcode: number, name: string, exec: (cpu: Cpu, ins: Insn) => void, match: OpMatch): void {
  defineOp(MAP_1B, opcode, { name, exec, modrm: true, size: 'x' }, match);
}

/** Compare lanes A and B; returns -1 less, 0 equal, 1 greater, 2 unordered. */
function relate(cpu: Cpu, signalQnan: boolean): number {
  fpBegin(0x1f80);
  const rel = compareF64(0, signalQnan);
  fpuRaise(cpu, fpx.pre);
  return rel;
}

function setCcOf(cpu: Cpu, rel: number): void {
  if (rel === 2) setCc(cpu, 1, 1, 0, 1);
  else if (rel === -1) setCc(cpu, 0, 0, 0, 1);
  else if (rel === 0) setCc(cpu, 1, 0, 0, 0);
  else setCc(cpu, 0, 0, 0, 0);
}

/** FCOM/FCOMP/FICOM/FICOMP with a memory operand (D8/DC/DA/DE /2 /3) */
function fcomMem(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  memOperandToB(cpu, ins, lin);
  noteInstruction(cpu, ins, lin);
  stToLane(cpu, 0, A);
  setCcOf(cpu, relate(cpu, true));
  if ((ins.reg & 7) === 3) pop(cpu);
}

/** FCOM/FCOMP/FUCOM/FUCOMP ST(i) (`pops` times popped afterwards) */
function fcomSt(signalQnan: boolean, pops: number): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    fpuGateWait(cpu);
    noteInstruction(cpu, ins, 0);
    stToLane(cpu, 0, A);
    stToLane(cpu, pops === 2 ? 1 : ins.rm & 7, B);
    setCcOf(cpu, relate(cpu, signalQnan));
    for (let k = 0; k < pops; k++) pop(cpu);
  };
}

/** FCOMI/FCOMIP/FUCOMI/FUCOMIP ST(0), ST(i): ZF PF CF */
function fcomi(signalQnan: boolean, popAfter: boolean): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    fpuGateWait(cpu);
    noteInstruction(cpu, ins, 0);
    stToLane(cpu, 0, A);
    stToLane(cpu, ins.rm & 7, B);
    const rel = relate(cpu, signalQnan);
    const f = rel === -1 ? CF : rel === 0 ? ZF : rel === 1 ? 0 : ZF | PF | CF;
    cpu.flags = (cpu.flags & ~ARITH_FLAGS) | f;
    cpu.lfOp = LF_NONE;
    cpu.fpStatus &= ~0x0200; // C1
    if (popAfter) pop(cpu);
  };
}

function ftst(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  stToLane(cpu, 0, A);
  BF64[0] = 0;
  setCcOf(cpu, relate(cpu, true));
}

/** FXAM: C3 C2 C0 = class (001 NaN, 010 normal, 011 infinity, 100 zero, 101 empty; 80-bit denormals cannot occur), C1 = sign */
function fxam(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const p = cpu.fpTop;
  cookRaw(cpu, p);
  const b = fprBits(cpu);
  const hi = b[p * 2 + 1], lo = b[p * 2];
  const sign = hi < 0 ? 1 : 0;
  if (isEmpty(cpu, 0)) { setCc(cpu, 1, 0, sign, 1); return; }
  const e = hi & 0x7ff00000, m = (hi & 0xfffff) | lo;
  if (e === 0x7ff00000) { if (m !== 0) setCc(cpu, 0, 0, sign, 1); else setCc(cpu, 0, 1, sign, 1); return; }
  // a binary64 denormal is a normal number in the 80-bit register format
  if (e === 0 && m === 0) { setCc(cpu, 1, 0, sign, 0); return; }
  setCc(cpu, 0, 1, sign, 0);
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
