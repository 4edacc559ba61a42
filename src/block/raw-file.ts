// A raw disk image file (QEMU's format=raw): sector N is bytes N*512.. of the file. Opened
// read-write, or read-only for readonly=on (the file may then be read-only on the host too).
// Writes go to the host's page cache; flush() is fsync, so what the guest was told was flushed
// survives a crash of the emulator.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { BlockIoError, checkRange, emptyBlockStats, SECTOR_SIZE, type BlockBackend } from './block-backend.js';

export class RawFileBackend implements BlockBackend {
  readonly description: string;
  readonly sizeBytes: number;
  readonly stats = emptyBlockStats();
  private fd: number;

  constructor(readonly path: string, readonly readOnly = false) {
    this.description = `raw file '${path}'${readOnly ? ' (read-only)' : ''}`;
    try {
      this.fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EROFS' ? `${code} (readonly=on opens it read-only)` : code ?? String(e);
      throw new BlockIoError(`cannot open disk image '${path}': ${why}`);
    }
    const st = fstatSync(this.fd);
    if (!st.isFile() && !st.isBlockDevice()) {
      closeSync(this.fd);
      throw new BlockIoError(`disk image '${path}' is not a regular file`);
    }
    this.sizeBytes = Math.floor(st.size / SECTOR_SIZE) * SECTOR_SIZE;
  }

  read(offset: number, dst: Uint8Array): void {
    checkRange(this, offset, dst.length);
    let done = 0;
    try {
      while (done < dst.length) {
        const n = readSync(this.fd, dst, done, dst.length - done, offset + done);
        if (n === 0) { dst.fill(0, done); break; } // the file shrank under us: zeros, as a hole
        done += n;
      }
    } catch (e) {
      this.stats.errors++;
      throw new BlockIoError(`${this.description}: read at ${offset}: ${(e as Error).message}`);
    }
    this.stats.reads++;
    this.stats.readBytes += dst.length;
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new BlockIoError(`${this.description}: write refused`);
    checkRange(this, offset, src.length);
    let done = 0;
    try {
      while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, offset + done);
    } catch (e) {
      this.stats.errors++;
      throw new BlockIoError(`${this.description}: write at ${offset}: ${(e as Error).message}`);
    }
    this.stats.writes++;
    this.stats.writeBytes += src.length;
  }

  flush(): void {
    this.stats.flushes++;
    if (this.readOnly) return;
    try {
      fsyncSync(this.fd);
    } catch (e) {
      this.stats.errors++;
      throw new BlockIoError(`${this.description}: fsync: ${(e as Error).message}`);
    }
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  /** the file is the state: nothing lives only in this process */
  saveState(): unknown { return { kind: 'raw' }; }

  restoreState(state: unknown): void {
    if ((state as { kind?: unknown } | null)?.kind !== 'raw') throw new Error(`${this.description}: bad saved backend state`);
  }
}
