import { describe, expect, it } from 'vitest';
import { DeviceBus } from '../../../src/devices/device-bus.js';
import { PciConfigSpace } from '../../../src/devices/pci-config-space.js';
import { PciHost } from '../../../src/devices/pci-host.js';
import { PciBarAllocator } from '../../../src/devices/pci-bar-allocator.js';
import type { MmioDevice } from '../../../src/devices/types.js';

const mmio = (name: string, log: string[] = []): MmioDevice => ({
  name,
  mmioRead: (off, size) => { log.push(`${name} r ${off.toString(16)}/${size}`); return off; },
  mmioWrite: (off, size, v) => { log.push(`${name} w ${off.toString(16)}/${size}=${v}`); },
});

describe('DeviceBus MMIO', () => {
  it('dispatches by window with offsets, unmapped reads all-ones and counted', () => {
    const bus = new DeviceBus();
    const log: string[] = [];
    bus.mapMmio(0xfed00000, 0x400, mmio('hpet', log));
    bus.mapMmio(0xfec00000, 0x1000, mmio('ioapic', log));
    bus.mapMmio(0xfeb80000, 0x20000, mmio('nic', log));
    expect(bus.mmioRead(0xfec00010, 4)).toBe(0x10);
    expect(bus.mmioRead(0xfeb9fffc, 4)).toBe(0x1fffc);
    bus.mmioWrite(0xfed000f0, 4, 7);
    expect(log).toEqual(['ioapic r 10/4', 'nic r 1fffc/4', 'hpet w f0/4=7']);
    expect(bus.mmioRead(0xfed00400, 4)).toBe(-1);
    expect(bus.mmioRead(0xfeba0000, 2)).toBe(0xffff);
    bus.mmioWrite(0xfeb7ffff, 1, 0);
    expect(bus.stats.unmappedMmio).toBe(3);
  });

  it('passes an 8-byte access whole to a device that takes one, as two halves (low first) to one that does not', () => {
    const bus = new DeviceBus();
    const log: string[] = [];
    bus.mapMmio(0xfed00000, 0x400, {
      ...mmio('hpet', log),
      mmioRead64: (off) => { log.push(`hpet r ${off.toString(16)}/8`); return 0x1_0000_0002n; },
      mmioWrite64: (off, v) => { log.push(`hpet w ${off.toString(16)}/8=${v.toString(16)}`); },
    });
    bus.mapMmio(0xfec00000, 0x1000, mmio('ioapic', log));
    expect(bus.mmioRead64(0xfed000f0)).toBe(0x1_0000_0002n);
    bus.mmioWrite64(0xfed00108, 0x5_0000_0006n);
    expect(bus.mmioRead64(0xfec00010)).toBe(0x14_0000_0010n);
    bus.mmioWrite64(0xfec00010, 0x5_0000_0006n);
    expect(bus.mmioRead64(0xfee00000)).toBe(0xffff_ffff_ffff_ffffn);
    expect(log).toEqual(['hpet r f0/8', 'hpet w 108/8=500000006', 'ioapic r 10/4', 'ioapic r 14/4', 'ioapic w 10/4=6', 'ioapic w 14/4=5']);
    expect(bus.stats.unmappedMmio).toBe(1);
  });

  it('rejects overlapping windows with both names', () => {
    const bus = new DeviceBus();
    bus.mapMmio(0xfec00000, 0x1000, mmio('ioapic'));
    expect(() => bus.mapMmio(0xfec00800, 0x1000, mmio('other'))).toThrow(/other at 0xfec00800\.\.0xfec01800 overlaps ioapic/);
    expect(() => bus.mapMmio(0x1000, 0, mmio('empty'))).toThrow(/bad MMIO window/);
    bus.unmapMmio(0xfec00000);
    expect(bus.mmioAt(0xfec00000)).toBeUndefined();
  });

  it('maps PCI BARs as the guest moves them; a BAR over a fixed device stays undecoded and is counted', () => {
    const bus = new DeviceBus();
    const host = new PciHost();
    bus.mapMmio(0xfec00000, 0x1000, mmio('ioapic'));
    bus.attachPci(host);
    const m = mmio('nic');
    const cs = new PciConfigSpace('nic', { vendorId: 0x8086, deviceId: 0x100e, classCode: 2, subclass: 0 });
    const bars = new PciBarAllocator();
    cs.defineBar(0, 'mmio', 0x20000, m, { base: bars.mmio(0x20000) });
    cs.setCommand(0x0002);
    host.addFunction(3, 0, cs); // registering the function is all it takes
    expect(bus.mmioAt(0xfeb80004)).toEqual({ device: m, offset: 4 });
    // a guest moves the BAR through config space (mechanism #1)
    const cfgw = (reg: number, v: number) => { host.ioWrite(0xcf8, 4, (0x80000000 | (3 << 11) | reg) >>> 0); host.ioWrite(0xcfc, 4, v); };
    cfgw(0x10, 0xfe000000);
    expect(bus.mmioAt(0xfeb80004)).toBeUndefined();
    expect(bus.mmioAt(0xfe000004)?.device).toBe(m);
    cfgw(0x10, 0xfec00000);
    expect(bus.mmioAt(0xfec00000)?.device.name).toBe('ioapic');
    expect(bus.stats.barConflicts).toBe(1);
    expect(bus.stats.lastBarConflict).toMatch(/nic BAR0: .*overlaps ioapic/);
  });

  it('places BARs as SeaBIOS does for the first two e1000s', () => {
    const bars = new PciBarAllocator();
    expect([bars.mmio(0x20000), bars.io(0x40), bars.mmio(0x20000), bars.io(0x40)]).toEqual([0xfeb80000, 0xc000, 0xfeb60000, 0xc040]);
  });
});
