// The kernel loader: detects the boot protocol, places the kernel, its modules and the
// firmware-like data (memory map, ACPI, boot GDT, BIOS data area) in guest RAM, and returns
// the BootPlan the CPU side uses to start the bootstrap core. See docs/BOOT.md.
//
// Detection order: a Multiboot 1 header in the first 8 KiB wins (as QEMU's -kernel), then a
// Multiboot 2 header in the first 32 KiB, then a plain ELF64 image (long-mode entry).

import { BIOS_AREA_END, EBDA_BASE, PAGE_SIZE, type RamLayout } from '../abi/memory-map.js';
import { type AcpiBlob, buildAcpiTables } from './acpi-tables.js';
import { BootError, hex } from './boot-error.js';
import { SEL_CODE32, SEL_CODE64, SEL_DATA32, flatSegment, writeBootGdt } from './boot-gdt.js';
import type { BootPlan, BootProtocol, LoadedModule, ReservedRegion } from './boot-plan.js';
import { type E820Entry, basicMemInfo, buildE820, firmwareAreaBase } from './e820.js';
import { EM_X86_64, elfClass, parseElf } from './elf.js';
import {
  BDA_BASE, BOOT_GDT_ADDR, BOOT_STACK_BASE, BOOT_STACK_TOP, FIRMWARE_RESERVED_TOP, MB1_INFO_ADDR, MB1_INFO_SIZE,
  MB1_MMAP_ADDR, RSDP_ADDR,
} from './firmware-layout.js';
import { GuestWriter } from './guest-writer.js';
import type { ModuleInput } from './initrd-spec.js';
import { PAGE_TABLES_BASE, PAGE_TABLES_END, writeIdentityMap4G } from './long-mode-tables.js';
import { type LoadedImage, MB1_BOOT_MAGIC, findMultiboot1Header, planMultiboot1Image, writeMultiboot1Info } from './multiboot1.js';
import { MB2_BOOT_MAGIC, buildMultiboot2Info, findMultiboot2Header, planMultiboot2Image } from './multiboot2.js';
import { planElf } from './multiboot1.js';

export const BOOT_LOADER_NAME = 'qemu';
const MAX_MB1_MMAP_BYTES = MB1_INFO_ADDR - MB1_MMAP_ADDR;

export interface LoadOptions {
  kernel: Uint8Array;
  /** the kernel's file name: the first word of the command line, as QEMU passes it */
  kernelPath: string;
  /** text after the kernel name (QEMU -append) */
  append?: string;
  modules?: ModuleInput[];
  /** guest RAM (low RAM at offset 0, high RAM after it, per `layout`) */
  ram: Uint8Array;
  layout: RamLayout;
  ncores: number;
}

const align = (v: number, a = PAGE_SIZE) => Math.ceil(v / a) * a;
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Regions of low memory the platform itself uses; kernels and modules may not overlap them. */
function platformRegions(l: RamLayout, protocol: BootProtocol): ReservedRegion[] {
  const r: ReservedRegion[] = [
    { base: BDA_BASE, length: 0x100, kind: 'firmware', what: 'BIOS data area' },
    { base: EBDA_BASE, length: BIOS_AREA_END - EBDA_BASE, kind: 'firmware', what: 'EBDA, VGA hole and BIOS area' },
    { base: BOOT_GDT_ADDR, length: 0x1000, kind: 'firmware', what: 'boot GDT' },
    { base: BOOT_STACK_BASE, length: BOOT_STACK_TOP - BOOT_STACK_BASE, kind: 'stack', what: 'boot stack' },
    { base: RSDP_ADDR, length: 0x10000, kind: 'acpi', what: 'ACPI RSDP / BIOS area' },
    { base: firmwareAreaBase(l), length: FIRMWARE_RESERVED_TOP, kind: 'acpi', what: 'ACPI tables' },
  ];
  if (protocol === 'multiboot1') r.push({ base: MB1_MMAP_ADDR, length: MB1_INFO_ADDR + MB1_INFO_SIZE - MB1_MMAP_ADDR, kind: 'boot-info', what: 'multiboot info' });
  if (protocol === 'elf64') r.push({ base: PAGE_TABLES_BASE, length: PAGE_TABLES_END - PAGE_TABLES_BASE, kind: 'page-tables', what: 'long-mode page tables' });
  return r;
}

function overlap(a: number, alen: number, b: number, blen: number): boolean {
  return a < b + blen && b < a + alen;
}

