// CPUID, RDMSR/WRMSR, and the time-stamp counter readers RDTSC/RDTSCP/RDPID; RDPMC (#GP: no
// performance counters are offered).

import type { Cpu } from '../../cpu.js';
import { cpuidForCore, cpuidOut } from '../../cpuid.js';
import type { Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { msrValue, readMsr, readTsc, writeMsr } from '../../msr.js';
import { defineOp } from '../../optable.js';
import { CR4_TSD, GP, MSR_APIC_BASE, RAX, RBX, RCX, RDX, TWO32 } from '../../regs.js';
import { requireCpl0 } from './privilege.js';

/** 32-bit result register write (upper half cleared, as every 32-bit write does). */
function set32(cpu: Cpu, r: number, v: number): void {
  cpu.lo[r] = v | 0;
  cpu.hi[r] = 0;
}

/** CPUID.1:EDX.APIC */
const CPUID_APIC = 1 << 9;

function cpuid(cpu: Cpu): void {
  const leaf = cpu.lo[RAX];
  cpuidForCore(cpu.shared.ctl, cpu.coreIndex, leaf, cpu.lo[RCX]);
  let edx = cpuidOut.edx;
  // the APIC flag follows IA32_APIC_BASE.EN: a globally disabled local APIC is not reported
  if (leaf === 1 && !apicEnabled(cpu)) edx &= ~CPUID_APIC;
  set32(cpu, RAX, cpuidOut.eax);
  set32(cpu, RBX, cpuidOut.ebx);
  set32(cpu, RCX, cpuidOut.ecx);
  set32(cpu, RDX, edx);
}

function apicEnabled(cpu: Cpu): boolean {
  if (cpu.lapic !== null) return cpu.lapic.isGloballyEnabled();
  const v = cpu.msrs.get(MSR_APIC_BASE);
  return v === undefined || (v[0] & APIC_BASE_EN) !== 0;
}
const APIC_BASE_EN = 1 << 11;

function rdmsr(cpu: Cpu): void {
  requireCpl0(cpu);
  if (!readMsr(cpu, cpu.lo[RCX])) cpu.fault(GP, 0);
  set32(cpu, RAX, msrValue.lo);
  set32(cpu, RDX, msrValue.hi);
}

function wrmsr(cpu: Cpu): void {
  requireCpl0(cpu);
  if (!writeMsr(cpu, cpu.lo[RCX], cpu.lo[RAX], cpu.lo[RDX])) cpu.fault(GP, 0);
}

function tscToEdxEax(cpu: Cpu): void {
  if ((cpu.cr4 & CR4_TSD) !== 0 && cpu.cpl !== 0) cpu.fault(GP, 0);
  const t = readTsc(cpu);
  const hi = Math.floor(t / TWO32);
  set32(cpu, RAX, t - hi * TWO32);
  set32(cpu, RDX, hi);
}

function rdtsc(cpu: Cpu): void {
  tscToEdxEax(cpu);
}

function rdtscp(cpu: Cpu): void {
  tscToEdxEax(cpu);
  set32(cpu, RCX, cpu.tscAux);
}

function rdpid(cpu: Cpu, ins: Insn): void {
  // 64-bit mode writes the whole register (TSC_AUX zero-extended), else 32 bits
  set32(cpu, ins.rm, cpu.tscAux);
}

function rdpmc(cpu: Cpu): void {
  cpu.fault(GP, 0);
}

defineOp(MAP_0F, 0xa2, { name: 'cpuid', exec: cpuid });
defineOp(MAP_0F, 0x32, { name: 'rdmsr', exec: rdmsr });
defineOp(MAP_0F, 0x30, { name: 'wrmsr', exec: wrmsr, ends: true });
defineOp(MAP_0F, 0x31, { name: 'rdtsc', exec: rdtsc });
defineOp(MAP_0F, 0x33, { name: 'rdpmc', exec: rdpmc });
defineOp(MAP_0F, 0x01, { name: 'rdtscp', exec: rdtscp, modrm: true }, { reg: 7, rm: 1 });
defineOp(MAP_0F, 0xc7, { name: 'rdpid', exec: rdpid, modrm: true }, { prefix: 'F3', reg: 7, mod: 'reg' });
