// Page tables for the ELF64 long-mode entry: an identity map of the first 4 GiB with 2 MiB
// pages (PML4[0] -> PDPT, PDPT[0..3] -> four page directories). Pages in the 3-4 GiB MMIO
// window are marked cache-disabled + write-through, as firmware maps device memory.

import { PML4_ADDR } from './firmware-layout.js';
import type { GuestWriter } from './guest-writer.js';

const P = 0x1;
const RW = 0x2;
const PWT = 0x8;
const PCD = 0x10;
const PS = 0x80;

export const PAGE_TABLES_BASE = PML4_ADDR;
/** PML4, PDPT and four page directories, consecutive pages */
export const PAGE_TABLES_SIZE = 6 * 0x1000;
export const PAGE_TABLES_END = PAGE_TABLES_BASE + PAGE_TABLES_SIZE;

/** Write the tables at `base` (page aligned; 0xE1000 unless the kernel sits there); returns CR3. */
export function writeIdentityMap4G(w: GuestWriter, base = PAGE_TABLES_BASE): number {
  const pml4 = base;
  const pdpt = base + 0x1000;
  w.zero(pml4, PAGE_TABLES_SIZE, 'page tables');
  w.u64(pml4, pdpt | P | RW);
  for (let g = 0; g < 4; g++) {
    const pd = base + 0x2000 + g * 0x1000;
    w.u64(pdpt + g * 8, pd | P | RW);
    for (let i = 0; i < 512; i++) {
      const addr = g * 2 ** 30 + i * 2 ** 21;
      const mmio = addr >= 0xc000_0000 ? PCD | PWT : 0;
      w.u64(pd + i * 8, addr + (P | RW | PS | mmio));
    }
  }
  return pml4;
}
