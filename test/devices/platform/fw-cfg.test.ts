import { describe, expect, it } from 'vitest';
import { FW_CFG_PORTS, FwCfg } from '../../../src/devices/fw-cfg.js';
import { DeviceBus } from '../../../src/devices/device-bus.js';
import type { DmaMemory } from '../../../src/devices/types.js';

function mem(size = 0x10000): DmaMemory & { bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  return {
    bytes,
    read(p, dst) { if (p + dst.length > size) throw new Error('out of range'); dst.set(bytes.subarray(p, p + dst.length)); },
    write(p, src) { if (p + src.length > size) throw new Error('out of range'); bytes.set(src, p); },
  };
}

function setup() {
  const m = mem();
  const e820 = new Uint8Array(40).map((_, i) => i);
  const fw = new FwCfg({ ncores: 8, ramBytes: 512 * 2 ** 20, e820, acpiRsdp: new Uint8Array(36).fill(7), acpiTables: new Uint8Array(1000).fill(9), dma: m });
  const bus = new DeviceBus();
  bus.attach(fw, FW_CFG_PORTS);
  const readItem = (key: number, n: number) => {
    bus.ioWrite(0x510, 2, key);
    return Array.from({ length: n }, () => bus.ioRead(0x511, 1));
  };
  return { m, fw, bus, readItem, e820 };
}

const bswap = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

describe('FwCfg', () => {
  it('signature, ID, RAM size and CPU counts', () => {
    const { readItem } = setup();
    expect(String.fromCharCode(...readItem(0, 4))).toBe('QEMU');
    expect(readItem(1, 4)).toEqual([3, 0, 0, 0]);
    expect(readItem(3, 8)).toEqual([0, 0, 0, 0x20, 0, 0, 0, 0]);
    expect(readItem(5, 2)).toEqual([8, 0]);
    expect(readItem(0x0f, 2)).toEqual([8, 0]);
    expect(readItem(2, 16)).toEqual(new Array(16).fill(0));
    expect(readItem(0x1234, 4)).toEqual([0, 0, 0, 0]); // unknown key
    expect(readItem(5, 4)).toEqual([8, 0, 0, 0]); // past the end reads 0
  });

  it('file directory: big-endian count, sorted entries of size/select/name', () => {
    const { readItem } = setup();
    const dir = readItem(0x19, 4 + 4 * 64);
    const dv = new DataView(Uint8Array.from(dir).buffer);
    expect(dv.getUint32(0, false)).toBe(4);
    const entries = [0, 1, 2, 3].map((i) => {
      const p = 4 + 64 * i;
      let name = '';
      for (let k = p + 8; dir[k]; k++) name += String.fromCharCode(dir[k]);
      return [name, dv.getUint32(p, false), dv.getUint16(p + 4, false)];
    });
    expect(entries).toEqual([['bootorder', 0, 0x20], ['etc/acpi/rsdp', 36, 0x21], ['etc/acpi/tables', 1000, 0x22], ['etc/e820', 40, 0x23]]);
    expect(readItem(0x23, 3)).toEqual([0, 1, 2]);
  });

  it('DMA signature reads "QEMU CFG"', () => {
    const { bus } = setup();
    const lo = bus.ioRead(0x514, 4);
    const hi = bus.ioRead(0x518, 4);
    const s = [lo, hi].flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
    expect(String.fromCharCode(...s)).toBe('QEMU CFG');
    expect(bus.ioRead(0x516, 1)).toBe('M'.charCodeAt(0));
  });

  it('DMA select + read of a file, zero fill past the end, control cleared', () => {
    const { bus, m, e820 } = setup();
    const ctl = 0x1000;
    const dv = new DataView(m.bytes.buffer);
    m.bytes.fill(0xee, 0x2000, 0x2040);
    dv.setUint32(ctl, (0x23 << 16) | 0x08 | 0x02, false);
    dv.setUint32(ctl + 4, 48, false);
    dv.setBigUint64(ctl + 8, 0x2000n, false);
    bus.ioWrite(0x514, 4, bswap(0));
    bus.ioWrite(0x518, 4, bswap(ctl));
    expect(dv.getUint32(ctl, false)).toBe(0);
    expect(Array.from(m.bytes.subarray(0x2000, 0x2028))).toEqual(Array.from(e820));
    expect(Array.from(m.bytes.subarray(0x2028, 0x2030))).toEqual(new Array(8).fill(0));
    expect(m.bytes[0x2030]).toBe(0xee);
  });

  it('DMA skip then read continues at the offset; write is refused with the error bit', () => {
    const { bus, m } = setup();
    const dv = new DataView(m.bytes.buffer);
    const go = (control: number, len: number, addr: number) => {
      dv.setUint32(0x100, control, false);
      dv.setUint32(0x104, len, false);
      dv.setBigUint64(0x108, BigInt(addr), false);
      bus.ioWrite(0x514, 4, 0);
      bus.ioWrite(0x518, 4, bswap(0x100));
      return dv.getUint32(0x100, false);
    };
    expect(go((0x23 << 16) | 0x08 | 0x04, 10, 0)).toBe(0);
    expect(go(0x02, 2, 0x3000)).toBe(0);
    expect([m.bytes[0x3000], m.bytes[0x3001]]).toEqual([10, 11]);
    expect(go(0x10, 4, 0x3000)).toBe(1);
    // a transfer to memory that does not exist reports an error, not a crash
    expect(go((0x22 << 16) | 0x0a, 100, 0xfffff0)).toBe(1);
  });

  it('bad widths are counted and ignored', () => {
    const { fw, bus } = setup();
    bus.ioWrite(0x510, 1, 5);
    bus.ioWrite(0x514, 2, 5);
    expect(fw.stats.badAccesses).toBe(2);
  });
});
