// Templates for SHL/SAL/SHR/SAR (by 1, imm8 or CL) and multiplication: IMUL with two and
// three operands, one-operand MUL/IMUL — the semantics of src/cpu/ops/integer/shift.ts and
// muldiv.ts. Rotates, double shifts and division use the routines.

import type { Insn } from '../../insn.js';
import { MAP_0F, MAP_1B } from '../../insn.js';
import { materialize } from '../../flags.js';
import { ARITH_FLAGS, CF, OF } from '../../regs.js';
import type { Emitter } from '../emitter.js';
import { FK_RESULT } from '../flag-source.js';
import { mulHiS32, mulHiU32, mulLo64, mulS64, mulU64, prod } from '../../exact-multiply.js';
import { rotate64, shift64, shiftOut } from '../runtime.js';
import type { TemplateSpec } from '../template.js';
import { immOf, loadReg, loadRm, resultLocals, storeRm, type Loaded } from './operands.js';

const K_ROL = 0, K_ROR = 1, K_RCL = 2, K_RCR = 3, K_SHL = 4, K_SHR = 5, K_SAL = 6, K_SAR = 7;
const MASKS = [0, 255, 65535, 0, -1];

export function shiftMulFamily(ins: Insn, _mode: number): TemplateSpec | null {
  const map = ins.opcode >> 8, opc = ins.opcode & 0xff;
  if (map === MAP_0F) return opc === 0xaf ? mulSpec(ins, imul2) : null;
  if (map !== MAP_1B) return null;
  if (opc === 0x69 || opc === 0x6b) return mulSpec(ins, imul3);
  if ((opc === 0xf6 || opc === 0xf7) && ((ins.reg & 7) === 4 || (ins.reg & 7) === 5)) return mulSpec(ins, mul1);
  if (opc >= 0xc0 && opc <= 0xd3 && !(opc > 0xc1 && opc < 0xd0)) {
    let kind = ins.reg & 7;
    if (kind === K_RCL || kind === K_RCR) return null; // through the carry: the routine
    if (kind === K_SAL) kind = K_SHL;
    if (kind <= K_ROR) return rotateSpec(ins, opc, kind);
    // a count of 0 still probes a memory operand: those forms keep their routine
    if (opc === 0xd2 || opc === 0xd3) {
      if (ins.hasMem) return null;
      return { writes: 0, maybeWrites: true, cc: -1, mayFault: false, emit: (e, ins2, i) => shiftByCl(e, ins2, i, kind) };
    }
    const raw = opc <= 0xc1 ? ins.imm : 1;
    const c = raw & (ins.osize === 8 ? 63 : 31);
    if (c === 0) {
      if (ins.hasMem) return null;
      return { writes: 0, cc: -1, mayFault: false, emit: (e, ins2) => { if (ins2.osize === 4) e.line(`hi[${ins2.rm}] = 0;`); } };
    }
    return { writes: ARITH_FLAGS, cc: -1, mayFault: ins.hasMem, emit: (e, ins2, i) => shiftByConst(e, ins2, i, kind, c) };
  }
  return null;
}

// ------------------------------------------------------------------ shifts

/** narrow shift statements for a count expression; `c` may be a literal */
function narrowShift(e: Emitter, kind: number, size: number, v: string, c: string, r: string, cf: string, of: string): void {
  const bits = size * 8, msb = bits - 1, mask = MASKS[size];
  if (kind === K_SHL) {
    const rexp = size === 4 ? `${v} << ${c}` : `${c} >= 32 ? 0 : (${v} << ${c}) & ${mask}`;
    e.line(`${r} = ${rexp};`);
    e.line(`${cf} = ${c} > ${bits} ? 0 : (${v} >>> (${bits} - ${c})) & 1;`);
    e.line(`${of} = ((${r} >>> ${msb}) & 1) ^ ${cf};`);
  } else if (kind === K_SHR) {
    e.line(`${r} = (${v} >>> ${c}) | 0; ${cf} = (${v} >>> (${c} - 1)) & 1; ${of} = (${v} >>> ${msb}) & 1;`);
  } else {
    const s = size === 4 ? v : `(${v} << ${32 - bits} >> ${32 - bits})`;
    e.line(`${r} = (${s} >> ${c}) & ${mask}; ${cf} = (${s} >> (${c} - 1)) & 1; ${of} = 0;`);
  }
}

