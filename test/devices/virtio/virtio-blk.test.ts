// virtio-blk over the virtio-pci transport, driven as a driver would (test-driver.ts, written
// from the specification): PCI identity and capabilities, feature negotiation, reads, writes,
// flush reaching the file, GET_ID, readonly=on, snapshot=on, out-of-range requests, malformed
// chains, interrupts, reset, and the device's state through JSON.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OverlayBackend } from '../../../src/block/overlay.js';
import { RawFileBackend } from '../../../src/block/raw-file.js';
import type { BlockBackend } from '../../../src/block/block-backend.js';
import { VirtioBlk } from '../../../src/devices/virtio-blk/virtio-blk.js';
import { FlatMemory, TestDriver } from './test-driver.js';

const SECTORS = 64;
const HDR = 0x10000;
const DATA = 0x20000;
const STATUS = 0x30000;
const F_RO = 1n << 5n;
const F_FLUSH = 1n << 9n;
const F_VERSION_1 = 1n << 32n;

function image(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vblk-'));
  const path = join(dir, 'disk.img');
  const b = new Uint8Array(SECTORS * 512);
  for (let s = 0; s < SECTORS; s++) b.fill(s, s * 512, (s + 1) * 512);
  writeFileSync(path, b);
  return path;
}

class CountingBackend extends RawFileBackend {
  flushCalls = 0;
  override flush(): void { this.flushCalls++; super.flush(); }
}

function setup(opts: { backend?: BlockBackend; features?: bigint; path?: string } = {}) {
  const path = opts.path ?? image();
  const backend = opts.backend ?? new CountingBackend(path);
  const mem = new FlatMemory(0x100000);
  const irq = { level: false, raised: 0, setLevel(l: boolean) { if (l && !this.level) this.raised++; this.level = l; } };
  const dev = new VirtioBlk({ backend, dma: mem, irq, barBase: 0xfe000000, interruptLine: 10, serial: 'PRLX-DISK-0' });
  const drv = new TestDriver(dev, mem, 0x1000, { features: opts.features });
  return { path, backend, mem, irq, dev, drv };
}

function request(s: ReturnType<typeof setup>, type: number, sector: number, dataLen: number, write = false): { status: number; used: [number, number][] } {
  const { mem, drv } = s;
  mem.view.setUint32(HDR, type, true);
  mem.view.setUint32(HDR + 4, 0, true);
  mem.view.setUint32(HDR + 8, sector, true);
  mem.view.setUint32(HDR + 12, 0, true);
  mem.bytes[STATUS] = 0xee;
  const descs = [{ addr: HDR, len: 16 }];
  if (dataLen > 0) descs.push({ addr: DATA, len: dataLen, write: !write } as never);
  descs.push({ addr: STATUS, len: 1, write: true } as never);
  drv.offer(drv.writeChain(descs));
  drv.notify();
  return { status: mem.bytes[STATUS], used: drv.takeUsed() };
}

