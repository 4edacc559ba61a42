// The I/O thread's devices, assembled as QEMU's `pc` machine lays them out: 8259 pair, PIT,
// RTC/CMOS, COM1, i8042, PCI host (i440FX + PIIX3) with an e1000 in slot 3, fw_cfg, debug ports,
// IOAPIC and HPET. Each device owns its registers; this file only registers them on the one
// device bus (src/devices/device-bus.ts) and wires interrupt lines (Firecracker-style assembly
// of small devices). PCI functions only need `pci.addFunction`: the bus maps their BARs.

import { buildRelocatableAcpi, PM_BASE, S5_SLP_TYP, SCI_IRQ, TABLE_LOADER_FILE } from '../boot/acpi-tables.js';
import type { BootPlan } from '../boot/boot-plan.js';
import { fwCfgFiles } from '../boot/fw-cfg-files.js';
import { biosE820Bytes } from '../boot/bios-image.js';
import { AtaChannel, type AtaBackend, ATA_PRIMARY_CMD, ATA_PRIMARY_CTRL, ATA_PRIMARY_IRQ } from '../devices/ata/ata-channel.js';
import { piix3IdeFunction, PIIX3_IDE_FUNCTION, PIIX3_IDE_SLOT } from '../devices/ata/piix3-ide.js';
import { AcpiPm } from '../devices/acpi-pm.js';
import { DebugPorts, type ResetKind } from '../devices/debug-ports.js';
import { FwCfg } from '../devices/fw-cfg.js';
import { Hpet } from '../devices/hpet.js';
import { I8042 } from '../devices/i8042.js';
import { Ioapic } from '../devices/ioapic.js';
import { IrqRouter } from '../devices/irq-router.js';
import { legacyIrqFor, PciHost } from '../devices/pci-host.js';
import { Pic8259 } from '../devices/pic8259.js';
import { Pit8254 } from '../devices/pit8254.js';
import { DeviceBus } from '../devices/device-bus.js';
import { PciBarAllocator } from '../devices/pci-bar-allocator.js';
import { RtcCmos } from '../devices/rtc-cmos.js';
import { PreciseTimerService, VirtualTimerService } from '../devices/timer-service.js';
import type { Snapshotable, TimerService } from '../devices/types.js';
import { Uart16550, COM1_BASE, COM1_IRQ } from '../devices/uart16550.js';
import { E1000 } from '../devices/e1000/e1000.js';
import { IO_SIZE as E1000_IO_SIZE, MMIO_SIZE as E1000_MMIO_SIZE } from '../devices/e1000/regs.js';
import type { NetBackend } from '../net/net-backend.js';
import type { BlockBackend } from '../block/block-backend.js';
import { VirtioBlk } from '../devices/virtio-blk/virtio-blk.js';
import { VIRTIO_BAR_SIZE } from '../devices/virtio/virtio-pci.js';
import { RamDma } from '../devices/ram-dma.js';
import { IO_THREAD, TIME_ICOUNT, clockFor } from '../abi/clock.js';
import type { IoPlatform } from './machine.js';
import { HPET_BASE, HPET_SIZE, IOAPIC_BASE, IOAPIC_SIZE, type RamLayout } from '../abi/memory-map.js';
import { DS_NIC_BAR, DS_UART_LSR, MAX_FAST_NICS, nicRegisters } from '../abi/device-shared.js';

export interface PlatformHooks {
  serialOut(bytes: Uint8Array): void;
  debugConsole?(bytes: Uint8Array): void;
  onDebugExit(status: number): void;
  onReset(kind: ResetKind | 'i8042'): void;
  /** ACPI S5 through PM1a_CNT */
  onPowerOff?(): void;
  /** an ACPI sleep type other than S5 */
  onUnsupportedSleep?(slpTyp: number): void;
}

