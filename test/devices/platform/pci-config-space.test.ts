import { describe, expect, it } from 'vitest';
import { CMD_IO, CMD_MEMORY, PciConfigSpace } from '../../../src/devices/pci-config-space.js';
import type { MmioDevice, PortDevice } from '../../../src/devices/types.js';
import { expectBarSizing } from '../pci-bar-sizing.js';

const mmio: MmioDevice = { name: 'm', mmioRead: () => 0, mmioWrite: () => {} };
const io: PortDevice = { name: 'p', ioRead: () => 0, ioWrite: () => {} };

function nic(): PciConfigSpace {
  const cs = new PciConfigSpace('nic', { vendorId: 0x8086, deviceId: 0x100e, classCode: 2, subclass: 0, interruptPin: 1, interruptLine: 11 });
  cs.defineBar(0, 'mmio', 0x20000, mmio, { base: 0xfeb80000 });
  cs.defineBar(1, 'io', 0x40, io, { base: 0xc000 });
  return cs;
}

describe('PciConfigSpace', () => {
  it('exposes identity fields', () => {
    const cs = nic();
    expect(cs.configRead(0)).toBe(0x100e8086);
    expect(cs.configRead(8) >>> 8).toBe(0x020000);
    expect(cs.configRead(0x3c) & 0xffff).toBe(0x010b);
  });

  it('BAR sizing: all-ones reads back the size mask with type bits', () => {
    const cs = nic();
    expectBarSizing(cs, [{ offset: 0x10, base: 0xfeb80000, sizeMask: 0xfffe0000 }, { offset: 0x14, base: 0xc001, sizeMask: 0xffffffc1 }]);
    // unused BAR reads 0 even after all-ones
    cs.configWrite(0x18, 0xffffffff, 0xffffffff);
    expect(cs.configRead(0x18)).toBe(0);
    expect(cs.bars()).toEqual([]); // both hold the sizing pattern: unassigned
  });

  it('BAR reprogramming updates bars() and fires onBarsChanged', () => {
    const cs = nic();
    let changes = 0;
    cs.onBarsChanged = () => changes++;
    cs.configWrite(0x10, 0xfe000000, 0xffffffff);
    expect(changes).toBe(1);
    const bars = cs.bars();
    expect(bars.map((b) => [b.index, b.kind, b.base, b.size])).toEqual([[0, 'mmio', 0xfe000000, 0x20000], [1, 'io', 0xc000, 0x40]]);
    cs.configWrite(0x04, CMD_IO | CMD_MEMORY, 0xffff);
    expect(changes).toBe(2);
    expect(cs.decodesMemory() && cs.decodesIo()).toBe(true);
  });

  it('64-bit BARs size across two dwords', () => {
    const cs = new PciConfigSpace('x', { vendorId: 1, deviceId: 2, classCode: 0, subclass: 0 });
    cs.defineBar(2, 'mmio', 0x4000, mmio, { is64: true, prefetchable: true, base: 0x1_0000_0000 });
    expect(cs.configRead(0x18)).toBe(0x0000000c);
    expect(cs.configRead(0x1c)).toBe(1);
    expect(cs.bars()[0].base).toBe(0x1_0000_0000);
    cs.configWrite(0x18, 0xffffffff, 0xffffffff);
    cs.configWrite(0x1c, 0xffffffff, 0xffffffff);
    expect(cs.configRead(0x18)).toBe(0xffffc00c);
    expect(cs.configRead(0x1c)).toBe(0xffffffff);
  });

  it('read-only fields ignore writes; byte enables are honoured; status is write-1-to-clear', () => {
    const cs = nic();
    cs.configWrite(0, 0x12345678, 0xffffffff);
    expect(cs.configRead(0)).toBe(0x100e8086);
    cs.configWrite(0x3c, 0x0000_0005, 0xff);
    expect(cs.configRead(0x3c) & 0xffff).toBe(0x0105);
    cs.put16(0x06, 0x2000);
    cs.configWrite(0x04, 0x2000_0000, 0xffff0000);
    expect(cs.get16(0x06)).toBe(0);
  });

  it('capabilities chain and status bit', () => {
    const cs = nic();
    const a = cs.addCapability(0x01, new Uint8Array(6));
    const b = cs.addCapability(0x05, new Uint8Array(10), new Uint8Array(10).fill(0xff));
    expect(cs.get8(0x34)).toBe(a);
    expect(cs.get8(a + 1)).toBe(b);
    expect(cs.get16(0x06) & 0x10).toBe(0x10);
    cs.configWrite(b, 0xabcd0000, 0xffff0000);
    expect(cs.get16(b + 2)).toBe(0xabcd);
  });

  it('saves and restores', () => {
    const cs = nic();
    cs.configWrite(0x10, 0xfd000000, 0xffffffff);
    const s = JSON.parse(JSON.stringify(cs.saveState()));
    const cs2 = nic();
    cs2.restoreState(s);
    expect(cs2.configRead(0x10)).toBe(0xfd000000);
    expect(() => cs2.restoreState({})).toThrow(/bad saved/);
  });
});
