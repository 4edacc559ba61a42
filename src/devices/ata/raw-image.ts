// A raw disk image file in 512-byte sectors, read and written in place (QEMU's format=raw).
// Synchronous: the I/O thread serves one sector per PIO command phase, and a guest's flush
// (ATA FLUSH CACHE) must reach the disk before the command completes.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

export const SECTOR_SIZE = 512;

export class RawImageError extends Error {}

export class RawImage {
  readonly sectors: number;
  private fd: number;

  constructor(readonly path: string, readonly readOnly = false) {
    try {
      this.fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new RawImageError(`cannot open disk image '${path}': ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`);
    }
    const size = fstatSync(this.fd).size;
    if (size < SECTOR_SIZE) {
      closeSync(this.fd);
      throw new RawImageError(`disk image '${path}' is ${size} bytes: smaller than one 512-byte sector`);
    }
    // a partial last sector is not addressable (QEMU rounds the size down the same way)
    this.sectors = Math.floor(size / SECTOR_SIZE);
  }

  /** Read sector `lba` into `dst` (512 bytes). */
  read(lba: number, dst: Uint8Array): void {
    const n = readSync(this.fd, dst, 0, SECTOR_SIZE, lba * SECTOR_SIZE);
    if (n < SECTOR_SIZE) dst.fill(0, n);
  }

  write(lba: number, src: Uint8Array): void {
    writeSync(this.fd, src, 0, SECTOR_SIZE, lba * SECTOR_SIZE);
  }

  flush(): void {
    if (!this.readOnly) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
