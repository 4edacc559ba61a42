// Descriptor-table registers: LGDT/LIDT/SGDT/SIDT, LLDT/SLDT, LTR/STR (LTR marks the TSS busy).
// In long mode LDT and TSS descriptors are 16 bytes: the upper dword of the base follows.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { EFER_LMA, GP, LDTR, NP, TR, TWO32 } from '../../regs.js';
import {
  ATTR_P, ATTR_S, ATTR_TYPE, ATTR_UNUSABLE, SYS_LDT, SYS_TSS16_AVAIL, SYS_TSS_AVAIL, desc, descAttr, descBase,
  descLimit, fetchDescriptor, fetchDescriptorHigh, isCanonical, joinLinear, linearHi, linearLo, setSegCache,
  tableAddr,
} from '../../segmentation.js';
import { requireCpl0, requireProtected } from './privilege.js';

function after(cpu: Cpu, lin: number, n: number): number {
  return cpu.mode64 ? lin + n : (lin + n) % TWO32;
}

/** Read the pseudo-descriptor (limit, base) at the instruction's memory operand. */
function readPseudo(cpu: Cpu, ins: Insn): [number, number] {
  const a = ins.ea(cpu, ins);
  const limit = cpu.read16(a);
  let base: number;
  if (cpu.mode64) {
    const lo = cpu.read32(after(cpu, a, 2));
    const hi = cpu.read32(after(cpu, a, 6));
    base = joinLinear(lo, hi);
    if (!isCanonical(base)) cpu.fault(GP, 0);
  } else {
    base = cpu.read32(after(cpu, a, 2)) >>> 0;
    if (ins.osize === 2) base &= 0xffffff;
  }
  return [limit, base];
}

function writePseudo(cpu: Cpu, ins: Insn, limit: number, base: number): void {
  const a = ins.ea(cpu, ins);
  if (cpu.mode64) {
    cpu.probeWrite(a, 10);
    cpu.write16(a, limit);
    cpu.write32(after(cpu, a, 2), linearLo(base));
    cpu.write32(after(cpu, a, 6), linearHi(base));
    return;
  }
  cpu.probeWrite(a, 6);
  cpu.write16(a, limit);
  cpu.write32(after(cpu, a, 2), ins.osize === 2 ? base & 0xffffff : base | 0);
}

function lgdt(cpu: Cpu, ins: Insn): void {
  requireCpl0(cpu);
  const [limit, base] = readPseudo(cpu, ins);
  cpu.gdtLimit = limit;
  cpu.gdtBase = base;
}

function lidt(cpu: Cpu, ins: Insn): void {
  requireCpl0(cpu);
  const [limit, base] = readPseudo(cpu, ins);
  cpu.idtLimit = limit;
  cpu.idtBase = base;
}

function sgdt(cpu: Cpu, ins: Insn): void {
  writePseudo(cpu, ins, cpu.gdtLimit, cpu.gdtBase);
}

function sidt(cpu: Cpu, ins: Insn): void {
  writePseudo(cpu, ins, cpu.idtLimit, cpu.idtBase);
}

/** SLDT/STR store: 16 bits to memory, zero-extended to the operand size in a register. */
function storeSelector(cpu: Cpu, ins: Insn, sel: number): void {
  if (ins.hasMem) cpu.write16(ins.ea(cpu, ins), sel);
  else cpu.writeReg(ins.osize, ins.rm, ins.rex, sel, 0);
}

/** Base of a system descriptor in `desc` (16-byte form in long mode). */
function systemBase(cpu: Cpu, sel: number): number {
  const lo32 = descBase(desc.lo, desc.hi);
  if ((cpu.efer & EFER_LMA) === 0) return lo32;
  const hi32 = fetchDescriptorHigh(cpu, sel);
  const base = joinLinear(lo32, hi32);
  if (!isCanonical(base)) cpu.fault(GP, sel & 0xfffc);
  return base;
}

function lldt(cpu: Cpu, ins: Insn): void {
  requireProtected(cpu);
  requireCpl0(cpu);
  const sel = cpu.readRm16(ins);
  if ((sel & 0xfffc) === 0) {
    setSegCache(cpu, LDTR, sel, 0, 0, ATTR_UNUSABLE);
    return;
  }
  if ((sel & 4) !== 0 || !fetchDescriptor(cpu, sel)) cpu.fault(GP, sel & 0xfffc);
  const attr = descAttr(desc.hi);
  if ((attr & (ATTR_S | ATTR_TYPE)) !== SYS_LDT) cpu.fault(GP, sel & 0xfffc);
  if ((attr & ATTR_P) === 0) cpu.fault(NP, sel & 0xfffc);
  const base = systemBase(cpu, sel);
  setSegCache(cpu, LDTR, sel, base, descLimit(desc.lo, desc.hi), attr);
}

function ltr(cpu: Cpu, ins: Insn): void {
  requireProtected(cpu);
  requireCpl0(cpu);
  const sel = cpu.readRm16(ins);
  if ((sel & 0xfffc) === 0) cpu.fault(GP, 0);
  if ((sel & 4) !== 0 || !fetchDescriptor(cpu, sel)) cpu.fault(GP, sel & 0xfffc);
  const attr = descAttr(desc.hi);
  const type = attr & (ATTR_S | ATTR_TYPE);
  const lma = (cpu.efer & EFER_LMA) !== 0;
  if (type !== SYS_TSS_AVAIL && (lma || type !== SYS_TSS16_AVAIL)) cpu.fault(GP, sel & 0xfffc);
  if ((attr & ATTR_P) === 0) cpu.fault(NP, sel & 0xfffc);
  const base = systemBase(cpu, sel);
  // mark the descriptor busy (type bit 1)
  const typeByte = ((desc.hi >>> 8) & 0xff) | 2;
  cpu.writeSys(tableAddr(cpu, desc.addr, 5), 1, typeByte);
  setSegCache(cpu, TR, sel, base, descLimit(desc.lo, desc.hi), attr | 2);
}

function sldt(cpu: Cpu, ins: Insn): void {
  requireProtected(cpu);
  storeSelector(cpu, ins, cpu.segSel[LDTR]);
}

function str(cpu: Cpu, ins: Insn): void {
  requireProtected(cpu);
  storeSelector(cpu, ins, cpu.segSel[TR]);
}

defineOp(MAP_0F, 0x01, { name: 'sgdt', exec: sgdt, modrm: true }, { reg: 0, mod: 'mem' });
defineOp(MAP_0F, 0x01, { name: 'sidt', exec: sidt, modrm: true }, { reg: 1, mod: 'mem' });
defineOp(MAP_0F, 0x01, { name: 'lgdt', exec: lgdt, modrm: true, ends: true }, { reg: 2, mod: 'mem' });
defineOp(MAP_0F, 0x01, { name: 'lidt', exec: lidt, modrm: true, ends: true }, { reg: 3, mod: 'mem' });
defineOp(MAP_0F, 0x00, { name: 'sldt', exec: sldt, modrm: true }, { reg: 0 });
defineOp(MAP_0F, 0x00, { name: 'str', exec: str, modrm: true }, { reg: 1 });
defineOp(MAP_0F, 0x00, { name: 'lldt', exec: lldt, modrm: true, ends: true }, { reg: 2 });
defineOp(MAP_0F, 0x00, { name: 'ltr', exec: ltr, modrm: true, ends: true }, { reg: 3 });
