// Page tables for the ELF64 long-mode entry: an identity map of the first 4 GiB with 2 MiB
// pages (PML4[0] -> PDPT, PDPT[0..3] -> four page directories). Pages in the 3-4 GiB MMIO
// window are marked cache-disabled + write-through, as firmware maps device memory.

import { PDPT_ADDR, PD_ADDR, PML4_ADDR } from './firmware-layout.js';
import type { GuestWriter } from './guest-writer.js';

const P = 0x1;
const RW = 0x2;
const PWT = 0x8;
const PCD = 0x10;
const PS = 0x80;

export const PAGE_TABLES_BASE = PML4_ADDR;
export const PAGE_TABLES_END = PD_ADDR + 4 * 0x1000;

/** Write the tables; returns the CR3 value. */
export function writeIdentityMap4G(w: GuestWriter): number {
  w.zero(PML4_ADDR, PAGE_TABLES_END - PML4_ADDR, 'page tables');
  w.u64(PML4_ADDR, PDPT_ADDR | P | RW);
  for (let g = 0; g < 4; g++) {
    const pd = PD_ADDR + g * 0x1000;
    w.u64(PDPT_ADDR + g * 8, pd | P | RW);
    for (let i = 0; i < 512; i++) {
      const addr = g * 2 ** 30 + i * 2 ** 21;
      const mmio = addr >= 0xc000_0000 ? PCD | PWT : 0;
      w.u64(pd + i * 8, addr + (P | RW | PS | mmio));
    }
  }
  return PML4_ADDR;
}
