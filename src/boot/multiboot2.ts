// Multiboot 2 (magic 0xE85250D6): header and tag parsing, image planning, and the boot
// information tag list. The same information block (without the multiboot2 header) is what
// the plain-ELF64 long-mode entry passes in RDI.

import { BootError, hex } from './boot-error.js';
import type { E820Entry } from './e820.js';
import { elfClass, parseElf } from './elf.js';
import { ByteBuilder } from './guest-writer.js';
import { findChecksummedHeader, type LoadedImage, planAddressFields, planElf } from './multiboot1.js';

export const MB2_HEADER_MAGIC = 0xe85250d6;
export const MB2_BOOT_MAGIC = 0x36d76289;
const SEARCH_LIMIT = 32768;

// header tag types
const HT_END = 0;
const HT_INFO_REQUEST = 1;
const HT_ADDRESS = 2;
const HT_ENTRY = 3;
const HT_CONSOLE = 4;
const HT_FRAMEBUFFER = 5;
const HT_MODULE_ALIGN = 6;
const HT_EFI_BS = 7;
const HT_ENTRY_EFI32 = 8;
const HT_ENTRY_EFI64 = 9;
const HT_RELOCATABLE = 10;

// information tag types
export const IT_END = 0;
export const IT_CMDLINE = 1;
export const IT_LOADER_NAME = 2;
export const IT_MODULE = 3;
export const IT_BASIC_MEMINFO = 4;
export const IT_MMAP = 6;
export const IT_ACPI_OLD = 14;
export const IT_ACPI_NEW = 15;
export const IT_LOAD_BASE = 21;
/** information tags this loader always provides */
const PROVIDED = new Set([IT_CMDLINE, IT_LOADER_NAME, IT_MODULE, IT_BASIC_MEMINFO, IT_MMAP, IT_ACPI_OLD, IT_ACPI_NEW, IT_LOAD_BASE]);
/** tags defined by the specification that this machine cannot provide (no BIOS disk, VBE, EFI...) */
const KNOWN_UNAVAILABLE = new Set([5, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20]);

export interface Mb2Header {
  offset: number;
  architecture: number;
  address?: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number };
  entry?: number;
  requested: number[];
  warnings: string[];
}

export function findMultiboot2Header(data: Uint8Array): Mb2Header | undefined {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const off = findChecksummedHeader(dv, SEARCH_LIMIT, 8, MB2_HEADER_MAGIC, 4); // magic, architecture, length, checksum
  if (off < 0) return undefined;
  return parseTags(data, dv, off, dv.getUint32(off + 4, true), dv.getUint32(off + 8, true));
}

function parseTags(data: Uint8Array, dv: DataView, off: number, arch: number, len: number): Mb2Header {
  if (arch !== 0) throw new BootError(`multiboot2: architecture ${arch} is not i386 (0)`);
  if (len < 24 || off + len > data.length) throw new BootError(`multiboot2: header length ${len} at ${hex(off)} runs past end of file or leaves no end tag`);
  const h: Mb2Header = { offset: off, architecture: arch, requested: [], warnings: [] };
  let p = off + 16;
  const end = off + len;
  for (;;) {
    if (p + 8 > end) throw new BootError('multiboot2: header tags run past the header length without an end tag');
    const type = dv.getUint16(p, true);
    const optional = (dv.getUint16(p + 2, true) & 1) !== 0;
    const size = dv.getUint32(p + 4, true);
    if (size < 8 || p + size > end) throw new BootError(`multiboot2: header tag ${type} at ${hex(p)} has bad size ${size}`);
    if (type === HT_END) break;
    switch (type) {
      case HT_INFO_REQUEST:
        for (let q = p + 8; q + 4 <= p + size; q += 4) {
          const t = dv.getUint32(q, true);
          h.requested.push(t);
          if (PROVIDED.has(t)) continue;
          if (KNOWN_UNAVAILABLE.has(t)) h.warnings.push(`multiboot2: requested information tag ${t} is not available on this machine`);
          else if (!optional) throw new BootError(`multiboot2: information request for unknown tag type ${t}`);
        }
        break;
      case HT_ADDRESS:
        if (size < 24) throw new BootError(`multiboot2: address tag size ${size} < 24`);
        h.address = { headerAddr: dv.getUint32(p + 8, true), loadAddr: dv.getUint32(p + 12, true), loadEndAddr: dv.getUint32(p + 16, true), bssEndAddr: dv.getUint32(p + 20, true) };
        break;
      case HT_ENTRY:
        if (size < 12) throw new BootError(`multiboot2: entry address tag size ${size} < 12`);
        h.entry = dv.getUint32(p + 8, true);
        break;
      case HT_CONSOLE:
      case HT_FRAMEBUFFER:
      case HT_MODULE_ALIGN: // modules are always page aligned
      case HT_RELOCATABLE: // loaded at its linked address, which the kernel must accept
        break;
      case HT_EFI_BS:
      case HT_ENTRY_EFI32:
      case HT_ENTRY_EFI64:
        h.warnings.push(`multiboot2: EFI header tag ${type} ignored (BIOS-style boot)`);
        break;
      default:
        if (!optional) throw new BootError(`multiboot2: unsupported header tag type ${type}`);
        h.warnings.push(`multiboot2: optional header tag ${type} ignored`);
    }
    p += (size + 7) & ~7;
  }
  return h;
}

