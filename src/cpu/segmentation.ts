// Segmentation: descriptor tables, segment-register loads with their protection checks, the
// hidden descriptor caches, and the cached mode of the core (CPL, 16/32/64-bit code, stack
// width, paging kind) derived from CR0/CR4/EFER and the CS/SS caches.
//
// Descriptor caches use the VMX access-rights layout (cpu-state.ts): type[3:0] S[4] DPL[6:5]
// P[7] AVL[12] L[13] D/B[14] G[15], plus UNUSABLE[16] for segments loaded with a null selector.
// CPL is SS.DPL (as in VMX): every path that changes privilege loads SS with DPL = new CPL.

import type { Cpu } from './cpu.js';
import {
  CR0_PE, CR0_PG, CR4_PAE, CS, DS, EFER_LMA, ES, FS, GP, GS, LDTR, NP, SS, SS_VEC, TR, TWO32, VM,
} from './regs.js';

export const ATTR_TYPE = 0xf;
export const ATTR_ACCESSED = 0x1;
/** code: readable; data: writable */
export const ATTR_RW = 0x2;
/** code: conforming; data: expand-down */
export const ATTR_CONFORMING = 0x4;
export const ATTR_CODE = 0x8;
export const ATTR_S = 0x10;
export const ATTR_P = 0x80;
export const ATTR_L = 0x2000;
export const ATTR_DB = 0x4000;
export const ATTR_G = 0x8000;
export const ATTR_UNUSABLE = 0x10000;

/** Ready-made caches for flat segments (boot states, SYSCALL/SYSENTER). */
export const ATTR_CODE64 = 0xa09b; // G L P S type B (exec/read, accessed)
export const ATTR_CODE32 = 0xc09b; // G D P S type B
export const ATTR_CODE16 = 0x009b;
export const ATTR_DATA32 = 0xc093; // G B P S type 3 (read/write, accessed)
export const ATTR_DATA16 = 0x0093;
export const ATTR_LDT = 0x0082;
export const ATTR_TSS32_BUSY = 0x008b;

// System descriptor types (S = 0).
export const SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4, SYS_TASK_GATE = 5;
export const SYS_INT16 = 6, SYS_TRAP16 = 7, SYS_TSS_AVAIL = 9, SYS_TSS_BUSY = 0xb, SYS_CALL = 0xc;
export const SYS_INT = 0xe, SYS_TRAP = 0xf;

export function attrDpl(attr: number): number {
  return (attr >> 5) & 3;
}

/** Access-rights attributes held in the high dword of a descriptor. */
export function descAttr(hi: number): number {
  return (hi >>> 8) & 0xf0ff;
}

export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

/** Byte-granular limit (4 KiB granularity expanded). */
export function descLimit(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return (hi & 0x800000) !== 0 ? raw * 4096 + 0xfff : raw;
}

/** Scratch result of fetchDescriptor (no allocation per segment load). */
export const desc = { lo: 0, hi: 0, addr: 0 };

/** Linear address inside a descriptor table: wraps at 4 GiB outside long mode. */
export function tableAddr(cpu: Cpu, base: number, off: number): number {
  return (cpu.efer & EFER_LMA) !== 0 ? base + off : (base + off) % TWO32;
}

/**
 * Read the 8-byte descriptor that `sel` names (GDT or LDT) into `desc`. Returns false when the
 * selector points outside its table (or at the LDT while none is loaded); the caller raises the
 * fault its instruction defines.
 */
export function fetchDescriptor(cpu: Cpu, sel: number): boolean {
  let base: number, limit: number;
  if ((sel & 4) !== 0) {
    if ((cpu.segAttr[LDTR] & ATTR_UNUSABLE) !== 0 || (cpu.segSel[LDTR] & 0xfffc) === 0) return false;
    base = cpu.segBase[LDTR];
    limit = cpu.segLimit[LDTR];
  } else {
    base = cpu.gdtBase;
    limit = cpu.gdtLimit;
  }
  const off = sel & 0xfff8;
  if (off + 7 > limit) return false;
  const addr = tableAddr(cpu, base, off);
  desc.addr = addr;
  desc.lo = cpu.readSys(addr, 4);
  desc.hi = cpu.readSys(tableAddr(cpu, addr, 4), 4);
  return true;
}

/** Upper half of a 16-byte system descriptor (long mode LDT/TSS/gates): bits 63:32 of the base. */
export function fetchDescriptorHigh(cpu: Cpu, sel: number): number {
  const off = (sel & 0xfff8) + 8;
  const base = (sel & 4) !== 0 ? cpu.segBase[LDTR] : cpu.gdtBase;
  const limit = (sel & 4) !== 0 ? cpu.segLimit[LDTR] : cpu.gdtLimit;
  if (off + 7 > limit) cpu.fault(GP, sel & 0xfffc);
  return cpu.readSys(tableAddr(cpu, base, off), 4);
}

