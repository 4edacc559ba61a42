// The I/O thread's devices, assembled as QEMU's `pc` machine lays them out: 8259 pair, PIT,
// RTC/CMOS, COM1, i8042, PCI host (i440FX + PIIX3) with an e1000 in slot 3, fw_cfg, debug ports,
// IOAPIC and HPET. Each device owns its registers; this file only maps ports/addresses to them
// and wires interrupt lines (Firecracker-style assembly of small devices).

import type { BootPlan } from '../boot/boot-plan.js';
import { fwCfgFiles } from '../boot/fw-cfg-files.js';
import { DebugPorts, type ResetKind } from '../devices/debug-ports.js';
import { FwCfg } from '../devices/fw-cfg.js';
import { Hpet } from '../devices/hpet.js';
import { I8042 } from '../devices/i8042.js';
import { Ioapic } from '../devices/ioapic.js';
import { IrqRouter } from '../devices/irq-router.js';
import { PciHost } from '../devices/pci-host.js';
import { Pic8259 } from '../devices/pic8259.js';
import { Pit8254 } from '../devices/pit8254.js';
import { PortBus } from '../devices/port-bus.js';
import { RtcCmos } from '../devices/rtc-cmos.js';
import { PreciseTimerService } from '../devices/timer-service.js';
import { Uart16550, COM1_BASE, COM1_IRQ } from '../devices/uart16550.js';
import { E1000 } from '../devices/e1000/e1000.js';
import type { NetBackend } from '../net/net-backend.js';
import { RamDma } from '../devices/ram-dma.js';
import { Clock } from '../abi/clock.js';
import type { IoPlatform } from './machine.js';
import { HPET_BASE, HPET_SIZE, IOAPIC_BASE, IOAPIC_SIZE, type RamLayout } from '../abi/memory-map.js';

export interface PlatformHooks {
  serialOut(bytes: Uint8Array): void;
  debugConsole?(bytes: Uint8Array): void;
  onDebugExit(status: number): void;
  onReset(kind: ResetKind | 'i8042'): void;
}

export interface PlatformOptions {
  ctl: Int32Array;
  ram: SharedArrayBuffer;
  layout: RamLayout;
  cores: number;
  plan: BootPlan;
  hooks: PlatformHooks;
  /** one e1000 per entry, in PCI slots 3, 4, ... */
  nics: { mac: Uint8Array; backend: NetBackend }[];
}

/** PCI slot of the first NIC and its interrupt line, as QEMU's `pc` machine (GSI 11). */
const NIC_FIRST_SLOT = 3;

export class Platform implements IoPlatform {
  readonly ports = new PortBus();
  /** sub-millisecond device timers (setTimeout's 1 ms grain loses PIT/HPET ticks above ~500 Hz) */
  readonly timers: PreciseTimerService;
  readonly pic: Pic8259;
  readonly ioapic: Ioapic;
  readonly router: IrqRouter;
  readonly pit: Pit8254;
  readonly rtc: RtcCmos;
  readonly hpet: Hpet;
  readonly uart: Uart16550;
  readonly i8042: I8042;
  readonly pci: PciHost;
  readonly fwcfg: FwCfg;
  readonly debug: DebugPorts;
  readonly nics: E1000[] = [];
  private readonly backends: NetBackend[] = [];
  /** MMIO accesses nobody decodes (reads return all-ones) */
  unmappedMmio = 0;