export function planMultiboot2Image(data: Uint8Array, h: Mb2Header): LoadedImage {
  if (h.address) {
    if (h.entry === undefined) throw new BootError('multiboot2: address tag without an entry address tag');
    const a = h.address;
    return planAddressFields(data, h.offset, a.headerAddr, a.loadAddr, a.loadEndAddr, a.bssEndAddr, h.entry, 'multiboot2');
  }
  if (elfClass(data) === 0) throw new BootError('multiboot2: kernel is not ELF and its header has no address tag');
  const img = planElf(data, parseElf(data));
  if (h.entry !== undefined) img.entry = h.entry;
  if (img.entry >= 2 ** 32) throw new BootError(`multiboot2: entry ${hex(img.entry)} is above 4 GiB (32-bit protected-mode entry)`);
  return img;
}

export interface Mb2InfoInput {
  cmdline: string;
  loaderName: string;
  modules: { start: number; end: number; string: string }[];
  memLowerKiB: number;
  memUpperKiB: number;
  memoryMap: E820Entry[];
  rsdp: Uint8Array; // 36-byte revision-2 RSDP
  loadBase: number;
}

/** Build the information block (total_size, reserved, tags..., end tag), 8-byte aligned tags. */
export function buildMultiboot2Info(i: Mb2InfoInput): Uint8Array {
  const b = new ByteBuilder();
  b.u32(0).u32(0);
  const tag = (type: number, body: (b: ByteBuilder) => void) => {
    b.align(8);
    const start = b.length;
    b.u32(type).u32(0);
    body(b);
    b.patch32(start + 4, b.length - start);
  };
  tag(IT_CMDLINE, (t) => t.cstring(i.cmdline));
  tag(IT_LOADER_NAME, (t) => t.cstring(i.loaderName));
  for (const m of i.modules) tag(IT_MODULE, (t) => t.u32(m.start).u32(m.end).cstring(m.string));
  tag(IT_BASIC_MEMINFO, (t) => t.u32(i.memLowerKiB).u32(i.memUpperKiB));
  tag(IT_MMAP, (t) => {
    t.u32(24).u32(0);
    for (const e of i.memoryMap) t.u64(e.base).u64(e.length).u32(e.type).u32(0);
  });
  tag(IT_LOAD_BASE, (t) => t.u32(i.loadBase));
  tag(IT_ACPI_OLD, (t) => {
    // the ACPI 1.0 view of the RSDP: first 20 bytes, revision 0, its own checksum
    const v1 = i.rsdp.slice(0, 20);
    v1[15] = 0;
    let s = 0;
    v1[8] = 0;
    for (const x of v1) s = (s + x) & 0xff;
    v1[8] = (0x100 - s) & 0xff;
    t.bytes(v1);
  });
  tag(IT_ACPI_NEW, (t) => t.bytes(i.rsdp));
  tag(IT_END, () => {});
  const out = b.toBytes();
  new DataView(out.buffer).setUint32(0, out.length, true);
  return out;
}
