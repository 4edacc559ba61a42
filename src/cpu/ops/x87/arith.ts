// x87 arithmetic: FADD/FMUL/FSUB/FSUBR/FDIV/FDIVR with m32real (D8), m64real (DC), m32int
// (DA), m16int (DE) and register operands (D8: ST(0) op= ST(i); DC: ST(i) op= ST(0); DE: the
// same and pop; in DC/DE the SUB/SUBR and DIV/DIVR encodings swap), and the one-operand
// FCHS FABS FSQRT FRNDINT FSCALE FXTRACT FPREM FPREM1, all exact in the 80-bit register format.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import {
  bitLength, BIAS, type F80, type F80Result, INDEFINITE, inf, isDenormal, isInf, isNaN80, isNeg, isZero, PC_64,
  RC_NEAREST, roundF80, special, sqrtF80, SW_DE, SW_IE, SW_ZE, unpack, zero,
} from './f80-arith.js';
import { fromF32, fromF64, fromInt, isUnsupported, type Loaded, roundToIntegral } from './f80-convert.js';
import {
  commit, fpuGateWait, noteInstruction, physOf, pop, precisionControl, push, readSt, roundingControl, setCc, SW_C1,
  suppressed, writeSt,
} from './fpu-state.js';
import { fastAdd, fastMem, fastMul } from './fast-path.js';
import { arith, invalidOrNaN, memOperand, OP_ADD, OP_DIV, OP_MUL, OP_SUB } from './operands.js';

// ModRM.reg of the arithmetic group: 0 add, 1 mul, (2 com, 3 comp: compare.ts), 4 sub, 5 subr, 6 div, 7 divr
const OP_OF_REG = [OP_ADD, OP_MUL, -1, -1, OP_SUB, OP_SUB, OP_DIV, OP_DIV];
const REVERSED = [false, false, false, false, false, true, false, true];

function run(cpu: Cpu, reg: number, reversed: boolean, dst: F80, src: F80, de = 0): F80Result {
  return reversed ? arith(cpu, OP_OF_REG[reg], src, dst, de) : arith(cpu, OP_OF_REG[reg], dst, src, de);
}

/**
 * The BigInt-free common case (fast-path.ts) of dst = dst op src for ADD MUL SUB SUBR (reg 0 1 4 5),
 * with SUB and SUBR exchanged when `swapped` (the DC/DE register encodings); false: take the exact path.
 */
function fast(cpu: Cpu, reg: number, swapped: boolean, dst: number, src: number): boolean {
  if (reg === 1) return fastMul(cpu, dst, dst, src);
  if (reg === 0) return fastAdd(cpu, dst, dst, src, false);
  if (reg === 4 || reg === 5) return (reg === 5) !== swapped ? fastAdd(cpu, dst, src, dst, true) : fastAdd(cpu, dst, dst, src, true);
  return false;
}

/** D8/DC/DA/DE with a memory operand: ST(0) = ST(0) op mem */
function arithMem(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  const lin = ins.ea(cpu, ins);
  const reg = ins.reg & 7;
  const opcode = ins.opcode & 0xff;
  let m: Loaded;
  if ((reg === 0 || reg === 1 || reg === 4 || reg === 5) && (opcode === 0xdc || opcode === 0xd8)) {
    // FADD/FMUL/FSUB/FSUBR m64real/m32real: the fast case needs the raw bits, the exact path the widened value
    const lo = opcode === 0xdc ? cpu.read64(lin) : cpu.read32(lin), hi = opcode === 0xdc ? cpu.vhi : null;
    noteInstruction(cpu, ins, lin);
    if (fastMem(cpu, reg, lo, hi)) return;
    m = hi === null ? fromF32(lo) : fromF64(lo, hi);
  } else {
    m = memOperand(cpu, ins, lin);
    noteInstruction(cpu, ins, lin);
  }
  const a = readSt(cpu, 0);
  commit(cpu, 0, run(cpu, reg, REVERSED[reg], a, m.v, m.sw));
}

