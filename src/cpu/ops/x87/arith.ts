// x87 arithmetic: FADD/FMUL/FSUB/FSUBR/FDIV/FDIVR with m32real (D8), m64real (DC), m32int
// (DA), m16int (DE) and register operands (D8: ST(0) op= ST(i); DC: ST(i) op= ST(0); DE: the
// same and pop; in DC/DE the SUB/SUBR and DIV/DIVR encodings swap), and the one-operand
// FCHS FABS FSQRT FRNDINT FSCALE FXTRACT FPREM FPREM1.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { roundToInteger } from '../sse/convert.js';
import { OP_ADD, OP_DIV, OP_MUL, OP_SQRT, OP_SUB } from '../sse/fp-lane.js';
import { A, B } from '../sse/xmm-access.js';
import {
  CW_RC_SHIFT, fprBits, fpuGateWait, fpuRaise, noteInstruction, pop, readSt, setCc, SW_C1, SW_DE, SW_IE, SW_PE, SW_ZE,
  writeSt,
} from './fpu-state.js';
import { compute, memOperandToB, resultToSt, stToLane } from './operands.js';

// ModRM.reg of the arithmetic group: 0 add, 1 mul, (2 com, 3 comp: compare.ts), 4 sub, 5 subr, 6 div, 7 divr
const OP_OF_REG = [OP_ADD, OP_MUL, -1, -1, OP_SUB, OP_SUB, OP_DIV, OP_DIV];
const REVERSED = [false, false, false, false, false, true, false, true];

/** Compute lanes A (dest) op B, swapping them for the reversed forms. */
function run(cpu: Cpu, reg: number, reversed: boolean): void {
  if (reversed) {
    const a0 = A[0], a1 = A[1];
    A[0] = B[0]; A[1] = B[1];
    B[0] = a0; B[1] = a1;
  }
  compute(cpu, OP_OF_REG[reg]);
}

/** D8/DC/DA/DE with a memory operand: ST(0) = ST(0) op mem */
function arithMem(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  memOperandToB(cpu, ins, lin);
  noteInstruction(cpu, ins, lin);
  stToLane(cpu, 0, A);
  const reg = ins.reg & 7;
  run(cpu, reg, REVERSED[reg]);
  resultToSt(cpu, 0);
}

/** D8 reg: ST(0) = ST(0) op ST(i) */
function arithSt0(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const reg = ins.reg & 7;
  stToLane(cpu, 0, A);
  stToLane(cpu, ins.rm & 7, B);
  run(cpu, reg, REVERSED[reg]);
  resultToSt(cpu, 0);
}

/** DC/DE reg: ST(i) = ST(i) op ST(0), SUB/SUBR and DIV/DIVR swapped; DE pops */
function arithStI(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const reg = ins.reg & 7;
  const i = ins.rm & 7;
  stToLane(cpu, i, A);
  stToLane(cpu, 0, B);
  run(cpu, reg, reg >= 4 ? !REVERSED[reg] : false);
  resultToSt(cpu, i);
  if ((ins.opcode & 0xff) === 0xde) pop(cpu);
}

for (const reg of [0, 1, 4, 5, 6, 7]) {
  const name = ['fadd', 'fmul', '', '', 'fsub', 'fsubr', 'fdiv', 'fdivr'][reg];
  defineOp(MAP_1B, 0xd8, { name, exec: arithMem, modrm: true, size: 'x' }, { reg, mod: 'mem' });
  defineOp(MAP_1B, 0xdc, { name, exec: arithMem, modrm: true, size: 'x' }, { reg, mod: 'mem' });
  defineOp(MAP_1B, 0xda, { name: 'fi' + name.slice(1), exec: arithMem, modrm: true, size: 'x' }, { reg, mod: 'mem' });
  defineOp(MAP_1B, 0xde, { name: 'fi' + name.slice(1), exec: arithMem, modrm: true, size: 'x' }, { reg, mod: 'mem' });
  defineOp(MAP_1B, 0xd8, { name, exec: arithSt0, modrm: true, size: 'x' }, { reg, mod: 'reg' });
  const swapped = ['fadd', 'fmul', '', '', 'fsubr', 'fsub', 'fdivr', 'fdiv'][reg];
  defineOp(MAP_1B, 0xdc, { name: swapped, exec: arithStI, modrm: true, size: 'x' }, { reg, mod: 'reg' });
  defineOp(MAP_1B, 0xde, { name: swapped + 'p', exec: arithStI, modrm: true, size: 'x' }, { reg, mod: 'reg' });
}

