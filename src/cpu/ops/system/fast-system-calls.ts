// Fast system calls: SYSCALL/SYSRET (64-bit mode; SYSRET with REX.W returns to 64-bit code,
// without it to compatibility mode), SYSENTER/SYSEXIT, and SWAPGS. The segment caches are
// loaded with the fixed flat values the architecture defines, not from the GDT.
// As on Intel processors, SYSCALL/SYSRET outside 64-bit mode raise #UD.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { readRflags, writeRflags } from '../../interrupts.js';
import { defineOp } from '../../optable.js';
import { CR0_PE, CS, EFER_LMA, EFER_SCE, GP, GS, IF, RCX, RDX, RF, RSP, R11, SS, UD, VM } from '../../regs.js';
import {
  ATTR_CODE32, ATTR_CODE64, ATTR_DATA32, isCanonical, joinLinear, linearHi, linearLo, setSegCache, updateMode,
} from '../../segmentation.js';

const FLAT_LIMIT = 0xffffffff;
const DPL3 = 3 << 5;

function setReg64(cpu: Cpu, r: number, n: number): void {
  cpu.lo[r] = linearLo(n);
  cpu.hi[r] = linearHi(n);
}

function syscall(cpu: Cpu, ins: Insn): void {
  if ((cpu.efer & EFER_SCE) === 0 || !cpu.mode64) cpu.fault(UD);
  const flags = readRflags(cpu) & ~RF;
  setReg64(cpu, RCX, ins.nextRip);
  cpu.lo[R11] = flags;
  cpu.hi[R11] = 0;
  const sel = cpu.star[1] & 0xfffc;
  setSegCache(cpu, CS, sel, 0, FLAT_LIMIT, ATTR_CODE64);
  setSegCache(cpu, SS, (sel + 8) & 0xffff, 0, FLAT_LIMIT, ATTR_DATA32);
  writeRflags(cpu, flags & ~cpu.fmask);
  updateMode(cpu);
  cpu.rip = cpu.lstar;
}

function sysret(cpu: Cpu, ins: Insn): void {
  if ((cpu.efer & EFER_SCE) === 0 || !cpu.mode64) cpu.fault(UD);
  if (cpu.cpl !== 0) cpu.fault(GP, 0);
  const base = (cpu.star[1] >>> 16) & 0xffff;
  let rip: number;
  if (ins.osize === 8) {
    rip = joinLinear(cpu.lo[RCX], cpu.hi[RCX]);
    if (!isCanonical(rip)) cpu.fault(GP, 0);
    setSegCache(cpu, CS, ((base + 16) & 0xffff) | 3, 0, FLAT_LIMIT, ATTR_CODE64 | DPL3);
  } else {
    rip = cpu.lo[RCX] >>> 0;
    setSegCache(cpu, CS, base | 3, 0, FLAT_LIMIT, ATTR_CODE32 | DPL3);
  }
  setSegCache(cpu, SS, ((base + 8) & 0xffff) | 3, 0, FLAT_LIMIT, ATTR_DATA32 | DPL3);
  writeRflags(cpu, (cpu.lo[R11] & 0x3c7fd7) | 2);
  updateMode(cpu);
  cpu.rip = rip;
  cpu.eventCheck = true;
}

function swapgs(cpu: Cpu): void {
  if (!cpu.mode64) cpu.fault(UD);
  if (cpu.cpl !== 0) cpu.fault(GP, 0);
  const t = cpu.segBase[GS];
  cpu.segBase[GS] = cpu.kernelGsBase;
  cpu.kernelGsBase = t;
}

function sysenter(cpu: Cpu): void {
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.sysenterCs & 0xfffc) === 0) cpu.fault(GP, 0);
  const lma = (cpu.efer & EFER_LMA) !== 0;
  const sel = cpu.sysenterCs & 0xfffc;
  writeRflags(cpu, readRflags(cpu) & ~(VM | IF | RF));
  setSegCache(cpu, CS, sel, 0, FLAT_LIMIT, lma ? ATTR_CODE64 : ATTR_CODE32);
  setSegCache(cpu, SS, (sel + 8) & 0xffff, 0, FLAT_LIMIT, ATTR_DATA32);
  updateMode(cpu);
  if (lma) {
    setReg64(cpu, RSP, cpu.sysenterEsp);
    cpu.rip = cpu.sysenterEip;
  } else {
    cpu.lo[RSP] = linearLo(cpu.sysenterEsp);
    cpu.rip = cpu.sysenterEip >>> 0;
  }
}

function sysexit(cpu: Cpu, ins: Insn): void {
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.sysenterCs & 0xfffc) === 0 || cpu.cpl !== 0) cpu.fault(GP, 0);
  const cs = cpu.sysenterCs & 0xffff;
  if (ins.osize === 8) {
    const rip = joinLinear(cpu.lo[RDX], cpu.hi[RDX]);
    if (!isCanonical(rip)) cpu.fault(GP, 0);
    setSegCache(cpu, CS, ((cs + 32) & 0xfffc) | 3, 0, FLAT_LIMIT, ATTR_CODE64 | DPL3);
    setSegCache(cpu, SS, ((cs + 40) & 0xfffc) | 3, 0, FLAT_LIMIT, ATTR_DATA32 | DPL3);
    cpu.lo[RSP] = cpu.lo[RCX];
    cpu.hi[RSP] = cpu.hi[RCX];
    updateMode(cpu);
    cpu.rip = rip;
  } else {
    setSegCache(cpu, CS, ((cs + 16) & 0xfffc) | 3, 0, FLAT_LIMIT, ATTR_CODE32 | DPL3);
    setSegCache(cpu, SS, ((cs + 24) & 0xfffc) | 3, 0, FLAT_LIMIT, ATTR_DATA32 | DPL3);
    cpu.lo[RSP] = cpu.lo[RCX];
    if (cpu.efer & EFER_LMA) cpu.hi[RSP] = 0;
    updateMode(cpu);
    cpu.rip = cpu.lo[RDX] >>> 0;
  }
  cpu.eventCheck = true;
}

defineOp(MAP_0F, 0x05, { name: 'syscall', exec: syscall, ends: true });
defineOp(MAP_0F, 0x07, { name: 'sysret', exec: sysret, ends: true });
defineOp(MAP_0F, 0x34, { name: 'sysenter', exec: sysenter, ends: true });
defineOp(MAP_0F, 0x35, { name: 'sysexit', exec: sysexit, ends: true });
defineOp(MAP_0F, 0x01, { name: 'swapgs', exec: swapgs, modrm: true, only64: true }, { reg: 7, rm: 0 });
