// Multiboot 1 (magic 0x1BADB002): header search, image loading (ELF32 program headers or the
// a.out-kludge address fields when header flag bit 16 is set), and the information structure
// laid out as QEMU's -kernel does (QEMU 7.2 measured: info at 0x9500, memory map at 0x9000,
// module list + strings right after the kernel, boot loader name "qemu", boot_device 0x8000ffff).

import { BootError, hex } from './boot-error.js';
import type { E820Entry } from './e820.js';
import { parseElf, physicalEntry, physicalExtent, elfClass, EM_X86_64 } from './elf.js';
import type { GuestWriter } from './guest-writer.js';

export const MB1_HEADER_MAGIC = 0x1badb002;
export const MB1_BOOT_MAGIC = 0x2badb002;
const SEARCH_LIMIT = 8192;

export const MB1_HF_PAGE_ALIGN = 1 << 0;
export const MB1_HF_MEMINFO = 1 << 1;
export const MB1_HF_VIDEO = 1 << 2;
export const MB1_HF_AOUT_KLUDGE = 1 << 16;

// information structure flags
export const MBI_MEMORY = 1 << 0;
export const MBI_BOOT_DEVICE = 1 << 1;
export const MBI_CMDLINE = 1 << 2;
export const MBI_MODS = 1 << 3;
export const MBI_MMAP = 1 << 6;
export const MBI_LOADER_NAME = 1 << 9;

