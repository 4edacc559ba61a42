// DmaMemory over guest RAM held in a SharedArrayBuffer, translating guest-physical addresses
// with ramOffset(). Accesses may cross the low/high RAM split; bytes that are not RAM (MMIO,
// holes, beyond the end) read as zero and are not written, and each such access is counted.
// Views are cut in 1 GiB pieces because a single Uint8Array view cannot exceed 4 GiB.

import type { DmaMemory } from './types.js';
import { ramOffset, type RamLayout } from '../abi/memory-map.js';

const CHUNK = 1 << 30;

export class RamDma implements DmaMemory {
  private readonly chunks: Uint8Array[] = [];
  /** accesses that touched non-RAM addresses */
  faults = 0;

  constructor(ram: SharedArrayBuffer | ArrayBuffer | Uint8Array, readonly layout: RamLayout) {
    const buf = ram instanceof Uint8Array ? ram.buffer : ram;
    const base = ram instanceof Uint8Array ? ram.byteOffset : 0;
    const len = ram instanceof Uint8Array ? ram.byteLength : ram.byteLength;
    if (len < layout.ramBytes) throw new Error(`RamDma: RAM buffer (${len} bytes) is smaller than the layout (${layout.ramBytes})`);
    for (let off = 0; off < layout.ramBytes; off += CHUNK) {
      this.chunks.push(new Uint8Array(buf, base + off, Math.min(CHUNK, layout.ramBytes - off)));
    }
  }

  read(paddr: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const n = this.span(paddr + done, dst.length - done);
      if (n.off < 0) { dst.fill(0, done, done + n.len); this.faults++; done += n.len; continue; }
      dst.set(this.chunks[n.chunk].subarray(n.inChunk, n.inChunk + n.len), done);
      done += n.len;
    }
  }

  write(paddr: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) {
      const n = this.span(paddr + done, src.length - done);
      if (n.off < 0) { this.faults++; done += n.len; continue; }
      this.chunks[n.chunk].set(src.subarray(done, done + n.len), n.inChunk);
      done += n.len;
    }
  }

  /** Longest run from `paddr` that stays in one chunk and one kind of memory. */
  private span(paddr: number, want: number): { off: number; chunk: number; inChunk: number; len: number } {
    const off = ramOffset(this.layout, paddr);
    if (off < 0) {
      // skip to the next page boundary: RAM regions start on page boundaries
      const len = Math.min(want, 4096 - (paddr % 4096));
      return { off: -1, chunk: 0, inChunk: 0, len };
    }
    const lowLeft = paddr < this.layout.lowBytes ? this.layout.lowBytes - paddr : Infinity;
    const chunk = Math.floor(off / CHUNK);
    const inChunk = off - chunk * CHUNK;
    const len = Math.min(want, CHUNK - inChunk, lowLeft, this.layout.ramBytes - off);
    return { off, chunk, inChunk, len };
  }
}
