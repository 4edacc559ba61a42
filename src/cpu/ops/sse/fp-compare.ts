// SSE/SSE2 floating-point comparisons: CMPPS/CMPPD/CMPSS/CMPSD with the eight predicates of
// imm8[2:0] (0F C2), writing all-ones/all-zeros masks, and COMISS/COMISD/UCOMISS/UCOMISD
// (0F 2F/2E), which set ZF PF CF (unordered 111, less 001, equal 100, greater 000) and clear
// OF SF AF. COMIS* and the LT/LE/NLT/NLE predicates signal IE on QNaN operands as well.

import type { Cpu } from '../../cpu.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { LF_NONE } from '../../flags.js';
import { ARITH_FLAGS, CF, PF, ZF } from '../../regs.js';
import { compareF32, compareF64, fpBegin, fpx, predicateHolds, predicateSignals } from './fp-lane.js';
import { signalSimd } from './mxcsr.js';
import { A, getXmm, loadB128, loadB32, loadB64, R, setXmm, sseGate } from './xmm-access.js';

function cmpPacked(double: boolean): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    loadB128(cpu, ins);
    getXmm(cpu, ins.reg, A);
    const pred = ins.imm & 7;
    const sig = predicateSignals(pred);
    fpBegin(cpu.mxcsr);
    if (double) {
      for (let k = 0; k < 2; k++) {
        const m = predicateHolds(pred, compareF64(k, sig)) ? -1 : 0;
        R[2 * k] = m;
        R[2 * k + 1] = m;
      }
    } else {
      for (let k = 0; k < 4; k++) R[k] = predicateHolds(pred, compareF32(k, sig)) ? -1 : 0;
    }
    if (fpx.pre !== 0) signalSimd(cpu, fpx.pre, 0);
    setXmm(cpu, ins.reg, R);
  };
}

function cmpScalar(double: boolean): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    if (double) loadB64(cpu, ins); else loadB32(cpu, ins);
    getXmm(cpu, ins.reg, A);
    const pred = ins.imm & 7;
    fpBegin(cpu.mxcsr);
    const rel = double ? compareF64(0, predicateSignals(pred)) : compareF32(0, predicateSignals(pred));
    if (fpx.pre !== 0) signalSimd(cpu, fpx.pre, 0);
    const m = predicateHolds(pred, rel) ? -1 : 0;
    const b = ins.reg << 2;
    cpu.xmm[b] = m;
    if (double) cpu.xmm[b + 1] = m;
  };
}


function comis(double: boolean, signalQnan: boolean): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    if (double) loadB64(cpu, ins); else loadB32(cpu, ins);
    getXmm(cpu, ins.reg, A);
    fpBegin(cpu.mxcsr);
    const rel = double ? compareF64(0, signalQnan) : compareF32(0, signalQnan);
    if (fpx.pre !== 0) signalSimd(cpu, fpx.pre, 0);
    const f = rel === -1 ? CF : rel === 0 ? ZF : rel === 1 ? 0 : ZF | PF | CF;
    cpu.flags = (cpu.flags & ~ARITH_FLAGS) | f;
    cpu.lfOp = LF_NONE;
  };
}

defineOp(MAP_0F, 0xc2, { name: 'cmpps', exec: cmpPacked(false), modrm: true, imm: 'Ibu', size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0xc2, { name: 'cmppd', exec: cmpPacked(true), modrm: true, imm: 'Ibu', size: 'x' }, { prefix: '66' });
defineOp(MAP_0F, 0xc2, { name: 'cmpss', exec: cmpScalar(false), modrm: true, imm: 'Ibu', size: 'x' }, { prefix: 'F3' });
defineOp(MAP_0F, 0xc2, { name: 'cmpsd', exec: cmpScalar(true), modrm: true, imm: 'Ibu', size: 'x' }, { prefix: 'F2' });
defineOp(MAP_0F, 0x2e, { name: 'ucomiss', exec: comis(false, false), modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0x2e, { name: 'ucomisd', exec: comis(true, false), modrm: true, size: 'x' }, { prefix: '66' });
defineOp(MAP_0F, 0x2f, { name: 'comiss', exec: comis(false, true), modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0x2f, { name: 'comisd', exec: comis(true, true), modrm: true, size: 'x' }, { prefix: '66' });
