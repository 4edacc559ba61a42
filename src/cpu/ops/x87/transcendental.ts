// x87 transcendental instructions: FSIN FCOS FSINCOS FPTAN (|x| >= 2^63 leaves ST(0) alone with
// C2 = 1), FPATAN, F2XM1, FYL2X, FYL2XP1. Special operands are handled here (NaNs propagate by
// the x87 rules with IE for an SNaN, unsupported encodings and out-of-domain operands give the
// QNaN indefinite with IE, zeros and infinities give the SDM's exact results); finite operands
// are evaluated to about 150 bits and rounded once to 64 bits by RC (precision control applies
// only to the basic arithmetic and FSQRT, SDM vol. 1 8.1.5.2; measured on the host too) (f80-transcendental.ts), which
// matches the host bit for bit except near rounding boundaries (docs/CPU.md gives the counts).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import {
  BIAS, PC_64, type F80, type F80Result, INDEFINITE, inf, isDenormal, isInf, isNaN80, isNeg, isZero, SW_DE, SW_IE,
  SW_ZE, zero,
} from './f80-arith.js';
import { isUnsupported } from './f80-convert.js';
import { invalidOrNaN } from './operands.js';
import {
  cosF80, f2xm1F80, fpatanF80, fyl2xF80, fyl2xp1F80, piQuartersF80, sinF80, tanF80,
} from './f80-transcendental.js';
import {
  commit, fpuGateWait, noteInstruction, pop, push, readSt, roundingControl, SW_C2,
} from './fpu-state.js';

const ONE: F80 = { se: BIAS, sig: 1n << 63n };
const TWO63_EXP = BIAS + 63;
const invalid: F80Result = { v: INDEFINITE, sw: SW_IE };

const deOf = (...xs: F80[]): number => (xs.some(isDenormal) ? SW_DE : 0);
const withDe = (r: F80Result, de: number): F80Result => ({ ...r, sw: r.sw | de });

/** Prologue of FSIN/FCOS/FSINCOS/FPTAN: a result for the special operands, or null to compute. */
function trigSpecial(a: F80): F80Result | null {
  return isInf(a) ? invalid : invalidOrNaN(a, null);
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
    const pc = PC_64, rc = roundingControl(cpu);
    if (kind === 'sin') commit(cpu, 0, withDe(sinF80(a, pc, rc), de));
    else if (kind === 'cos') commit(cpu, 0, withDe(cosF80(a, pc, rc), de));
    else if (kind === 'tan') { if (commit(cpu, 0, withDe(tanF80(a, pc, rc), de))) push(cpu, ONE); }
    else {
      const c = withDe(cosF80(a, pc, rc), de);
      if (commit(cpu, 0, withDe(sinF80(a, pc, rc), de))) { push(cpu, c.v); }
    }
  };
}

/** two-operand forms: ST(1) = f(ST(1), ST(0)), pop */
function binary(fn: (cpu: Cpu, x: F80, y: F80) => F80Result): (cpu: Cpu) => void {
  return (cpu) => {
    const x = readSt(cpu, 0), y = readSt(cpu, 1);
    const r = invalidOrNaN(y, x) ?? fn(cpu, x, y);
    if (commit(cpu, 1, r)) pop(cpu);
  };
}

/** sign of an F80 as ±1 for Math.atan2 (zeros and infinities keep their sign) */
const signed = (a: F80, mag: number): number => (isNeg(a) ? -mag : mag);
const asNumber = (a: F80): number => (isZero(a) ? signed(a, 0) : isInf(a) ? signed(a, Infinity) : signed(a, 1));

/**
 * FPATAN: atan2(ST(1), ST(0)). With a zero or an infinity the result is 0 or a multiple of
 * pi/4 (atan2's quadrant rules, which the SDM's table follows); else computed.
 */
