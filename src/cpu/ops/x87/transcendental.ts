// x87 transcendental instructions: FSIN FCOS FSINCOS FPTAN (|x| >= 2^63 leaves ST(0) alone with
// C2 = 1), FPATAN, F2XM1, FYL2X, FYL2XP1. The operands are read from the 80-bit registers and
// the function is evaluated with the host's double-precision Math library, then rounded by PC
// and RC into the register: a documented approximation (docs/CPU.md). Hardware evaluates them
// to a 64-bit significand with its own argument reduction (within about 1 ulp of the 64-bit
// result); here the error is that of a binary64 result (about 2^-52 relative, and more for
// FSIN/FCOS/FPTAN near multiples of pi where the 66-bit hardware reduction differs). The
// special cases are exact: NaN operands propagate by the x87 rules (IE for an SNaN),
// unsupported encodings and out-of-domain operands give the QNaN indefinite with IE, zeros
// keep their sign where the function is odd, and PE is set for every inexact result.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import {
  type F80, type F80Result, INDEFINITE, isDenormal, isInf, isNaN80, isNeg, isZero, mulF80, special, SW_DE, SW_IE, SW_PE,
  SW_ZE,
} from './f80-arith.js';
import { fromNumber, isUnsupported, toNumber } from './f80-convert.js';
import {
  commit, fpuGateWait, noteInstruction, pop, precisionControl, push, readSt, roundingControl, SW_C2,
} from './fpu-state.js';

const ONE: F80 = { se: 16383, sig: 1n << 63n };
const TWO63_EXP = 16383 + 63;
const invalid: F80Result = { v: INDEFINITE, sw: SW_IE };

/** a Math result into the register format, rounded by PC and RC, PE set (the value is inexact) */
function approx(cpu: Cpu, x: number, de: number): F80Result {
  const r = mulF80(fromNumber(x), ONE, precisionControl(cpu), roundingControl(cpu));
  r.sw |= SW_PE | de;
  return r;
}

const deOf = (...xs: F80[]): number => (xs.some(isDenormal) ? SW_DE : 0);

/** Prologue of FSIN/FCOS/FSINCOS/FPTAN: a result for the special operands, or null to compute. */
function trigSpecial(a: F80): F80Result | null {
  if (isUnsupported(a) || isInf(a)) return invalid;
  return special(a, null);
}

/** |x| >= 2^63: C2 = 1 and ST(0) unchanged */
const outOfRange = (a: F80): boolean => (a.se & 0x7fff) >= TWO63_EXP && !isNaN80(a) && !isInf(a);

function trig(kind: 'sin' | 'cos' | 'tan' | 'sincos'): (cpu: Cpu) => void {
  return (cpu) => {
    const a = readSt(cpu, 0);
    cpu.fpStatus &= ~SW_C2;
    if (outOfRange(a) && !isUnsupported(a)) { cpu.fpStatus |= SW_C2; return; }
    const s = trigSpecial(a);
    const pushes = kind === 'tan' || kind === 'sincos';
    if (s) {
      // the NaN (or indefinite) is the result, twice for the forms that push
      if (commit(cpu, 0, s) && pushes) push(cpu, s.v);
      return;
    }
    const de = deOf(a);
    if (isZero(a)) {
      // sin(±0) = ±0 and tan(±0) = ±0 exactly; cos(±0) = 1
      if (kind === 'cos') { commit(cpu, 0, { v: ONE, sw: de }); return; }
      if (!commit(cpu, 0, { v: a, sw: de })) return;
      if (kind === 'tan') push(cpu, ONE);
      else if (kind === 'sincos') push(cpu, ONE);
      return;
    }
    const x = toNumber(a);
    if (kind === 'sin') commit(cpu, 0, approx(cpu, Math.sin(x), de));
    else if (kind === 'cos') commit(cpu, 0, approx(cpu, Math.cos(x), de));
    else if (kind === 'tan') { if (commit(cpu, 0, approx(cpu, Math.tan(x), de))) push(cpu, ONE); }
    else {
      const c = approx(cpu, Math.cos(x), de);
      if (commit(cpu, 0, approx(cpu, Math.sin(x), de))) push(cpu, c.v);
    }
  };
}

/** two-operand forms: ST(1) = f(ST(1), ST(0)), pop */
function binary(fn: (cpu: Cpu, x: F80, y: F80) => F80Result): (cpu: Cpu) => void {
  return (cpu) => {
    const x = readSt(cpu, 0), y = readSt(cpu, 1);
    let r: F80Result;
    if (isUnsupported(x) || isUnsupported(y)) r = invalid;
    else r = special(y, x) ?? fn(cpu, x, y);
    if (commit(cpu, 1, r)) pop(cpu);
  };
}

/** FPATAN: atan2(ST(1), ST(0)) (exact zeros and infinities follow atan2's quadrant rules) */
const fpatan = binary((cpu, x, y) => {
  const v = Math.atan2(toNumber(y), toNumber(x));
  if (v === 0) return { v: fromNumber(v), sw: deOf(x, y) };
  return approx(cpu, v, deOf(x, y));
});

/** FYL2X: ST(1) * log2(ST(0)); FYL2XP1: ST(1) * log2(ST(0) + 1) */
function fyl2x(plusOne: boolean) {
  return binary((cpu, xr, yr) => {
    const x = toNumber(xr), y = toNumber(yr);
    const arg = plusOne ? x + 1 : x;
    if ((isNeg(xr) && !isZero(xr) && !plusOne) || arg < 0 || (arg === 0 && y === 0) || (isInf(xr) && y === 0) || (arg === 1 && !Number.isFinite(y))) return invalid;
    if (arg === 0 && !plusOne) return { v: fromNumber(y > 0 ? -Infinity : Infinity), sw: Number.isFinite(y) ? SW_ZE : 0 };
    const l = plusOne ? Math.log1p(x) / Math.LN2 : Math.log2(x);
    const v = y * l;
    if (v === 0 || !Number.isFinite(v)) return { v: fromNumber(v), sw: deOf(xr, yr) };
    return approx(cpu, v, deOf(xr, yr));
  });
}

/** F2XM1: 2^ST(0) - 1 (defined for -1 <= x <= 1) */
function f2xm1(cpu: Cpu): void {
  const a = readSt(cpu, 0);
  if (isUnsupported(a)) { commit(cpu, 0, invalid); return; }
  const s = special(a, null);
  if (s) { commit(cpu, 0, s); return; }
  if (isZero(a)) { commit(cpu, 0, { v: a, sw: 0 }); return; }
  if (isInf(a)) { commit(cpu, 0, { v: isNeg(a) ? fromNumber(-1) : a, sw: 0 }); return; }
  const x = toNumber(a);
  if (x === 1 || x === -1) { commit(cpu, 0, { v: fromNumber(x === 1 ? 1 : -0.5), sw: 0 }); return; }
  commit(cpu, 0, approx(cpu, Math.expm1(x * Math.LN2), deOf(a)));
}

const FORMS: [number, string, (cpu: Cpu) => void][] = [
  [0x1e, 'fsin', trig('sin')], [0x1f, 'fcos', trig('cos')], [0x1b, 'fsincos', trig('sincos')], [0x12, 'fptan', trig('tan')],
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
