// Model-specific registers (RDMSR/WRMSR) and the time-stamp counter.
//
// TSC = guest clock nanoseconds + a per-core offset (TSC_HZ = 1 GHz, src/abi/clock.ts);
// writing IA32_TSC sets the offset. IA32_TSC_DEADLINE is kept by the LAPIC in clock ns, so it
// is converted through the same offset. MSRs that only hold values (MTRRs, MCG_STATUS,
// BIOS_SIGN_ID...) live in cpu.msrs. An MSR not listed here raises #GP(0), as does a write of
// reserved bits or a non-canonical address.

import { Clock } from '../abi/clock.js';
import type { Cpu } from './cpu.js';
import {
  CR0_PG, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, FS, GS, MSR_APIC_BASE, MSR_BIOS_SIGN_ID, MSR_CSTAR, MSR_EFER,
  MSR_FEATURE_CONTROL, MSR_FMASK, MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_LSTAR, MSR_MCG_CAP,
  MSR_MCG_STATUS, MSR_MISC_ENABLE, MSR_PLATFORM_ID, MSR_MTRR_DEF_TYPE, MSR_MTRR_FIX16K_80000, MSR_MTRR_FIX16K_A0000,
  MSR_MTRR_FIX4K_C0000, MSR_MTRR_FIX64K, MSR_MTRR_PHYSBASE0, MSR_MTRRCAP, MSR_PAT, MSR_STAR,
  MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, MSR_TSC, MSR_TSC_AUX, MSR_TSC_DEADLINE, TWO32,
} from './regs.js';
import { isCanonical, joinLinear, linearHi, linearLo, updateMode } from './segmentation.js';

/** 8 variable MTRRs, fixed-range MTRRs, write-combining supported (IA32_MTRRCAP). */
export const MTRRCAP_VALUE = 0x508;
/** fast strings; branch-trace and PEBS unavailable (what firmware typically leaves) */
export const MISC_ENABLE_DEFAULT = 0x1801;
/** physical address bits reported by CPUID 0x80000008 (bounds MTRR masks) */
export const PHYS_ADDR_BITS = 40;

/** Result of readMsr (no allocation): the 64-bit value as two 32-bit halves. */
export const msrValue = { lo: 0, hi: 0 };

// ------------------------------------------------------------------ time

const clocks = new WeakMap<Int32Array, Clock>();
const overrides = new WeakMap<Cpu, () => number>();

/** Replace a core's time source (tests, deterministic runs). */
export function setTimeSource(cpu: Cpu, nowNs: (() => number) | null): void {
  if (nowNs) overrides.set(cpu, nowNs);
  else overrides.delete(cpu);
}

/** Guest clock in nanoseconds (the machine's shared monotonic clock). */
export function guestNowNs(cpu: Cpu): number {
  const o = overrides.get(cpu);
  if (o !== undefined) return o();
  let c = clocks.get(cpu.shared.ctl);
  if (c === undefined) {
    c = new Clock(cpu.shared.ctl);
    clocks.set(cpu.shared.ctl, c);
  }
  return c.nowNs();
}

/** Current TSC value (a non-negative Number; exact below 2^53). */
export function readTsc(cpu: Cpu): number {
  const t = guestNowNs(cpu) + cpu.tscOffset;
  return t < 0 ? 0 : t;
}

function setValue(v: number): true {
  const hi = Math.floor(v / TWO32);
  msrValue.hi = hi | 0;
  msrValue.lo = (v - hi * TWO32) | 0;
  return true;
}

function setPair(lo: number, hi: number): true {
  msrValue.lo = lo | 0;
  msrValue.hi = hi | 0;
  return true;
}