describe('virtio-blk-pci', () => {
  it('is a modern virtio block device on PCI with the four capabilities', () => {
    const { dev, drv } = setup();
    expect(dev.configRead(0) >>> 0).toBe(0x10421af4);
    expect(dev.configRead(8) >>> 24).toBe(0x01); // mass storage
    expect(drv.caps.bar).toBe(4);
    expect([drv.caps.common, drv.caps.isr, drv.caps.device, drv.caps.notify, drv.caps.multiplier]).toEqual([0, 0x1000, 0x2000, 0x3000, 4]);
    expect(dev.bars()).toEqual([expect.objectContaining({ index: 4, kind: 'mmio', base: 0xfe000000, size: 0x4000 })]);
    const f = drv.deviceFeatures();
    expect(f & F_VERSION_1).toBe(F_VERSION_1);
    expect(f & F_FLUSH).toBe(F_FLUSH);
    expect(f & F_RO).toBe(0n);
    expect(drv.status()).toBe(15);
    expect(drv.config(0, 4)).toBe(SECTORS); // capacity
    expect(drv.config(0x14, 4)).toBe(512); // blk_size
    expect(drv.size).toBe(256);
  });

  it('the PCI_CFG capability reaches BAR4 through configuration space', () => {
    const { dev } = setup();
    let cap = 0;
    for (let p = dev.configRead(0x34) & 0xff; p; p = (dev.configRead(p) >>> 8) & 0xff) {
      if ((dev.configRead(p) & 0xff) === 0x09 && ((dev.configRead(p) >>> 24) & 0xff) === 5) cap = p;
    }
    expect(cap).not.toBe(0);
    dev.configWrite(cap + 4, 4, 0xff); // bar
    dev.configWrite(cap + 8, 0x2000, 0xffffffff); // offset: device configuration, capacity
    dev.configWrite(cap + 12, 4, 0xffffffff); // length
    expect(dev.configRead(cap + 16) >>> 0).toBe(SECTORS);
    dev.configWrite(cap + 8, 0x16, 0xffffffff); // queue_select through the window
    dev.configWrite(cap + 12, 2, 0xffffffff);
    dev.configWrite(cap + 16, 7, 0xffff);
    expect(dev.mmioRead(0x16, 2)).toBe(7);
    dev.configWrite(cap + 4, 3, 0xff); // another BAR: nothing happens
    expect(() => dev.configRead(cap + 16)).not.toThrow();
  });

  it('reads sectors into guest memory', () => {
    const s = setup();
    const r = request(s, 0, 5, 1024);
    expect(r.status).toBe(0);
    expect(r.used).toEqual([[0, 1025]]);
    expect(s.mem.bytes[DATA]).toBe(5);
    expect(s.mem.bytes[DATA + 1023]).toBe(6);
    expect(s.irq.level).toBe(true);
    expect(s.drv.readIsr()).toBe(1);
    expect(s.irq.level).toBe(false);
  });

  it('writes reach the file, and FLUSH is an fsync (write-back once FLUSH is negotiated)', () => {
    const s = setup();
    s.mem.bytes.fill(0xab, DATA, DATA + 512);
    expect(request(s, 1, 7, 512, true).status).toBe(0);
    const backend = s.backend as CountingBackend;
    expect(backend.flushCalls).toBe(0);
    expect(readFileSync(s.path)[7 * 512]).toBe(0xab);
    expect(request(s, 4, 0, 0).status).toBe(0);
    expect(backend.flushCalls).toBe(1);
  });

  it('a driver without FLUSH gets write-through: each write is flushed before it completes', () => {
    const s = setup({ features: F_VERSION_1 });
    request(s, 1, 1, 512, true);
    expect((s.backend as CountingBackend).flushCalls).toBe(1);
  });

  it('GET_ID answers the serial', () => {
    const s = setup();
    expect(request(s, 8, 0, 20).status).toBe(0);
    expect(Buffer.from(s.mem.bytes.subarray(DATA, DATA + 11)).toString()).toBe('PRLX-DISK-0');
  });

  it('refuses out-of-range, partial-sector and unknown requests with a status, not a crash', () => {
    const s = setup();
    expect(request(s, 0, SECTORS - 1, 1024).status).toBe(1);
    expect(request(s, 0, 0, 100).status).toBe(1);
    expect(request(s, 1, 2 ** 31, 512, true).status).toBe(1);
    expect(request(s, 99, 0, 0).status).toBe(2);
    expect(s.dev.counters.ioErrors).toBe(3);
    expect(s.dev.counters.unsupported).toBe(1);
    expect(request(s, 0, 0, 512).status).toBe(0); // still working
  });

  it('readonly=on: feature RO offered, writes fail with IOERR, the file is untouched', () => {
    const path = image();
    const s = setup({ backend: new RawFileBackend(path, true), path });
    expect(s.drv.deviceFeatures() & F_RO).toBe(F_RO);
    s.mem.bytes.fill(0xcd, DATA, DATA + 512);
    expect(request(s, 1, 3, 512, true).status).toBe(1);
    expect(readFileSync(path)[3 * 512]).toBe(3);
    expect(request(s, 0, 3, 512).status).toBe(0);
  });

  it('snapshot=on: the guest reads its writes back, the file never changes', () => {
    const path = image();
    const s = setup({ backend: new OverlayBackend(new RawFileBackend(path, true)), path });
    s.mem.bytes.fill(0x77, DATA, DATA + 1024);
    expect(request(s, 1, 10, 1024, true).status).toBe(0);
    s.mem.bytes.fill(0, DATA, DATA + 2048);
    expect(request(s, 0, 9, 2048).status).toBe(0);
    expect([s.mem.bytes[DATA], s.mem.bytes[DATA + 512], s.mem.bytes[DATA + 1536]]).toEqual([9, 0x77, 12]);
    expect(readFileSync(path)[10 * 512]).toBe(10);
  });

  it('a malformed ring sets DEVICE_NEEDS_RESET, raises a config interrupt, and a reset recovers', () => {
    const s = setup();
    s.drv.offer(s.drv.writeChain([{ addr: HDR, len: 16 }]).valueOf() + 1000);
    s.drv.notify();
    expect(s.drv.status() & 64).toBe(64);
    expect(s.drv.readIsr() & 2).toBe(2);
    expect(s.dev.transport.counters.badRings).toBe(1);
    const again = new TestDriver(s.dev, s.mem, 0x1000);
    expect(again.status()).toBe(15);
    s.drv.lastUsed = 0;
    Object.assign(s, { drv: again });
    expect(request(s, 0, 1, 512).status).toBe(0);
  });

  it('a chain with no room for a status is counted and returned unused', () => {
    const s = setup();
    s.drv.offer(s.drv.writeChain([{ addr: HDR, len: 16 }]));
    s.drv.notify();
    expect(s.drv.takeUsed()).toEqual([[0, 0]]);
    expect(s.dev.counters.malformed).toBe(1);
  });

  it('features the device did not offer make FEATURES_OK fail', () => {
    const s = setup({ features: F_VERSION_1 | (1n << 40n) });
    expect(s.drv.status() & 8).toBe(0);
    expect(s.dev.transport.counters.featuresRefused).toBeGreaterThan(0);
  });

  it('no interrupt while the driver suppresses them', () => {
    const s = setup();
    s.drv.setNoInterrupt(true);
    request(s, 0, 0, 512);
    expect(s.irq.raised).toBe(0);
  });

  it('notifies before DRIVER_OK are ignored and counted', () => {
    const s = setup();
    s.dev.mmioWrite(0x14, 1, 0);
    s.drv.notify();
    expect(s.dev.transport.counters.notifiesIgnored).toBe(1);
  });

  it('state round-trips through JSON mid-run, overlay contents included', () => {
    const path = image();
    const s = setup({ backend: new OverlayBackend(new RawFileBackend(path, true)), path });
    s.mem.bytes.fill(0x42, DATA, DATA + 512);
    request(s, 1, 4, 512, true);
    const saved = JSON.parse(JSON.stringify(s.dev.saveState()));
    const mem2 = new FlatMemory(0x100000);
    mem2.bytes.set(s.mem.bytes);
    const dev2 = new VirtioBlk({ backend: new OverlayBackend(new RawFileBackend(path, true)), dma: mem2, irq: { setLevel() {} }, barBase: 0xfe000000, interruptLine: 10 });
    dev2.restoreState(saved);
    expect(JSON.parse(JSON.stringify(dev2.saveState()))).toEqual(saved);
    // the restored device goes on with the same ring and sees the overlay's sector
    const s2 = { ...s, mem: mem2, dev: dev2, drv: Object.assign(Object.create(Object.getPrototypeOf(s.drv)), s.drv, { dev: dev2, mem: mem2 }) };
    expect(request(s2 as never, 0, 4, 512).status).toBe(0);
    expect(mem2.bytes[DATA]).toBe(0x42);
  });
});