/** Set the accessed bit of the descriptor last fetched (a locked RMW on real hardware). */
export function markAccessed(cpu: Cpu): void {
  if ((desc.hi & 0x100) !== 0) return;
  desc.hi |= 0x100;
  cpu.writeSys(tableAddr(cpu, desc.addr, 5), 1, (desc.hi >>> 8) & 0xff);
}

export function setSegCache(cpu: Cpu, seg: number, sel: number, base: number, limit: number, attr: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBase[seg] = base;
  cpu.segLimit[seg] = limit;
  cpu.segAttr[seg] = attr;
}

/** Real-mode (and virtual-8086) load: only selector and base change (so "unreal" limits survive). */
export function loadSegmentReal(cpu: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  cpu.segSel[seg] = sel;
  cpu.segBase[seg] = sel * 16;
  if ((cpu.segAttr[seg] & ATTR_UNUSABLE) !== 0) {
    cpu.segAttr[seg] = seg === CS ? ATTR_CODE16 : ATTR_DATA16;
    cpu.segLimit[seg] = 0xffff;
  }
}

function selError(sel: number): number {
  return sel & 0xfffc;
}

/** A null selector: the segment becomes unusable (its DPL records the CPL for SS). */
function loadNull(cpu: Cpu, seg: number, sel: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  // Intel clears the base of FS/GS on a null load; other bases are never used while unusable.
  cpu.segBase[seg] = 0;
  cpu.segLimit[seg] = 0;
  cpu.segAttr[seg] = ATTR_UNUSABLE | (seg === SS ? (cpu.cpl << 5) | ATTR_DB : 0);
}

/**
 * MOV/POP/LDS-style load of ES, SS, DS, FS or GS with every protected-mode check.
 * Faults: #GP(sel) privilege/type/limit, #NP(sel) (#SS(sel) for SS) not present, #GP(0) null SS.
 */
export function loadSegment(cpu: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!cpu.protectedMode || (cpu.flags & VM) !== 0) {
    loadSegmentReal(cpu, seg, sel);
    return;
  }
  if (seg === SS) {
    loadStackSegment(cpu, sel);
    return;
  }
  if ((sel & 0xfffc) === 0) {
    loadNull(cpu, seg, sel);
    return;
  }
  if (!fetchDescriptor(cpu, sel)) cpu.fault(GP, selError(sel));
  const attr = descAttr(desc.hi);
  const code = (attr & ATTR_CODE) !== 0;
  if ((attr & ATTR_S) === 0 || (code && (attr & ATTR_RW) === 0)) cpu.fault(GP, selError(sel));
  if (!code || (attr & ATTR_CONFORMING) === 0) {
    const dpl = attrDpl(attr);
    if ((sel & 3) > dpl || cpu.cpl > dpl) cpu.fault(GP, selError(sel));
  }
  if ((attr & ATTR_P) === 0) cpu.fault(NP, selError(sel));
  markAccessed(cpu);
  setSegCache(cpu, seg, sel, descBase(desc.lo, desc.hi), descLimit(desc.lo, desc.hi), descAttr(desc.hi));
}

/** SS load at the current privilege level (MOV SS, POP SS, LSS). */
export function loadStackSegment(cpu: Cpu, sel: number): void {
  const rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    // 64-bit mode allows a null SS below ring 3 (RPL must equal CPL)
    if (cpu.mode64 && cpu.cpl !== 3 && rpl === cpu.cpl) {
      loadNull(cpu, SS, sel);
      updateMode(cpu);
      return;
    }
    cpu.fault(GP, 0);
  }
  if (!fetchDescriptor(cpu, sel)) cpu.fault(GP, selError(sel));
  const attr = descAttr(desc.hi);
  if (rpl !== cpu.cpl || attrDpl(attr) !== cpu.cpl || (attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) {
    cpu.fault(GP, selError(sel));
  }
  if ((attr & ATTR_P) === 0) cpu.fault(SS_VEC, selError(sel));
  markAccessed(cpu);
  setSegCache(cpu, SS, sel, descBase(desc.lo, desc.hi), descLimit(desc.lo, desc.hi), descAttr(desc.hi));
  updateMode(cpu);
}

/**
 * Check an SS selector for a privilege change to `newCpl` (interrupt via TSS, far RET/IRET to an
 * outer level). `vec` is the fault for a bad selector (#TS for TSS stacks, #GP for returns);
 * `ext` is the EXT bit for the error code. Leaves the descriptor in `desc`.
 */
