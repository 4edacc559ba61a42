// SSE/SSE2 conversions: CVTSI2SS/CVTSI2SD (r/m32 or r/m64 with REX.W), CVT(T)SS2SI and
// CVT(T)SD2SI (to r32/r64), CVTSS2SD/CVTSD2SS, CVTPS2PD/CVTPD2PS, CVTDQ2PS/CVT(T)PS2DQ,
// CVTDQ2PD/CVT(T)PD2DQ. Rounding follows MXCSR.RC except for the truncating CVTT forms; a NaN
// or out-of-range value converts to the integer indefinite (0x80000000 / 0x8000000000000000)
// with IE; inexact conversions set PE. Float-to-float conversions quieten SNaNs (IE) and keep
// the NaN payload.

import type { Cpu } from '../../cpu.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp, type PrefixRule } from '../../optable.js';
import { daz, fpBegin, fpx, rc, roundToF32 } from './fp-lane.js';
import { MX_DE, MX_IE, MX_PE, RC_DOWN, RC_NEAREST, RC_UP, signalSimd } from './mxcsr.js';
import { FMT32, FMT64, sfFlags, sfFromInt64 } from './softfloat.js';
import { A, B, BF32, BF64, loadB128, loadB32, loadB64, R, RF32, RF64, setXmm, sseGate } from './xmm-access.js';

const TWO31 = 2147483648, TWO63 = 9223372036854775808, TWO32 = 4294967296;

/** Round an integral-or-not double to an integer by rc. */
export function roundToInteger(x: number, mode: number): number {
  switch (mode) {
    case RC_NEAREST: {
      const f = Math.floor(x);
      const d = x - f;
      if (d > 0.5 || (d === 0.5 && f % 2 !== 0)) return f + 1;
      return f;
    }
    case RC_DOWN: return Math.floor(x);
    case RC_UP: return Math.ceil(x);
    default: return Math.trunc(x);
  }
}

// result of toInteger: low and high halves
let intLo = 0, intHi = 0;

/**
 * A float value (NaN given separately) to a signed 32/64-bit integer; out of range or NaN
 * gives the integer indefinite with IE. `denormal`: the value is a denormal (zero under DAZ).
 */
function toInteger(x: number, isNaN: boolean, denormal: boolean, wide: boolean, truncate: boolean): void {
  if (denormal && daz) x = 0;
  if (!isNaN) {
    const r = truncate ? Math.trunc(x) : roundToInteger(x, rc);
    if (wide ? r >= -TWO63 && r < TWO63 : r >= -TWO31 && r < TWO31) {
      if (r !== x) fpx.post |= MX_PE;
      if (wide) {
        const hi = Math.floor(r / TWO32);
        intLo = (r - hi * TWO32) | 0;
        intHi = hi | 0;
      } else {
        intLo = r | 0;
        intHi = 0;
      }
      return;
    }
  }
  fpx.pre |= MX_IE;
  if (wide) { intLo = 0; intHi = 0x80000000 | 0; } else { intLo = 0x80000000 | 0; intHi = 0; }
}

/** lane k (binary64) of B to an integer */
function f64ToInt(k: number, wide: boolean, truncate: boolean): void {
  const hi = B[2 * k + 1], lo = B[2 * k];
  const e = hi & 0x7ff00000;
  const nan = e === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0;
  toInteger(BF64[k], nan, e === 0 && ((hi & 0xfffff) | lo) !== 0, wide, truncate);
}

/** lane k (binary32) of B to an integer */
function f32ToInt(k: number, wide: boolean, truncate: boolean): void {
  const b = B[k];
  toInteger(BF32[k], (b & 0x7fffffff) > 0x7f800000, (b & 0x7f800000) === 0 && (b & 0x7fffff) !== 0, wide, truncate);
}

/** binary32 lane k of B widened into binary64 lane j of R */
function widen(k: number, j: number): void {
  const b = B[k];
  if ((b & 0x7fffffff) > 0x7f800000) {
    if ((b & 0x400000) === 0) fpx.pre |= MX_IE;
    const m = b & 0x7fffff;
    R[2 * j] = (m & 7) << 29;
    R[2 * j + 1] = (b & 0x80000000) | 0x7ff80000 | (m >>> 3);
    return;
  }
  let v = BF32[k];
  if ((b & 0x7f800000) === 0 && v !== 0) {
    if (daz) v = b < 0 ? -0 : 0; else fpx.pre |= MX_DE;
  }
  RF64[j] = v;
}

/** binary64 lane k of B narrowed into binary32 lane j of R */
function narrow(k: number, j: number): void {
  const lo = B[2 * k], hi = B[2 * k + 1];
  const e = hi & 0x7ff00000;
  if (e === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0) {
    if ((hi & 0x80000) === 0) fpx.pre |= MX_IE;
    R[j] = (hi & 0x80000000) | 0x7fc00000 | (((hi & 0xfffff) << 3) | (lo >>> 29));
    return;
  }
  let v = BF64[k];
  if (e === 0 && v !== 0) {
    if (daz) v = hi < 0 ? -0 : 0; else fpx.pre |= MX_DE;
  }
  RF32[j] = v - v !== 0 ? v : roundToF32(v); // infinities convert exactly
}

/** a signed integer (halves) rounded to binary32/binary64 */
function fromInt(lo: number, hi: number, double: boolean): number {
  if (hi === lo >> 31) {
    if (double || (lo < 16777216 && lo > -16777216)) return lo; // exact
  } else if (double) {
    const v = hi * TWO32 + (lo >>> 0);
    if (v < 9007199254740992 && v > -9007199254740992) return v;
  }
  const v = sfFromInt64(lo, hi, double ? FMT64 : FMT32, rc);
  fpx.post |= sfFlags;
  return v;
}