export function detectProtocol(kernel: Uint8Array): BootProtocol {
  if (findMultiboot1Header(kernel)) return 'multiboot1';
  if (findMultiboot2Header(kernel)) return 'multiboot2';
  const cls = elfClass(kernel);
  if (cls === 64) return 'elf64';
  if (cls === 32) throw new BootError('not a kernel: 32-bit ELF without a multiboot header (QEMU -kernel needs one too)');
  throw new BootError('not a kernel: no multiboot header in the first 8192 bytes and not an ELF64 image');
}

export function loadKernel(o: LoadOptions): BootPlan {
  if (!Number.isInteger(o.ncores) || o.ncores < 1 || o.ncores > 255) throw new BootError(`core count ${o.ncores} out of range 1..255`);
  if (o.kernel.length === 0) throw new BootError('not a kernel: the file is empty');
  const w = new GuestWriter(o.ram, o.layout);
  const warnings: string[] = [];
  const protocol = detectProtocol(o.kernel);

  let image: LoadedImage;
  if (protocol === 'multiboot1') {
    const h = findMultiboot1Header(o.kernel)!;
    if (h.flags & 0x4) warnings.push('multiboot: video mode requested (header flag 2); no framebuffer is provided');
    if (h.flags & 0xfff8) warnings.push(`multiboot: unknown required header flags ${hex(h.flags & 0xfff8)} ignored`);
    image = planMultiboot1Image(o.kernel, h);
  } else if (protocol === 'multiboot2') {
    const h = findMultiboot2Header(o.kernel)!;
    warnings.push(...h.warnings);
    image = planMultiboot2Image(o.kernel, h);
  } else {
    const img = parseElf(o.kernel);
    if (img.machine !== EM_X86_64) throw new BootError('not a kernel: ELF64 image for a machine other than x86-64');
    image = planElf(o.kernel, img);
    if (image.entry >= 2 ** 32) throw new BootError(`ELF64 entry ${hex(image.entry)} is above the 4 GiB identity map`);
  }

  const platform = platformRegions(o.layout, protocol);
  const used: ReservedRegion[] = [];
  const claim = (base: number, length: number, kind: ReservedRegion['kind'], what: string) => {
    if (length === 0) return;
    if (!w.isRam(base, length)) throw new BootError(`${what} at ${hex(base)}-${hex(base + length)} is outside RAM`);
    for (const r of [...platform, ...used]) {
      if (overlap(base, length, r.base, r.length)) {
        throw new BootError(`${what} at ${hex(base)}-${hex(base + length)} overlaps ${r.what} at ${hex(r.base)}-${hex(r.base + r.length)}`);
      }
    }
    used.push({ base, length, kind, what });
  };

  // kernel pieces: check all before writing any
  for (const p of image.pieces) claim(p.paddr, p.bytes.length + p.zeroAfter, 'kernel', `kernel ${p.what}`);
  for (const p of image.pieces) {
    w.write(p.paddr, p.bytes, `kernel ${p.what}`);
    if (p.zeroAfter) w.zero(p.paddr + p.bytes.length, p.zeroAfter, `kernel ${p.what} bss`);
  }

  const memoryMap = buildE820(o.layout, protocol === 'elf64'
    ? [{ base: BOOT_GDT_ADDR, length: 0xf0000 - BOOT_GDT_ADDR }] : []);
  const { memLowerKiB, memUpperKiB } = basicMemInfo(memoryMap);
  const fwBase = firmwareAreaBase(o.layout);
  const acpi = buildAcpiTables({ ncores: o.ncores, tablesBase: fwBase, rsdpAddress: RSDP_ADDR });
  if (acpi.tables.length > FIRMWARE_RESERVED_TOP) throw new BootError('ACPI tables do not fit the firmware area');
  w.write(acpi.tablesBase, acpi.tables, 'ACPI tables');
  w.write(acpi.rsdpAddress, acpi.rsdp, 'ACPI RSDP');
  const gdt = writeBootGdt(w, BOOT_GDT_ADDR);
  writeBiosDataArea(w);

  const cmdline = o.append ? `${o.kernelPath} ${o.append}` : `${o.kernelPath} `;
  const modules: LoadedModule[] = [];
  const mods = o.modules ?? [];
  let cursor = align(image.high);
  let infoAddress: number;
  const placeModule = (m: ModuleInput, string: string) => {
    const start = cursor;
    claim(start, Math.max(m.data.length, 1), 'module', `module '${m.path}' (${m.data.length} bytes)`);
    w.write(start, m.data, `module '${m.path}'`);
    modules.push({ start, end: start + m.data.length, path: m.path, string });
    cursor = align(start + m.data.length);
  };

  if (protocol === 'multiboot1') {
    // As QEMU: after the kernel come the module list, the module strings, the kernel command
    // line and the boot loader name (QEMU sizes the string area from the raw -initrd text),
    // then the modules, each page aligned.
    const strings: Uint8Array[] = [...mods.map((m) => utf8(m.text)), utf8(cmdline)];
    const rawSpec = mods.map((m) => m.text.replace(/,/g, ',,')).join(',');
    const cmdlineLen = utf8(o.kernelPath).length + 1 + utf8(o.append ?? '').length + 1 + (mods.length ? utf8(rawSpec).length + 1 : 0);
    const modsAddr = cursor;
    const stringsAddr = modsAddr + 16 * mods.length;
    const loaderAddr = stringsAddr + Math.max(cmdlineLen, strings.reduce((n, s) => n + s.length + 1, 0));
    const areaEnd = loaderAddr + BOOT_LOADER_NAME.length + 1;
    claim(modsAddr, areaEnd - modsAddr, 'boot-info', 'multiboot strings and module list');
    const strAddrs: number[] = [];
    let sp = stringsAddr;
    for (const s of strings) {
      strAddrs.push(sp);
      w.write(sp, s, 'multiboot string');
      w.u8(sp + s.length, 0);
      sp += s.length + 1;
    }
    w.write(loaderAddr, utf8(BOOT_LOADER_NAME + '\0'), 'boot loader name');
    cursor = align(areaEnd);
    mods.forEach((m, k) => placeModule(m, m.text));
    modules.forEach((m, k) => {
      w.u32(modsAddr + 16 * k, m.start);
      w.u32(modsAddr + 16 * k + 4, m.end);
      w.u32(modsAddr + 16 * k + 8, strAddrs[k]);
      w.u32(modsAddr + 16 * k + 12, 0);
    });
    if (memoryMap.length * 24 > MAX_MB1_MMAP_BYTES) throw new BootError('memory map too large for the multiboot area');
    writeMultiboot1Info(w, {
      infoAddr: MB1_INFO_ADDR, mmapAddr: MB1_MMAP_ADDR, memLowerKiB, memUpperKiB,
      cmdlineAddr: strAddrs[strAddrs.length - 1], modsAddr, modsCount: mods.length, loaderNameAddr: loaderAddr, memoryMap,
    });
    infoAddress = MB1_INFO_ADDR;
  } else {
    // Multiboot 2 and ELF64: modules after the kernel, then the information block.
    for (const m of mods) placeModule(m, m.args);
    const info = buildMultiboot2Info({
      cmdline, loaderName: BOOT_LOADER_NAME, modules, memLowerKiB, memUpperKiB, memoryMap, rsdp: acpi.rsdp, loadBase: image.low,
    });
    infoAddress = cursor;
    claim(infoAddress, info.length, 'boot-info', 'multiboot2 information');
    w.write(infoAddress, info, 'multiboot2 information');
  }

  const long = protocol === 'elf64';
  const cr3 = long ? writeIdentityMap4G(w) : 0;
  const data = flatSegment(SEL_DATA32);
  const magic = protocol === 'multiboot1' ? MB1_BOOT_MAGIC : MB2_BOOT_MAGIC;
  const plan: BootPlan = {
    protocol,
    entry: image.entry,
    mode: long ? 'long64' : 'protected32',
    regs: {
      eax: magic, ebx: infoAddress, ecx: 0, edx: 0, esi: 0, edi: long ? infoAddress : 0, ebp: 0, esp: BOOT_STACK_TOP,
      rdi: long ? infoAddress : 0, rsi: 0, rsp: BOOT_STACK_TOP, rip: image.entry, rflags: 0x2,
    },
    segments: { cs: flatSegment(long ? SEL_CODE64 : SEL_CODE32), ds: data, es: data, fs: data, gs: data, ss: data },
    gdt,
    idt: { base: 0, limit: 0 },
    control: long
      ? { cr0: 0x80000011, cr3, cr4: 0x20, efer: 0x500 }
      : { cr0: 0x00000011, cr3: 0, cr4: 0, efer: 0 },
    a20: true,
    infoAddress,
    kernel: { low: image.low, high: image.high },
    modules,
    memoryMap,
    reservedRegions: [...platform, ...used],
    acpi,
    warnings,
  };
  return plan;
}

/** The few BIOS data area words kernels read: COM1 base, EBDA segment, base memory KiB. */
function writeBiosDataArea(w: GuestWriter): void {
  w.u16(BDA_BASE + 0x00, 0x3f8); // COM1
  w.u16(BDA_BASE + 0x10, 0x0022); // equipment: FPU, 80x25 colour, no floppies
  w.u16(BDA_BASE + 0x13, 639); // base memory in KiB
  w.u16(BDA_BASE + 0x0e, EBDA_BASE >>> 4); // EBDA segment
}

export type { AcpiBlob, E820Entry };
