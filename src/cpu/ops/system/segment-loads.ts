// Segment-register moves: MOV Sreg, r/m16 and MOV r/m, Sreg; PUSH/POP ES CS SS DS (not in
// 64-bit mode) and FS GS; LDS/LES (not in 64-bit mode), LSS/LFS/LGS. Loads of SS start an
// interrupt shadow (the next instruction runs before any interrupt).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_0F, MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { CS, DS, ES, FS, GS, SS, TWO32, UD } from '../../regs.js';
import { loadSegment } from '../../segmentation.js';

function movToSreg(cpu: Cpu, ins: Insn): void {
  const seg = ins.reg & 7;
  if (seg === CS || seg > GS) cpu.fault(UD);
  const sel = cpu.readRm16(ins);
  loadSegment(cpu, seg, sel);
  if (seg === SS) openSsShadow(cpu, ins);
}

/** MOV SS / POP SS: interrupts and debug traps wait until the next instruction has run. */
function openSsShadow(cpu: Cpu, ins: Insn): void {
  cpu.interruptShadow = true;
  cpu.ssShadow = true;
  cpu.shadowRip = ins.nextRip;
  cpu.eventCheck = true;
}

function movFromSreg(cpu: Cpu, ins: Insn): void {
  const seg = ins.reg & 7;
  if (seg > GS) cpu.fault(UD);
  const sel = cpu.segSel[seg];
  if (ins.hasMem) cpu.write16(ins.ea(cpu, ins), sel);
  else cpu.writeReg(ins.osize, ins.rm, ins.rex, sel, 0);
}

function pushSreg(seg: number) {
  return (cpu: Cpu, ins: Insn): void => {
    cpu.push(ins.osize, cpu.segSel[seg], 0);
  };
}

function popSreg(seg: number) {
  return (cpu: Cpu, ins: Insn): void => {
    // load first, then move the stack pointer: a faulting load leaves RSP unchanged
    const size = ins.osize;
    const sel = cpu.readMem(size === 8 ? 2 : size, cpu.stackAddr(0)) & 0xffff;
    loadSegment(cpu, seg, sel);
    cpu.addSp(size);
    if (seg === SS) openSsShadow(cpu, ins);
  };
}

/** LDS/LES/LSS/LFS/LGS: offset (operand size) then selector from memory. */
function loadFarPointer(seg: number) {
  return (cpu: Cpu, ins: Insn): void => {
    const a = ins.ea(cpu, ins);
    const size = ins.osize;
    const off = cpu.readMem(size, a);
    const offHi = cpu.vhi;
    const sel = cpu.read16(cpu.mode64 ? a + size : (a + size) % TWO32);
    loadSegment(cpu, seg, sel);
    cpu.writeReg(size, ins.reg, ins.rex, off, size === 8 ? offHi : 0);
  };
}

defineOp(MAP_1B, 0x8e, { name: 'mov sreg, r/m', exec: movToSreg, modrm: true, size: 'w', ends: true });
defineOp(MAP_1B, 0x8c, { name: 'mov r/m, sreg', exec: movFromSreg, modrm: true });

defineOp(MAP_1B, 0x06, { name: 'push es', exec: pushSreg(ES), size: 'd64', inv64: true });
defineOp(MAP_1B, 0x07, { name: 'pop es', exec: popSreg(ES), size: 'd64', inv64: true });
defineOp(MAP_1B, 0x0e, { name: 'push cs', exec: pushSreg(CS), size: 'd64', inv64: true });
defineOp(MAP_1B, 0x16, { name: 'push ss', exec: pushSreg(SS), size: 'd64', inv64: true });
defineOp(MAP_1B, 0x17, { name: 'pop ss', exec: popSreg(SS), size: 'd64', inv64: true, ends: true });
defineOp(MAP_1B, 0x1e, { name: 'push ds', exec: pushSreg(DS), size: 'd64', inv64: true });
defineOp(MAP_1B, 0x1f, { name: 'pop ds', exec: popSreg(DS), size: 'd64', inv64: true });
defineOp(MAP_0F, 0xa0, { name: 'push fs', exec: pushSreg(FS), size: 'd64' });
defineOp(MAP_0F, 0xa1, { name: 'pop fs', exec: popSreg(FS), size: 'd64' });
defineOp(MAP_0F, 0xa8, { name: 'push gs', exec: pushSreg(GS), size: 'd64' });
defineOp(MAP_0F, 0xa9, { name: 'pop gs', exec: popSreg(GS), size: 'd64' });

defineOp(MAP_1B, 0xc5, { name: 'lds', exec: loadFarPointer(DS), modrm: true, inv64: true }, { mod: 'mem' });
defineOp(MAP_1B, 0xc4, { name: 'les', exec: loadFarPointer(ES), modrm: true, inv64: true }, { mod: 'mem' });
defineOp(MAP_0F, 0xb2, { name: 'lss', exec: loadFarPointer(SS), modrm: true, ends: true }, { mod: 'mem' });
defineOp(MAP_0F, 0xb4, { name: 'lfs', exec: loadFarPointer(FS), modrm: true }, { mod: 'mem' });
defineOp(MAP_0F, 0xb5, { name: 'lgs', exec: loadFarPointer(GS), modrm: true }, { mod: 'mem' });
