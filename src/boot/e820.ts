// The BIOS memory map (e820) as QEMU 7.2 + SeaBIOS report it for the `pc` machine:
//   0 .. 0x9FC00 usable, 0x9FC00 .. 0xA0000 reserved (EBDA), 0xF0000 .. 0x100000 reserved
//   (BIOS), 1 MiB .. lowEnd-128K usable, lowEnd-128K .. lowEnd reserved (ACPI tables and
//   firmware data), 0xFFFC0000 .. 4 GiB reserved (BIOS flash), RAM above 4 GiB usable.
// Like SeaBIOS we do not list the IOAPIC/HPET/LAPIC windows: the MADT and HPET tables
// describe them, and they are not RAM. (QEMU also reserves 0xFD00000000 + 12 GiB for AMD
// HyperTransport on some hosts; that hole is not modelled.)

import { BIOS_AREA_END, EBDA_BASE, HIGH_RAM_BASE, MiB, type RamLayout, VGA_HOLE_BASE } from '../abi/memory-map.js';
import { BootError } from './boot-error.js';
import { BIOS_FLASH_BASE, BIOS_FLASH_SIZE, FIRMWARE_RESERVED_TOP } from './firmware-layout.js';

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;

export interface E820Entry {
  base: number;
  length: number;
  type: number;
}

/** Smallest RAM the platform layout fits in (low RAM, firmware area, some kernel room). */
export const MIN_RAM_BYTES = 2 * MiB;

/** Start of the firmware-reserved top of low RAM (where the ACPI tables live). */
export function firmwareAreaBase(l: RamLayout): number {
  return l.lowBytes - FIRMWARE_RESERVED_TOP;
}

/**
 * Build the map. `extraReserved` regions (e.g. the ELF64 page tables) are carved out of
 * whatever they overlap and reported as reserved; adjacent reserved entries merge.
 */
export function buildE820(l: RamLayout, extraReserved: { base: number; length: number }[] = []): E820Entry[] {
  if (l.lowBytes < MIN_RAM_BYTES) throw new BootError(`RAM too small: ${l.lowBytes} bytes, need at least ${MIN_RAM_BYTES}`);
  const fw = firmwareAreaBase(l);
  const raw: E820Entry[] = [
    { base: 0, length: EBDA_BASE, type: E820_RAM },
    { base: EBDA_BASE, length: VGA_HOLE_BASE - EBDA_BASE, type: E820_RESERVED },
    { base: 0xf0000, length: BIOS_AREA_END - 0xf0000, type: E820_RESERVED },
    { base: BIOS_AREA_END, length: fw - BIOS_AREA_END, type: E820_RAM },
    { base: fw, length: FIRMWARE_RESERVED_TOP, type: E820_RESERVED },
    { base: BIOS_FLASH_BASE, length: BIOS_FLASH_SIZE, type: E820_RESERVED },
  ];
  if (l.highBytes > 0) raw.push({ base: HIGH_RAM_BASE, length: l.highBytes, type: E820_RAM });
  let map = raw;
  for (const r of extraReserved) map = carve(map, r.base, r.length);
  return mergeAdjacent(map);
}

function carve(map: E820Entry[], base: number, length: number): E820Entry[] {
  const end = base + length;
  const out: E820Entry[] = [];
  for (const e of map) {
    const eEnd = e.base + e.length;
    if (eEnd <= base || e.base >= end) {
      out.push(e);
      continue;
    }
    if (e.base < base) out.push({ base: e.base, length: base - e.base, type: e.type });
    if (eEnd > end) out.push({ base: end, length: eEnd - end, type: e.type });
  }
  out.push({ base, length, type: E820_RESERVED });
  return out.sort((a, b) => a.base - b.base);
}

function mergeAdjacent(map: E820Entry[]): E820Entry[] {
  const out: E820Entry[] = [];
  for (const e of map) {
    const last = out[out.length - 1];
    if (last && last.type === e.type && last.base + last.length === e.base) last.length += e.length;
    else out.push({ ...e });
  }
  return out;
}

/** KiB of conventional memory (mem_lower) and of contiguous RAM from 1 MiB (mem_upper). */
export function basicMemInfo(map: E820Entry[]): { memLowerKiB: number; memUpperKiB: number } {
  const low = map.find((e) => e.type === E820_RAM && e.base === 0);
  const up = map.find((e) => e.type === E820_RAM && e.base === BIOS_AREA_END);
  return {
    memLowerKiB: low ? Math.floor(Math.min(low.length, 0xa0000) / 1024) : 0,
    memUpperKiB: up ? Math.floor(up.length / 1024) : 0,
  };
}

/** The `etc/e820` fw_cfg file / raw e820 layout: 20-byte entries (u64 base, u64 length, u32 type). */
export function e820Bytes(map: E820Entry[]): Uint8Array {
  const out = new Uint8Array(map.length * 20);
  const dv = new DataView(out.buffer);
  map.forEach((e, i) => {
    dv.setBigUint64(i * 20, BigInt(e.base), true);
    dv.setBigUint64(i * 20 + 8, BigInt(e.length), true);
    dv.setUint32(i * 20 + 16, e.type, true);
  });
  return out;
}
