// x87 control instructions: FNINIT, FNCLEX, FLDCW/FNSTCW, FNSTSW (m16 and AX), FWAIT, the
// environment FNSTENV/FLDENV (28-byte 32-bit and 14-byte 16-bit protected-mode layouts) and
// the full state FNSAVE/FRSTOR (environment + ST(0)..ST(7) as 80-bit values), plus the
// 8087/287 leftovers FENI/FDISI/FSETPM (no-ops). The FN* forms do not wait for pending
// exceptions; FLDCW/FLDENV/FRSTOR re-evaluate ES/B against the new masks.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp, type OpMatch } from '../../optable.js';
import { CR0_MP, CR0_TS, CS, NM } from '../../regs.js';
import {
  ferrFollowsStatus, fpuGate, fpuGateWait, fpuInit, reportPending, getReg, setReg, setStatusWord, statusWord, SW_B, SW_ES, tagWord, TAG_EMPTY,
} from './fpu-state.js';
import { readF80, writeF80 } from './load-store.js';

function def(opcode: number, name: string, exec: (cpu: Cpu, ins: Insn) => void, match: OpMatch): void {
  defineOp(MAP_1B, opcode, { name, exec, modrm: true, size: 'x' }, match);
}

/** Recompute ES and B from the exception flags and the control word's masks. */
export function refreshSummary(cpu: Cpu): void {
  if ((cpu.fpStatus & ~cpu.fpControl & 0x3f) !== 0) cpu.fpStatus |= SW_ES | SW_B;
  else cpu.fpStatus &= ~(SW_ES | SW_B);
}

function fninit(cpu: Cpu): void {
  fpuGate(cpu);
  fpuInit(cpu);
  ferrFollowsStatus(cpu);
}

function fnclex(cpu: Cpu): void {
  fpuGate(cpu);
  cpu.fpStatus &= ~(0x3f | 0x40 | SW_ES | SW_B);
  ferrFollowsStatus(cpu);
}

function fnopLegacy(cpu: Cpu): void {
  fpuGate(cpu);
}

function fldcw(cpu: Cpu, ins: Insn): void {
  fpuGateWait(cpu);
  cpu.fpControl = (cpu.read16(ins.ea(cpu, ins)) & 0x1f7f) | 0x40;
  refreshSummary(cpu);
}

function fnstcw(cpu: Cpu, ins: Insn): void {
  fpuGate(cpu);
  cpu.write16(ins.ea(cpu, ins), cpu.fpControl);
}

function fnstswMem(cpu: Cpu, ins: Insn): void {
  fpuGate(cpu);
  cpu.write16(ins.ea(cpu, ins), statusWord(cpu));
}

function fnstswAx(cpu: Cpu): void {
  fpuGate(cpu);
  cpu.lo[0] = (cpu.lo[0] & ~0xffff) | statusWord(cpu);
}

/** FWAIT/WAIT: #NM when CR0.TS and CR0.MP, then any pending unmasked exception (#MF or FERR#). */
function fwait(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) cpu.fault(NM);
  reportPending(cpu);
}

// ---------------------------------------------------------------- environment

/** Store the environment at lin; returns its size (14 or 28). */
export function storeEnv(cpu: Cpu, lin: number, o16: boolean): number {
  const ip = cpu.fpIp - cpu.segBase[CS];
  if (o16) {
    cpu.probeWrite(lin, 14);
    cpu.write16(lin, cpu.fpControl);
    cpu.write16(lin + 2, statusWord(cpu));
    cpu.write16(lin + 4, tagWord(cpu));
    cpu.write16(lin + 6, ip & 0xffff);
    cpu.write16(lin + 8, cpu.segSel[CS] & 0xffff);
    cpu.write16(lin + 10, cpu.fpDp & 0xffff);
    cpu.write16(lin + 12, 0);
    return 14;
  }
  cpu.probeWrite(lin, 28);
  cpu.write32(lin, cpu.fpControl | 0xffff0000);
  cpu.write32(lin + 4, statusWord(cpu) | 0xffff0000);
  cpu.write32(lin + 8, tagWord(cpu) | 0xffff0000);
  cpu.write32(lin + 12, ip | 0);
  cpu.write32(lin + 16, (cpu.segSel[CS] & 0xffff) | ((cpu.fpOpcode & 0x7ff) << 16));
  cpu.write32(lin + 20, cpu.fpDp | 0);
  cpu.write32(lin + 24, 0xffff0000 | 0);
  return 28;
}

