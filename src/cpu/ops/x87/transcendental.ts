// x87 transcendental instructions computed with the host's double-precision Math functions
// (a documented approximation: x87 evaluates them to 64-bit significands with its own
// argument reduction): FSIN FCOS FSINCOS FPTAN (|x| >= 2^63 leaves ST(0) alone with C2 = 1),
// FPATAN, F2XM1, FYL2X, FYL2XP1. NaN operands propagate (quietened, IE for SNaN); infinities
// where the function has no value give the QNaN indefinite with IE; PE is set for inexact
// (non-trivial) results.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import {
  fprBits, fpuGateWait, fpuRaise, noteInstruction, pop, push, readSt, setIndefinite, SW_C1, SW_IE, SW_PE, SW_ZE,
  writeSt,
} from './fpu-state.js';

const TWO63 = 9223372036854775808;

/** If ST(i) holds a NaN: quieten it (IE for an SNaN) and return true. */
function nanOperand(cpu: Cpu, i: number): boolean {
  const x = readSt(cpu, i);
  if (x === x) return false;
  const b = fprBits(cpu), p = (cpu.fpTop + i) & 7;
  if ((b[p * 2 + 1] & 0x80000) === 0) {
    fpuRaise(cpu, SW_IE);
    b[p * 2 + 1] |= 0x80000;
  }
  return true;
}

/** copy ST(from)'s bits to ST(to) */
function copySt(cpu: Cpu, from: number, to: number): void {
  const b = fprBits(cpu), p = (cpu.fpTop + from) & 7, q = (cpu.fpTop + to) & 7;
  writeSt(cpu, to, 0);
  b[q * 2] = b[p * 2];
  b[q * 2 + 1] = b[p * 2 + 1];
}

function inexact(cpu: Cpu, v: number): void {
  if (v !== 0 && v - v === 0) fpuRaise(cpu, SW_PE);
}

/** Shared prologue of FSIN/FCOS/FSINCOS/FPTAN: false when ST(0) is out of range or special. */
function trigOperand(cpu: Cpu, pushesResult: boolean): boolean {
  let special = nanOperand(cpu, 0);
  if (!special && cpu.fpr[cpu.fpTop] - cpu.fpr[cpu.fpTop] !== 0) { // an infinity
    fpuRaise(cpu, SW_IE);
    setIndefinite(cpu, cpu.fpTop);
    cpu.fpTag &= ~(3 << (cpu.fpTop * 2));
    special = true;
  }
  if (special) {
    // the NaN (or indefinite) is the result, twice for the forms that push
    if (pushesResult) {
      const b = fprBits(cpu), p = cpu.fpTop;
      const lo = b[p * 2], hi = b[p * 2 + 1];
      if (push(cpu, 0)) { b[cpu.fpTop * 2] = lo; b[cpu.fpTop * 2 + 1] = hi; }
    }
    cpu.fpStatus &= ~(0x0400 | SW_C1);
    return false;
  }
  const x = cpu.fpr[cpu.fpTop];
  if (x >= TWO63 || x <= -TWO63) {
    cpu.fpStatus |= 0x0400; // C2: operand out of range, left unchanged
    return false;
  }
  cpu.fpStatus &= ~(0x0400 | SW_C1);
  return true;
}

function fsin(cpu: Cpu): void {
  if (!trigOperand(cpu, false)) return;
  const v = Math.sin(cpu.fpr[cpu.fpTop]);
  inexact(cpu, v);
  writeSt(cpu, 0, v);
}

function fcos(cpu: Cpu): void {
  if (!trigOperand(cpu, false)) return;
  const v = Math.cos(cpu.fpr[cpu.fpTop]);
  inexact(cpu, v);
  writeSt(cpu, 0, v);
}

function fsincos(cpu: Cpu): void {
  if (!trigOperand(cpu, true)) return;
  const x = cpu.fpr[cpu.fpTop];
  const s = Math.sin(x), c = Math.cos(x);
  inexact(cpu, c);
  writeSt(cpu, 0, s);
  push(cpu, c);
}

function fptan(cpu: Cpu): void {
  if (!trigOperand(cpu, true)) return;
  const v = Math.tan(cpu.fpr[cpu.fpTop]);
  inexact(cpu, v);
  writeSt(cpu, 0, v);
  push(cpu, 1);
}

/** FPATAN: ST(1) = atan2(ST(1), ST(0)), pop */
function fpatan(cpu: Cpu): void {
  const aNaN = nanOperand(cpu, 0), bNaN = nanOperand(cpu, 1);
  if (aNaN || bNaN) {
    if (aNaN && !bNaN) copySt(cpu, 0, 1);
    pop(cpu);
    return;
  }
  const v = Math.atan2(cpu.fpr[(cpu.fpTop + 1) & 7], cpu.fpr[cpu.fpTop]);
  inexact(cpu, v);
  writeSt(cpu, 1, v);
  pop(cpu);
}

/** F2XM1: ST(0) = 2^ST(0) - 1 (defined for -1 <= x <= 1) */
function f2xm1(cpu: Cpu): void {
  if (nanOperand(cpu, 0)) return;
  const x = cpu.fpr[cpu.fpTop];
  const v = x === -Infinity ? -1 : Math.expm1(x * Math.LN2);
  if (x !== 0 && x - x === 0 && x !== 1 && x !== -1) fpuRaise(cpu, SW_PE);
  writeSt(cpu, 0, x === 0 ? x : v);
}

/** FYL2X: ST(1) = ST(1) * log2(ST(0)), pop; FYL2XP1 uses log2(ST(0) + 1) */
function fyl2x(plusOne: boolean): (cpu: Cpu) => void {
  return (cpu) => {
    const aNaN = nanOperand(cpu, 0), bNaN = nanOperand(cpu, 1);
    if (aNaN || bNaN) {
      if (aNaN && !bNaN) copySt(cpu, 0, 1);
      pop(cpu);
      return;
    }
    const x = cpu.fpr[cpu.fpTop], y = cpu.fpr[(cpu.fpTop + 1) & 7];
    const arg = plusOne ? x + 1 : x;
    if (arg < 0 || (arg === 0 && y === 0) || (x - x !== 0 && y === 0) || (arg === 1 && y - y !== 0)) {
      fpuRaise(cpu, SW_IE);
      setIndefinite(cpu, (cpu.fpTop + 1) & 7);
      cpu.fpTag &= ~(3 << (((cpu.fpTop + 1) & 7) * 2));
      pop(cpu);
      return;
    }
    if (arg === 0 && !plusOne) fpuRaise(cpu, SW_ZE);
    const l = plusOne ? Math.log1p(x) / Math.LN2 : Math.log2(x);
    const v = y * l;
    inexact(cpu, v);
    writeSt(cpu, 1, v);
    pop(cpu);
  };
}

const FORMS: [number, string, (cpu: Cpu) => void][] = [
  [0x1e, 'fsin', fsin], [0x1f, 'fcos', fcos], [0x1b, 'fsincos', fsincos], [0x12, 'fptan', fptan],
  [0x13, 'fpatan', fpatan], [0x10, 'f2xm1', f2xm1], [0x11, 'fyl2x', fyl2x(false)], [0x19, 'fyl2xp1', fyl2x(true)],
];
for (const [low, name, fn] of FORMS) {
  const exec = (cpu: Cpu, ins: Insn): void => {
    fpuGateWait(cpu);
    noteInstruction(cpu, ins, 0);
    fn(cpu);
  };
  defineOp(MAP_1B, 0xd9, { name, exec, modrm: true, size: 'x' }, { reg: 4 + (low >> 3), rm: low & 7, mod: 'reg' });
}