export interface Mb1Header {
  offset: number;
  flags: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

export interface LoadedImage {
  low: number;
  high: number;
  entry: number;
  /** [paddr, file bytes, zero-filled length] pieces, checked and written by the loader */
  pieces: { paddr: number; bytes: Uint8Array; zeroAfter: number; what: string }[];
}

/**
 * Where a Multiboot (1 or 2) header starts: the first offset, a multiple of `align` within the
 * first `limit` bytes, holding `magic` and such that the `words` 32-bit words from there on
 * (magic, fields, checksum) sum to zero. -1: no header.
 */
export function findChecksummedHeader(dv: DataView, limit: number, align: number, magic: number, words: number): number {
  const end = Math.min(limit, dv.byteLength) - 4 * words;
  for (let off = 0; off <= end; off += align) {
    if (dv.getUint32(off, true) !== magic) continue;
    let sum = 0;
    for (let k = 0; k < words; k++) sum += dv.getUint32(off + 4 * k, true);
    if (sum >>> 0 === 0) return off;
  }
  return -1;
}

export function findMultiboot1Header(data: Uint8Array): Mb1Header | undefined {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const off = findChecksummedHeader(dv, SEARCH_LIMIT, 4, MB1_HEADER_MAGIC, 3); // magic, flags, checksum
  if (off < 0) return undefined;
  const flags = dv.getUint32(off + 4, true);
  const h: Mb1Header = { offset: off, flags, headerAddr: 0, loadAddr: 0, loadEndAddr: 0, bssEndAddr: 0, entryAddr: 0 };
  if (flags & MB1_HF_AOUT_KLUDGE) {
    if (off + 32 > data.length) throw new BootError(`truncated kernel: multiboot header at ${hex(off)} lacks its address fields`);
    h.headerAddr = dv.getUint32(off + 12, true);
    h.loadAddr = dv.getUint32(off + 16, true);
    h.loadEndAddr = dv.getUint32(off + 20, true);
    h.bssEndAddr = dv.getUint32(off + 24, true);
    h.entryAddr = dv.getUint32(off + 28, true);
  }
  return h;
}

/** Work out what goes where for a Multiboot 1 kernel (nothing is written yet). */
export function planMultiboot1Image(data: Uint8Array, h: Mb1Header): LoadedImage {
  if (h.flags & MB1_HF_AOUT_KLUDGE) return planAddressFields(data, h.offset, h.headerAddr, h.loadAddr, h.loadEndAddr, h.bssEndAddr, h.entryAddr, 'multiboot');
  if (elfClass(data) === 0) throw new BootError('multiboot: kernel is not ELF and its header has no address fields (flag bit 16)');
  const img = parseElf(data);
  if (img.bits !== 32 || img.machine === EM_X86_64) throw new BootError('multiboot: ELF64 kernels need a multiboot2 header or no header (long-mode entry)');
  return planElf(data, img);
}

export function planElf(data: Uint8Array, img: ReturnType<typeof parseElf>): LoadedImage {
  const { low, high } = physicalExtent(img);
  const pieces = img.segments.map((s) => ({
    paddr: s.paddr,
    bytes: data.subarray(s.fileOffset, s.fileOffset + s.fileSize),
    zeroAfter: s.memSize - s.fileSize,
    what: `segment ${s.index}`,
  }));
  return { low, high, entry: physicalEntry(img), pieces };
}

/** The a.out kludge (Multiboot 1 flag 16) and the Multiboot 2 address tag share these rules. */
export function planAddressFields(data: Uint8Array, headerOffset: number, headerAddr: number, loadAddr: number,
  loadEndAddr: number, bssEndAddr: number, entry: number, proto: string): LoadedImage {
  let fileOffset: number;
  if (proto === 'multiboot2' && loadAddr === 0xffffffff) {
    fileOffset = 0;
    loadAddr = headerAddr - headerOffset;
  } else {
    if (headerAddr < loadAddr) throw new BootError(`${proto}: header_addr ${hex(headerAddr)} is below load_addr ${hex(loadAddr)}`);
    fileOffset = headerOffset - (headerAddr - loadAddr);
    if (fileOffset < 0) throw new BootError(`${proto}: load_addr ${hex(loadAddr)} would start before the file`);
  }
  let loadSize: number;
  if (loadEndAddr === 0) {
    loadSize = data.length - fileOffset;
  } else {
    if (loadEndAddr < loadAddr) throw new BootError(`${proto}: load_end_addr ${hex(loadEndAddr)} is below load_addr ${hex(loadAddr)}`);
    loadSize = loadEndAddr - loadAddr;
  }
  if (fileOffset + loadSize > data.length) {
    throw new BootError(`truncated kernel: load range ends at file offset ${hex(fileOffset + loadSize)} past end of file (${hex(data.length)})`);
  }
  let bss = 0;
  if (bssEndAddr !== 0) {
    if (bssEndAddr < loadAddr + loadSize) throw new BootError(`${proto}: bss_end_addr ${hex(bssEndAddr)} is below the end of the loaded image ${hex(loadAddr + loadSize)}`);
    bss = bssEndAddr - (loadAddr + loadSize);
  }
  if (entry < loadAddr || entry >= loadAddr + loadSize + bss) {
    throw new BootError(`${proto}: entry_addr ${hex(entry)} is outside the image ${hex(loadAddr)}-${hex(loadAddr + loadSize + bss)}`);
  }
  return {
    low: loadAddr,
    high: loadAddr + loadSize + bss,
    entry,
    pieces: [{ paddr: loadAddr, bytes: data.subarray(fileOffset, fileOffset + loadSize), zeroAfter: bss, what: 'image' }],
  };
}

export interface Mb1InfoInput {
  infoAddr: number;
  mmapAddr: number;
  memLowerKiB: number;
  memUpperKiB: number;
  cmdlineAddr: number;
  modsAddr: number;
  modsCount: number;
  loaderNameAddr: number;
  memoryMap: E820Entry[];
}

/** Write the 88-byte information structure and its memory map. */
export function writeMultiboot1Info(w: GuestWriter, i: Mb1InfoInput): void {
  const a = i.infoAddr;
  w.zero(a, 88, 'multiboot info');
  w.u32(a + 0, MBI_MEMORY | MBI_BOOT_DEVICE | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME);
  w.u32(a + 4, i.memLowerKiB);
  w.u32(a + 8, i.memUpperKiB);
  w.u32(a + 12, 0x8000ffff); // BIOS drive 0x80, no partition: what QEMU reports
  w.u32(a + 16, i.cmdlineAddr);
  w.u32(a + 20, i.modsCount);
  w.u32(a + 24, i.modsAddr);
  w.u32(a + 44, i.memoryMap.length * 24);
  w.u32(a + 48, i.mmapAddr);
  w.u32(a + 64, i.loaderNameAddr);
  i.memoryMap.forEach((e, k) => {
    const p = i.mmapAddr + k * 24;
    w.u32(p, 20);
    w.u64(p + 4, e.base);
    w.u64(p + 12, e.length);
    w.u32(p + 20, e.type);
  });
}
