// Every device model saves and restores its state (Snapshotable, v86-style JSON) so a machine
// snapshot can be built from them: each device here is driven away from reset, saved, sent
// through JSON, restored into a fresh instance, and must then save the same state. The scan
// at the end keeps the list complete: a new device class without a round trip here fails.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtaChannel } from '../../src/devices/ata/ata-channel.js';
import { createControlBuffer } from '../../src/abi/control-block.js';
import { AcpiPm } from '../../src/devices/acpi-pm.js';
import { DebugPorts } from '../../src/devices/debug-ports.js';
import { E1000 } from '../../src/devices/e1000/e1000.js';
import { FpuErrorLatch } from '../../src/devices/fpu-error-latch.js';
import { FwCfg } from '../../src/devices/fw-cfg.js';
import { Hpet } from '../../src/devices/hpet.js';
import { I8042 } from '../../src/devices/i8042.js';
import { Ioapic } from '../../src/devices/ioapic.js';
import { IrqRouter } from '../../src/devices/irq-router.js';
import { LAPIC_TPR, Lapic } from '../../src/devices/lapic.js';
import { PciConfigSpace } from '../../src/devices/pci-config-space.js';
import { PciHost } from '../../src/devices/pci-host.js';
import { Pic8259 } from '../../src/devices/pic8259.js';
import { Pit8254 } from '../../src/devices/pit8254.js';
import { RtcCmos } from '../../src/devices/rtc-cmos.js';
import { ManualTimerService } from '../../src/devices/timer-service.js';
import type { Snapshotable } from '../../src/devices/types.js';
import { Uart16550 } from '../../src/devices/uart16550.js';
import { VirtioBlk } from '../../src/devices/virtio-blk/virtio-blk.js';
import { VirtioPci } from '../../src/devices/virtio/virtio-pci.js';
import { OverlayBackend } from '../../src/block/overlay.js';
import { RawFileBackend } from '../../src/block/raw-file.js';

const ctl = () => createControlBuffer(2, 64 * 1024 * 1024);
const line = { setLevel: () => {} };
const quiet = { setLevel: () => {}, setEnabled: () => {} };

interface Case {
  /** the class under test, as named in src/devices */
  cls: string;
  make(): Snapshotable;
  /** move the device away from its reset state through its guest interface */
  drive(d: Snapshotable): void;
}

const CASES: Case[] = [
  {
    cls: 'AcpiPm',
    make: () => new AcpiPm(0x600, new ManualTimerService(), line, { s5SlpTyp: 0, onPowerOff: () => {}, onUnsupportedSleep: () => {} }),
    drive: (d) => (d as AcpiPm).ioWrite(0x602, 2, 0x0120), // PM1a_EN: power button + global lock
  },
  { cls: 'DebugPorts', make: () => new DebugPorts(), drive: (d) => { const p = d as DebugPorts; p.ioWrite(0x80, 1, 0x55); p.ioWrite(0x92, 1, 0); } },
  { cls: 'FpuErrorLatch', make: () => new FpuErrorLatch({ setLevel: () => {} }), drive: (d) => { const l = d as FpuErrorLatch; l.ferr(0, true); l.ioWrite(); } },
  { cls: 'FwCfg', make: () => new FwCfg({ ncores: 2, ramBytes: 64 << 20 }), drive: (d) => { const f = d as FwCfg; f.ioWrite(0x510, 2, 0x19); f.ioRead(0x511, 1); f.ioRead(0x511, 1); } },
  { cls: 'Hpet', make: () => new Hpet(new ManualTimerService(), { setIrq: () => {} }), drive: (d) => { const h = d as Hpet; h.mmioWrite(0x100, 4, 0x4c); h.mmioWrite(0x108, 4, 1000); h.mmioWrite(0x10, 4, 1); } },
  { cls: 'I8042', make: () => new I8042(), drive: (d) => { const k = d as I8042; k.ioWrite(0x64, 1, 0x60); k.ioWrite(0x60, 1, 0x45); } },
  { cls: 'Ioapic', make: () => new Ioapic(ctl()), drive: (d) => { const a = d as Ioapic; a.mmioWrite(0, 4, 0x12); a.mmioWrite(0x10, 4, 0x31); } },
  { cls: 'IrqRouter', make: () => new IrqRouter(new Pic8259(ctl()), new Ioapic(ctl())), drive: (d) => (d as IrqRouter).setIrq(3, true) },
  { cls: 'Lapic', make: () => new Lapic(ctl(), 1, { nowNs: () => 1000 }, { onLevelEoi: () => {} }), drive: (d) => (d as Lapic).mmioWrite(LAPIC_TPR, 4, 0x20) },
  { cls: 'PciConfigSpace', make: () => new PciConfigSpace('f', { vendorId: 0x8086, deviceId: 0x100e, classCode: 2, subclass: 0 }), drive: (d) => (d as PciConfigSpace).configWrite(0x3c, 0x0b, 0xff) },
  { cls: 'PciHost', make: () => new PciHost(), drive: (d) => { const h = d as PciHost; h.ioWrite(0xcf8, 4, (0x80000000 | (1 << 11) | 0x60) >>> 0); h.ioWrite(0xcfc, 1, 0x05); } },
  { cls: 'Pic8259', make: () => new Pic8259(ctl()), drive: (d) => { const p = d as Pic8259; p.ioWrite(0x20, 1, 0x11); p.ioWrite(0x21, 1, 0x20); p.ioWrite(0x21, 1, 0x04); p.ioWrite(0x21, 1, 0x01); p.ioWrite(0x21, 1, 0xfb); } },
  { cls: 'Pit8254', make: () => new Pit8254(new ManualTimerService(), quiet), drive: (d) => { const p = d as Pit8254; p.ioWrite(0x43, 1, 0xb6); p.ioWrite(0x42, 1, 0x34); p.ioWrite(0x42, 1, 0x12); } },
  { cls: 'RtcCmos', make: () => new RtcCmos(new ManualTimerService(), null, { ramBytes: 64 << 20, cpus: 2, startTimeMs: 0 }), drive: (d) => { const r = d as RtcCmos; r.ioWrite(0x70, 1, 0x40); r.ioWrite(0x71, 1, 0x42); } },
  { cls: 'Uart16550', make: () => new Uart16550(() => {}, line), drive: (d) => { const u = d as Uart16550; u.ioWrite(0x3fb, 1, 0x80); u.ioWrite(0x3f8, 1, 1); u.ioWrite(0x3fb, 1, 0x03); u.ioWrite(0x3f9, 1, 0x01); } },
  {
    cls: 'E1000',
    make: () => new E1000({ mac: new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56]), dma: { read: () => {}, write: () => {} }, irq: line }),
    drive: (d) => { const n = d as E1000; n.mmioWrite(0x00d0, 4, 0x9d); n.mmioWrite(0x2818, 4, 0); n.mmioWrite(0x5400, 4, 0x12345678); },
  },
];