const fpatan = binary((cpu, x, y) => {
  const de = deOf(x, y), pc = PC_64, rc = roundingControl(cpu);
  if (isZero(x) || isZero(y) || isInf(x) || isInf(y)) {
    const v = Math.atan2(asNumber(y), asNumber(x));
    if (v === 0) return { v: zero(Object.is(v, -0)), sw: de };
    return withDe(piQuartersF80(Math.round(v / (Math.PI / 4)), pc, rc), de);
  }
  return withDe(fpatanF80(y, x, pc, rc), de);
});

/** FYL2X: ST(1) * log2(ST(0)); FYL2XP1: ST(1) * log2(ST(0) + 1) */
function fyl2x(plusOne: boolean) {
  return binary((cpu, x, y) => {
    const de = deOf(x, y), pc = PC_64, rc = roundingControl(cpu);
    if (plusOne) {
      // the domain is |x| < 1 - sqrt(2)/2; outside it the result is undefined (here: x < -1 invalid, inf follows the log)
      if (isInf(x)) return isNeg(x) || isZero(y) ? invalid : { v: inf(isNeg(y)), sw: de };
      const below = isNeg(x) && !isZero(x) && (x.se & 0x7fff) >= BIAS;
      if (below && !((x.se & 0x7fff) === BIAS && x.sig === 1n << 63n)) return invalid;
      if (below) return isZero(y) ? invalid : { v: inf(!isNeg(y)), sw: SW_ZE }; // log2(0) = -inf
      if (isZero(x)) return isInf(y) ? invalid : { v: zero(isNeg(x) !== isNeg(y)), sw: de };
      if (isInf(y)) return { v: inf(isNeg(x) !== isNeg(y)), sw: de };
      if (isZero(y)) return { v: zero(isNeg(x) !== isNeg(y)), sw: de };
      return withDe(fyl2xp1F80(x, y, pc, rc), de);
    }
    if (isNeg(x) && !isZero(x)) return invalid;
    if (isZero(x)) {
      // log2(±0) = -inf: y * -inf, a zero divide for finite y
      if (isZero(y)) return invalid;
      return { v: inf(!isNeg(y)), sw: isInf(y) ? de : SW_ZE };
    }
    const isOne = (x.se & 0x7fff) === BIAS && x.sig === 1n << 63n;
    if (isInf(x)) return isZero(y) ? invalid : { v: inf(isNeg(y)), sw: de };
    if (isInf(y)) {
      if (isOne) return invalid;
      const below1 = (x.se & 0x7fff) < BIAS; // log2 x < 0
      return { v: inf(isNeg(y) !== below1), sw: de };
    }
    if (isZero(y) || isOne) {
      const below1 = (x.se & 0x7fff) < BIAS;
      return { v: zero(isNeg(y) !== (below1 && !isOne)), sw: de };
    }
    return withDe(fyl2xF80(x, y, pc, rc), de);
  });
}

/** F2XM1: 2^ST(0) - 1 (defined for -1 <= x <= 1) */
function f2xm1(cpu: Cpu): void {
  const a = readSt(cpu, 0);
  const s = invalidOrNaN(a, null);
  if (s) { commit(cpu, 0, s); return; }
  if (isZero(a)) { commit(cpu, 0, { v: a, sw: 0 }); return; }
  if (isInf(a)) { commit(cpu, 0, { v: isNeg(a) ? { se: 0x8000 | BIAS, sig: 1n << 63n } : a, sw: 0 }); return; }
  if ((a.se & 0x7fff) === BIAS && a.sig === 1n << 63n) {
    // 2^1 - 1 = 1, 2^-1 - 1 = -0.5 exactly
    commit(cpu, 0, { v: isNeg(a) ? { se: 0x8000 | (BIAS - 1), sig: 1n << 63n } : ONE, sw: 0 });
    return;
  }
  commit(cpu, 0, withDe(f2xm1F80(a, PC_64, roundingControl(cpu)), deOf(a)));
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
