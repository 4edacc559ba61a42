// Port I/O: IN/OUT (immediate port or DX) and the string forms INS/OUTS (with REP), through
// cpu.bus. In protected mode at CPL > IOPL the TSS I/O permission bitmap decides (#GP(0)).

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_1B } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { DF, DS, ES, GP, RAX, RCX, RDI, RDX, RSI, TR, VM } from '../../regs.js';
import { ATTR_UNUSABLE, tableAddr } from '../../segmentation.js';
import { ioplDenied } from './privilege.js';
import { addAddrReg, addrReg, linearOf } from '../integer/segment-offset.js';

/** I/O permission check for `size` bytes at `port` (SDM vol. 1 §19.5.2). */
export function checkIoPermission(cpu: Cpu, port: number, size: number): void {
  if (!ioplDenied(cpu) && (cpu.flags & VM) === 0) return;
  const attr = cpu.segAttr[TR];
  const type = attr & 0xf;
  if ((attr & ATTR_UNUSABLE) !== 0 || (type !== 9 && type !== 0xb)) cpu.fault(GP, 0);
  const limit = cpu.segLimit[TR];
  if (limit < 0x67) cpu.fault(GP, 0);
  const base = cpu.segBase[TR];
  const ioBase = cpu.readSys(tableAddr(cpu, base, 0x66), 2);
  const off = ioBase + (port >>> 3);
  if (off + 1 > limit) cpu.fault(GP, 0);
  const bits = cpu.readSys(tableAddr(cpu, base, off), 2);
  if ((bits & (((1 << size) - 1) << (port & 7))) !== 0) cpu.fault(GP, 0);
}

function ioSize(ins: Insn): number {
  return ins.osize === 8 ? 4 : ins.osize;
}

function mask(v: number, size: number): number {
  return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v | 0;
}

function portIn(cpu: Cpu, port: number, size: number): void {
  checkIoPermission(cpu, port, size);
  cpu.writeReg(size, RAX, 0, mask(cpu.bus.ioRead(port, size), size), 0);
}

function portOut(cpu: Cpu, port: number, size: number): void {
  checkIoPermission(cpu, port, size);
  cpu.bus.ioWrite(port, size, mask(cpu.lo[RAX], size));
}

const inImm = (cpu: Cpu, ins: Insn): void => portIn(cpu, ins.imm & 0xff, ioSize(ins));
const inDx = (cpu: Cpu, ins: Insn): void => portIn(cpu, cpu.lo[RDX] & 0xffff, ioSize(ins));
const outImm = (cpu: Cpu, ins: Insn): void => portOut(cpu, ins.imm & 0xff, ioSize(ins));
const outDx = (cpu: Cpu, ins: Insn): void => portOut(cpu, cpu.lo[RDX] & 0xffff, ioSize(ins));

/** Elements a REP INS/OUTS moves per execution; the rest resumes at the same instruction. */
const REP_SLICE = 4096;

/** INS: ES:[rDI] <- port DX (ES cannot be overridden). Registers advance per element. */
function insString(cpu: Cpu, ins: Insn): void {
  const size = ioSize(ins);
  const port = cpu.lo[RDX] & 0xffff;
  checkIoPermission(cpu, port, size);
  const asize = ins.asize;
  const delta = (cpu.flags & DF) !== 0 ? -size : size;
  const rep = ins.rep !== 0;
  for (let n = 0; ; n++) {
    if (rep && addrReg(cpu, RCX, asize) === 0) return;
    if (n === REP_SLICE) {
      cpu.rip = ins.rip; // continue later: lets the core notice events in a long transfer
      return;
    }
    const lin = linearOf(cpu, ES, addrReg(cpu, RDI, asize));
    cpu.probeWrite(lin, size); // fault before the port is read
    cpu.writeMem(size, lin, mask(cpu.bus.ioRead(port, size), size), 0);
    addAddrReg(cpu, RDI, asize, delta);
    if (!rep) return;
    addAddrReg(cpu, RCX, asize, -1);
  }
}

/** OUTS: port DX <- seg:[rSI] (DS unless overridden). */
function outsString(cpu: Cpu, ins: Insn): void {
  const size = ioSize(ins);
  const port = cpu.lo[RDX] & 0xffff;
  checkIoPermission(cpu, port, size);
  const asize = ins.asize;
  const seg = ins.seg >= 0 ? ins.seg : DS;
  const delta = (cpu.flags & DF) !== 0 ? -size : size;
  const rep = ins.rep !== 0;
  for (let n = 0; ; n++) {
    if (rep && addrReg(cpu, RCX, asize) === 0) return;
    if (n === REP_SLICE) {
      cpu.rip = ins.rip;
      return;
    }
    const v = cpu.readMem(size, linearOf(cpu, seg, addrReg(cpu, RSI, asize)));
    cpu.bus.ioWrite(port, size, mask(v, size));
    addAddrReg(cpu, RSI, asize, delta);
    if (!rep) return;
    addAddrReg(cpu, RCX, asize, -1);
  }
}

defineOp(MAP_1B, 0xe4, { name: 'in al, imm8', exec: inImm, imm: 'Ibu', size: 'b' });
defineOp(MAP_1B, 0xe5, { name: 'in eax, imm8', exec: inImm, imm: 'Ibu' });
defineOp(MAP_1B, 0xe6, { name: 'out imm8, al', exec: outImm, imm: 'Ibu', size: 'b' });
defineOp(MAP_1B, 0xe7, { name: 'out imm8, eax', exec: outImm, imm: 'Ibu' });
defineOp(MAP_1B, 0xec, { name: 'in al, dx', exec: inDx, size: 'b' });
defineOp(MAP_1B, 0xed, { name: 'in eax, dx', exec: inDx });
defineOp(MAP_1B, 0xee, { name: 'out dx, al', exec: outDx, size: 'b' });
defineOp(MAP_1B, 0xef, { name: 'out dx, eax', exec: outDx });
// string forms end their block so a long REP transfer can stop and resume at itself
defineOp(MAP_1B, 0x6c, { name: 'insb', exec: insString, size: 'b', ends: true });
defineOp(MAP_1B, 0x6d, { name: 'ins', exec: insString, ends: true });
defineOp(MAP_1B, 0x6e, { name: 'outsb', exec: outsString, size: 'b', ends: true });
defineOp(MAP_1B, 0x6f, { name: 'outs', exec: outsString, ends: true });