/** 64-bit shift by a constant count 1..63, specialised at compile time */
function wideShiftConst(e: Emitter, kind: number, a: Loaded, c: number, r: string, rh: string, cf: string, of: string): void {
  const l = a.v, h = a.vh;
  const bit = (n: number): string => n < 32 ? `((${l} >>> ${n}) & 1)` : `((${h} >>> ${n - 32}) & 1)`;
  if (kind === K_SHR) {
    if (c < 32) e.line(`${r} = (${l} >>> ${c}) | (${h} << ${32 - c}); ${rh} = (${h} >>> ${c}) | 0;`);
    else e.line(`${r} = (${h} >>> ${c - 32}) | 0; ${rh} = 0;`);
    e.line(`${cf} = ${bit(c - 1)}; ${of} = ${h} >>> 31;`);
  } else if (kind === K_SAR) {
    if (c < 32) e.line(`${r} = (${l} >>> ${c}) | (${h} << ${32 - c}); ${rh} = ${h} >> ${c};`);
    else e.line(`${r} = ${h} >> ${c - 32}; ${rh} = ${h} >> 31;`);
    e.line(`${cf} = ${c - 1 < 32 ? `(${l} >>> ${c - 1}) & 1` : `(${h} >> ${c - 33}) & 1`}; ${of} = 0;`);
  } else {
    if (c < 32) e.line(`${rh} = (${h} << ${c}) | (${l} >>> ${32 - c}); ${r} = ${l} << ${c};`);
    else e.line(`${rh} = ${l} << ${c - 32}; ${r} = 0;`);
    e.line(`${cf} = ${bit(64 - c)}; ${of} = (${rh} >>> 31) ^ ${cf};`);
  }
}

function shiftLocals(e: Emitter, i: number, size: number): { r: string; rh: string; cf: string; of: string } {
  return {
    ...resultLocals(e, i, size), cf: e.local(`c${i}`), of: e.local(`o${i}`),
  };
}

function shiftByConst(e: Emitter, ins: Insn, i: number, kind: number, c: number): void {
  const size = ins.osize;
  const a = loadRm(e, ins, i, size, 'a', true);
  const { r, rh, cf, of } = shiftLocals(e, i, size);
  if (size === 8) wideShiftConst(e, kind, a, c, r, rh, cf, of);
  else {
    const v = size === 4 ? a.v : `(${a.v} & ${MASKS[size]})`;
    narrowShift(e, kind, size, v, String(c), r, cf, of);
  }
  storeRm(e, ins, size, a, r, rh);
  e.flags(i, { kind: FK_RESULT, size, a: a.v, ah: a.vh, b: String(c), bh: '0', r, rh, c: cf, o: of });
}

function shiftByCl(e: Emitter, ins: Insn, i: number, kind: number): void {
  const size = ins.osize;
  const n = e.local(`n${i}`);
  e.line(`${n} = lo[1] & ${size === 8 ? 63 : 31};`);
  const zeroExt = size === 4 ? ` else { hi[${ins.rm}] = 0; }` : '';
  e.line(`if (${n} !== 0) {`);
  const a = loadRm(e, ins, i, size, 'a');
  const { r, rh, cf, of } = shiftLocals(e, i, size);
  if (size === 8) {
    const f = e.constant('shift64', shift64), out = e.constant('shiftOut', shiftOut);
    e.line(`${f}(${kind}, ${a.v}, ${a.vh}, ${n}); ${r} = ${out}[0]; ${rh} = ${out}[1]; ${cf} = ${out}[2]; ${of} = ${out}[3];`);
  } else {
    const v = size === 4 ? a.v : `(${a.v} & ${MASKS[size]})`;
    narrowShift(e, kind, size, v, n, r, cf, of);
  }
  storeRm(e, ins, size, a, r, rh);
  e.flags(i, { kind: FK_RESULT, size, a: a.v, ah: a.vh, b: n, bh: '0', r, rh, c: cf, o: of });
  e.line(`}${zeroExt}`);
}

// ------------------------------------------------------------------ rotates

/**
 * ROL/ROR change only CF and OF: like the routine, the lazy flags are materialized and the
 * two bits edited, so the flag analysis treats a rotate as reading all flags and leaving
 * them in cpu.flags (`maybeWrites`). A count of 0 changes nothing (memory: the routine).
 */
