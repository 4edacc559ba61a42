// The kernel loader: detects the boot protocol, places the kernel, its modules and the
// firmware-like data (memory map, ACPI, boot GDT, BIOS data area) in guest RAM, and returns
// the BootPlan the CPU side uses to start the bootstrap core. See docs/BOOT.md.
//
// Detection order, as QEMU's -kernel: a Linux setup header ("HdrS" at 0x202: a bzImage), then a
// Multiboot 1 header in the first 8 KiB, then a Multiboot 2 header in the first 32 KiB, then an
// ELF image with a PVH entry note, then a plain ELF64 image (long-mode entry; not a Linux or Xen
// ELF, which would need another entry state).
//
// The kernel is claimed first, at the addresses it asks for; the loader's own structures then go
// to their usual (QEMU's) addresses when those are free and elsewhere when the image is there.

import { BIOS_AREA_END, EBDA_BASE, PAGE_SIZE, type RamLayout, VGA_HOLE_BASE } from '../abi/memory-map.js';
import { type AcpiBlob, buildAcpiTables } from './acpi-tables.js';
import { BootError, hex } from './boot-error.js';
import { type GdtLayout, SEL_CODE32, SEL_CODE64, SEL_DATA32, SEL_LINUX_CS, SEL_LINUX_DS, bootGdtSize, flatSegment, writeBootGdt } from './boot-gdt.js';
import type { BootPlan, BootProtocol, LoadedModule, ReservedRegion } from './boot-plan.js';
import { type E820Entry, basicMemInfo, buildE820, firmwareAreaBase } from './e820.js';
import { EM_X86_64, elfClass, parseElf } from './elf.js';
import {
  BDA_BASE, BOOT_GDT_ADDR, BOOT_STACK_BASE, BOOT_STACK_TOP, FIRMWARE_RESERVED_TOP, MB1_INFO_SIZE, MB1_MMAP_ADDR, RSDP_ADDR,
} from './firmware-layout.js';
import { GuestWriter } from './guest-writer.js';
import type { ModuleInput } from './initrd-spec.js';
import { BOOT_PARAMS_SIZE, buildBootParams } from './linux-boot-params.js';
import { ENTRY_64_OFFSET, hasLinuxSetupHeader, type LinuxSetupHeader, parseLinuxSetupHeader } from './linux-setup-header.js';
import { PAGE_TABLES_BASE, PAGE_TABLES_SIZE, writeIdentityMap4G } from './long-mode-tables.js';
import { type LoadedImage, MB1_BOOT_MAGIC, findMultiboot1Header, planElf, planMultiboot1Image, writeMultiboot1Info } from './multiboot1.js';
import { MB2_BOOT_MAGIC, buildMultiboot2Info, findMultiboot2Header, planMultiboot2Image } from './multiboot2.js';
import { PhysicalPlacer } from './placement.js';
import { buildPvhStartInfo, findPvhEntry, hasLinuxOrXenNotes } from './pvh.js';

export const BOOT_LOADER_NAME = 'qemu';
/** Multiboot 1: the memory map, then the information structure 0x500 bytes later (QEMU's layout) */
const MB1_MMAP_BYTES = 0x500;
const MB1_BLOCK_SIZE = MB1_MMAP_BYTES + MB1_INFO_SIZE;
/** where QEMU loads a bzImage's protected-mode kernel, and puts boot_params and the command line */
export const LINUX_LOAD_ADDR = 0x100000;
export const LINUX_BOOT_PARAMS_ADDR = 0x10000;
export const LINUX_CMDLINE_ADDR = 0x20000;
const BOOT_STACK_SIZE = BOOT_STACK_TOP - BOOT_STACK_BASE;