function u64(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

// ------------------------------------------------------------------ classification

function isStoredMtrr(index: number): boolean {
  return (index >= MSR_MTRR_PHYSBASE0 && index < MSR_MTRR_PHYSBASE0 + 16) || index === MSR_MTRR_FIX64K ||
    index === MSR_MTRR_FIX16K_80000 || index === MSR_MTRR_FIX16K_A0000 ||
    (index >= MSR_MTRR_FIX4K_C0000 && index < MSR_MTRR_FIX4K_C0000 + 8) || index === MSR_MTRR_DEF_TYPE;
}

// IA32_SPEC_CTRL is absent: CPUID.7.0:EDX advertises neither IBRS nor STIBP/SSBD, so (as on
// such a processor) RDMSR/WRMSR of it raise #GP(0)
const PLAIN_STORED = new Set([MSR_BIOS_SIGN_ID, MSR_MCG_STATUS, MSR_MISC_ENABLE]);

function stored(cpu: Cpu, index: number, dlo = 0, dhi = 0): true {
  const v = cpu.msrs.get(index);
  return v ? setPair(v[0], v[1]) : setPair(dlo, dhi);
}

/** The APIC base MSR through the LAPIC (its value has at most 36 significant bits). */
function apicBaseRead(cpu: Cpu): true {
  if (cpu.lapic === null) return stored(cpu, MSR_APIC_BASE, 0xfee00800 | (cpu.coreIndex === 0 ? 0x100 : 0), 0);
  return setValue(cpu.lapic.readApicBase());
}

function apicBaseWrite(cpu: Cpu, lo: number, hi: number): boolean {
  if ((lo & 0x2ff) !== 0 || (hi >>> 0) >= 1 << (PHYS_ADDR_BITS - 32)) return false;
  if (cpu.lapic === null) {
    cpu.msrs.set(MSR_APIC_BASE, [lo | 0, hi | 0]);
    return true;
  }
  cpu.eventCheck = true;
  return cpu.lapic.writeApicBase(lo, hi);
}

// ------------------------------------------------------------------ RDMSR / WRMSR

/** RDMSR: fills msrValue and returns true, or returns false for #GP(0). */
export function readMsr(cpu: Cpu, index: number): boolean {
  index >>>= 0;
  switch (index) {
    case MSR_TSC: return setValue(readTsc(cpu));
    case MSR_PLATFORM_ID: return setPair(0, 0);
    case MSR_APIC_BASE: return apicBaseRead(cpu);
    case MSR_FEATURE_CONTROL: return setPair(1, 0); // locked, VMX off
    case MSR_MTRRCAP: return setPair(MTRRCAP_VALUE, 0);
    case MSR_SYSENTER_CS: return setPair(cpu.sysenterCs, 0);
    case MSR_SYSENTER_ESP: return setValue(cpu.sysenterEsp);
    case MSR_SYSENTER_EIP: return setValue(cpu.sysenterEip);
    case MSR_MCG_CAP: return setPair(0, 0); // no banks
    case MSR_MISC_ENABLE: return stored(cpu, index, MISC_ENABLE_DEFAULT, 0);
    case MSR_PAT: return setPair(cpu.pat[0], cpu.pat[1]);
    case MSR_TSC_DEADLINE: {
      if (cpu.lapic === null) return setPair(0, 0);
      const d = cpu.lapic.getTscDeadline();
      return setValue(d === 0 ? 0 : Math.max(0, d + cpu.tscOffset));
    }
    case MSR_EFER: return setPair(cpu.efer, 0);
    case MSR_STAR: return setPair(cpu.star[0], cpu.star[1]);
    case MSR_LSTAR: return setPair(linearLo(cpu.lstar), linearHi(cpu.lstar));
    case MSR_CSTAR: return setPair(linearLo(cpu.cstar), linearHi(cpu.cstar));
    case MSR_FMASK: return setPair(cpu.fmask, 0);
    case MSR_FS_BASE: return setPair(linearLo(cpu.segBase[FS]), linearHi(cpu.segBase[FS]));
    case MSR_GS_BASE: return setPair(linearLo(cpu.segBase[GS]), linearHi(cpu.segBase[GS]));
    case MSR_KERNEL_GS_BASE: return setPair(linearLo(cpu.kernelGsBase), linearHi(cpu.kernelGsBase));
    case MSR_TSC_AUX: return setPair(cpu.tscAux, 0);
    default:
      if (PLAIN_STORED.has(index) || isStoredMtrr(index)) return stored(cpu, index);
      return false;
  }
}

const PAT_TYPES_OK = 0b11110011; // memory types 0, 1, 4, 5, 6, 7 are valid

function patValid(lo: number, hi: number): boolean {
  for (let i = 0; i < 4; i++) {
    const a = (lo >>> (8 * i)) & 0xff, b = (hi >>> (8 * i)) & 0xff;
    if (a > 7 || b > 7 || ((PAT_TYPES_OK >> a) & 1) === 0 || ((PAT_TYPES_OK >> b) & 1) === 0) return false;
  }
  return true;
}

/** WRMSR: returns false for #GP(0). */
export function writeMsr(cpu: Cpu, index: number, lo: number, hi: number): boolean {
  index >>>= 0;
  lo |= 0;
  hi |= 0;
  switch (index) {
    case MSR_TSC:
      cpu.tscOffset = u64(lo, hi) - guestNowNs(cpu);
      return true;
    case MSR_APIC_BASE: return apicBaseWrite(cpu, lo, hi);
    case MSR_SYSENTER_CS: cpu.sysenterCs = lo & 0xffff; return true;
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP: {
      const v = joinLinear(lo, hi);
      if (!isCanonical(v)) return false;
      if (index === MSR_SYSENTER_ESP) cpu.sysenterEsp = v; else cpu.sysenterEip = v;
      return true;
    }
    case MSR_MISC_ENABLE:
    case MSR_BIOS_SIGN_ID:
    case MSR_MCG_STATUS:
      cpu.msrs.set(index, [lo, hi]);
      return true;
    case MSR_PAT:
      if (!patValid(lo, hi)) return false;
      cpu.pat[0] = lo; cpu.pat[1] = hi;
      return true;
    case MSR_TSC_DEADLINE: {
      if (cpu.lapic === null) return true;
      const v = u64(lo, hi);
      cpu.lapic.setTscDeadline(v === 0 ? 0 : Math.max(1, v - cpu.tscOffset));
      cpu.eventCheck = true;
      return true;
    }
    case MSR_EFER: return writeEfer(cpu, lo, hi);
    case MSR_STAR: cpu.star[0] = lo; cpu.star[1] = hi; return true;
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE: {
      const v = joinLinear(lo, hi);
      if (!isCanonical(v)) return false;
      if (index === MSR_LSTAR) cpu.lstar = v;
      else if (index === MSR_CSTAR) cpu.cstar = v;
      else if (index === MSR_FS_BASE) cpu.segBase[FS] = v;
      else if (index === MSR_GS_BASE) cpu.segBase[GS] = v;
      else cpu.kernelGsBase = v;
      return true;
    }
    case MSR_FMASK: cpu.fmask = lo; return true;
    case MSR_TSC_AUX:
      if (hi !== 0) return false;
      cpu.tscAux = lo;
      return true;
    default:
      if (isStoredMtrr(index)) return writeMtrr(cpu, index, lo, hi);
      return false; // read-only (MTRRCAP, MCG_CAP, FEATURE_CONTROL locked, PLATFORM_ID) or unknown
  }
}

function writeEfer(cpu: Cpu, lo: number, hi: number): boolean {
  const writable = EFER_SCE | EFER_LME | EFER_NXE;
  if (hi !== 0 || (lo & ~(writable | EFER_LMA)) !== 0) return false;
  // LME cannot change while paging is on; LMA is read-only (writes of it are ignored)
  if ((cpu.cr0 & CR0_PG) !== 0 && ((lo ^ cpu.efer) & EFER_LME) !== 0) return false;
  const next = (lo & writable) | (cpu.efer & EFER_LMA);
  if (((next ^ cpu.efer) & EFER_NXE) !== 0) cpu.flushTlb(false);
  cpu.efer = next;
  updateMode(cpu);
  return true;
}

function writeMtrr(cpu: Cpu, index: number, lo: number, hi: number): boolean {
  const physHiMask = ~((1 << (PHYS_ADDR_BITS - 32)) - 1);
  if (index >= MSR_MTRR_PHYSBASE0 && index < MSR_MTRR_PHYSBASE0 + 16) {
    if ((hi & physHiMask) !== 0) return false;
    // base: type in 7:0, bits 11:8 reserved; mask: valid bit 11, bits 10:0 reserved
    if ((index & 1) === 0 ? (lo & 0xf00) !== 0 : (lo & 0x7ff) !== 0) return false;
  } else if (index === MSR_MTRR_DEF_TYPE) {
    if (hi !== 0 || (lo & ~0xcff) !== 0) return false;
  }
  cpu.msrs.set(index, [lo, hi]);
  return true;
}