function rotateSpec(ins: Insn, opc: number, kind: number): TemplateSpec | null {
  const byCl = opc === 0xd2 || opc === 0xd3;
  const raw = opc <= 0xc1 ? ins.imm : 1;
  const c = raw & (ins.osize === 8 ? 63 : 31);
  if (ins.hasMem && (byCl || c === 0)) return null;
  if (!byCl && c === 0) {
    return { writes: 0, cc: -1, mayFault: false, emit: (e, ins2) => { if (ins2.osize === 4) e.line(`hi[${ins2.rm}] = 0;`); } };
  }
  return { writes: 0, maybeWrites: true, cc: -1, mayFault: ins.hasMem, emit: (e, ins2, i) => emitRotate(e, ins2, i, kind, byCl ? -1 : c) };
}

/** `count` -1: CL */
function emitRotate(e: Emitter, ins: Insn, i: number, kind: number, count: number): void {
  const size = ins.osize, bits = size * 8, msb = bits - 1, mask = MASKS[size];
  const n = e.local(`n${i}`);
  e.line(`${n} = ${count >= 0 ? count : `lo[1] & ${size === 8 ? 63 : 31}`};`);
  if (count < 0) e.line(`if (${n} !== 0) {`);
  const a = loadRm(e, ins, i, size, 'a', true);
  const { r, rh } = resultLocals(e, i, size), cf = e.local(`c${i}`), of = e.local(`o${i}`);
  if (size === 8) {
    const f = e.constant('rotate64', rotate64), out = e.constant('shiftOut', shiftOut);
    e.line(`${f}(${kind}, ${a.v}, ${a.vh}, ${n}); ${r} = ${out}[0]; ${rh} = ${out}[1]; ${cf} = ${out}[2]; ${of} = ${out}[3];`);
  } else {
    const v = size === 4 ? a.v : `(${a.v} & ${mask})`;
    e.line(`{ const x = ${n} % ${bits}; const v = ${v};`);
    if (kind === K_ROL) {
      e.line(`${r} = x === 0 ? v : ((v << x) | (v >>> (${bits} - x))) & ${mask}; ${cf} = ${r} & 1; ${of} = ((${r} >>> ${msb}) & 1) ^ ${cf}; }`);
    } else {
      e.line(`${r} = x === 0 ? v : ((v >>> x) | (v << (${bits} - x))) & ${mask}; ${cf} = (${r} >>> ${msb}) & 1; ${of} = ${cf} ^ ((${r} >>> ${msb - 1}) & 1); }`);
    }
  }
  storeRm(e, ins, size, a, r, rh);
  const mat = e.constant('materialize', materialize);
  e.line(`${mat}(cpu); cpu.flags = (cpu.flags & ${~(CF | OF)}) | ${cf} | (${of} << 11);`);
  if (count < 0) e.line(size === 4 ? `} else { hi[${ins.rm}] = 0; }` : '}');
}

// ------------------------------------------------------------------ multiply

type MulEmit = (e: Emitter, ins: Insn, i: number) => void;

function mulSpec(ins: Insn, emit: MulEmit): TemplateSpec {
  return { writes: ARITH_FLAGS, cc: -1, mayFault: ins.hasMem, emit };
}

