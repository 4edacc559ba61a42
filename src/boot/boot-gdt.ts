// The GDT the loader leaves in guest memory, so a kernel that reloads segment registers
// before installing its own GDT still finds valid descriptors. The first five entries are
// laid out as QEMU's multiboot option ROM leaves them (measured under QEMU 7.2: CS = 0x08,
// DS = ES = SS = 0x10), plus a 64-bit code segment for the ELF64 long-mode entry.

import { GuestWriter } from './guest-writer.js';

export const SEL_CODE32 = 0x08;
export const SEL_DATA32 = 0x10;
export const SEL_CODE16 = 0x18;
export const SEL_DATA16 = 0x20;
export const SEL_CODE64 = 0x28;

/** descriptors as [low dword, high dword] */
type Descriptors = [number, number][];
const DESCRIPTORS: Descriptors = [
  [0, 0],
  [0x0000ffff, 0x00cf9a00], // 32-bit code, base 0, limit 4 GiB, DPL 0
  [0x0000ffff, 0x00cf9300], // 32-bit data, base 0, limit 4 GiB, DPL 0, accessed
  [0x0000ffff, 0x00009e00], // 16-bit conforming code, limit 64 KiB
  [0x0000ffff, 0x00009200], // 16-bit data, limit 64 KiB
  [0x0000ffff, 0x00af9b00], // 64-bit code (L=1), DPL 0, accessed
];

export const BOOT_GDT_LIMIT = DESCRIPTORS.length * 8 - 1;

/**
 * The Linux 64-bit boot protocol's selectors: __BOOT_CS = 0x10 (64-bit code) and
 * __BOOT_DS = 0x18 (flat data), as boot.rst requires at the 64-bit entry.
 */
export const SEL_LINUX_CS = 0x10;
export const SEL_LINUX_DS = 0x18;
const LINUX_DESCRIPTORS: Descriptors = [
  [0, 0],
  [0, 0],
  [0x0000ffff, 0x00af9b00], // 64-bit code (L=1), DPL 0, accessed
  [0x0000ffff, 0x00cf9300], // flat data, limit 4 GiB, accessed
];

export type GdtLayout = 'multiboot' | 'linux';
const LAYOUTS: Record<GdtLayout, Descriptors> = { multiboot: DESCRIPTORS, linux: LINUX_DESCRIPTORS };

/** Bytes the GDT of `layout` occupies. */
export function bootGdtSize(layout: GdtLayout = 'multiboot'): number {
  return LAYOUTS[layout].length * 8;
}

export function writeBootGdt(w: GuestWriter, base: number, layout: GdtLayout = 'multiboot'): { base: number; limit: number } {
  const d = LAYOUTS[layout];
  d.forEach(([lo, hi], i) => {
    w.u32(base + i * 8, lo);
    w.u32(base + i * 8 + 4, hi);
  });
  return { base, limit: d.length * 8 - 1 };
}

/** The hidden (cached) part of a segment register, as the CPU must load it at entry. */
export interface SegmentState {
  selector: number;
  base: number;
  limit: number;
  /** descriptor attribute bits as in the descriptor's high dword bits 8-23 (type, S, DPL, P, AVL, L, D/B, G) */
  attributes: number;
}

export function flatSegment(selector: number, layout: GdtLayout = 'multiboot'): SegmentState {
  const [lo, hi] = LAYOUTS[layout][selector >>> 3];
  const attributes = (hi >>> 8) & 0xf0ff;
  const granular = (hi & 0x00800000) !== 0;
  const rawLimit = (lo & 0xffff) | (hi & 0x000f0000);
  return { selector, base: 0, limit: granular ? rawLimit * 4096 + 4095 : rawLimit, attributes };
}
