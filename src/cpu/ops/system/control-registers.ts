// Control and debug registers: MOV to/from CR0/CR2/CR3/CR4/CR8 and DR0-DR7, CLTS, LMSW, SMSW,
// INVLPG, WBINVD/INVD. Writes that can change paging or mode end the block.
// MOV CRn/DRn always name a register (the ModRM mod bits are ignored, as on hardware; our
// decoder still reads a displacement if an odd encoding has mod != 3).

import type { Cpu } from '../../cpu.js';
import { rearmBreakpoints } from '../../debug-registers.js';
import type { Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp } from '../../optable.js';
import {
  CR0_CD, CR0_ET, CR0_NW, CR0_PE, CR0_PG, CR0_TS, CR0_WP, CR4_DE, CR4_MCE, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE,
  CR4_PCE, CR4_PGE, CR4_PSE, CR4_TSD, CS, EFER_LMA, EFER_LME, GP, TWO32, UD,
} from '../../regs.js';
import { ATTR_L, joinLinear, updateMode } from '../../segmentation.js';
import { regU64, requireCpl0, setRegU64 } from './privilege.js';

/** CR4 bits this core accepts (others are reserved: #GP). */
export const CR4_SUPPORTED = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR |
  CR4_OSXMMEXCPT;

/** The general register named by ModRM.rm (REX.B extended), whatever the mod bits say. */
function rmReg(ins: Insn): number {
  return (ins.modrm & 7) | ((ins.rex & 1) << 3);
}

function readValue(cpu: Cpu, r: number): number {
  return cpu.mode64 ? regU64(cpu, r) : cpu.lo[r] >>> 0;
}

export function writeCr0(cpu: Cpu, v: number): void {
  if (v >= TWO32) cpu.fault(GP, 0);
  v = (v | CR0_ET) >>> 0;
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) cpu.fault(GP, 0);
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) cpu.fault(GP, 0);
  const old = cpu.cr0 >>> 0;
  const enablingPaging = (old & CR0_PG) === 0 && (v & CR0_PG) !== 0;
  const disablingPaging = (old & CR0_PG) !== 0 && (v & CR0_PG) === 0;
  if (enablingPaging && (cpu.efer & EFER_LME) !== 0) {
    // entering IA-32e mode: needs PAE and a CS that is not (yet) 64-bit
    if ((cpu.cr4 & CR4_PAE) === 0 || (cpu.segAttr[CS] & ATTR_L) !== 0) cpu.fault(GP, 0);
    cpu.efer |= EFER_LMA;
  } else if (disablingPaging && (cpu.efer & EFER_LMA) !== 0) {
    if (cpu.mode64) cpu.fault(GP, 0); // only from compatibility mode
    cpu.efer &= ~EFER_LMA;
  }
  cpu.cr0 = v | 0;
  if (((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) !== 0) cpu.flushTlb(false);
  updateMode(cpu);
}

export function writeCr3(cpu: Cpu, v: number): void {
  // 4-level: bits 51:12 hold the PML4 address; bits above the physical width are reserved
  if ((cpu.efer & EFER_LMA) !== 0 ? v >= 2 ** 52 : v >= TWO32) cpu.fault(GP, 0);
  cpu.cr3 = v;
  cpu.flushTlb((cpu.cr4 & CR4_PGE) !== 0);
}

export function writeCr4(cpu: Cpu, v: number): void {
  if (v >= TWO32 || (v & ~CR4_SUPPORTED) !== 0) cpu.fault(GP, 0);
  if ((cpu.efer & EFER_LMA) !== 0 && (v & CR4_PAE) === 0) cpu.fault(GP, 0);
  const old = cpu.cr4;
  cpu.cr4 = v | 0;
  if (((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE)) !== 0) cpu.flushTlb(false);
  updateMode(cpu);
}

function writeCr8(cpu: Cpu, v: number): void {
  if (v > 15) cpu.fault(GP, 0);
  if (cpu.lapic !== null) cpu.lapic.writeCr8(v);
  cpu.eventCheck = true; // a lower priority may unmask a pending interrupt
}

function movFromCr(cpu: Cpu, ins: Insn): void {
  requireCpl0(cpu);
  let v: number;
  switch (ins.reg) {
    case 0: v = cpu.cr0 >>> 0; break;
    case 2: v = cpu.cr2; break;
    case 3: v = cpu.cr3; break;
    case 4: v = cpu.cr4 >>> 0; break;
    case 8: v = cpu.lapic !== null ? cpu.lapic.readCr8() & 15 : 0; break;
    default: cpu.fault(UD);
  }
  const r = rmReg(ins);
  if (cpu.mode64) setRegU64(cpu, r, v);
  else {
    cpu.lo[r] = v | 0;
    cpu.hi[r] = 0;
  }
}