// ---------------------------------------------------------------- one-operand forms (D9 E0..FF)

function unary(fn: (cpu: Cpu) => void): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    fpuGateWait(cpu);
    noteInstruction(cpu, ins, 0);
    fn(cpu);
  };
}

const bitsOfSt0 = (cpu: Cpu): Int32Array => fprBits(cpu);

function fchs(cpu: Cpu): void {
  readSt(cpu, 0);
  const b = bitsOfSt0(cpu), p = cpu.fpTop;
  b[p * 2 + 1] ^= 0x80000000;
  cpu.fpStatus &= ~SW_C1;
}

function fabs(cpu: Cpu): void {
  readSt(cpu, 0);
  const b = bitsOfSt0(cpu), p = cpu.fpTop;
  b[p * 2 + 1] &= 0x7fffffff;
  cpu.fpStatus &= ~SW_C1;
}

function fsqrt(cpu: Cpu): void {
  stToLane(cpu, 0, B);
  A[0] = 0; A[1] = 0;
  compute(cpu, OP_SQRT);
  resultToSt(cpu, 0);
}

/** FRNDINT: round ST(0) to an integer by the control word's RC */
function frndint(cpu: Cpu): void {
  const x = readSt(cpu, 0);
  if (x !== x || x - x !== 0) {
    if (x !== x) quietNaNOfSt0(cpu);
    return;
  }
  const r = roundToInteger(x, (cpu.fpControl >> CW_RC_SHIFT) & 3);
  if (r !== x) fpuRaise(cpu, SW_PE);
  writeSt(cpu, 0, r === 0 && x < 0 ? -0 : r);
}

/** an SNaN in ST(0) is quietened with IE */
function quietNaNOfSt0(cpu: Cpu): void {
  const b = fprBits(cpu), p = cpu.fpTop;
  if ((b[p * 2 + 1] & 0x80000) === 0) {
    fpuRaise(cpu, SW_IE);
    b[p * 2 + 1] |= 0x80000;
  }
}

/** FSCALE: ST(0) * 2^trunc(ST(1)) */
function fscale(cpu: Cpu): void {
  const x = readSt(cpu, 0), y = readSt(cpu, 1);
  if (x !== x || y !== y) {
    stToLane(cpu, 0, A);
    stToLane(cpu, 1, B);
    compute(cpu, OP_ADD); // NaN propagation rules
    resultToSt(cpu, 0);
    return;
  }
  let n = Math.trunc(y);
  if (n - n !== 0) { // infinite scale
    if ((x === 0 && n > 0) || (x - x !== 0 && n < 0)) { fpuRaise(cpu, SW_IE); writeIndefinite(cpu); return; }
    writeSt(cpu, 0, n > 0 ? x * Infinity : x * 0);
    return;
  }
  if (n > 4096) n = 4096;
  if (n < -4096) n = -4096;
  writeSt(cpu, 0, scaleBy2(x, n));
}

/** v * 2^n without an intermediate power of two leaving the double range */
function scaleBy2(v: number, n: number): number {
  while (n > 1000) { v *= 2 ** 1000; n -= 1000; }
  while (n < -1000) { v *= 2 ** -1000; n += 1000; }
  return v * 2 ** n;
}

function writeIndefinite(cpu: Cpu): void {
  const b = fprBits(cpu), p = cpu.fpTop;
  b[p * 2] = 0;
  b[p * 2 + 1] = 0xfff80000 | 0;
}

/** FXTRACT: ST(0) = exponent, then push the significand (1 <= |m| < 2) */
function fxtract(cpu: Cpu): void {
  const x = readSt(cpu, 0);
  if (x !== x) { quietNaNOfSt0(cpu); pushValueCopy(cpu); return; }
  if (x === 0) {
    fpuRaise(cpu, SW_ZE);
    writeSt(cpu, 0, -Infinity);
    pushRaw(cpu, x);
    return;
  }
  if (x - x !== 0) {
    writeSt(cpu, 0, Infinity);
    pushRaw(cpu, x);
    return;
  }
  let e = Math.floor(Math.log2(Math.abs(x)));
  let m = x / 2 ** e;
  if (Math.abs(m) >= 2) { m /= 2; e++; }
  if (Math.abs(m) < 1) { m *= 2; e--; }
  writeSt(cpu, 0, e);
  pushRaw(cpu, m);
}