const ataDisk = join(mkdtempSync(join(tmpdir(), 'snap-ata-')), 'disk.img');
writeFileSync(ataDisk, new Uint8Array(8 * 512).fill(0x5a));
CASES.push({
  cls: 'AtaChannel',
  make: () => new AtaChannel(new RawFileBackend(ataDisk, true), line),
  // READ SECTORS of sector 1, stopped after two words: mid-transfer state (buffer, position, IRQ)
  drive: (d) => { const a = d as AtaChannel; for (const [p, v] of [[0x1f2, 1], [0x1f3, 1], [0x1f6, 0xe0], [0x1f7, 0x20]]) a.ioWrite(p, 1, v); a.ioRead(0x1f0, 2); a.ioRead(0x1f0, 2); },
});
/** a 64 KiB raw image under a snapshot=on overlay, so driving the device never changes a file */
function diskImage(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'snap-disk-')), 'disk.img');
  writeFileSync(path, new Uint8Array(64 * 1024));
  return path;
}
const disk = diskImage();
const virtioBlk = () => new VirtioBlk({
  backend: new OverlayBackend(new RawFileBackend(disk, true)), dma: { read: () => {}, write: () => {} }, irq: line, barBase: 0xfe000000, interruptLine: 10,
});
// the driver's side of virtio set-up: features, queue 0 addresses and size, DRIVER_OK
const driveVirtio = (d: { mmioWrite(o: number, s: number, v: number): void }) => {
  d.mmioWrite(0x14, 1, 3); d.mmioWrite(0x08, 4, 1); d.mmioWrite(0x0c, 4, 1); d.mmioWrite(0x14, 1, 11);
  d.mmioWrite(0x18, 2, 64); d.mmioWrite(0x20, 4, 0x10000); d.mmioWrite(0x28, 4, 0x11000); d.mmioWrite(0x30, 4, 0x12000);
  d.mmioWrite(0x1c, 2, 1); d.mmioWrite(0x14, 1, 15);
};
CASES.push(
  { cls: 'VirtioBlk', make: virtioBlk, drive: (d) => driveVirtio(d as VirtioBlk) },
  { cls: 'VirtioPci', make: () => virtioBlk().transport, drive: (d) => driveVirtio(d as VirtioPci) },
);

const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('every device round-trips its state through JSON', () => {
  for (const c of CASES) {
    it(c.cls, () => {
      const pristine = json(c.make().saveState());
      const d = c.make();
      c.drive(d);
      const saved = json(d.saveState());
      expect(saved, 'driving the device changed nothing: the round trip would prove nothing').not.toEqual(pristine);
      const fresh = c.make();
      fresh.restoreState(saved);
      expect(json(fresh.saveState())).toEqual(saved);
      expect(() => c.make().restoreState(null)).toThrow();
    });
  }

  it('covers every device class in src/devices', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk('src/devices');
    const devices = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/export class (\w+) implements ([^{]+)\{/g)]
      .filter((m) => /PortDevice|MmioDevice|PciFunction|Snapshotable/.test(m[2])).map((m) => m[1]));
    expect(devices.length).toBeGreaterThan(10);
    const notSnapshotable = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/export class (\w+) implements ([^{]+)\{/g)]
      .filter((m) => /PortDevice|MmioDevice|PciFunction/.test(m[2]) && !/Snapshotable/.test(m[2])).map((m) => m[1]));
    expect(notSnapshotable, 'devices without saveState/restoreState').toEqual([]);
    expect(devices.filter((d) => !CASES.some((c) => c.cls === d)), 'devices without a round trip here').toEqual([]);
  });
});
