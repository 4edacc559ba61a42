// A debugger's view of a core's address space: translate a linear address through the core's
// page tables without touching them (no accessed/dirty bits, no TLB fill, no fault), as a
// hardware debugger reads memory. Used by the gdb stub (m/M packets, watchpoints) and the
// monitor's `x` command.

import { CR0_PG, CR4_PAE, CR4_PSE } from '../cpu/regs.js';
import { ramOffset, type RamLayout } from '../abi/memory-map.js';

/** The control registers a walk depends on (values as the core holds them). */
export interface PagingRegs {
  cr0: number;
  cr3: number;
  cr4: number;
  /** EFER.LMA: 4-level paging when paging is on */
  longMode: boolean;
}

const P = 1n, PS = 0x80n;
const ADDR_MASK = 0x000ffffffffff000n;

/** Physical address of `lin` (unsigned 64-bit), or null when it is not mapped. */
export function debugTranslate(ram: Uint8Array, layout: RamLayout, r: PagingRegs, lin: bigint): bigint | null {
  if ((r.cr0 & CR0_PG) === 0) return r.longMode ? lin : lin & 0xffffffffn;
  const dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const read = (paddr: bigint, size: 4 | 8): bigint | null => {
    const off = ramOffset(layout, Number(paddr));
    if (off < 0 || off + size > ram.length) return null;
    return size === 8 ? dv.getBigUint64(off, true) : BigInt(dv.getUint32(off, true));
  };
  const cr3 = BigInt(r.cr3 >>> 0) + (r.cr3 > 0xffffffff ? BigInt(Math.floor(r.cr3 / 2 ** 32)) << 32n : 0n);
  if (!r.longMode && (r.cr4 & CR4_PAE) === 0) {
    const a = lin & 0xffffffffn;
    const pde = read((cr3 & 0xfffff000n) + ((a >> 22n) << 2n), 4);
    if (pde === null || !(pde & P)) return null;
    if ((pde & PS) && (r.cr4 & CR4_PSE)) return (pde & 0xffc00000n) + (a & 0x3fffffn);
    const pte = read((pde & 0xfffff000n) + (((a >> 12n) & 0x3ffn) << 2n), 4);
    if (pte === null || !(pte & P)) return null;
    return (pte & 0xfffff000n) + (a & 0xfffn);
  }
  let table: bigint;
  let level: number;
  if (!r.longMode) {
    const a = lin & 0xffffffffn;
    const pdpte = read((cr3 & 0xffffffe0n) + ((a >> 30n) << 3n), 8);
    if (pdpte === null || !(pdpte & P)) return null;
    table = pdpte & ADDR_MASK;
    level = 2;
    lin = a;
  } else {
    table = cr3 & ADDR_MASK;
    level = 4;
  }
  for (; level >= 1; level--) {
    const shift = BigInt(12 + 9 * (level - 1));
    const e = read(table + ((lin >> shift) & 511n) * 8n, 8);
    if (e === null || !(e & P)) return null;
    if (level === 1 || ((level === 2 || level === 3) && (e & PS))) {
      const size = 1n << shift;
      const frame = level === 1 ? e & ADDR_MASK : e & ADDR_MASK & ~0x1000n; // bit 12 is PAT in large pages
      return (frame & ~(size - 1n)) + (lin & (size - 1n));
    }
    table = e & ADDR_MASK;
  }
  return null;
}

/** Read `len` bytes at linear `lin` (page by page); null when any byte is unmapped or not RAM. */
export function readLinear(ram: Uint8Array, layout: RamLayout, r: PagingRegs, lin: bigint, len: number): Uint8Array | null {
  const out = new Uint8Array(len);
  for (let done = 0; done < len;) {
    const a = (lin + BigInt(done)) & 0xffffffffffffffffn;
    const phys = debugTranslate(ram, layout, r, a);
    if (phys === null) return null;
    const off = ramOffset(layout, Number(phys));
    const n = Math.min(len - done, 4096 - Number(a & 0xfffn));
    if (off < 0 || off + n > ram.length) return null;
    out.set(ram.subarray(off, off + n), done);
    done += n;
  }
  return out;
}

/**
 * Write bytes at linear `lin`; returns the RAM page numbers touched (the caller bumps their
 * code generation so decoded blocks see the change), or null when any byte is unmapped.
 */
export function writeLinear(ram: Uint8Array, layout: RamLayout, r: PagingRegs, lin: bigint, bytes: Uint8Array): number[] | null {
  const spans: { off: number; from: number; n: number }[] = [];
  for (let done = 0; done < bytes.length;) {
    const a = (lin + BigInt(done)) & 0xffffffffffffffffn;
    const phys = debugTranslate(ram, layout, r, a);
    if (phys === null) return null;
    const off = ramOffset(layout, Number(phys));
    const n = Math.min(bytes.length - done, 4096 - Number(a & 0xfffn));
    if (off < 0 || off + n > ram.length) return null;
    spans.push({ off, from: done, n });
    done += n;
  }
  for (const s of spans) ram.set(bytes.subarray(s.from, s.from + s.n), s.off);
  return spans.map((s) => s.off >>> 12);
}