function done(cpu: Cpu): void {
  if ((fpx.pre | fpx.post) !== 0) signalSimd(cpu, fpx.pre, fpx.post);
}

// ---------------------------------------------------------------- scalar

/** CVTSI2SS / CVTSI2SD xmm, r/m32/64 */
function cvtsi2s(double: boolean): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    let lo: number, hi: number;
    if (ins.osize === 8) {
      if (ins.hasMem) { lo = cpu.read64(ins.ea(cpu, ins)); hi = cpu.vhi; } else { lo = cpu.lo[ins.rm]; hi = cpu.hi[ins.rm]; }
    } else {
      lo = ins.hasMem ? cpu.read32(ins.ea(cpu, ins)) : cpu.lo[ins.rm];
      hi = lo >> 31;
    }
    fpBegin(cpu.mxcsr);
    const v = fromInt(lo, hi, double);
    done(cpu);
    if (double) {
      RF64[0] = v;
      cpu.xmm[ins.reg << 2] = R[0];
      cpu.xmm[(ins.reg << 2) + 1] = R[1];
    } else {
      RF32[0] = v;
      cpu.xmm[ins.reg << 2] = R[0];
    }
  };
}

/** CVT(T)SS2SI / CVT(T)SD2SI r32/64, xmm/m */
function cvts2si(double: boolean, truncate: boolean): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    if (double) loadB64(cpu, ins); else loadB32(cpu, ins);
    fpBegin(cpu.mxcsr);
    const wide = ins.osize === 8;
    if (double) f64ToInt(0, wide, truncate); else f32ToInt(0, wide, truncate);
    done(cpu);
    cpu.lo[ins.reg] = intLo;
    cpu.hi[ins.reg] = intHi;
  };
}

function cvtss2sd(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  loadB32(cpu, ins);
  fpBegin(cpu.mxcsr);
  widen(0, 0);
  done(cpu);
  cpu.xmm[ins.reg << 2] = R[0];
  cpu.xmm[(ins.reg << 2) + 1] = R[1];
}

function cvtsd2ss(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  loadB64(cpu, ins);
  fpBegin(cpu.mxcsr);
  narrow(0, 0);
  done(cpu);
  cpu.xmm[ins.reg << 2] = R[0];
}

// ---------------------------------------------------------------- packed

/**
 * A packed conversion: B loaded by `load`, `convert` fills `out` lane by lane, then the lanes'
 * exceptions are raised (before the destination is written) and `out` becomes the destination.
 */
function packedConvert(load: (cpu: Cpu, ins: Insn) => void, convert: () => void, out: Int32Array = R): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    load(cpu, ins);
    fpBegin(cpu.mxcsr);
    convert();
    done(cpu);
    setXmm(cpu, ins.reg, out);
  };
}

const cvtps2pd = packedConvert(loadB64, () => { widen(0, 0); widen(1, 1); });
const cvtpd2ps = packedConvert(loadB128, () => { narrow(0, 0); narrow(1, 1); R[2] = 0; R[3] = 0; });
const cvtdq2ps = packedConvert(loadB128, () => {
  for (let k = 0; k < 4; k++) RF32[k] = fromInt(B[k], B[k] >> 31, false);
});
const cvtps2dq = (truncate: boolean): Exec => packedConvert(loadB128, () => {
  for (let k = 0; k < 4; k++) {
    f32ToInt(k, false, truncate);
    A[k] = intLo;
  }
}, A);
const cvtpd2dq = (truncate: boolean): Exec => packedConvert(loadB128, () => {
  f64ToInt(0, false, truncate);
  A[0] = intLo;
  f64ToInt(1, false, truncate);
  A[1] = intLo;
  A[2] = 0;
  A[3] = 0;
}, A);

function cvtdq2pd(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  loadB64(cpu, ins);
  const b0 = B[0], b1 = B[1];
  RF64[0] = b0;
  RF64[1] = b1;
  setXmm(cpu, ins.reg, R);
}

const FORMS: [number, PrefixRule, string, Exec][] = [
  [0x2a, 'F3', 'cvtsi2ss', cvtsi2s(false)], [0x2a, 'F2', 'cvtsi2sd', cvtsi2s(true)],
  [0x2c, 'F3', 'cvttss2si', cvts2si(false, true)], [0x2c, 'F2', 'cvttsd2si', cvts2si(true, true)],
  [0x2d, 'F3', 'cvtss2si', cvts2si(false, false)], [0x2d, 'F2', 'cvtsd2si', cvts2si(true, false)],
  [0x5a, 'F3', 'cvtss2sd', cvtss2sd], [0x5a, 'F2', 'cvtsd2ss', cvtsd2ss],
  [0x5a, 'np', 'cvtps2pd', cvtps2pd], [0x5a, '66', 'cvtpd2ps', cvtpd2ps],
  [0x5b, 'np', 'cvtdq2ps', cvtdq2ps], [0x5b, '66', 'cvtps2dq', cvtps2dq(false)], [0x5b, 'F3', 'cvttps2dq', cvtps2dq(true)],
  [0xe6, 'F3', 'cvtdq2pd', cvtdq2pd], [0xe6, '66', 'cvttpd2dq', cvtpd2dq(true)], [0xe6, 'F2', 'cvtpd2dq', cvtpd2dq(false)],
];
for (const [opcode, prefix, name, exec] of FORMS) {
  defineOp(MAP_0F, opcode, { name, exec, modrm: true, size: 'x' }, { prefix });
}