export interface LoadOptions {
  kernel: Uint8Array;
  /** the kernel's file name: the first word of a Multiboot command line, as QEMU passes it */
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

export function detectProtocol(kernel: Uint8Array): BootProtocol {
  if (hasLinuxSetupHeader(kernel)) return 'linux';
  if (findMultiboot1Header(kernel)) return 'multiboot1';
  if (findMultiboot2Header(kernel)) return 'multiboot2';
  const cls = elfClass(kernel);
  if (cls !== 0 && findPvhEntry(kernel) !== undefined) return 'pvh';
  if (cls === 64) {
    if (hasLinuxOrXenNotes(kernel)) {
      throw new BootError('not bootable here: an ELF64 Linux/Xen kernel without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); boot its bzImage, or build it with CONFIG_PVH');
    }
    return 'elf64';
  }
  if (cls === 32) throw new BootError('not a kernel: 32-bit ELF without a multiboot header or PVH note (QEMU -kernel needs one too)');
  throw new BootError('not a kernel: no Linux setup header, no multiboot header in the first 8192 bytes and not an ELF64 image');
}

/** Low memory the loader's small structures may use: conventional memory and the BIOS area, never the VGA hole. */
const LOW_RANGES: [number, number][] = [[0x1000, EBDA_BASE], [0xc0000, BIOS_AREA_END]];

export function loadKernel(o: LoadOptions): BootPlan {
  if (!Number.isInteger(o.ncores) || o.ncores < 1 || o.ncores > 255) throw new BootError(`core count ${o.ncores} out of range 1..255`);
  if (o.kernel.length === 0) throw new BootError('not a kernel: the file is empty');
  const w = new GuestWriter(o.ram, o.layout);
  const warnings: string[] = [];
  const protocol = detectProtocol(o.kernel);
  const long = protocol === 'elf64' || protocol === 'linux';
  const mods = o.modules ?? [];

  let image: LoadedImage;
  let linux: LinuxSetupHeader | undefined;
  /** memory a Linux kernel needs beyond its file (init_size from its run address) */
  let workArea: { base: number; end: number } | undefined;
  if (protocol === 'linux') {
    linux = parseLinuxSetupHeader(o.kernel);
    const bytes = o.kernel.subarray(linux.kernelOffset);
    image = { low: LINUX_LOAD_ADDR, high: LINUX_LOAD_ADDR + bytes.length, entry: LINUX_LOAD_ADDR + ENTRY_64_OFFSET, pieces: [{ paddr: LINUX_LOAD_ADDR, bytes, zeroAfter: 0, what: 'protected-mode image' }] };
    // a relocatable kernel decompresses to its preferred address (LOAD_PHYSICAL_ADDR), a fixed one runs where loaded
    const run = linux.relocatable ? Math.max(align(LINUX_LOAD_ADDR, Math.max(linux.kernelAlignment, 1)), linux.prefAddress) : (linux.prefAddress || linux.code32Start);
    const end = Math.max(image.high, LINUX_LOAD_ADDR + linux.initSize, run + linux.initSize);
    if (end > image.high) workArea = { base: image.high, end };
    if (mods.length > 1) throw new BootError(`a Linux kernel takes one --initrd file (got ${mods.length}); concatenate cpio archives into one`);
  } else if (protocol === 'multiboot1') {
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
    if (protocol === 'elf64' && img.machine !== EM_X86_64) throw new BootError('not a kernel: ELF64 image for a machine other than x86-64');
    image = planElf(o.kernel, img);
    if (protocol === 'pvh') image.entry = findPvhEntry(o.kernel)!;
    if (image.entry >= 2 ** 32) throw new BootError(`${protocol === 'pvh' ? 'PVH' : 'ELF64'} entry ${hex(image.entry)} is above the 4 GiB identity map`);
  }

  // What is fixed: the BIOS data area (kernels read it), the VGA hole (not RAM on a PC) and the
  // ACPI tables at the top of low RAM. Then the kernel, where it asks to be.
  const fwBase = firmwareAreaBase(o.layout);
  const placer = new PhysicalPlacer(w);
  placer.claim(BDA_BASE, 0x100, 'firmware', 'BIOS data area');
  placer.fence(VGA_HOLE_BASE, 0xc0000 - VGA_HOLE_BASE, 'firmware', 'VGA hole');
  placer.claim(fwBase, FIRMWARE_RESERVED_TOP, 'acpi', 'ACPI tables');
  for (const p of image.pieces) placer.claim(p.paddr, p.bytes.length + p.zeroAfter, 'kernel', `kernel ${p.what}`);
  if (workArea) {
    const need = Math.ceil((workArea.end - LINUX_LOAD_ADDR) / 2 ** 20);
    if (workArea.end > fwBase) throw new BootError(`RAM too small for this kernel: it needs ${need} MiB from ${hex(LINUX_LOAD_ADDR)} (setup header init_size) below the ACPI tables at ${hex(fwBase)}`);
    placer.claim(workArea.base, workArea.end - workArea.base, 'kernel', 'kernel decompression area (init_size)');
  }
  for (const p of image.pieces) {
    w.write(p.paddr, p.bytes, `kernel ${p.what}`);
    if (p.zeroAfter) w.zero(p.paddr + p.bytes.length, p.zeroAfter, `kernel ${p.what} bss`);
  }

  // The loader's firmware-like structures, at QEMU's addresses when free.
  const rsdpAddress = placer.place({ length: 36, prefer: RSDP_ADDR, within: [[0xe0000, BIOS_AREA_END]], kind: 'acpi', what: 'ACPI RSDP' });
  const gdtLayout: GdtLayout = protocol === 'linux' ? 'linux' : 'multiboot';
  const gdtBase = placer.place({ length: bootGdtSize(gdtLayout), prefer: BOOT_GDT_ADDR, align: 16, within: LOW_RANGES, kind: 'firmware', what: 'boot GDT' });
  const stackBase = placer.place({ length: BOOT_STACK_SIZE, prefer: BOOT_STACK_BASE, align: 16, within: [...LOW_RANGES, [BIOS_AREA_END, fwBase]], kind: 'stack', what: 'boot stack' });
  const stackTop = stackBase + BOOT_STACK_SIZE;
  const pageTables = long
    ? placer.place({ length: PAGE_TABLES_SIZE, prefer: PAGE_TABLES_BASE, align: PAGE_SIZE, within: [...LOW_RANGES, [BIOS_AREA_END, fwBase]], kind: 'page-tables', what: 'long-mode page tables' })
    : 0;

  // The memory map: structures the kernel must not reuse blindly are reserved where they sit in
  // usable RAM; in the usual places (0xE0000-0xEFFFF) they are in the BIOS hole already, which the
  // long-mode entries report reserved (as before).
  const usual = (base: number) => base >= 0xe0000 && base < 0xf0000;
  const carve: { base: number; length: number }[] = long ? [{ base: BOOT_GDT_ADDR, length: 0xf0000 - BOOT_GDT_ADDR }] : [];
  for (const r of placer.regions) {
    if ((r.kind === 'page-tables' || r.kind === 'stack' || r.what === 'boot GDT') && !usual(r.base) && (r.base < VGA_HOLE_BASE || r.base >= BIOS_AREA_END)) carve.push(r);
  }
  const memoryMap = buildE820(o.layout, carve);
  const { memLowerKiB, memUpperKiB } = basicMemInfo(memoryMap);
  const acpi = buildAcpiTables({ ncores: o.ncores, tablesBase: fwBase, rsdpAddress });
  if (acpi.tables.length > FIRMWARE_RESERVED_TOP) throw new BootError('ACPI tables do not fit the firmware area');
  w.write(acpi.tablesBase, acpi.tables, 'ACPI tables');
  w.write(acpi.rsdpAddress, acpi.rsdp, 'ACPI RSDP');
  const gdt = writeBootGdt(w, gdtBase, gdtLayout);
  writeBiosDataArea(w);

  const cmdline = o.append ? `${o.kernelPath} ${o.append}` : `${o.kernelPath} `;
  const modules: LoadedModule[] = [];
  /** after the kernel (as QEMU), else anywhere above 1 MiB */
  const afterKernel = (): [number, number][] => [[align(image.high), fwBase], [BIOS_AREA_END, fwBase]];
  const placeModule = (m: ModuleInput, string: string, within = afterKernel(), topDown = false) => {
    const start = placer.place({ length: m.data.length, align: PAGE_SIZE, within, topDown, kind: 'module', what: `module '${m.path}' (${m.data.length} bytes)` });
    w.write(start, m.data, `module '${m.path}'`);
    modules.push({ start, end: start + m.data.length, path: m.path, string });
  };
  let infoAddress: number;
  let esi = 0;

  if (protocol === 'multiboot1') {
    // As QEMU: after the kernel come the module list, the module strings, the kernel command
    // line and the boot loader name (QEMU sizes the string area from the raw -initrd text),
    // then the modules, each page aligned.
    const strings: Uint8Array[] = [...mods.map((m) => utf8(m.text)), utf8(cmdline)];
    const rawSpec = mods.map((m) => m.text.replace(/,/g, ',,')).join(',');
    const cmdlineLen = utf8(o.kernelPath).length + 1 + utf8(o.append ?? '').length + 1 + (mods.length ? utf8(rawSpec).length + 1 : 0);
    const stringsOff = 16 * mods.length;
    const loaderOff = stringsOff + Math.max(cmdlineLen, strings.reduce((n, s) => n + s.length + 1, 0));
    const areaLen = loaderOff + BOOT_LOADER_NAME.length + 1;
    const modsAddr = placer.place({ length: areaLen, align: PAGE_SIZE, within: afterKernel(), kind: 'boot-info', what: 'multiboot strings and module list' });
    const strAddrs: number[] = [];
    let sp = modsAddr + stringsOff;
    for (const s of strings) {
      strAddrs.push(sp);
      w.write(sp, s, 'multiboot string');
      w.u8(sp + s.length, 0);
      sp += s.length + 1;
    }
    const loaderAddr = modsAddr + loaderOff;
    w.write(loaderAddr, utf8(BOOT_LOADER_NAME + '\0'), 'boot loader name');
    mods.forEach((m) => placeModule(m, m.text));
    modules.forEach((m, k) => {
      w.u32(modsAddr + 16 * k, m.start);
      w.u32(modsAddr + 16 * k + 4, m.end);
      w.u32(modsAddr + 16 * k + 8, strAddrs[k]);
      w.u32(modsAddr + 16 * k + 12, 0);
    });
    if (memoryMap.length * 24 > MB1_MMAP_BYTES) throw new BootError('memory map too large for the multiboot area');
    const block = placer.place({ length: MB1_BLOCK_SIZE, prefer: MB1_MMAP_ADDR, within: LOW_RANGES, kind: 'boot-info', what: 'multiboot info' });
    writeMultiboot1Info(w, {
      infoAddr: block + MB1_MMAP_BYTES, mmapAddr: block, memLowerKiB, memUpperKiB,
      cmdlineAddr: strAddrs[strAddrs.length - 1], modsAddr, modsCount: mods.length, loaderNameAddr: loaderAddr, memoryMap,
    });
    infoAddress = block + MB1_MMAP_BYTES;
  } else if (protocol === 'linux') {
    const h = linux!;
    // as QEMU: the command line is the -append text alone, the initrd as high as the kernel allows
    const text = utf8(o.append ?? '');
    if (text.length > h.cmdlineSize) throw new BootError(`--append is ${text.length} bytes; this kernel takes at most ${h.cmdlineSize}`);
    const cmdAddr = placer.place({ length: text.length + 1, prefer: LINUX_CMDLINE_ADDR, within: LOW_RANGES, kind: 'boot-info', what: 'kernel command line' });
    w.write(cmdAddr, text, 'kernel command line');
    w.u8(cmdAddr + text.length, 0);
    let ramdisk: { addr: number; size: number } | undefined;
    if (mods.length === 1) {
      const top = Math.min(fwBase, h.initrdAddrMax + 1);
      placeModule(mods[0], mods[0].args, [[BIOS_AREA_END, top]], true);
      ramdisk = { addr: modules[0].start, size: mods[0].data.length };
    }
    infoAddress = placer.place({ length: BOOT_PARAMS_SIZE, prefer: LINUX_BOOT_PARAMS_ADDR, align: PAGE_SIZE, within: LOW_RANGES, kind: 'boot-info', what: 'Linux boot_params' });
    w.write(infoAddress, buildBootParams({ image: o.kernel, header: h, cmdlineAddr: cmdAddr, ramdisk, memoryMap, rsdpAddr: rsdpAddress }), 'Linux boot_params');
    esi = infoAddress;
  } else if (protocol === 'pvh') {
    for (const m of mods) placeModule(m, m.args);
    const size = buildPvhStartInfo({ base: 0, cmdline: o.append ?? '', modules: [], rsdpAddr: 0, memoryMap }).length
      + mods.reduce((n, m) => n + 32 + utf8(m.args).length + 1, 0);
    infoAddress = placer.place({ length: size, align: 8, within: LOW_RANGES, kind: 'boot-info', what: 'PVH start info' });
    const info = buildPvhStartInfo({
      base: infoAddress, cmdline: o.append ?? '', rsdpAddr: rsdpAddress, memoryMap,
      modules: modules.map((m) => ({ start: m.start, size: m.end - m.start, string: m.string })),
    });
    w.write(infoAddress, info, 'PVH start info');
  } else {
    // Multiboot 2 and ELF64: modules after the kernel, then the information block.
    for (const m of mods) placeModule(m, m.args);
    const info = buildMultiboot2Info({
      cmdline, loaderName: BOOT_LOADER_NAME, modules, memLowerKiB, memUpperKiB, memoryMap, rsdp: acpi.rsdp, loadBase: image.low,
    });
    const last = modules.length ? modules[modules.length - 1].end : image.high;
    infoAddress = placer.place({ length: info.length, align: 8, within: [[align(last), fwBase], [BIOS_AREA_END, fwBase]], kind: 'boot-info', what: 'multiboot2 information' });
    w.write(infoAddress, info, 'multiboot2 information');
  }

  const cr3 = long ? writeIdentityMap4G(w, pageTables) : 0;
  const codeSel = protocol === 'linux' ? SEL_LINUX_CS : long ? SEL_CODE64 : SEL_CODE32;
  const data = flatSegment(protocol === 'linux' ? SEL_LINUX_DS : SEL_DATA32, gdtLayout);
  const magic = protocol === 'multiboot1' ? MB1_BOOT_MAGIC : protocol === 'multiboot2' || protocol === 'elf64' ? MB2_BOOT_MAGIC : 0;
  const rdi = protocol === 'elf64' ? infoAddress : 0;
  const plan: BootPlan = {
    protocol,
    entry: image.entry,
    mode: long ? 'long64' : 'protected32',
    regs: {
      eax: magic, ebx: protocol === 'linux' ? 0 : infoAddress, ecx: 0, edx: 0, esi, edi: rdi, ebp: 0, esp: stackTop,
      rdi, rsi: esi, rsp: stackTop, rip: image.entry, rflags: 0x2,
    },
    segments: { cs: flatSegment(codeSel, gdtLayout), ds: data, es: data, fs: data, gs: data, ss: data },
    gdt,
    idt: { base: 0, limit: 0 },
    control: long
      ? { cr0: 0x80000011, cr3, cr4: 0x20, efer: 0x500 }
      : { cr0: 0x00000011, cr3: 0, cr4: 0, efer: 0 },
    a20: true,
    infoAddress,
    kernel: { low: image.low, high: workArea ? workArea.end : image.high },
    modules,
    memoryMap,
    reservedRegions: [...placer.regions],
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