  constructor(o: PlatformOptions) {
    const clock = new Clock(o.ctl);
    this.timers = new PreciseTimerService(clock);
    this.pic = new Pic8259(o.ctl, { timers: this.timers });
    this.ioapic = new Ioapic(o.ctl);
    this.router = new IrqRouter(this.pic, this.ioapic);
    const pitLine = this.router.line(0);
    const rtcLine = this.router.line(8);
    this.pit = new Pit8254(this.timers, pitLine);
    this.rtc = new RtcCmos(this.timers, rtcLine, { ramBytes: o.layout.ramBytes, cpus: o.cores });
    this.hpet = new Hpet(this.timers, this.router, {
      onLegacyReplacement: (on) => { pitLine.setEnabled(!on); rtcLine.setEnabled(!on); },
    });
    this.uart = new Uart16550(o.hooks.serialOut, this.router.line(COM1_IRQ));
    this.i8042 = new I8042({ onReset: () => o.hooks.onReset('i8042') }, this.router.line(1));
    this.debug = new DebugPorts({
      onExit: o.hooks.onDebugExit, console: o.hooks.debugConsole ?? o.hooks.serialOut, onReset: o.hooks.onReset,
    });
    this.pci = new PciHost();
    const dma = new RamDma(o.ram, o.layout);
    const files = fwCfgFiles(o.plan);
    this.fwcfg = new FwCfg({ ncores: o.cores, ramBytes: o.layout.ramBytes, dma, ...files });

    o.nics.forEach((n, i) => {
      const slot = NIC_FIRST_SLOT + i;
      const gsi = [11, 10, 11, 10][(slot - NIC_FIRST_SLOT) % 4];
      const nic = new E1000({
        name: `e1000.${i}`, mac: n.mac, dma, irq: this.router.line(gsi), backend: n.backend, timers: this.timers,
        mmioBase: 0xfeb80000 - i * 0x20000, ioBase: 0xc000 + i * 0x40, interruptLine: gsi,
      });
      this.pci.addFunction(slot, 0, nic);
      this.backends.push(n.backend);
      this.nics.push(nic);
    });

    const p = this.ports;
    p.map(0x20, 2, this.pic); p.map(0xa0, 2, this.pic); p.map(0x4d0, 2, this.pic);
    p.map(0x40, 4, this.pit); p.map(0x61, 1, this.pit);
    p.map(0x70, 2, this.rtc);
    p.map(COM1_BASE, 8, this.uart);
    p.map(0x60, 1, this.i8042); p.map(0x64, 1, this.i8042);
    this.debug.mapOn(p); // 0xF4 exit, 0xE9 console, 0x80 POST, 0x92, 0xCF9 reset control
    p.map(0xcf8, 1, this.pci); p.map(0xcfc, 4, this.pci);
    this.fwcfg.mapOn(p);
    this.pci.onConfigChanged = () => this.remapIoBars();
    this.remapIoBars();
    // what SeaBIOS leaves behind before QEMU jumps to a -kernel (measured under QEMU 7.2)
    this.pic.firmwareState();
    this.pit.firmwareState();
  }

  private mappedIoBars: { base: number; size: number }[] = [];

  /** PCI I/O BARs move when the guest reprograms them: keep the port bus in step. */
  private remapIoBars(): void {
    for (const m of this.mappedIoBars) this.ports.unmap(m.base, m.size);
    this.mappedIoBars = [];
    for (const nic of this.nics) {
      if (!nic.decodesIo()) continue;
      for (const bar of nic.bars()) {
        if (bar.kind !== 'io' || bar.base === 0) continue;
        try {
          this.ports.map(bar.base, bar.size, nic);
          this.mappedIoBars.push({ base: bar.base, size: bar.size });
        } catch { /* overlapping a fixed device: the BAR stays undecoded */ }
      }
    }
  }

  ioRead(port: number, size: number): number {
    return this.ports.read(port, size);
  }

  ioWrite(port: number, size: number, value: number): void {
    this.ports.write(port, size, value);
  }

  mmioRead(paddr: number, size: number): number {
    if (paddr >= IOAPIC_BASE && paddr < IOAPIC_BASE + IOAPIC_SIZE) return this.ioapic.mmioRead(paddr - IOAPIC_BASE, size);
    if (paddr >= HPET_BASE && paddr < HPET_BASE + HPET_SIZE) return this.hpet.mmioRead(paddr - HPET_BASE, size);
    const hit = this.pci.findBar(paddr);
    if (hit) return hit.device.mmioRead(hit.offset, size);
    this.unmappedMmio++;
    return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
  }

  mmioWrite(paddr: number, size: number, value: number): void {
    if (paddr >= IOAPIC_BASE && paddr < IOAPIC_BASE + IOAPIC_SIZE) { this.ioapic.mmioWrite(paddr - IOAPIC_BASE, size, value); return; }
    if (paddr >= HPET_BASE && paddr < HPET_BASE + HPET_SIZE) { this.hpet.mmioWrite(paddr - HPET_BASE, size, value); return; }
    const hit = this.pci.findBar(paddr);
    if (hit) { hit.device.mmioWrite(hit.offset, size, value); return; }
    this.unmappedMmio++;
  }

  levelEoi(vector: number): void {
    this.ioapic.eoi(vector);
  }

  shutdown(): void {
    this.timers.dispose();
    for (const b of this.backends) void b.close();
  }
}