/** dest(reg) = a * b truncated to the operand size; CF = OF = the signed product did not fit */
function imulTrunc(e: Emitter, ins: Insn, i: number, a: Loaded, b: Loaded): void {
  const size = ins.osize, d = ins.reg;
  const { r, rh } = resultLocals(e, i, size), of = e.local(`o${i}`);
  if (size === 2) {
    e.line(`${r} = (${a.v} << 16 >> 16) * (${b.v} << 16 >> 16); ${of} = ${r} !== (${r} << 16 >> 16) ? 1 : 0;`);
    e.line(e.setReg(2, d, ins.rex, r));
  } else if (size === 4) {
    e.line(`${r} = Math.imul(${a.v}, ${b.v}); ${of} = ${a.v} * ${b.v} !== ${r} ? 1 : 0;`);
    e.line(`lo[${d}] = ${r}; hi[${d}] = 0;`);
  } else if (!e.plans[i].flagsUsed) {
    // only the truncated product matters when nothing reads the overflow flags
    const f = e.constant('mulLo64', mulLo64), q = e.constant('prod', prod);
    e.line(`${r} = ${f}(${a.v}, ${a.vh}, ${b.v}, ${b.vh}); ${rh} = ${q}[1]; ${of} = 0;`);
    e.line(`lo[${d}] = ${r}; hi[${d}] = ${rh};`);
  } else {
    const f = e.constant('mulS64', mulS64), q = e.constant('prod', prod);
    e.line(`${f}(${a.v}, ${a.vh}, ${b.v}, ${b.vh}); ${r} = ${q}[0]; ${rh} = ${q}[1];`);
    e.line(`{ const x = ${rh} >> 31; ${of} = ${q}[2] !== x || ${q}[3] !== x ? 1 : 0; }`);
    e.line(`lo[${d}] = ${r}; hi[${d}] = ${rh};`);
  }
  e.flags(i, { kind: FK_RESULT, size, a: a.v, ah: a.vh, b: b.v, bh: b.vh, r, rh, c: of, o: of });
}

function imul2(e: Emitter, ins: Insn, i: number): void {
  const b = loadRm(e, ins, i, ins.osize, 'b');
  const a = loadReg(e, i, ins.osize, ins.reg, ins.rex, 'a');
  imulTrunc(e, ins, i, a, b);
}

function imul3(e: Emitter, ins: Insn, i: number): void {
  const a = loadRm(e, ins, i, ins.osize, 'a');
  imulTrunc(e, ins, i, a, immOf(ins, ins.osize));
}

/** F6/F7 /4 /5: rDX:rAX (or AX) = rAX * r/m */
function mul1(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize, signed = (ins.reg & 7) === 5;
  const b = loadRm(e, ins, i, size, 'b');
  const { r, rh } = resultLocals(e, i, size), of = e.local(`o${i}`);
  if (size === 1) {
    e.line(signed ? `${r} = (lo[0] << 24 >> 24) * (${b.v} << 24 >> 24);` : `${r} = (lo[0] & 255) * ${b.v};`);
    e.line(e.setReg(2, 0, 1, r));
    e.line(`${of} = ${signed ? `${r} !== (${r} << 24 >> 24)` : `(${r} & 65280) !== 0`} ? 1 : 0;`);
  } else if (size === 2) {
    e.line(signed ? `${r} = (lo[0] << 16 >> 16) * (${b.v} << 16 >> 16);` : `${r} = (lo[0] & 65535) * ${b.v};`);
    e.line(e.setReg(2, 0, 1, r));
    e.line(e.setReg(2, 2, 1, `(${r} >> 16)`));
    e.line(`${of} = ${signed ? `${r} !== (${r} << 16 >> 16)` : `(${r} & -65536) !== 0`} ? 1 : 0;`);
    e.line(`${r} = ${r} | 0;`);
  } else if (size === 4) {
    const hiF = e.constant(signed ? 'mulHiS32' : 'mulHiU32', signed ? mulHiS32 : mulHiU32);
    const h = e.local(`h${i}`);
    e.line(`${h} = ${hiF}(lo[0], ${b.v}); ${r} = Math.imul(lo[0], ${b.v});`);
    e.line(`lo[0] = ${r}; hi[0] = 0; lo[2] = ${h}; hi[2] = 0;`);
    e.line(`${of} = ${signed ? `${h} !== ${r} >> 31` : `${h} !== 0`} ? 1 : 0;`);
  } else {
    const f = e.constant(signed ? 'mulS64' : 'mulU64', signed ? mulS64 : mulU64), q = e.constant('prod', prod);
    e.line(`${f}(lo[0], hi[0], ${b.v}, ${b.vh}); ${r} = ${q}[0]; ${rh} = ${q}[1];`);
    e.line(`lo[0] = ${r}; hi[0] = ${rh}; lo[2] = ${q}[2]; hi[2] = ${q}[3];`);
    e.line(`{ const x = ${signed ? `${rh} >> 31` : '0'}; ${of} = ${q}[2] !== x || ${q}[3] !== x ? 1 : 0; }`);
  }
  e.flags(i, { kind: FK_RESULT, size, a: '0', ah: '0', b: b.v, bh: b.vh, r, rh, c: of, o: of });
}