/** D8 reg: ST(0) = ST(0) op ST(i) */
function arithSt0(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const reg = ins.reg & 7;
  if (fast(cpu, reg, false, physOf(cpu, 0), physOf(cpu, ins.rm & 7))) return;
  const a = readSt(cpu, 0), b = readSt(cpu, ins.rm & 7);
  commit(cpu, 0, run(cpu, reg, REVERSED[reg], a, b));
}

/** DC/DE reg: ST(i) = ST(i) op ST(0), SUB/SUBR and DIV/DIVR swapped; DE pops */
function arithStI(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  noteInstruction(cpu, ins, 0);
  const reg = ins.reg & 7;
  const i = ins.rm & 7;
  if (fast(cpu, reg, reg >= 4, physOf(cpu, i), physOf(cpu, 0))) {
    if ((ins.opcode & 0xff) === 0xde) pop(cpu);
    return;
  }
  const a = readSt(cpu, i), b = readSt(cpu, 0);
  const stored = commit(cpu, i, run(cpu, reg, reg >= 4 ? !REVERSED[reg] : false, a, b));
  if ((ins.opcode & 0xff) === 0xde && stored) pop(cpu);
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

/** FCHS/FABS change only the sign bit, whatever the value (no exceptions but stack underflow). */
function signOp(abs: boolean): (cpu: Cpu) => void {
  return (cpu) => {
    const a = readSt(cpu, 0);
    if (suppressed(cpu)) return;
    cpu.fpStatus &= ~SW_C1;
    writeSt(cpu, 0, { se: abs ? a.se & 0x7fff : a.se ^ 0x8000, sig: a.sig });
  };
}

const invalid: F80Result = { v: INDEFINITE, sw: SW_IE };

function fsqrt(cpu: Cpu): void {
  const a = readSt(cpu, 0);
  commit(cpu, 0, isUnsupported(a) ? invalid : sqrtF80(a, precisionControl(cpu), roundingControl(cpu)));
}

/** FRNDINT: round ST(0) to an integer by RC */
function frndint(cpu: Cpu): void {
  const a = readSt(cpu, 0);
  const s = invalidOrNaN(a, null);
  if (s) { commit(cpu, 0, s); return; }
  if (isInf(a)) { commit(cpu, 0, { v: a, sw: 0 }); return; }
  commit(cpu, 0, roundToIntegral(a, roundingControl(cpu)));
}

const denormals = (...xs: F80[]): number => (xs.some(isDenormal) ? SW_DE : 0);

/** FSCALE: ST(0) * 2^trunc(ST(1)), rounded by RC where it leaves the range (precision control does not apply) */
function fscale(cpu: Cpu): void {
  const x = readSt(cpu, 0), y = readSt(cpu, 1);
  commit(cpu, 0, scale(cpu, x, y));
}

function scale(cpu: Cpu, x: F80, y: F80): F80Result {
  const s = invalidOrNaN(x, y);
  if (s) return s;
  const de = denormals(x, y);
  if (isInf(y)) {
    if (!isNeg(y)) return isZero(x) ? invalid : { v: isInf(x) ? x : inf(isNeg(x)), sw: de };
    return isInf(x) ? invalid : { v: isZero(x) ? x : zero(isNeg(x)), sw: de };
  }
  if (isInf(x) || isZero(x)) return { v: x, sw: de };
  const { m, e } = unpack(x);
  const n = truncated(y);
  return roundF80(isNeg(x), m, e + n, false, PC_64, roundingControl(cpu), de);
}

/** trunc(y) of a finite y, clamped to a range beyond any result exponent */
function truncated(y: F80): number {
  if (isZero(y)) return 0;
  const { m, e } = unpack(y);
  const lead = e + bitLength(m) - 1;
  if (lead > 20) return isNeg(y) ? -(1 << 20) : 1 << 20;
  const t = e >= 0 ? Number(m) * 2 ** e : Number(m >> BigInt(-e));
  return isNeg(y) ? -t : t;
}

/** FXTRACT: ST(0) = exponent, then push the significand (exponent 0) */
function fxtract(cpu: Cpu): void {
  const x = readSt(cpu, 0);
  let exp: F80, sig: F80, sw = 0;
  if (isUnsupported(x)) { exp = sig = INDEFINITE; sw = SW_IE; }
  else if (isNaN80(x)) { const s = special(x, null)!; exp = sig = s.v; sw = s.sw; }
  else if (isZero(x)) { exp = inf(true); sig = x; sw = SW_ZE; }
  else if (isInf(x)) { exp = inf(false); sig = x; }
  else {
    const { m, e } = unpack(x);
    const len = bitLength(m);
    exp = fromInt(BigInt(e + len - 1));
    sig = { se: (x.se & 0x8000) | BIAS, sig: m << BigInt(64 - len) };
    sw = denormals(x);
  }
  if (!commit(cpu, 0, { v: exp, sw })) return;
  push(cpu, sig);
}

/**
 * How far below the exponent difference d a partial FPREM step reduces: the SDM's
 * implementation-dependent N (32..63). Measured on the host (AMD EPYC): N = 32 + (d mod 32),
 * i.e. the divisor is scaled by a multiple of 2^32 (test/isa, x87-arith fprem forms).
 */
const partialBits = (d: number): number => 32 + (d & 31);

/**
 * FPREM (truncating quotient) / FPREM1 (round-to-nearest quotient): ST(0) = remainder of
 * ST(0) / ST(1) (exact) with C2 = 0 and C0 C3 C1 = quotient bits 2 1 0. When the exponents
 * differ by 64 or more only a partial reduction is done (C2 = 1) and the program loops.
 */
function fprem(nearest: boolean): (cpu: Cpu) => void {
  return (cpu) => {
    const x = readSt(cpu, 0), y = readSt(cpu, 1);
    const s = invalidOrNaN(x, y);
    if (s) { commit(cpu, 0, s); return; }
    if (isZero(y) || isInf(x)) { commit(cpu, 0, invalid); return; }
    const de = denormals(x, y);
    if (isInf(y) || isZero(x)) {
      if (commit(cpu, 0, { v: x, sw: de })) setCc(cpu, 0, 0, 0, 0);
      return;
    }
    const ux = unpack(x), uy = unpack(y);
    const d = ux.e + bitLength(ux.m) - (uy.e + bitLength(uy.m));
    const partial = d >= 64;
    const ey = partial ? uy.e + d - partialBits(d) : uy.e;
    const e = Math.min(ux.e, ey);
    const X = ux.m << BigInt(ux.e - e), Y = uy.m << BigInt(ey - e);
    let q = X / Y;
    let R = X - q * Y;
    let neg = isNeg(x);
    if (nearest && !partial && (2n * R > Y || (2n * R === Y && (q & 1n) === 1n))) {
      R = Y - R;
      q += 1n;
      neg = !neg;
    }
    const v = R === 0n ? zero(isNeg(x)) : roundF80(neg, R, e, false, PC_64, RC_NEAREST).v;
    if (!commit(cpu, 0, { v, sw: de })) return;
    if (partial) setCc(cpu, 0, 1, 0, 0);
    else {
      const q8 = Number(q & 7n);
      setCc(cpu, (q8 >> 1) & 1, 0, q8 & 1, (q8 >> 2) & 1);
    }
  };
}

const D9: [number, string, (cpu: Cpu) => void][] = [
  [0, 'fchs', signOp(false)], [1, 'fabs', signOp(true)], [0x1a, 'fsqrt', fsqrt], [0x1c, 'frndint', frndint],
  [0x1d, 'fscale', fscale], [0x14, 'fxtract', fxtract], [0x18, 'fprem', fprem(false)], [0x15, 'fprem1', fprem(true)],
];
for (const [low, name, fn] of D9) {
  // D9 E0+low: reg = 4 + (low >> 3), rm = low & 7
  defineOp(MAP_1B, 0xd9, { name, exec: unary(fn), modrm: true, size: 'x' }, { reg: 4 + (low >> 3), rm: low & 7, mod: 'reg' });
}
