// Guest physical address map, PC-compatible (the same places QEMU's `pc` machine uses,
// so guests written for QEMU find their devices where they expect them).

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** Guest RAM is managed in 2 MiB frames (the DIME allocation unit). */
export const FRAME_SIZE = 2 * MiB;
export const PAGE_SIZE = 4096;

/** RAM below 4 GiB ends here at most; the rest of RAM is mapped from 4 GiB up. */
export const LOW_RAM_LIMIT = 3 * GiB;
export const HIGH_RAM_BASE = 4 * GiB;

/** Reserved low areas (still backed by RAM, reported as reserved in the memory map). */
export const EBDA_BASE = 0x9fc00; // mem_lower = 639 KiB, as QEMU reports
export const VGA_HOLE_BASE = 0xa0000;
export const BIOS_AREA_BASE = 0xe0000; // ACPI RSDP is placed in 0xE0000-0xFFFFF
export const BIOS_AREA_END = 0x100000;

/** MMIO windows (never RAM). */
export const PCI_MMIO_BASE = 0xc000_0000;
export const PCI_MMIO_END = 0xfec0_0000;
export const IOAPIC_BASE = 0xfec0_0000;
export const IOAPIC_SIZE = 0x1000;
export const HPET_BASE = 0xfed0_0000;
export const HPET_SIZE = 0x400;
export const LAPIC_BASE = 0xfee0_0000;
export const LAPIC_SIZE = 0x1000;

/** PCI BARs as the emulator assigns them (firmware-like). */
export const E1000_MMIO_BAR = 0xfeb8_0000; // 128 KiB
export const E1000_IO_BAR = 0xc000; // 64 bytes of I/O space

/** Layout of guest RAM into the host SharedArrayBuffer. */
export interface RamLayout {
  /** total bytes of guest RAM (the shared buffer may be longer: per-core scratch, src/abi/core-scratch.ts) */
  ramBytes: number;
  /** bytes of RAM mapped at physical 0 */
  lowBytes: number;
  /** bytes of RAM mapped at HIGH_RAM_BASE */
  highBytes: number;
  /**
   * -bios: size of the firmware window just below 4 GiB (0 without firmware). Its bytes are the
   * top of the legacy BIOS area (RAM ending at 1 MiB), so the reset vector at 0xFFFFFFF0 and the
   * F-segment are the same image, as QEMU maps bios.bin (at most 128 KiB, all of it aliased).
   */
  biosBytes?: number;
}

export function ramLayout(ramBytes: number, biosBytes = 0): RamLayout {
  const lowBytes = Math.min(ramBytes, LOW_RAM_LIMIT);
  return { ramBytes, lowBytes, highBytes: ramBytes - lowBytes, biosBytes };
}

/** Largest -bios image: all of it is aliased into the legacy BIOS area below 1 MiB. */
export const BIOS_MAX_BYTES = 128 * 1024;
const FOUR_GIB = 4 * GiB;

/**
 * Physical address -> offset in the RAM SharedArrayBuffer, or -1 when the address
 * is not RAM (MMIO or unbacked). `paddr` is a non-negative Number below 2^52.
 */
export function ramOffset(l: RamLayout, paddr: number): number {
  if (paddr < l.lowBytes) return paddr;
  if (paddr >= HIGH_RAM_BASE && paddr - HIGH_RAM_BASE < l.highBytes) return paddr - HIGH_RAM_BASE + l.lowBytes;
  // the firmware window below 4 GiB reads the legacy BIOS area (writes land there too: the
  // flash is not write-protected here, see docs/BOOT.md)
  if (l.biosBytes && paddr < FOUR_GIB && paddr >= FOUR_GIB - l.biosBytes) return paddr - FOUR_GIB + BIOS_AREA_END;
  return -1;
}
