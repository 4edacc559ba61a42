// A raw disk image file (QEMU's format=raw) for the IDE disk: byte offsets in whole 512-byte
// sectors, read and written in place, flush() = fsync. It has the shape of the block layer's
// BlockBackend (src/block/block-backend.ts on the storage branch, virtio-blk's backends), which
// AtaChannel takes through AtaBackend: once both are on main, -hda can open its disk there and
// this file goes. Host I/O errors throw; the channel turns them into an ATA error, never a crash.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

export const SECTOR_SIZE = 512;

export class RawImageError extends Error {}

export class RawImage {
  readonly sizeBytes: number;
  private fd: number;

  constructor(readonly path: string, readonly readOnly = false) {
    try {
      this.fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new RawImageError(`cannot open disk image '${path}': ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`);
    }
    const st = fstatSync(this.fd);
    if (!st.isFile() || st.size < SECTOR_SIZE) {
      closeSync(this.fd);
      throw new RawImageError(`disk image '${path}' ${st.isFile() ? `is ${st.size} bytes: smaller than one 512-byte sector` : 'is not a regular file'}`);
    }
    // a partial last sector is not addressable (QEMU rounds the size down the same way)
    this.sizeBytes = Math.floor(st.size / SECTOR_SIZE) * SECTOR_SIZE;
  }

  read(offset: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n === 0) { dst.fill(0, done); break; } // the file shrank under us: zeros, as a hole
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new RawImageError(`disk image '${this.path}' is read-only`);
    let done = 0;
    while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, offset + done);
  }

  flush(): void {
    if (!this.readOnly) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