function pushRaw(cpu: Cpu, v: number): void {
  cpu.fpTop = (cpu.fpTop - 1) & 7;
  writeSt(cpu, 0, v);
}

function pushValueCopy(cpu: Cpu): void {
  const b = fprBits(cpu), p = cpu.fpTop;
  const lo = b[p * 2], hi = b[p * 2 + 1];
  cpu.fpTop = (cpu.fpTop - 1) & 7;
  writeSt(cpu, 0, 0);
  b[cpu.fpTop * 2] = lo;
  b[cpu.fpTop * 2 + 1] = hi;
}

/** unbiased binary exponent of a finite nonzero double (as the 80-bit format would hold it) */
function exponentOf(v: number): number {
  let e = Math.floor(Math.log2(Math.abs(v)));
  if (2 ** e > Math.abs(v)) e--;
  else if (2 ** (e + 1) <= Math.abs(v)) e++;
  return e;
}

/**
 * How far below the exponent difference a partial FPREM step reduces (the SDM's
 * implementation-dependent N, 32..63); 33 reproduces the host processor's partial remainders.
 */
const PARTIAL_BITS = 33;

/**
 * FPREM (truncating quotient) / FPREM1 (round-to-nearest quotient): ST(0) = remainder of
 * ST(0) / ST(1) with C2 = 0 and C0 C3 C1 = quotient bits 2 1 0. When the exponents differ by
 * 64 or more only a partial reduction is done (C2 = 1) and the program loops.
 */
function fprem(nearest: boolean): (cpu: Cpu) => void {
  return (cpu) => {
    const x = readSt(cpu, 0), y = readSt(cpu, 1);
    if (x !== x || y !== y) {
      stToLane(cpu, 0, A);
      stToLane(cpu, 1, B);
      compute(cpu, OP_ADD);
      resultToSt(cpu, 0);
      return;
    }
    if (y === 0 || x - x !== 0) { fpuRaise(cpu, SW_IE); writeIndefinite(cpu); return; }
    if (isDenormal(x) || isDenormal(y)) fpuRaise(cpu, SW_DE);
    if (y - y !== 0 || x === 0) { setCc(cpu, 0, 0, 0, 0); return; } // x rem inf = x
    const d = exponentOf(x) - exponentOf(y);
    if (d >= 64) {
      const m = scaleBy2(Math.abs(y), d - PARTIAL_BITS);
      const r = x % m;
      writeSt(cpu, 0, r === 0 ? (x < 0 ? -0 : 0) : r);
      setCc(cpu, 0, 1, 0, 0);
      return;
    }
    let r = x % y; // exact
    // low three bits of the integer quotient: from the remainder modulo 8|y|
    let q8 = 0;
    const y8 = y * 8;
    if (y8 - y8 === 0) {
      const r8 = x % y8;
      q8 = Math.round(Math.abs((r8 - r) / y)) & 7;
    }
    if (nearest) {
      const ay = Math.abs(y), ar = Math.abs(r);
      if (ar * 2 > ay || (ar * 2 === ay && (q8 & 1) === 1)) {
        r = r - Math.sign(r) * ay; // exact (Sterbenz)
        q8 = (q8 + 1) & 7;
      }
    }
    writeSt(cpu, 0, r === 0 ? (x < 0 ? -0 : 0) : r);
    setCc(cpu, (q8 >> 1) & 1, 0, q8 & 1, (q8 >> 2) & 1);
  };
}

function isDenormal(v: number): boolean {
  return v !== 0 && Math.abs(v) < 2.2250738585072014e-308;
}

const D9: [number, string, (cpu: Cpu) => void][] = [
  [0, 'fchs', fchs], [1, 'fabs', fabs], [0x1a, 'fsqrt', fsqrt], [0x1c, 'frndint', frndint], [0x1d, 'fscale', fscale],
  [0x14, 'fxtract', fxtract], [0x18, 'fprem', fprem(false)], [0x15, 'fprem1', fprem(true)],
];
for (const [low, name, fn] of D9) {
  // D9 E0+low: reg = 4 + (low >> 3), rm = low & 7
  defineOp(MAP_1B, 0xd9, { name, exec: unary(fn), modrm: true, size: 'x' }, { reg: 4 + (low >> 3), rm: low & 7, mod: 'reg' });
}

