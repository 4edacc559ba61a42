// A split virtqueue (virtio 1.x, section 2.6) as the device side walks it in guest memory:
// the descriptor table, the driver's available ring and the device's used ring, at the three
// addresses the driver programmed. `pop` takes the next available descriptor chain (following
// indirect tables when VIRTIO_RING_F_INDIRECT_DESC was negotiated), `push` returns it on the
// used ring. A malformed chain (an index past the table, a loop, a readable buffer after a
// writable one, a nested indirect table) throws VirtqueueError: the transport counts it and
// asks the driver for a reset, as the specification's DEVICE_NEEDS_RESET intends.

import type { DmaMemory } from '../types.js';

export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** avail.flags: the driver does not want an interrupt for used buffers */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
const DESC_SIZE = 16;

export class VirtqueueError extends Error {}

export interface VirtqBuffer {
  addr: number;
  len: number;
}

/** One descriptor chain: the buffers the device reads, then those it writes. */
export interface Chain {
  head: number;
  readable: VirtqBuffer[];
  writable: VirtqBuffer[];
  readableBytes: number;
  writableBytes: number;
}

export interface VirtqueueState {
  size: number;
  ready: boolean;
  desc: number;
  avail: number;
  used: number;
  lastAvail: number;
  usedIdx: number;
}

export class Virtqueue {
  /** entries (a power of two up to maxSize; the driver may lower it before enabling) */
  size: number;
  ready = false;
  descAddr = 0;
  availAddr = 0;
  usedAddr = 0;
  /** the next available-ring entry to take */
  lastAvail = 0;
  /** the device's used.idx (it alone writes it) */
  usedIdx = 0;
  /** indirect descriptor tables were negotiated */
  indirect = false;
  private readonly b16 = new Uint8Array(DESC_SIZE);
  private readonly v16 = new DataView(this.b16.buffer);
  private readonly b8 = new Uint8Array(8);
  private readonly v8 = new DataView(this.b8.buffer);

  constructor(private readonly dma: DmaMemory, readonly maxSize: number) {
    this.size = maxSize;
  }

  reset(): void {
    this.size = this.maxSize;
    this.ready = false;
    this.descAddr = this.availAddr = this.usedAddr = 0;
    this.lastAvail = this.usedIdx = 0;
  }

  /** The driver's avail.idx. */
  availIdx(): number {
    return this.read16(this.availAddr + 2);
  }

  /** Chains the driver made available that the device has not taken. */
  pending(): number {
    return (this.availIdx() - this.lastAvail) & 0xffff;
  }

  /** Take the next available chain, or null when there is none. */
  pop(): Chain | null {
    const n = this.pending();
    if (n === 0) return null;
    if (n > this.size) throw new VirtqueueError(`avail.idx is ${n} entries ahead of the device (queue size ${this.size})`);
    const head = this.read16(this.availAddr + 4 + 2 * (this.lastAvail % this.size));
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    return this.walk(head);
  }

  /** Return chain `head` with `written` bytes stored into its writable buffers. */
  push(head: number, written: number): void {
    const slot = this.usedIdx % this.size;
    this.v8.setUint32(0, head, true);
    this.v8.setUint32(4, written, true);
    this.dma.write(this.usedAddr + 4 + 8 * slot, this.b8);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    // the element is visible before the index that publishes it (one thread, ordered stores)
    this.v8.setUint16(0, this.usedIdx, true);
    this.dma.write(this.usedAddr + 2, this.b8.subarray(0, 2));
  }