export interface PlatformOptions {
  ctl: Int32Array;
  ram: SharedArrayBuffer;
  layout: RamLayout;
  cores: number;
  /** the loader's plan; absent with -bios (the firmware sets the platform up from reset) */
  plan?: BootPlan;
  hooks: PlatformHooks;
  /** one e1000 per entry, in PCI slots 3, 4, ... */
  nics: { mac: Uint8Array; backend: NetBackend }[];
  /** one virtio-blk-pci per entry, in the PCI slots after the NICs */
  disks?: { backend: BlockBackend; serial?: string }[];
  /** extra fw_cfg files (`-fw_cfg`): the DIME kernel's key file arrives this way */
  fwCfgFiles?: { name: string; data: Uint8Array }[];
  /** device state shared with the cores (Machine.devices); without it cores use the mailbox only */
  devices?: SharedArrayBuffer;
  /** -hda: a raw disk on the PIIX3 IDE primary channel (00:01.1, ports 0x1F0/0x3F6, IRQ 14) */
  hda?: AtaBackend & { close(): void };
}

/** -icount's RTC start: 2025-01-01 00:00:00 UTC (QEMU's `-rtc base=...` plays this part there). */
export const ICOUNT_RTC_START_MS = Date.UTC(2025, 0, 1);

/** PCI slot of the first NIC and its interrupt line, as QEMU's `pc` machine (GSI 11). */
const NIC_FIRST_SLOT = 3;

export class Platform implements IoPlatform {
  /** every port range and MMIO window the I/O thread decodes */
  readonly bus = new DeviceBus();
  /** sub-millisecond device timers (setTimeout's 1 ms grain loses PIT/HPET ticks above ~500 Hz);
   *  under -icount, virtual ones that run at the I/O thread's turn */
  readonly timers: TimerService & { dispose(): void };
  /** -icount device timers (null in real time) */
  readonly virtualTimers: VirtualTimerService | null = null;
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
  readonly pm: AcpiPm;
  readonly nics: E1000[] = [];
  /** the IDE primary channel (only with -hda) */
  readonly ata: AtaChannel | null = null;
  readonly disks: VirtioBlk[] = [];
  private readonly backends: NetBackend[] = [];
  private readonly dw: Int32Array | null;
  private readonly hda: (AtaBackend & { close(): void }) | undefined;

