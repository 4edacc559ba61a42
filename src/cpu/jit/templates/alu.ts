// Templates for the two-operand ALU group (ADD OR ADC SBB AND SUB XOR CMP in encodings 00-3D
// and 80-83), TEST, INC/DEC, NEG and NOT — the semantics of src/cpu/ops/integer/alu.ts:
// memory destinations are written before the flags are recorded; CMP/TEST write nothing.

import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { ARITH_FLAGS, CF } from '../../regs.js';
import type { Emitter } from '../emitter.js';
import { FK_ADC, FK_ADD, FK_DEC, FK_INC, FK_RESULT, FK_SBB, FK_SUB } from '../flag-source.js';
import { MODE_64, type TemplateSpec } from '../template.js';
import { immOf, loadReg, loadRm, opcodeReg, resultLocals, storeRm, type Loaded } from './operands.js';

const OP_ADD = 0, OP_OR = 1, OP_ADC = 2, OP_SBB = 3, OP_AND = 4, OP_SUB = 5, OP_XOR = 6, OP_CMP = 7;

/** which operand is the destination and where the source comes from */
const F_RM_REG = 0, F_REG_RM = 1, F_ACC_IMM = 2, F_RM_IMM = 3;

export function aluFamily(ins: Insn, mode: number): TemplateSpec | null {
  if (ins.lock) return null;
  const map = ins.opcode >> 8, opc = ins.opcode & 0xff;
  if (map !== MAP_1B) return null;
  if (opc < 0x40 && (opc & 7) < 6) {
    const op = (opc >> 3) & 7;
    const form = (opc & 7) >> 1 === 0 ? F_RM_REG : (opc & 7) >> 1 === 1 ? F_REG_RM : F_ACC_IMM;
    return aluSpec(ins, op, form);
  }
  if (opc === 0x80 || opc === 0x81 || opc === 0x83 || (opc === 0x82 && mode !== MODE_64)) return aluSpec(ins, ins.reg & 7, F_RM_IMM);
  if (opc === 0x84 || opc === 0x85) return testSpec(ins, F_RM_REG);
  if (opc === 0xa8 || opc === 0xa9) return testSpec(ins, F_ACC_IMM);
  if ((opc === 0xf6 || opc === 0xf7) && (ins.reg & 7) <= 1) return testSpec(ins, F_RM_IMM);
  if ((opc === 0xf6 || opc === 0xf7) && (ins.reg & 7) === 2) return notSpec(ins);
  if ((opc === 0xf6 || opc === 0xf7) && (ins.reg & 7) === 3) return negSpec(ins);
  if ((opc === 0xfe || opc === 0xff) && (ins.reg & 7) <= 1) return incDecSpec(ins, ins.rm, (ins.reg & 7) === 1, true);
  if (opc >= 0x40 && opc <= 0x4f && mode !== MODE_64) return incDecSpec(ins, opcodeReg(ins), opc >= 0x48, false);
  return null;
}

// ------------------------------------------------------------------ ADD .. CMP

function aluSpec(ins: Insn, op: number, form: number): TemplateSpec {
  const carryIn = op === OP_ADC || op === OP_SBB;
  return {
    writes: ARITH_FLAGS,
    cc: -1,
    carryIn,
    mayFault: ins.hasMem,
    emit: (e, ins2, i) => emitAlu(e, ins2, i, op, form),
  };
}

/** destination (a) and source (b) operands of an ALU form, loaded into locals */
function aluOperands(e: Emitter, ins: Insn, i: number, form: number, size: number, rmw: boolean): { a: Loaded; b: Loaded } {
  switch (form) {
    case F_RM_REG: return { a: loadRm(e, ins, i, size, 'a', rmw), b: loadReg(e, i, size, ins.reg, ins.rex, 'b') };
    case F_REG_RM: return { b: loadRm(e, ins, i, size, 'b'), a: loadReg(e, i, size, ins.reg, ins.rex, 'a') };
    case F_ACC_IMM: return { a: loadReg(e, i, size, 0, 1, 'a'), b: immOf(ins, size) };
    default: return { a: loadRm(e, ins, i, size, 'a', rmw), b: immOf(ins, size) };
  }
}