/** A linear address from a register: signed canonical Number in 64-bit mode (exact). */
function readLinear(cpu: Cpu, r: number): number {
  return cpu.mode64 ? joinLinear(cpu.lo[r], cpu.hi[r]) : cpu.lo[r] >>> 0;
}

function movToCr(cpu: Cpu, ins: Insn): void {
  requireCpl0(cpu);
  const v = readValue(cpu, rmReg(ins));
  switch (ins.reg) {
    case 0: writeCr0(cpu, v); return;
    case 2: cpu.cr2 = readLinear(cpu, rmReg(ins)); return;
    case 3: writeCr3(cpu, v); return;
    case 4: writeCr4(cpu, v); return;
    case 8: writeCr8(cpu, v); return;
    default: cpu.fault(UD);
  }
}

/** DR4/DR5 alias DR6/DR7 unless CR4.DE; DR8-15 do not exist. */
function drIndex(cpu: Cpu, n: number): number {
  if (n > 7) cpu.fault(UD);
  if (n === 4 || n === 5) {
    if ((cpu.cr4 & CR4_DE) !== 0) cpu.fault(UD);
    return n + 2;
  }
  return n;
}

function movFromDr(cpu: Cpu, ins: Insn): void {
  requireCpl0(cpu);
  const n = drIndex(cpu, ins.reg);
  let v = cpu.dr[n];
  if (n === 6) v = (v >>> 0 | 0xffff0ff0) >>> 0;
  else if (n === 7) v = (v >>> 0 | 0x400) >>> 0;
  const r = rmReg(ins);
  if (cpu.mode64) setRegU64(cpu, r, v);
  else {
    cpu.lo[r] = v % TWO32 | 0;
    cpu.hi[r] = 0;
  }
}

function movToDr(cpu: Cpu, ins: Insn): void {
  requireCpl0(cpu);
  const n = drIndex(cpu, ins.reg);
  const r = rmReg(ins);
  if (n === 6 || n === 7) {
    if (cpu.mode64 && cpu.hi[r] !== 0) cpu.fault(GP, 0);
    cpu.dr[n] = cpu.lo[r] >>> 0;
  } else {
    cpu.dr[n] = readLinear(cpu, r);
  }
  if (n !== 6) rearmBreakpoints(cpu);
}

function clts(cpu: Cpu): void {
  requireCpl0(cpu);
  cpu.cr0 &= ~CR0_TS;
}

function lmsw(cpu: Cpu, ins: Insn): void {
  requireCpl0(cpu);
  const v = cpu.readRm16(ins);
  // loads PE MP EM TS; PE can be set but not cleared
  writeCr0(cpu, ((cpu.cr0 & ~0xe) | (v & 0xf) | (cpu.cr0 & CR0_PE)) >>> 0);
}

function smsw(cpu: Cpu, ins: Insn): void {
  if (ins.hasMem) {
    cpu.write16(ins.ea(cpu, ins), cpu.cr0 & 0xffff);
    return;
  }
  const size = ins.osize;
  cpu.writeReg(size, ins.rm, ins.rex, size === 2 ? cpu.cr0 & 0xffff : cpu.cr0, 0);
}

function invlpg(cpu: Cpu, ins: Insn): void {
  requireCpl0(cpu);
  cpu.flushTlbPage(ins.ea(cpu, ins));
}

function cacheFlush(cpu: Cpu): void {
  requireCpl0(cpu); // caches are not modelled
}

defineOp(MAP_0F, 0x20, { name: 'mov r, cr', exec: movFromCr, modrm: true, modIgnored: true, size: 'x' });
defineOp(MAP_0F, 0x22, { name: 'mov cr, r', exec: movToCr, modrm: true, modIgnored: true, size: 'x', ends: true });
defineOp(MAP_0F, 0x21, { name: 'mov r, dr', exec: movFromDr, modrm: true, modIgnored: true, size: 'x' });
// ends the block: the next instruction may run under armed breakpoints (src/cpu/debug-registers.ts)
defineOp(MAP_0F, 0x23, { name: 'mov dr, r', exec: movToDr, modrm: true, modIgnored: true, size: 'x', ends: true });
defineOp(MAP_0F, 0x06, { name: 'clts', exec: clts });
defineOp(MAP_0F, 0x01, { name: 'smsw', exec: smsw, modrm: true }, { reg: 4 });
defineOp(MAP_0F, 0x01, { name: 'lmsw', exec: lmsw, modrm: true, size: 'w', ends: true }, { reg: 6 });
defineOp(MAP_0F, 0x01, { name: 'invlpg', exec: invlpg, modrm: true, ends: true }, { reg: 7, mod: 'mem' });
defineOp(MAP_0F, 0x08, { name: 'invd', exec: cacheFlush });
defineOp(MAP_0F, 0x09, { name: 'wbinvd', exec: cacheFlush });