  constructor(o: PlatformOptions) {
    const clock = clockFor(o.ctl);
    const icount = clock.mode === TIME_ICOUNT;
    if (icount) {
      this.virtualTimers = new VirtualTimerService(clock);
      this.timers = this.virtualTimers;
    } else {
      // the earliest device deadline is the I/O thread's hold: guest time waits for its callback
      this.timers = new PreciseTimerService(clock, (earliest) => clock.hold(IO_THREAD, earliest));
    }
    this.dw = o.devices ? new Int32Array(o.devices) : null;
    this.hda = o.hda;
    this.pic = new Pic8259(o.ctl, { timers: this.timers });
    this.ioapic = new Ioapic(o.ctl);
    this.router = new IrqRouter(this.pic, this.ioapic);
    const pitLine = this.router.line(0);
    const rtcLine = this.router.line(8);
    this.pit = new Pit8254(this.timers, pitLine);
    // -icount: the RTC starts from a fixed date, so a guest printing the date replays too
    this.rtc = new RtcCmos(this.timers, rtcLine, { ramBytes: o.layout.ramBytes, cpus: o.cores, startTimeMs: icount ? ICOUNT_RTC_START_MS : undefined });
    this.hpet = new Hpet(this.timers, this.router, {
      onLegacyReplacement: (on) => { pitLine.setEnabled(!on); rtcLine.setEnabled(!on); },
    });
    this.uart = new Uart16550(o.hooks.serialOut, this.router.line(COM1_IRQ));
    this.i8042 = new I8042({ onReset: () => o.hooks.onReset('i8042') }, this.router.line(1));
    this.debug = new DebugPorts({
      onExit: o.hooks.onDebugExit, console: o.hooks.debugConsole ?? o.hooks.serialOut, onReset: o.hooks.onReset,
    });
    this.pm = new AcpiPm(PM_BASE, this.timers, this.router.line(SCI_IRQ), {
      s5SlpTyp: S5_SLP_TYP, onPowerOff: () => o.hooks.onPowerOff?.(), onUnsupportedSleep: (t) => o.hooks.onUnsupportedSleep?.(t),
    });
    this.pci = new PciHost();
    const bars = new PciBarAllocator();
    const dma = new RamDma(o.ram, o.layout);
    // -bios: the firmware places the ACPI tables itself from QEMU's linker/loader script
    const biosAcpi = o.plan ? null : buildRelocatableAcpi(o.cores);
    const files = o.plan ? fwCfgFiles(o.plan) : { e820: biosE820Bytes(o.layout), acpiRsdp: biosAcpi!.rsdp, acpiTables: biosAcpi!.tables };
    this.fwcfg = new FwCfg({ ncores: o.cores, ramBytes: o.layout.ramBytes, dma, ...files });
    if (biosAcpi) this.fwcfg.addFile(TABLE_LOADER_FILE, biosAcpi.loader);
    for (const f of o.fwCfgFiles ?? []) this.fwcfg.addFile(f.name, f.data);

    o.nics.forEach((n, i) => {
      const slot = NIC_FIRST_SLOT + i;
      const gsi = [11, 10, 11, 10][(slot - NIC_FIRST_SLOT) % 4];
      const nic = new E1000({
        name: `e1000.${i}`, mac: n.mac, dma, irq: this.router.line(gsi), backend: n.backend, timers: this.timers,
        mmioBase: bars.mmio(E1000_MMIO_SIZE), ioBase: bars.io(E1000_IO_SIZE), interruptLine: gsi,
        // the register file lives in shared memory, where cores read ICR without this thread
        registers: o.devices && i < MAX_FAST_NICS ? nicRegisters(o.devices, i) : undefined,
      });
      this.pci.addFunction(slot, 0, nic);
      this.backends.push(n.backend);
      this.nics.push(nic);
    });

    (o.disks ?? []).forEach((d, i) => {
      const slot = NIC_FIRST_SLOT + o.nics.length + i;
      const gsi = legacyIrqFor(slot, 1);
      const disk = new VirtioBlk({
        name: `virtio-blk.${i}`, backend: d.backend, serial: d.serial, dma, irq: this.router.line(gsi), interruptLine: gsi, barBase: bars.mmio(VIRTIO_BAR_SIZE),
      });
      this.pci.addFunction(slot, 0, disk);
      this.disks.push(disk);
    });

    const p = this.bus;
    p.map(0x20, 2, this.pic); p.map(0xa0, 2, this.pic); p.map(0x4d0, 2, this.pic);
    p.map(0x40, 4, this.pit); p.map(0x61, 1, this.pit);
    p.map(0x70, 2, this.rtc);
    p.map(COM1_BASE, 8, this.uart);
    p.map(0x60, 1, this.i8042); p.map(0x64, 1, this.i8042);
    this.debug.mapOn(p); // 0xF4 exit, 0xE9 console, 0x80 POST, 0x92, 0xCF9 reset control
    if (o.hooks.debugConsole) this.debug.mapSeabiosDebugconOn(p); // -debugcon: 0x402 as well
    p.map(0xcf8, 1, this.pci); p.map(0xcfc, 4, this.pci);
    this.fwcfg.mapOn(p);
    p.map(PM_BASE, 12, this.pm); // PM1a_EVT 0x600, PM1a_CNT 0x604, PM_TMR 0x608 (the FADT's)
    if (o.hda) {
      this.ata = new AtaChannel(o.hda, this.router.line(ATA_PRIMARY_IRQ));
      p.map(ATA_PRIMARY_CMD, 8, this.ata); p.map(ATA_PRIMARY_CTRL, 1, this.ata);
      this.pci.addFunction(PIIX3_IDE_SLOT, PIIX3_IDE_FUNCTION, piix3IdeFunction());
    }
    if (!o.plan) this.rtc.setBiosBootOrder();
    this.bus.mapMmio(IOAPIC_BASE, IOAPIC_SIZE, this.ioapic);
    this.bus.mapMmio(HPET_BASE, HPET_SIZE, this.hpet);
    this.bus.attachPci(this.pci);
    // cores read where each NIC's registers are decoded from shared state: keep it in step
    this.pci.addConfigListener(() => this.publishNicBars());
    this.publishNicBars();
    // what SeaBIOS leaves behind before QEMU jumps to a -kernel (measured under QEMU 7.2);
    // with -bios the firmware itself runs and programs them from their reset state
    if (o.plan) {
      this.pic.firmwareState();
      this.pit.firmwareState();
    }
  }

  ioRead(port: number, size: number): number {
    return this.bus.ioRead(port, size);
  }