function emitAlu(e: Emitter, ins: Insn, i: number, op: number, form: number): void {
  const size = ins.osize;
  const { a, b } = aluOperands(e, ins, i, form, size, op !== OP_CMP);
  const c = op === OP_ADC || op === OP_SBB ? e.local(`c${i}`) : '0';
  if (c !== '0') e.line(`${c} = ${e.carry(i)};`);
  const { r, rh } = resultLocals(e, i, size);
  const cplus = c !== '0' ? ` + ${c}` : '', cminus = c !== '0' ? ` - ${c}` : '';
  if (size === 8) {
    switch (op) {
      case OP_ADD: case OP_ADC:
        e.line(`{ const s = (${a.v} >>> 0) + (${b.v} >>> 0)${cplus}; ${rh} = (${a.vh} + ${b.vh} + (s > 4294967295 ? 1 : 0)) | 0; ${r} = s | 0; }`);
        break;
      case OP_SUB: case OP_SBB: case OP_CMP:
        e.line(`{ const s = (${a.v} >>> 0) - (${b.v} >>> 0)${cminus}; ${rh} = (${a.vh} - ${b.vh} - (s < 0 ? 1 : 0)) | 0; ${r} = s | 0; }`);
        break;
      case OP_OR: e.line(`${r} = ${a.v} | ${b.v}; ${rh} = ${a.vh} | ${b.vh};`); break;
      case OP_AND: e.line(`${r} = ${a.v} & ${b.v}; ${rh} = ${a.vh} & ${b.vh};`); break;
      default: e.line(`${r} = ${a.v} ^ ${b.v}; ${rh} = ${a.vh} ^ ${b.vh};`); break;
    }
  } else {
    switch (op) {
      case OP_ADD: case OP_ADC: e.line(`${r} = (${a.v} + ${b.v}${cplus}) | 0;`); break;
      case OP_SUB: case OP_SBB: case OP_CMP: e.line(`${r} = (${a.v} - ${b.v}${cminus}) | 0;`); break;
      case OP_OR: e.line(`${r} = ${a.v} | ${b.v};`); break;
      case OP_AND: e.line(`${r} = ${a.v} & ${b.v};`); break;
      default: e.line(`${r} = ${a.v} ^ ${b.v};`); break;
    }
  }
  if (op !== OP_CMP) {
    if (form === F_REG_RM) e.line(e.setReg(size, ins.reg, ins.rex, r, rh));
    else if (form === F_ACC_IMM) e.line(e.setReg(size, 0, 1, r, rh));
    else storeRm(e, ins, size, a, r, rh);
  }
  let kind: number;
  switch (op) {
    case OP_ADD: kind = FK_ADD; break;
    case OP_ADC: kind = FK_ADC; break;
    case OP_SBB: kind = FK_SBB; break;
    case OP_SUB: case OP_CMP: kind = FK_SUB; break;
    default: kind = FK_RESULT;
  }
  if (kind === FK_RESULT) e.flags(i, { kind, size, a: a.v, ah: a.vh, b: b.v, bh: b.vh, r, rh, c: '0', o: '0' });
  else e.flags(i, { kind, size, a: a.v, ah: a.vh, b: b.v, bh: b.vh, r, rh, c, o: '0' });
}

// ------------------------------------------------------------------ TEST

/** TEST and NEG: write every arithmetic flag, read no condition, fault only through the memory operand. */
function arithFlagsSpec(ins: Insn, emit: (e: Emitter, ins: Insn, i: number, size: number) => void): TemplateSpec {
  return { writes: ARITH_FLAGS, cc: -1, mayFault: ins.hasMem, emit: (e, ins2, i) => emit(e, ins2, i, ins2.osize) };
}

function testSpec(ins: Insn, form: number): TemplateSpec {
  return arithFlagsSpec(ins, (e, ins2, i, size) => {
    const a = form === F_ACC_IMM ? loadReg(e, i, size, 0, 1, 'a') : loadRm(e, ins2, i, size, 'a');
    const b = form === F_RM_REG ? loadReg(e, i, size, ins2.reg, ins2.rex, 'b') : immOf(ins2, size);
    const { r, rh } = resultLocals(e, i, size);
    e.line(`${r} = ${a.v} & ${b.v};`);
    if (size === 8) e.line(`${rh} = ${a.vh} & ${b.vh};`);
    e.flags(i, { kind: FK_RESULT, size, a: a.v, ah: a.vh, b: b.v, bh: b.vh, r, rh, c: '0', o: '0' });
  });
}

// ------------------------------------------------------------------ INC / DEC

function incDecSpec(ins: Insn, reg: number, dec: boolean, rmForm: boolean): TemplateSpec {
  return {
    writes: ARITH_FLAGS & ~CF,
    keepsCarry: true,
    cc: -1,
    mayFault: rmForm && ins.hasMem,
    emit: (e, ins2, i) => {
      const size = ins2.osize;
      const a = rmForm ? loadRm(e, ins2, i, size, 'a', true) : loadReg(e, i, size, reg, ins2.rex, 'a');
      let c = '0';
      if (e.plans[i].needsCarry) {
        c = e.local(`c${i}`);
        e.line(`${c} = ${e.carry(i)};`);
      }
      const { r, rh } = resultLocals(e, i, size);
      e.line(`${r} = (${a.v} ${dec ? '-' : '+'} 1) | 0;`);
      if (size === 8) {
        e.line(dec ? `${rh} = ${a.v} === 0 ? (${a.vh} - 1) | 0 : ${a.vh};` : `${rh} = ${r} === 0 ? (${a.vh} + 1) | 0 : ${a.vh};`);
      }
      if (rmForm) storeRm(e, ins2, size, a, r, rh);
      else e.line(e.setReg(size, reg, ins2.rex, r, rh));
      e.flags(i, { kind: dec ? FK_DEC : FK_INC, size, a: a.v, ah: a.vh, b: '1', bh: '0', r, rh, c, o: '0' });
    },
  };
}

// ------------------------------------------------------------------ NEG / NOT

function negSpec(ins: Insn): TemplateSpec {
  return arithFlagsSpec(ins, (e, ins2, i, size) => {
    const a = loadRm(e, ins2, i, size, 'b', true);
    const { r, rh } = resultLocals(e, i, size);
    if (size === 8) e.line(`{ const s = 0 - (${a.v} >>> 0); ${rh} = (0 - ${a.vh} - (s < 0 ? 1 : 0)) | 0; ${r} = s | 0; }`);
    else e.line(`${r} = (-${a.v}) | 0;`);
    storeRm(e, ins2, size, a, r, rh);
    e.flags(i, { kind: FK_SUB, size, a: '0', ah: '0', b: a.v, bh: a.vh, r, rh, c: '0', o: '0' });
  });
}

function notSpec(ins: Insn): TemplateSpec {
  return {
    writes: 0,
    cc: -1,
    mayFault: ins.hasMem,
    emit: (e, ins2, i) => {
      const size = ins2.osize;
      const a = loadRm(e, ins2, i, size, 'a', true);
      storeRm(e, ins2, size, a, `~${a.v}`, size === 8 ? `~${a.vh}` : '0');
    },
  };
}
