// Architectural reset states of a core: power-on (RESET), INIT followed by wait-for-SIPI
// (application processors), the real-mode start a startup IPI gives, and the entry states the
// loader asks for (32-bit protected mode for Multiboot, 64-bit long mode for ELF64).
// The worker publishes the matching run state (C_RUNSTATE).

import type { BootPlan } from '../boot/boot-plan.js';
import type { Cpu } from './cpu.js';
import { CPU_SIGNATURE } from './cpuid.js';
import { LF_NONE } from './flags.js';
import { CS, DS, ES, FIXED1, FS, GS, LDTR, RDX, SS, TR, TWO32 } from './regs.js';
import { ATTR_CODE16, ATTR_DATA16, ATTR_LDT, ATTR_TSS32_BUSY, setSegCache, updateMode } from './segmentation.js';

/** What setBootState needs from the loader's plan. */
export type BootEntry = Pick<BootPlan, 'mode' | 'regs' | 'segments' | 'gdt' | 'idt' | 'control'> | PowerOnEntry;

/** -bios: the bootstrap core starts from power-on reset (F000:FFF0, CS base 0xFFFF0000) into the firmware. */
export interface PowerOnEntry {
  mode: 'power-on';
}

/**
 * The register state common to RESET and INIT (SDM vol. 3 table 9-1): real mode, CS:IP =
 * F000:FFF0 with CS base FFFF0000, flat 64 KiB segments, caches off, no paging. MSRs, MTRRs
 * and the local APIC are handled by the callers (INIT keeps MSRs).
 */
function architecturalInit(cpu: Cpu): void {
  cpu.lo.fill(0);
  cpu.hi.fill(0);
  cpu.lo[RDX] = CPU_SIGNATURE;
  cpu.flags = FIXED1;
  cpu.lfOp = LF_NONE;
  for (const s of [ES, SS, DS, FS, GS]) setSegCache(cpu, s, 0, 0, 0xffff, ATTR_DATA16);
  setSegCache(cpu, CS, 0xf000, 0xffff0000, 0xffff, ATTR_CODE16);
  setSegCache(cpu, LDTR, 0, 0, 0xffff, ATTR_LDT);
  setSegCache(cpu, TR, 0, 0, 0xffff, ATTR_TSS32_BUSY);
  cpu.rip = 0xfffffff0;
  cpu.gdtBase = 0; cpu.gdtLimit = 0xffff;
  cpu.idtBase = 0; cpu.idtLimit = 0xffff;
  cpu.cr0 = 0x60000010;
  cpu.cr2 = 0;
  cpu.cr3 = 0;
  cpu.cr4 = 0;
  cpu.efer = 0;
  cpu.dr.fill(0);
  cpu.dr[6] = 0xffff0ff0;
  cpu.dr[7] = 0x400;
  cpu.bp.armed = false;
  cpu.bp.exec = 0;
  cpu.bp.watch = 0;
  cpu.xcr0 = 1;
  cpu.xmm.fill(0);
  cpu.mxcsr = 0x1f80;
  cpu.fpr.fill(0);
  cpu.fpTop = 0;
  cpu.fpTag = 0xffff;
  cpu.fpStatus = 0;
  cpu.fpControl = 0x0040;
  cpu.fpOpcode = 0;
  cpu.fpIp = 0; cpu.fpDp = 0;
  cpu.halted = false;
  cpu.interruptShadow = false;
  cpu.nmiBlocked = false;
  cpu.waitingForSipi = false;
  cpu.flushTlb(false);
  cpu.flushBlocks();
  updateMode(cpu);
  cpu.eventCheck = true;
}

/** Power-on reset. The BSP runs (from F000:FFF0); an AP waits for INIT-SIPI. */
export function resetCore(cpu: Cpu, opts: { bsp: boolean }): void {
  architecturalInit(cpu);
  cpu.msrs.clear();
  cpu.star[0] = 0; cpu.star[1] = 0;
  cpu.lstar = 0; cpu.cstar = 0; cpu.fmask = 0;
  cpu.kernelGsBase = 0;
  cpu.tscAux = 0;
  cpu.tscOffset = 0;
  cpu.sysenterCs = 0; cpu.sysenterEsp = 0; cpu.sysenterEip = 0;
  cpu.pat[0] = 0x00070406; cpu.pat[1] = 0x00070406;
  cpu.waitingForSipi = !opts.bsp;
}

/** INIT: registers to their INIT values (MSRs kept), then wait for a startup IPI. */
export function enterWaitForSipi(cpu: Cpu): void {
  architecturalInit(cpu);
  cpu.waitingForSipi = true;
}

/** Startup IPI with vector V: real mode at V000:0000 (CS selector V<<8, base V<<12). */
export function startFromSipi(cpu: Cpu, vector: number): void {
  vector &= 0xff;
  setSegCache(cpu, CS, vector << 8, vector << 12, 0xffff, ATTR_CODE16);
  cpu.rip = vector << 12;
  cpu.waitingForSipi = false;
  cpu.halted = false;
  updateMode(cpu);
  cpu.eventCheck = true;
}

/**
 * The loader's entry state for the bootstrap core: 32-bit protected mode without paging
 * (Multiboot) or 64-bit long mode on the loader's identity page tables (ELF64). Segment caches,
 * GDTR/IDTR, control registers and registers come from the plan.
 */
export function setBootState(cpu: Cpu, plan: BootEntry): void {
  resetCore(cpu, { bsp: true });
  cpu.firmware = plan.mode === 'power-on';
  if (plan.mode === 'power-on') return;
  const r = plan.regs;
  cpu.lo[0] = r.eax | 0; cpu.lo[3] = r.ebx | 0; cpu.lo[1] = r.ecx | 0; cpu.lo[2] = r.edx | 0;
  cpu.lo[6] = r.esi | 0; cpu.lo[7] = r.edi | 0; cpu.lo[5] = r.ebp | 0; cpu.lo[4] = r.esp | 0;
  if (plan.mode === 'long64') {
    setReg64(cpu, 7, r.rdi);
    setReg64(cpu, 6, r.rsi);
    setReg64(cpu, 4, r.rsp);
  }
  const segs = plan.segments;
  const pairs: [number, typeof segs.cs][] = [[CS, segs.cs], [DS, segs.ds], [ES, segs.es], [FS, segs.fs], [GS, segs.gs], [SS, segs.ss]];
  for (const [s, st] of pairs) setSegCache(cpu, s, st.selector, st.base, st.limit, st.attributes & 0xf0ff);
  cpu.gdtBase = plan.gdt.base; cpu.gdtLimit = plan.gdt.limit & 0xffff;
  cpu.idtBase = plan.idt.base; cpu.idtLimit = plan.idt.limit & 0xffff;
  const c = plan.control;
  cpu.cr0 = c.cr0 | 0x10; // ET is hardwired
  cpu.cr3 = c.cr3;
  cpu.cr4 = c.cr4;
  cpu.efer = c.efer;
  cpu.flags = (r.rflags | FIXED1) & 0x3f7fd7;
  cpu.lfOp = LF_NONE;
  cpu.rip = r.rip;
  cpu.flushTlb(false);
  updateMode(cpu);
}

function setReg64(cpu: Cpu, reg: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  cpu.hi[reg] = hi | 0;
  cpu.lo[reg] = (v - hi * TWO32) | 0;
}
