// `snapshot=on`: the guest's writes go to memory, never to the image, and are gone when the
// machine ends (QEMU keeps them in a temporary file; the effect the guest sees is the same).
// Sectors written are kept whole; reads take each sector from the overlay when it has it.

import { BlockIoError, checkRange, emptyBlockStats, SECTOR_SIZE, type BlockBackend } from './block-backend.js';

export class OverlayBackend implements BlockBackend {
  readonly description: string;
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  readonly stats = emptyBlockStats();
  /** sector index -> its 512 bytes */
  private readonly sectors = new Map<number, Uint8Array>();

  /** `base` may be opened read-only: it is only read. `readOnly` refuses the guest's writes too. */
  constructor(private readonly base: BlockBackend, readOnly = false) {
    this.description = `${base.description} with writes kept in memory (snapshot=on)`;
    this.sizeBytes = base.sizeBytes;
    this.readOnly = readOnly;
  }

  /** sectors written so far */
  get dirtySectors(): number { return this.sectors.size; }

  read(offset: number, dst: Uint8Array): void {
    checkRange(this, offset, dst.length);
    const first = offset / SECTOR_SIZE;
    const count = dst.length / SECTOR_SIZE;
    // runs of sectors the overlay does not hold are read from the base in one call
    let runStart = -1;
    const flushRun = (end: number) => {
      if (runStart < 0) return;
      this.base.read((first + runStart) * SECTOR_SIZE, dst.subarray(runStart * SECTOR_SIZE, end * SECTOR_SIZE));
      runStart = -1;
    };
    for (let i = 0; i < count; i++) {
      const s = this.sectors.get(first + i);
      if (s === undefined) { if (runStart < 0) runStart = i; continue; }
      flushRun(i);
      dst.set(s, i * SECTOR_SIZE);
    }
    flushRun(count);
    this.stats.reads++;
    this.stats.readBytes += dst.length;
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new BlockIoError(`${this.description}: write refused`);
    checkRange(this, offset, src.length);
    const first = offset / SECTOR_SIZE;
    for (let i = 0; i < src.length / SECTOR_SIZE; i++) {
      this.sectors.set(first + i, src.slice(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE));
    }
    this.stats.writes++;
    this.stats.writeBytes += src.length;
  }

  /** nothing to make durable: the writes are meant to vanish */
  flush(): void { this.stats.flushes++; }

  close(): void {
    this.sectors.clear();
    this.base.close();
  }

  saveState(): unknown {
    const sectors: [number, string][] = [];
    for (const [i, s] of [...this.sectors].sort((a, b) => a[0] - b[0])) sectors.push([i, Buffer.from(s).toString('base64')]);
    return { kind: 'overlay', sectors };
  }

  restoreState(state: unknown): void {
    const s = state as { kind?: unknown; sectors?: unknown } | null;
    if (s?.kind !== 'overlay' || !Array.isArray(s.sectors)) throw new Error(`${this.description}: bad saved backend state`);
    this.sectors.clear();
    for (const [i, b64] of s.sectors as [number, string][]) {
      const data = new Uint8Array(Buffer.from(String(b64), 'base64'));
      if (!Number.isInteger(i) || i < 0 || i * SECTOR_SIZE >= this.sizeBytes || data.length !== SECTOR_SIZE) {
        throw new Error(`${this.description}: bad sector ${String(i)} in saved state`);
      }
      this.sectors.set(i, data);
    }
  }
}
