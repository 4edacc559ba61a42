// -bios: a legacy BIOS image (Debian's SeaBIOS bios.bin) instead of the direct kernel loader.
// The image sits in the window just below 4 GiB (the reset vector's page) and, as on QEMU's
// `pc` machine, its last 128 KiB are also the legacy BIOS area ending at 1 MiB. Here both are
// one copy in RAM (src/abi/memory-map.ts maps the window onto it), so the image is placed once,
// at 1 MiB - size. The fw_cfg memory map is QEMU's own for -bios: RAM from 0, the firmware
// carves its areas out of it itself.

import { readFileSync } from 'node:fs';
import { BIOS_AREA_END, BIOS_MAX_BYTES, HIGH_RAM_BASE, type RamLayout } from '../abi/memory-map.js';
import { BootError } from './boot-error.js';
import { E820_RAM, e820Bytes, type E820Entry } from './e820.js';

/** Read and check a BIOS image: a whole number of 64 KiB blocks, at most BIOS_MAX_BYTES. */
export function readBiosImage(path: string): Uint8Array {
  let data: Uint8Array;
  try {
    data = new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BootError(`cannot read BIOS image '${path}': ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`);
  }
  return checkBiosImage(data, path);
}

export function checkBiosImage(data: Uint8Array, path: string): Uint8Array {
  if (data.length === 0 || data.length % 65536 !== 0) {
    throw new BootError(`BIOS image '${path}' is ${data.length} bytes: it must be a whole number of 64 KiB blocks`);
  }
  if (data.length > BIOS_MAX_BYTES) {
    throw new BootError(`BIOS image '${path}' is ${data.length / 1024} KiB: at most ${BIOS_MAX_BYTES / 1024} KiB is supported ` +
      '(Debian\'s /usr/share/seabios/bios.bin is 128 KiB; bios-256k.bin is not)');
  }
  return data;
}

/** Copy the image to the top of the legacy BIOS area (its alias below 4 GiB reads the same bytes). */
export function placeBiosImage(ram: Uint8Array, image: Uint8Array): void {
  ram.set(image, BIOS_AREA_END - image.length);
}

/** `etc/e820` as QEMU 7.2 gives SeaBIOS: all of low RAM from 0, and RAM above 4 GiB. */
export function biosE820(l: RamLayout): E820Entry[] {
  const map: E820Entry[] = [{ base: 0, length: l.lowBytes, type: E820_RAM }];
  if (l.highBytes > 0) map.push({ base: HIGH_RAM_BASE, length: l.highBytes, type: E820_RAM });
  return map;
}

export function biosE820Bytes(l: RamLayout): Uint8Array {
  return e820Bytes(biosE820(l));
}