  /** Whether the driver wants an interrupt for buffers just used (no VIRTIO_F_EVENT_IDX). */
  wantsInterrupt(): boolean {
    return (this.read16(this.availAddr) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** Copy the chain's readable bytes from `skip` on into `dst` (returns the bytes copied). */
  gather(chain: Chain, skip: number, dst: Uint8Array): number {
    return forEachPiece(chain.readable, skip, dst.length, (addr, at, n) => this.dma.read(addr, dst.subarray(at, at + n)));
  }

  /** Store `src` into the chain's writable buffers from byte `skip` on (returns the bytes stored). */
  scatter(chain: Chain, skip: number, src: Uint8Array): number {
    return forEachPiece(chain.writable, skip, src.length, (addr, at, n) => this.dma.write(addr, src.subarray(at, at + n)));
  }

  saveState(): VirtqueueState {
    return { size: this.size, ready: this.ready, desc: this.descAddr, avail: this.availAddr, used: this.usedAddr, lastAvail: this.lastAvail, usedIdx: this.usedIdx };
  }

  restoreState(s: VirtqueueState): void {
    const ok = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (!s || ![s.size, s.desc, s.avail, s.used, s.lastAvail, s.usedIdx].every(ok) || s.size > this.maxSize) {
      throw new Error('virtqueue: bad saved state');
    }
    this.size = s.size;
    this.ready = !!s.ready;
    this.descAddr = s.desc;
    this.availAddr = s.avail;
    this.usedAddr = s.used;
    this.lastAvail = s.lastAvail & 0xffff;
    this.usedIdx = s.usedIdx & 0xffff;
  }

  // ---- internals ----

  private walk(head: number): Chain {
    if (head >= this.size) throw new VirtqueueError(`chain head ${head} is past the descriptor table (size ${this.size})`);
    const chain: Chain = { head, readable: [], writable: [], readableBytes: 0, writableBytes: 0 };
    let table = this.descAddr;
    let tableSize = this.size;
    let i = head;
    let seen = 0;
    let inIndirect = false;
    for (;;) {
      if (++seen > tableSize) throw new VirtqueueError(`descriptor chain from ${head} loops or is longer than its table (${tableSize})`);
      this.dma.read(table + DESC_SIZE * i, this.b16);
      const addr = this.v16.getUint32(0, true) + this.v16.getUint32(4, true) * 2 ** 32;
      const len = this.v16.getUint32(8, true);
      const flags = this.v16.getUint16(12, true);
      const next = this.v16.getUint16(14, true);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.indirect) throw new VirtqueueError('indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC');
        if (inIndirect) throw new VirtqueueError('an indirect table inside an indirect table');
        if (flags & VIRTQ_DESC_F_NEXT) throw new VirtqueueError('an indirect descriptor with NEXT set');
        if (len === 0 || len % DESC_SIZE !== 0) throw new VirtqueueError(`indirect table of ${len} bytes is not a multiple of ${DESC_SIZE}`);
        table = addr;
        tableSize = len / DESC_SIZE;
        i = 0;
        seen = 0;
        inIndirect = true;
        continue;
      }
      if (flags & VIRTQ_DESC_F_WRITE) {
        chain.writable.push({ addr, len });
        chain.writableBytes += len;
      } else {
        if (chain.writable.length > 0) throw new VirtqueueError('a readable buffer after a writable one');
        chain.readable.push({ addr, len });
        chain.readableBytes += len;
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return chain;
      if (next >= tableSize) throw new VirtqueueError(`descriptor ${i} links to ${next}, past its table (${tableSize})`);
      i = next;
    }
  }

  private read16(paddr: number): number {
    this.dma.read(paddr, this.b8.subarray(0, 2));
    return this.v8.getUint16(0, true);
  }
}

/**
 * Walk `bufs` as one byte range starting `skip` bytes in, for at most `len` bytes: `copy` gets
 * each piece's guest address, its offset in the caller's array and its length. Returns the
 * bytes walked (less than `len` when the buffers end first).
 */
function forEachPiece(bufs: readonly VirtqBuffer[], skip: number, len: number,
  copy: (addr: number, at: number, n: number) => void): number {
  let done = 0;
  for (const b of bufs) {
    if (done >= len) break;
    if (skip >= b.len) { skip -= b.len; continue; }
    const n = Math.min(b.len - skip, len - done);
    copy(b.addr + skip, done, n);
    done += n;
    skip = 0;
  }
  return done;
}
