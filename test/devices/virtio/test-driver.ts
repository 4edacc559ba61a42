// A minimal virtio 1.x driver for tests, written from the specification: it finds the
// capabilities in PCI config space, negotiates features through the common configuration,
// sets up queue 0 in a flat test memory and submits descriptor chains. It deliberately
// shares no code with the device model it drives.

import type { DmaMemory, MmioDevice, PciFunction } from '../../../src/devices/types.js';

export class FlatMemory implements DmaMemory {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  read(paddr: number, dst: Uint8Array): void { dst.set(this.bytes.subarray(paddr, paddr + dst.length)); }
  write(paddr: number, src: Uint8Array): void { this.bytes.set(src, paddr); }
}

export interface Caps { common: number; isr: number; device: number; notify: number; multiplier: number; bar: number }

/** Walk the capability list for the virtio vendor capabilities (offsets inside their BAR). */
export function findCaps(fn: PciFunction): Caps {
  const b = (o: number) => (fn.configRead(o & ~3) >>> (8 * (o & 3))) & 0xff;
  const d = (o: number) => fn.configRead(o) >>> 0;
  const caps: Partial<Caps> = {};
  for (let p = b(0x34); p !== 0; p = b(p + 1)) {
    if (b(p) !== 0x09) continue;
    const type = b(p + 3);
    if (type < 1 || type > 4) continue; // PCI_CFG (5) names no fixed BAR
    caps.bar = b(p + 4);
    const off = d(p + 8);
    if (type === 1) caps.common = off;
    if (type === 2) { caps.notify = off; caps.multiplier = d(p + 16); }
    if (type === 3) caps.isr = off;
    if (type === 4) caps.device = off;
  }
  return caps as Caps;
}

export interface Desc { addr: number; len: number; write?: boolean }

/** Queue 0 laid out at `base`: descriptors, available ring, used ring (each 4 KiB-aligned). */
export class TestDriver {
  readonly caps: Caps;
  readonly size: number;
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  private availIdx = 0;
  private nextDesc = 0;
  lastUsed = 0;

  constructor(readonly dev: PciFunction & MmioDevice, readonly mem: FlatMemory, base: number, opts: { features?: bigint; queueSize?: number } = {}) {
    this.caps = findCaps(dev);
    const c = this.caps.common;
    dev.mmioWrite(c + 0x14, 1, 0); // reset
    dev.mmioWrite(c + 0x14, 1, 1 | 2); // ACKNOWLEDGE | DRIVER
    const offered = this.deviceFeatures();
    const want = opts.features ?? offered;
    dev.mmioWrite(c + 0x08, 4, 0); dev.mmioWrite(c + 0x0c, 4, Number(want & 0xffffffffn));
    dev.mmioWrite(c + 0x08, 4, 1); dev.mmioWrite(c + 0x0c, 4, Number(want >> 32n));
    dev.mmioWrite(c + 0x14, 1, 1 | 2 | 8);
    dev.mmioWrite(c + 0x16, 2, 0); // queue_select 0
    if (opts.queueSize) dev.mmioWrite(c + 0x18, 2, opts.queueSize);
    this.size = dev.mmioRead(c + 0x18, 2);
    this.desc = base;
    this.avail = base + 0x1000 * Math.ceil((16 * this.size) / 0x1000);
    this.used = this.avail + 0x1000;
    const put64 = (lo: number, v: number) => { dev.mmioWrite(c + lo, 4, v % 2 ** 32); dev.mmioWrite(c + lo + 4, 4, Math.floor(v / 2 ** 32)); };
    put64(0x20, this.desc);
    put64(0x28, this.avail);
    put64(0x30, this.used);
    dev.mmioWrite(c + 0x1c, 2, 1); // queue_enable
    dev.mmioWrite(c + 0x14, 1, 1 | 2 | 8 | 4); // DRIVER_OK
  }

  deviceFeatures(): bigint {
    const c = this.caps.common;
    this.dev.mmioWrite(c, 4, 0);
    const lo = this.dev.mmioRead(c + 4, 4);
    this.dev.mmioWrite(c, 4, 1);
    const hi = this.dev.mmioRead(c + 4, 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  status(): number { return this.dev.mmioRead(this.caps.common + 0x14, 1); }
  readIsr(): number { return this.dev.mmioRead(this.caps.isr, 1); }
  config(off: number, size: number): number { return this.dev.mmioRead(this.caps.device + off, size); }

  /** Write descriptors (linked in order) starting at the next free slot; returns the head index. */
  writeChain(descs: Desc[], table = this.desc, start?: number): number {
    const head = start ?? this.nextDesc;
    descs.forEach((d, i) => {
      const slot = (head + i) % this.size;
      const at = table + 16 * slot;
      this.mem.view.setUint32(at, d.addr % 2 ** 32, true);
      this.mem.view.setUint32(at + 4, Math.floor(d.addr / 2 ** 32), true);
      this.mem.view.setUint32(at + 8, d.len, true);
      this.mem.view.setUint16(at + 12, (i < descs.length - 1 ? 1 : 0) | (d.write ? 2 : 0), true);
      this.mem.view.setUint16(at + 14, (slot + 1) % this.size, true);
    });
    if (start === undefined) this.nextDesc = (head + descs.length) % this.size;
    return head;
  }

  /** Make `head` available (without notifying). */
  offer(head: number): void {
    this.mem.view.setUint16(this.avail + 4 + 2 * (this.availIdx % this.size), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.mem.view.setUint16(this.avail + 2, this.availIdx, true);
  }

  notify(queue = 0): void {
    this.dev.mmioWrite(this.caps.notify + queue * this.caps.multiplier, 2, queue);
  }

  /** Used elements since the last call, as [id, len]. */
  takeUsed(): [number, number][] {
    const idx = this.mem.view.getUint16(this.used + 2, true);
    const out: [number, number][] = [];
    while (this.lastUsed !== idx) {
      const at = this.used + 4 + 8 * (this.lastUsed % this.size);
      out.push([this.mem.view.getUint32(at, true), this.mem.view.getUint32(at + 4, true)]);
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  setNoInterrupt(on: boolean): void { this.mem.view.setUint16(this.avail, on ? 1 : 0, true); }
}
