// The Linux "zero page" (struct boot_params, 4 KiB) a boot loader fills for the 64-bit entry:
// a copy of the image's setup header with the loader's fields filled in (type_of_loader,
// cmd_line_ptr, ramdisk_image/size), the e820 memory map, and the ACPI RSDP address. Offsets
// from Documentation/arch/x86/zero-page.rst and boot.rst. Screen info stays zero: the kernel
// then finds no VGA text console and uses the serial console it is given.

import { BootError } from './boot-error.js';
import type { E820Entry } from './e820.js';
import { LOADER_TYPE_QEMU, type LinuxSetupHeader, SETUP_HEADER_OFFSET } from './linux-setup-header.js';

export const BOOT_PARAMS_SIZE = 0x1000;
const ACPI_RSDP_ADDR = 0x070;
const EXT_RAMDISK_IMAGE = 0x0c0;
const EXT_RAMDISK_SIZE = 0x0c4;
const EXT_CMD_LINE_PTR = 0x0c8;
const E820_ENTRIES = 0x1e8;
const TYPE_OF_LOADER = 0x210;
const RAMDISK_IMAGE = 0x218;
const RAMDISK_SIZE = 0x21c;
const CMD_LINE_PTR = 0x228;
const E820_TABLE = 0x2d0;
/** entries that fit in the zero page (E820_MAX_ENTRIES_ZEROPAGE) */
export const E820_MAX_ZEROPAGE = 128;

export interface BootParamsInput {
  image: Uint8Array;
  header: LinuxSetupHeader;
  cmdlineAddr: number;
  ramdisk?: { addr: number; size: number };
  memoryMap: E820Entry[];
  rsdpAddr: number;
}

const lo32 = (v: number) => v % 2 ** 32;
const hi32 = (v: number) => Math.floor(v / 2 ** 32);

export function buildBootParams(i: BootParamsInput): Uint8Array {
  if (i.memoryMap.length > E820_MAX_ZEROPAGE) throw new BootError(`memory map has ${i.memoryMap.length} entries; the zero page holds ${E820_MAX_ZEROPAGE}`);
  const bp = new Uint8Array(BOOT_PARAMS_SIZE);
  const dv = new DataView(bp.buffer);
  bp.set(i.image.subarray(SETUP_HEADER_OFFSET, i.header.headerEnd), SETUP_HEADER_OFFSET);
  bp[TYPE_OF_LOADER] = LOADER_TYPE_QEMU;
  dv.setUint32(CMD_LINE_PTR, lo32(i.cmdlineAddr), true);
  dv.setUint32(EXT_CMD_LINE_PTR, hi32(i.cmdlineAddr), true);
  if (i.ramdisk) {
    dv.setUint32(RAMDISK_IMAGE, lo32(i.ramdisk.addr), true);
    dv.setUint32(RAMDISK_SIZE, lo32(i.ramdisk.size), true);
    dv.setUint32(EXT_RAMDISK_IMAGE, hi32(i.ramdisk.addr), true);
    dv.setUint32(EXT_RAMDISK_SIZE, hi32(i.ramdisk.size), true);
  }
  // acpi_rsdp_addr exists from protocol 2.14; older kernels scan 0xE0000-0xFFFFF and find it there
  if (i.header.version >= 0x020e) dv.setBigUint64(ACPI_RSDP_ADDR, BigInt(i.rsdpAddr), true);
  bp[E820_ENTRIES] = i.memoryMap.length;
  i.memoryMap.forEach((e, k) => {
    const p = E820_TABLE + 20 * k;
    dv.setBigUint64(p, BigInt(e.base), true);
    dv.setBigUint64(p + 8, BigInt(e.length), true);
    dv.setUint32(p + 16, e.type, true);
  });
  return bp;
}
