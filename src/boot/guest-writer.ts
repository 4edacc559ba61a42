// Bounds-checked little-endian stores into guest RAM by physical address, for the loader.
// Every store checks that the whole range is backed RAM, so a bad kernel cannot write
// outside the buffer or into an MMIO hole; the failure is a BootError naming the range.

import { HIGH_RAM_BASE, type RamLayout } from '../abi/memory-map.js';
import { BootError, hex } from './boot-error.js';

export class GuestWriter {
  constructor(readonly ram: Uint8Array, readonly layout: RamLayout) {}

  /** RAM offset of [paddr, paddr+len), or -1 when any byte is not RAM in this view. */
  offsetOf(paddr: number, len: number): number {
    if (!Number.isFinite(paddr) || paddr < 0 || len < 0) return -1;
    const l = this.layout;
    let off = -1;
    if (paddr + len <= l.lowBytes) off = paddr;
    else if (paddr >= HIGH_RAM_BASE && paddr + len - HIGH_RAM_BASE <= l.highBytes) off = paddr - HIGH_RAM_BASE + l.lowBytes;
    if (off < 0 || off + len > this.ram.length) return -1;
    return off;
  }

  isRam(paddr: number, len: number): boolean {
    return this.offsetOf(paddr, len) >= 0;
  }

  private at(paddr: number, len: number, what: string): number {
    const off = this.offsetOf(paddr, len);
    if (off < 0) throw new BootError(`${what} at ${hex(paddr)}-${hex(paddr + len)} is outside RAM`);
    return off;
  }

  write(paddr: number, bytes: Uint8Array, what = 'data'): void {
    this.ram.set(bytes, this.at(paddr, bytes.length, what));
  }

  zero(paddr: number, len: number, what = 'data'): void {
    const off = this.at(paddr, len, what);
    this.ram.fill(0, off, off + len);
  }

  u8(paddr: number, v: number): void {
    this.ram[this.at(paddr, 1, 'byte')] = v & 0xff;
  }

  u16(paddr: number, v: number): void {
    const o = this.at(paddr, 2, 'word');
    this.ram[o] = v & 0xff;
    this.ram[o + 1] = (v >>> 8) & 0xff;
  }

  u32(paddr: number, v: number): void {
    const o = this.at(paddr, 4, 'dword');
    for (let i = 0; i < 4; i++) this.ram[o + i] = (v >>> (8 * i)) & 0xff;
  }

  /** 64-bit store of a non-negative Number below 2^53 */
  u64(paddr: number, v: number): void {
    this.u32(paddr, v % 2 ** 32);
    this.u32(paddr + 4, Math.floor(v / 2 ** 32));
  }

  read(paddr: number, len: number): Uint8Array {
    const o = this.at(paddr, len, 'read');
    return this.ram.slice(o, o + len);
  }
}

/** A growable little-endian byte buffer for building tables before placing them. */
export class ByteBuilder {
  private buf = new Uint8Array(256);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.length));
    this.buf = nb;
  }

  u8(v: number): this { this.ensure(1); this.buf[this.length++] = v & 0xff; return this; }
  u16(v: number): this { return this.u8(v).u8(v >>> 8); }
  u32(v: number): this { return this.u16(v & 0xffff).u16(v >>> 16); }
  u64(v: number): this { return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32)); }
  bytes(b: Uint8Array): this { this.ensure(b.length); this.buf.set(b, this.length); this.length += b.length; return this; }
  /** ASCII string, optionally NUL-terminated */
  ascii(s: string, nul = false): this {
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i));
    if (nul) this.u8(0);
    return this;
  }
  /** UTF-8 string with a terminating NUL */
  cstring(s: string): this { return this.bytes(new TextEncoder().encode(s)).u8(0); }
  align(n: number): this { while (this.length % n) this.u8(0); return this; }
  patch32(at: number, v: number): void { for (let i = 0; i < 4; i++) this.buf[at + i] = (v >>> (8 * i)) & 0xff; }
  toBytes(): Uint8Array { return this.buf.slice(0, this.length); }
}
