// What the loader hands the CPU side: everything needed to set up the bootstrap core's
// initial state, plus the facts the machine needs for devices (fw_cfg, frame table).
// Plain data only (numbers, strings, arrays and Uint8Arrays), so it can be posted to a worker.

import type { AcpiBlob } from './acpi-tables.js';
import type { SegmentState } from './boot-gdt.js';
import type { E820Entry } from './e820.js';

export type BootProtocol = 'multiboot1' | 'multiboot2' | 'elf64' | 'linux' | 'pvh';
export type EntryMode = 'protected32' | 'long64';

export interface BootRegisters {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
  esi: number;
  edi: number;
  ebp: number;
  esp: number;
  /** 64-bit views for the long-mode entry (all values below 2^32 here) */
  rdi: number;
  rsi: number;
  rsp: number;
  rip: number;
  rflags: number;
}

export interface ControlRegisters {
  cr0: number;
  cr3: number;
  cr4: number;
  /** IA32_EFER (MSR 0xC0000080) */
  efer: number;
}

export type RegionKind = 'firmware' | 'acpi' | 'boot-info' | 'page-tables' | 'stack' | 'kernel' | 'module';

export interface ReservedRegion {
  base: number;
  length: number;
  kind: RegionKind;
  /** short human-readable purpose, e.g. "multiboot info", "module initrd.img" */
  what: string;
}

export interface LoadedModule {
  start: number;
  /** exclusive end (start + file length), as Multiboot's mod_end */
  end: number;
  path: string;
  /** the string handed to the kernel for this module */
  string: string;
}

export interface BootPlan {
  protocol: BootProtocol;
  /** physical entry address (= regs.rip) */
  entry: number;
  mode: EntryMode;
  regs: BootRegisters;
  segments: { cs: SegmentState; ds: SegmentState; es: SegmentState; fs: SegmentState; gs: SegmentState; ss: SegmentState };
  gdt: { base: number; limit: number };
  /** IDTR: limit 0 until the kernel loads its own (interrupts are off at entry) */
  idt: { base: number; limit: number };
  control: ControlRegisters;
  /** the A20 gate is open at entry */
  a20: boolean;
  /** physical address of the boot information (Multiboot 1 info, Multiboot 2 tag list, Linux boot_params, PVH hvm_start_info) */
  infoAddress: number;
  /** physical extent of the loaded kernel image, [low, high) */
  kernel: { low: number; high: number };
  modules: LoadedModule[];
  memoryMap: E820Entry[];
  /** everything the loader wrote that the kernel should not reuse blindly */
  reservedRegions: ReservedRegion[];
  acpi: AcpiBlob;
  /** non-fatal oddities (unsupported header requests, ignored flags) */
  warnings: string[];
}
