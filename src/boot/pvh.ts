// PVH entry (Xen's x86/HVM direct boot ABI, which QEMU's -kernel uses for an uncompressed ELF
// kernel such as Linux's vmlinux built with CONFIG_PVH): the ELF note "Xen" type
// XEN_ELFNOTE_PHYS32_ENTRY gives a physical 32-bit entry point. The kernel starts in 32-bit
// protected mode, paging off, flat CS/DS/ES/SS, with EBX = the physical address of a
// `struct hvm_start_info` (xen/include/public/arch-x86/hvm/start_info.h, version 1: with the
// memory map), which points at the command line, the module list (the initrd) and the RSDP.

import { BootError } from './boot-error.js';
import type { E820Entry } from './e820.js';
import { elfNotes } from './elf.js';

export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
export const HVM_START_MAGIC = 0x336ec578;
export const HVM_START_INFO_SIZE = 56;
const MODLIST_ENTRY_SIZE = 32;
const MEMMAP_ENTRY_SIZE = 24;

/** The PVH entry point, or undefined when the image has no PHYS32_ENTRY note. */
export function findPvhEntry(data: Uint8Array): number | undefined {
  const n = elfNotes(data).find((x) => x.name === 'Xen' && x.type === XEN_ELFNOTE_PHYS32_ENTRY);
  if (!n) return undefined;
  const dv = new DataView(n.desc.buffer, n.desc.byteOffset, n.desc.byteLength);
  // Linux emits the address with _ASM_PTR (8 bytes on x86-64), other kernels 4 bytes
  if (n.desc.length >= 8) {
    const v = dv.getBigUint64(0, true);
    if (v >= 2n ** 32n) throw new BootError(`PVH entry 0x${v.toString(16)} is above 4 GiB (32-bit entry)`);
    return Number(v);
  }
  if (n.desc.length >= 4) return dv.getUint32(0, true);
  throw new BootError(`PVH entry note has a ${n.desc.length}-byte address`);
}

/** Whether an ELF image carries notes of a Linux or Xen kernel (which never take our plain-ELF64 entry). */
export function hasLinuxOrXenNotes(data: Uint8Array): boolean {
  return elfNotes(data).some((n) => n.name === 'Xen' || n.name === 'Linux');
}

export interface PvhInfoInput {
  /** where the block is placed: the module list, memory map and strings follow the 56-byte header */
  base: number;
  cmdline: string;
  modules: { start: number; size: number; string: string }[];
  rsdpAddr: number;
  memoryMap: E820Entry[];
}

/** hvm_start_info v1, then module list, memory map and strings (one block at `base`). */
export function buildPvhStartInfo(i: PvhInfoInput): Uint8Array {
  const enc = new TextEncoder();
  const modAt = HVM_START_INFO_SIZE;
  const mapAt = modAt + MODLIST_ENTRY_SIZE * i.modules.length;
  let strAt = mapAt + MEMMAP_ENTRY_SIZE * i.memoryMap.length;
  const strings = [i.cmdline, ...i.modules.map((m) => m.string)].map((s) => enc.encode(s + '\0'));
  const total = strAt + strings.reduce((n, s) => n + s.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const stringAddr: number[] = [];
  for (const s of strings) {
    out.set(s, strAt);
    stringAddr.push(i.base + strAt);
    strAt += s.length;
  }
  dv.setUint32(0, HVM_START_MAGIC, true);
  dv.setUint32(4, 1, true); // version 1: memmap fields present
  dv.setUint32(8, 0, true); // flags
  dv.setUint32(12, i.modules.length, true);
  dv.setBigUint64(16, BigInt(i.modules.length ? i.base + modAt : 0), true);
  dv.setBigUint64(24, BigInt(stringAddr[0]), true);
  dv.setBigUint64(32, BigInt(i.rsdpAddr), true);
  dv.setBigUint64(40, BigInt(i.base + mapAt), true);
  dv.setUint32(48, i.memoryMap.length, true);
  i.modules.forEach((m, k) => {
    const p = modAt + k * MODLIST_ENTRY_SIZE;
    dv.setBigUint64(p, BigInt(m.start), true);
    dv.setBigUint64(p + 8, BigInt(m.size), true);
    dv.setBigUint64(p + 16, BigInt(m.string ? stringAddr[k + 1] : 0), true);
  });
  i.memoryMap.forEach((e, k) => {
    const p = mapAt + k * MEMMAP_ENTRY_SIZE;
    dv.setBigUint64(p, BigInt(e.base), true);
    dv.setBigUint64(p + 8, BigInt(e.length), true);
    dv.setUint32(p + 16, e.type, true);
  });
  return out;
}
