import { describe, expect, it } from 'vitest';
import { PciConfigSpace } from '../../../src/devices/pci-config-space.js';
import { PciHost, legacyIrqFor } from '../../../src/devices/pci-host.js';
import { DeviceBus } from '../../../src/devices/device-bus.js';
import type { MmioDevice, PortDevice } from '../../../src/devices/types.js';

const addr = (dev: number, fn: number, reg: number, bus = 0) => (0x80000000 | (bus << 16) | (dev << 11) | (fn << 8) | reg) >>> 0;

function setup() {
  const host = new PciHost();
  const bus = new DeviceBus();
  bus.map(0xcf8, 1, host);
  bus.map(0xcfc, 4, host);
  bus.attachPci(host);
  const cfg = (dev: number, fn: number, reg: number, size = 4, bus_ = 0) => {
    bus.ioWrite(0xcf8, 4, addr(dev, fn, reg & 0xfc, bus_));
    return bus.ioRead(0xcfc + (reg & 3), size);
  };
  const cfgw = (dev: number, fn: number, reg: number, size: number, v: number) => {
    bus.ioWrite(0xcf8, 4, addr(dev, fn, reg & 0xfc));
    bus.ioWrite(0xcfc + (reg & 3), size, v);
  };
  return { host, bus, cfg, cfgw };
}

describe('PciHost', () => {
  it('has the i440FX host bridge and PIIX3 ISA bridge like QEMU', () => {
    const { cfg } = setup();
    expect(cfg(0, 0, 0)).toBe(0x12378086);
    expect(cfg(0, 0, 8) >>> 16).toBe(0x0600);
    expect(cfg(1, 0, 0)).toBe(0x70008086);
    expect(cfg(1, 0, 8) >>> 16).toBe(0x0601);
    expect(cfg(1, 0, 0x0e, 1)).toBe(0x80);
  });

  it('byte and word accesses at data port offsets', () => {
    const { cfg } = setup();
    expect(cfg(0, 0, 0, 2)).toBe(0x8086);
    expect(cfg(0, 0, 2, 2)).toBe(0x1237);
    expect(cfg(0, 0, 1, 1)).toBe(0x80);
    expect(cfg(0, 0, 3, 1)).toBe(0x12);
  });

  it('absent functions, other buses and a disabled address read all-ones, quickly', () => {
    const { cfg, bus } = setup();
    expect(cfg(2, 0, 0)).toBe(0xffffffff);
    expect(cfg(0, 1, 0)).toBe(0xffffffff);
    expect(cfg(0, 0, 0, 4, 1)).toBe(0xffffffff);
    expect(cfg(31, 7, 0, 2)).toBe(0xffff);
    bus.ioWrite(0xcf8, 4, 0x00000000);
    expect(bus.ioRead(0xcfc, 4)).toBe(0xffffffff);
    expect(bus.ioRead(0xcf8, 4)).toBe(0);
    // every one of the 65,536 functions answers (how fast is a bench figure, not a test's: a wall-clock
    // bound here fails on a loaded host)
    let found = 0;
    for (let b = 0; b < 256; b++) for (let d = 0; d < 32; d++) for (let f = 0; f < 8; f++) if (cfg(d, f, 0, 4, b) !== 0xffffffff) found++;
    expect(found).toBe(2);
  });

  it('routes BARs of added functions after the guest reprograms them', () => {
    const { host, bus, cfg, cfgw } = setup();
    const m: MmioDevice = { name: 'm', mmioRead: () => 0x1234, mmioWrite: () => {} };
    const p: PortDevice = { name: 'p', ioRead: () => 0, ioWrite: () => {} };
    const cs = new PciConfigSpace('nic', { vendorId: 0x8086, deviceId: 0x100e, classCode: 2, subclass: 0, interruptPin: 1 });
    cs.defineBar(0, 'mmio', 0x20000, m, { base: 0xfeb80000 });
    cs.defineBar(1, 'io', 0x40, p, { base: 0xc000 });
    host.addFunction(3, 0, cs);
    expect(() => host.addFunction(3, 0, cs)).toThrow(/already holds/);
    expect(bus.mmioAt(0xfeb80010)).toBeUndefined(); // decoding still off
    cfgw(3, 0, 4, 2, 0x0007);
    expect(bus.mmioAt(0xfeb80010)?.offset).toBe(0x10);
    expect(bus.mmioAt(0xfeb80010)?.device).toBe(m);
    expect(bus.deviceAt(0xc004)).toBe(p);
    expect(bus.deviceAt(0xc040)).toBeUndefined();
    // sizing then moving the BAR
    cfgw(3, 0, 0x10, 4, 0xffffffff);
    expect(cfg(3, 0, 0x10)).toBe(0xfffe0000);
    expect(bus.mmioAt(0xfffe0000)).toBeUndefined();
    cfgw(3, 0, 0x10, 4, 0xfe000000);
    expect(bus.mmioAt(0xfeb80010)).toBeUndefined();
    expect(bus.mmioAt(0xfe01ffff)?.offset).toBe(0x1ffff);
    // turning I/O decoding off unmaps the I/O BAR
    cfgw(3, 0, 4, 2, 0x0006);
    expect(bus.deviceAt(0xc004)).toBeUndefined();
    expect(legacyIrqFor(3, 1)).toBe(11);
  });
});