  ioWrite(port: number, size: number, value: number): void {
    this.bus.ioWrite(port, size, value);
  }

  mmioRead(paddr: number, size: number): number {
    return this.bus.mmioRead(paddr, size);
  }

  mmioWrite(paddr: number, size: number, value: number): void {
    this.bus.mmioWrite(paddr, size, value);
  }

  mmioRead64(paddr: number): bigint {
    return this.bus.mmioRead64(paddr);
  }

  mmioWrite64(paddr: number, value: bigint): void {
    this.bus.mmioWrite64(paddr, value);
  }

  levelEoi(vector: number): void {
    this.ioapic.eoi(vector);
  }

  runDueTimers(): number {
    return this.virtualTimers?.runDue() ?? 0;
  }

  nextTimerNs(): number {
    return this.virtualTimers?.nextDeadlineNs() ?? Infinity;
  }

  nicIcrWasRead(nic: number): void {
    this.nics[nic]?.icrReadElsewhere();
  }

  /** COM1 input from the host (the console) */
  feedConsole(bytes: Uint8Array): void {
    this.uart.feedInput(bytes);
    this.publishShared();
  }

  publishShared(): void {
    if (this.dw !== null) Atomics.store(this.dw, DS_UART_LSR, this.uart.sideEffectFreeLsr());
  }

  /** where each NIC's registers are decoded now (after every PCI config write) */
  private publishNicBars(): void {
    const dw = this.dw;
    if (dw === null) return;
    for (let i = 0; i < MAX_FAST_NICS; i++) {
      const nic = i < this.nics.length && i < MAX_FAST_NICS ? this.nics[i] : null;
      const bar = nic?.bars().find((x) => x.kind === 'mmio');
      const on = nic !== null && bar !== undefined && bar.base !== 0 && nic.decodesMemory();
      dw[DS_NIC_BAR + 2 * i] = on ? bar!.base | 0 : 0;
      Atomics.store(dw, DS_NIC_BAR + 2 * i + 1, on ? 1 : 0);
    }
  }

  /** Every device model's state, by name (a machine snapshot: src/machine/snapshot.ts). */
  saveDevices(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, dev] of this.snapshotables()) out[name] = dev.saveState();
    out.nics = this.nics.map((n) => n.saveState());
    out.router = this.router.saveState();
    return out;
  }

  /**
   * Put every device back as `saveDevices` gave it (guest time already restarted at the saved
   * instant, so saved timer deadlines stay valid). The interrupt router goes last: its input
   * levels are the ones the devices had. Throws on a snapshot of another machine.
   */
  restoreDevices(state: Record<string, unknown>): void {
    const nics = state.nics;
    if (!Array.isArray(nics) || nics.length !== this.nics.length) {
      throw new Error(`the snapshot has ${Array.isArray(nics) ? nics.length : 'no'} NICs, this machine ${this.nics.length} (give the same --net options)`);
    }
    for (const [name, dev] of this.snapshotables()) {
      if (!(name in state)) throw new Error(`the snapshot has no state for device ${name}`);
      dev.restoreState(state[name]);
    }
    this.nics.forEach((n, i) => n.restoreState(nics[i]));
    this.router.restoreState(state.router);
    this.pci.invalidateRouting(); // BARs as the guest had programmed them
    (this.timers as { refresh?(): void }).refresh?.();
    this.publishShared();
  }

  private snapshotables(): [string, Snapshotable][] {
    // disks by PCI order and the IDE channel only when present: a snapshot of a machine with
    // other disks is refused by restoreDevices (no state for that device)
    return [['pic', this.pic], ['ioapic', this.ioapic], ['pit', this.pit], ['rtc', this.rtc], ['hpet', this.hpet], ['uart', this.uart],
      ['i8042', this.i8042], ['pci', this.pci], ['fwcfg', this.fwcfg], ['debug', this.debug], ['pm', this.pm],
      ...this.disks.map((d, i): [string, Snapshotable] => [`virtio-blk${i}`, d]),
      ...(this.ata ? [['ata', this.ata] as [string, Snapshotable]] : [])];
  }

  shutdown(): void {
    this.timers.dispose();
    this.hda?.close();
    for (const b of this.backends) void b.close();
    for (const d of this.disks) d.backend.close();
  }
}