/** Load the environment from lin; returns its size. */
export function loadEnv(cpu: Cpu, lin: number, o16: boolean): number {
  const step = o16 ? 2 : 4;
  const cw = cpu.read16(lin), sw = cpu.read16(lin + step), tw = cpu.read16(lin + 2 * step);
  const ip = o16 ? cpu.read16(lin + 6) : cpu.read32(lin + 12);
  const opcodeWord = o16 ? 0 : cpu.read32(lin + 16);
  const dp = o16 ? cpu.read16(lin + 10) : cpu.read32(lin + 20);
  cpu.fpControl = (cw & 0x1f7f) | 0x40;
  setStatusWord(cpu, sw);
  // only "empty" matters in a loaded tag word; the value decides the class
  let tag = 0;
  for (let p = 0; p < 8; p++) if (((tw >> (p * 2)) & 3) === TAG_EMPTY) tag |= TAG_EMPTY << (p * 2);
  cpu.fpTag = tag;
  cpu.fpIp = (ip >>> 0) + cpu.segBase[CS];
  cpu.fpOpcode = (opcodeWord >>> 16) & 0x7ff;
  cpu.fpDp = dp >>> 0;
  refreshSummary(cpu);
  return o16 ? 14 : 28;
}

function fnstenv(cpu: Cpu, ins: Insn): void {
  fpuGate(cpu);
  storeEnv(cpu, ins.ea(cpu, ins), ins.osize === 2);
  cpu.fpControl |= 0x3f; // all exceptions masked afterwards
}

function fldenv(cpu: Cpu, ins: Insn): void {
  fpuGate(cpu);
  loadEnv(cpu, ins.ea(cpu, ins), ins.osize === 2);
}

/** Write a physical register's 80 bits at lin (FSAVE/FXSAVE images: the register words as they are). */
export function storeReg80(cpu: Cpu, lin: number, phys: number): void {
  writeF80(cpu, lin, getReg(cpu, phys));
}

/** Load a physical register's 80 bits from lin (any encoding, kept bit for bit). */
export function loadReg80(cpu: Cpu, lin: number, phys: number): void {
  setReg(cpu, phys, readF80(cpu, lin));
}

function fnsave(cpu: Cpu, ins: Insn): void {
  fpuGate(cpu);
  const lin = ins.ea(cpu, ins);
  const o16 = ins.osize === 2;
  cpu.probeWrite(lin, o16 ? 94 : 108);
  const n = storeEnv(cpu, lin, o16);
  for (let i = 0; i < 8; i++) storeReg80(cpu, lin + n + 10 * i, (cpu.fpTop + i) & 7);
  fpuInit(cpu);
}

function frstor(cpu: Cpu, ins: Insn): void {
  fpuGate(cpu);
  const lin = ins.ea(cpu, ins);
  const o16 = ins.osize === 2;
  const n = loadEnv(cpu, lin, o16);
  for (let i = 0; i < 8; i++) loadReg80(cpu, lin + n + 10 * i, (cpu.fpTop + i) & 7);
}

def(0xdb, 'fninit', fninit, { reg: 4, rm: 3, mod: 'reg' });
def(0xdb, 'fnclex', fnclex, { reg: 4, rm: 2, mod: 'reg' });
def(0xdb, 'fneni', fnopLegacy, { reg: 4, rm: 0, mod: 'reg' });
def(0xdb, 'fndisi', fnopLegacy, { reg: 4, rm: 1, mod: 'reg' });
def(0xdb, 'fsetpm', fnopLegacy, { reg: 4, rm: 4, mod: 'reg' });
def(0xd9, 'fldcw', fldcw, { reg: 5, mod: 'mem' });
def(0xd9, 'fnstcw', fnstcw, { reg: 7, mod: 'mem' });
def(0xdd, 'fnstsw', fnstswMem, { reg: 7, mod: 'mem' });
def(0xdf, 'fnstsw', fnstswAx, { reg: 4, rm: 0, mod: 'reg' });
def(0xd9, 'fnstenv', fnstenv, { reg: 6, mod: 'mem' });
def(0xd9, 'fldenv', fldenv, { reg: 4, mod: 'mem' });
def(0xdd, 'fnsave', fnsave, { reg: 6, mod: 'mem' });
def(0xdd, 'frstor', frstor, { reg: 4, mod: 'mem' });
defineOp(MAP_1B, 0x9b, { name: 'fwait', exec: fwait, size: 'x' });
