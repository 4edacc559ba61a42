// Just enough ELF to load kernels: the file header and PT_LOAD program headers of ELF32 and
// ELF64 little-endian x86 images. Every offset is checked against the file length so a
// truncated or corrupt file gives a one-line BootError, never a RangeError.

import { BootError, hex } from './boot-error.js';

export const EM_386 = 3;
export const EM_X86_64 = 62;
const PT_LOAD = 1;

export interface ElfSegment {
  index: number;
  fileOffset: number;
  fileSize: number;
  /** virtual address (BigInt: higher-half kernels link above 2^53) */
  vaddr: bigint;
  paddr: number;
  memSize: number;
}

export interface ElfImage {
  bits: 32 | 64;
  machine: number;
  /** e_entry as linked (virtual; BigInt for the same reason as vaddr) */
  entry: bigint;
  segments: ElfSegment[];
}

export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

export function elfClass(data: Uint8Array): 32 | 64 | 0 {
  if (!isElf(data) || data.length < 5) return 0;
  return data[4] === 1 ? 32 : data[4] === 2 ? 64 : 0;
}

export function parseElf(data: Uint8Array): ElfImage {
  if (!isElf(data)) throw new BootError('not an ELF file');
  const bits = elfClass(data);
  if (bits === 0) throw new BootError(`bad ELF: unknown class ${data.length > 4 ? data[4] : '(missing)'}`);
  const ehSize = bits === 32 ? 52 : 64;
  if (data.length < ehSize) throw new BootError(`truncated ELF: file is ${data.length} bytes, the ELF${bits} header needs ${ehSize}`);
  if (data[5] !== 1) throw new BootError('bad ELF: not little-endian');
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_386 && machine !== EM_X86_64) throw new BootError(`bad ELF: machine ${machine} is not x86`);
  const type = dv.getUint16(16, true);
  if (type !== 2 && type !== 3) throw new BootError(`bad ELF: type ${type} is not an executable`);
  const entry = bits === 32 ? BigInt(dv.getUint32(24, true)) : dv.getBigUint64(24, true);
  const phoff = bits === 32 ? dv.getUint32(28, true) : big(dv, 32);
  const phentsize = dv.getUint16(bits === 32 ? 42 : 54, true);
  const phnum = dv.getUint16(bits === 32 ? 44 : 56, true);
  const minEnt = bits === 32 ? 32 : 56;
  if (phnum === 0) throw new BootError('bad ELF: no program headers');
  if (phentsize < minEnt) throw new BootError(`bad ELF: program header size ${phentsize} < ${minEnt}`);
  const phEnd = phoff + phnum * phentsize;
  if (phEnd > data.length) throw new BootError(`truncated ELF: program headers end at ${hex(phEnd)} past end of file (${hex(data.length)})`);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== PT_LOAD) continue;
    const seg: ElfSegment = bits === 32
      ? { index: i, fileOffset: dv.getUint32(p + 4, true), vaddr: BigInt(dv.getUint32(p + 8, true)), paddr: dv.getUint32(p + 12, true), fileSize: dv.getUint32(p + 16, true), memSize: dv.getUint32(p + 20, true) }
      : { index: i, fileOffset: big(dv, p + 8), vaddr: dv.getBigUint64(p + 16, true), paddr: big(dv, p + 24), fileSize: big(dv, p + 32), memSize: big(dv, p + 40) };
    if (seg.fileSize > seg.memSize) throw new BootError(`bad ELF: segment ${i} file size ${hex(seg.fileSize)} exceeds its memory size ${hex(seg.memSize)}`);
    if (seg.fileOffset + seg.fileSize > data.length) {
      throw new BootError(`truncated ELF: segment ${i} data ends at ${hex(seg.fileOffset + seg.fileSize)} past end of file (${hex(data.length)})`);
    }
    if (seg.memSize > 0) segments.push(seg);
  }
  if (segments.length === 0) throw new BootError('bad ELF: no loadable segments');
  return { bits, machine, entry, segments };
}

/** 64-bit physical address / offset / size field as a Number; above 2^53 is rejected. */
function big(dv: DataView, off: number): number {
  const v = dv.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BootError(`bad ELF: 64-bit field at ${hex(off)} is ${hex(Number(v))}, beyond any RAM`);
  return Number(v);
}

/**
 * Translate the entry point to a physical address: if it lies in a segment's virtual range
 * and that segment is linked at a different physical address (a higher-half kernel), use the
 * physical address, as GRUB does; otherwise the entry is already physical.
 */
export function physicalEntry(img: ElfImage): number {
  for (const s of img.segments) {
    if (s.vaddr !== BigInt(s.paddr) && img.entry >= s.vaddr && img.entry < s.vaddr + BigInt(s.memSize)) {
      return s.paddr + Number(img.entry - s.vaddr);
    }
  }
  if (img.entry > 0xffffffffn * 0x100000n) throw new BootError(`entry point ${hex(Number(img.entry))} is in no loadable segment and not a physical address`);
  return Number(img.entry);
}

/** Lowest and highest (exclusive) physical addresses the loadable segments cover. */
export function physicalExtent(img: ElfImage): { low: number; high: number } {
  let low = Infinity;
  let high = 0;
  for (const s of img.segments) {
    low = Math.min(low, s.paddr);
    high = Math.max(high, s.paddr + s.memSize);
  }
  return { low, high };
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

const PT_NOTE = 4;

/** The notes of every PT_NOTE segment (malformed notes end the scan of their segment). */
export function elfNotes(data: Uint8Array): ElfNote[] {
  const bits = elfClass(data);
  if (bits === 0) return [];
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const ehSize = bits === 32 ? 52 : 64;
  if (data.length < ehSize) return [];
  const phoff = bits === 32 ? dv.getUint32(28, true) : Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(bits === 32 ? 42 : 54, true);
  const phnum = dv.getUint16(bits === 32 ? 44 : 56, true);
  const out: ElfNote[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (p + (bits === 32 ? 32 : 56) > data.length || dv.getUint32(p, true) !== PT_NOTE) continue;
    const off = bits === 32 ? dv.getUint32(p + 4, true) : Number(dv.getBigUint64(p + 8, true));
    const size = bits === 32 ? dv.getUint32(p + 16, true) : Number(dv.getBigUint64(p + 32, true));
    const end = Math.min(off + size, data.length);
    let q = off;
    while (q + 12 <= end) {
      const namesz = dv.getUint32(q, true);
      const descsz = dv.getUint32(q + 4, true);
      const type = dv.getUint32(q + 8, true);
      const nameAt = q + 12;
      const descAt = nameAt + ((namesz + 3) & ~3);
      const next = descAt + ((descsz + 3) & ~3);
      if (next > end || descAt > end) break;
      const nameBytes = data.subarray(nameAt, nameAt + namesz);
      const nul = nameBytes.indexOf(0);
      const name = new TextDecoder().decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul));
      out.push({ name, type, desc: data.subarray(descAt, descAt + descsz) });
      q = next;
    }
  }
  return out;
}