export function checkStackSelector(cpu: Cpu, sel: number, newCpl: number, vec: number, ext: number): void {
  if ((sel & 0xfffc) === 0) cpu.fault(vec, ext);
  if ((sel & 3) !== newCpl || !fetchDescriptor(cpu, sel)) cpu.fault(vec, selError(sel) | ext);
  const attr = descAttr(desc.hi);
  if (attrDpl(attr) !== newCpl || (attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) {
    cpu.fault(vec, selError(sel) | ext);
  }
  if ((attr & ATTR_P) === 0) cpu.fault(SS_VEC, selError(sel) | ext);
}

/**
 * Install a code segment from the descriptor in `desc` with the given CPL in its RPL; the
 * caller loads SS for privilege changes and then calls updateMode.
 */
export function installCs(cpu: Cpu, sel: number, cpl: number): void {
  markAccessed(cpu);
  const attr = descAttr(desc.hi);
  // in 64-bit mode the CS base is ignored: keep it 0 so linear RIP == offset
  const base = (cpu.efer & EFER_LMA) !== 0 && (attr & ATTR_L) !== 0 ? 0 : descBase(desc.lo, desc.hi);
  setSegCache(cpu, CS, (sel & 0xfffc) | cpl, base, descLimit(desc.lo, desc.hi), attr);
}

/** Install SS from the descriptor in `desc` (already checked). */
export function installSs(cpu: Cpu, sel: number): void {
  markAccessed(cpu);
  setSegCache(cpu, SS, sel, descBase(desc.lo, desc.hi), descLimit(desc.lo, desc.hi), descAttr(desc.hi));
}

/**
 * After a return to an outer privilege level: data segments the new CPL may not use become
 * null (unusable). The base is left alone so a 64-bit FS/GS base set by WRMSR survives.
 */
export function nullDataSegmentsAbove(cpu: Cpu, cpl: number): void {
  for (const seg of DATA_SEGS) {
    const attr = cpu.segAttr[seg];
    if ((attr & ATTR_UNUSABLE) !== 0) continue;
    const conformingCode = (attr & (ATTR_CODE | ATTR_CONFORMING)) === (ATTR_CODE | ATTR_CONFORMING);
    if (!conformingCode && attrDpl(attr) < cpl) {
      cpu.segSel[seg] = 0;
      cpu.segAttr[seg] = ATTR_UNUSABLE;
    }
  }
}
const DATA_SEGS = [ES, DS, FS, GS];

/**
 * Recompute the cached mode after CR0/CR4/EFER or CS/SS change: CPL, 64-bit/compatibility,
 * default operand size, stack width, paging kind; and select the TLB set of the privilege.
 * Blocks need no flush: the block cache is keyed by code mode and validated by physical page.
 */
export function updateMode(cpu: Cpu): void {
  const pe = (cpu.cr0 & CR0_PE) !== 0;
  const lma = (cpu.efer & EFER_LMA) !== 0;
  const csAttr = cpu.segAttr[CS];
  cpu.protectedMode = pe;
  cpu.mode64 = lma && (csAttr & ATTR_L) !== 0;
  cpu.def32 = cpu.mode64 || (csAttr & ATTR_DB) !== 0;
  cpu.stackSize = cpu.mode64 ? 8 : (cpu.segAttr[SS] & ATTR_DB) !== 0 ? 4 : 2;
  cpu.cpl = !pe ? 0 : (cpu.flags & VM) !== 0 ? 3 : attrDpl(cpu.segAttr[SS]);
  cpu.pagingMode = (cpu.cr0 & CR0_PG) === 0 ? 0 : lma ? 4 : (cpu.cr4 & CR4_PAE) !== 0 ? 3 : 2;
  cpu.selectTlbSet();
}

/** Offset of the current RIP within CS (what a far call or an interrupt frame saves). */
export function ripOffset(cpu: Cpu, linRip: number): number {
  if (cpu.mode64) return linRip;
  const off = (linRip - cpu.segBase[CS] + TWO32) % TWO32;
  return cpu.def32 ? off : off & 0xffff;
}

/** TR's selector must name a loaded TSS for privilege changes and I/O bitmaps. */
export function trUsable(cpu: Cpu): boolean {
  return (cpu.segAttr[TR] & ATTR_UNUSABLE) === 0 && (cpu.segAttr[TR] & ATTR_P) !== 0;
}

/** Canonical 48-bit linear address (signed Number form). */
export function isCanonical(lin: number): boolean {
  return lin < 0x800000000000 && lin >= -0x800000000000;
}

/** Signed canonical Number from 32-bit halves. */
export function joinLinear(lo: number, hi: number): number {
  return (hi | 0) * TWO32 + (lo >>> 0);
}

/** High half of a signed Number (inverse of joinLinear). */
export function linearHi(n: number): number {
  return Math.floor(n / TWO32) | 0;
}

export function linearLo(n: number): number {
  return (n - Math.floor(n / TWO32) * TWO32) | 0;
}
