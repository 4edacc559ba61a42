// The I/O thread's devices, assembled as QEMU's `pc` machine lays them out: 8259 pair, PIT,
// RTC/CMOS, COM1, i8042, PCI host (i440FX + PIIX3) with an e1000 in slot 3, fw_cfg, debug ports,
// IOAPIC and HPET. Each device owns its registers and declares where it decodes (its
// `DecodeRanges`); this file only creates it, wires its interrupt line and registers it with one
// `this.add(key, device, ranges)` line: bus mapping (src/devices/device-bus.ts) and machine
// snapshot in one place (Firecracker-style assembly of small devices). PCI functions go through
// `this.addPci(key, slot, fn)`: the bus maps their BARs.

import { buildRelocatableAcpi, PM_BASE, S5_SLP_TYP, SCI_IRQ, TABLE_LOADER_FILE } from '../boot/acpi-tables.js';
import type { BootPlan } from '../boot/boot-plan.js';
import { fwCfgFiles } from '../boot/fw-cfg-files.js';
import { biosE820Bytes } from '../boot/bios-image.js';
import { AtaChannel, type AtaBackend, ATA_PRIMARY_IRQ, ATA_PRIMARY_PORTS } from '../devices/ata/ata-channel.js';
import { piix3IdeFunction, PIIX3_IDE_FUNCTION, PIIX3_IDE_SLOT } from '../devices/ata/piix3-ide.js';
import { AcpiPm, acpiPmPorts } from '../devices/acpi-pm.js';
import { DEBUG_PORTS, DebugPorts, SEABIOS_DEBUGCON, type ResetKind } from '../devices/debug-ports.js';
import { FW_CFG_PORTS, FwCfg } from '../devices/fw-cfg.js';
import { FPU_ERROR_IRQ, FPU_ERROR_PORTS, FpuErrorLatch } from '../devices/fpu-error-latch.js';
import { HPET_MMIO, Hpet } from '../devices/hpet.js';
import { I8042, I8042_PORTS } from '../devices/i8042.js';
import { IOAPIC_MMIO, Ioapic } from '../devices/ioapic.js';
import { IrqRouter } from '../devices/irq-router.js';
import { legacyIrqFor, PCI_HOST_PORTS, PciHost } from '../devices/pci-host.js';
import { Pic8259, PIC_PORTS } from '../devices/pic8259.js';
import { Pit8254, PIT_PORTS } from '../devices/pit8254.js';
import { DeviceBus } from '../devices/device-bus.js';
import { PciBarAllocator } from '../devices/pci-bar-allocator.js';
import { RtcCmos, RTC_PORTS } from '../devices/rtc-cmos.js';
import { PreciseTimerService, VirtualTimerService } from '../devices/timer-service.js';
import type { DecodeRanges, MmioDevice, PciFunction, PortDevice, Snapshotable, TimerService } from '../devices/types.js';
import { Uart16550, COM1_IRQ, COM1_PORTS } from '../devices/uart16550.js';
import { E1000 } from '../devices/e1000/e1000.js';
import { IO_SIZE as E1000_IO_SIZE, MMIO_SIZE as E1000_MMIO_SIZE } from '../devices/e1000/regs.js';
import type { NetBackend } from '../net/net-backend.js';
import type { BlockBackend } from '../block/block-backend.js';
import { VirtioBlk } from '../devices/virtio-blk/virtio-blk.js';
import { VIRTIO_BAR_SIZE } from '../devices/virtio/virtio-pci.js';
import { RamDma } from '../devices/ram-dma.js';
import { IO_THREAD, TIME_ICOUNT, clockFor } from '../abi/clock.js';
import type { IoPlatform } from './machine.js';
import type { RamLayout } from '../abi/memory-map.js';
import { DS_NIC_BAR, DS_UART_LSR, MAX_FAST_NICS, nicRegisters, publishHpetCounter } from '../abi/device-shared.js';

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
  readonly fpuError: FpuErrorLatch;
  readonly nics: E1000[] = [];
  /** the IDE primary channel (only with -hda) */
  readonly ata: AtaChannel | null = null;
  readonly disks: VirtioBlk[] = [];
  private readonly backends: NetBackend[] = [];
  /** every device but the NICs, by snapshot key, in restore order (filled by add/addPci); disks
   *  and the IDE channel only when present, so a snapshot of a machine with other disks is
   *  refused by restoreDevices (no state for that device) */
  private readonly saved: [string, Snapshotable][] = [];
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
    // one line a device: create it, wire its interrupt line, register it (bus + snapshot)
    this.pic = this.add('pic', new Pic8259(o.ctl, { timers: this.timers }), PIC_PORTS);
    this.ioapic = this.add('ioapic', new Ioapic(o.ctl), IOAPIC_MMIO);
    this.router = new IrqRouter(this.pic, this.ioapic);
    const pitLine = this.router.line(0);
    const rtcLine = this.router.line(8);
    this.pit = this.add('pit', new Pit8254(this.timers, pitLine), PIT_PORTS);
    // -icount: the RTC starts from a fixed date, so a guest printing the date replays too
    this.rtc = this.add('rtc', new RtcCmos(this.timers, rtcLine, { ramBytes: o.layout.ramBytes, cpus: o.cores, startTimeMs: icount ? ICOUNT_RTC_START_MS : undefined }), RTC_PORTS);
    this.hpet = this.add('hpet', new Hpet(this.timers, this.router, {
      onLegacyReplacement: (on) => { pitLine.setEnabled(!on); rtcLine.setEnabled(!on); },
      onCounterChange: (on, base, sinceNs) => { if (this.dw !== null) publishHpetCounter(this.dw, on, base, sinceNs); },
    }), HPET_MMIO);
    this.uart = this.add('uart', new Uart16550(o.hooks.serialOut, this.router.line(COM1_IRQ)), COM1_PORTS);
    this.i8042 = this.add('i8042', new I8042({ onReset: () => o.hooks.onReset('i8042') }, this.router.line(1)), I8042_PORTS);
    this.pci = this.add('pci', new PciHost(), PCI_HOST_PORTS);
    const bars = new PciBarAllocator();
    const dma = new RamDma(o.ram, o.layout);
    // -bios: the firmware places the ACPI tables itself from QEMU's linker/loader script
    const biosAcpi = o.plan ? null : buildRelocatableAcpi(o.cores);
    const files = o.plan ? fwCfgFiles(o.plan) : { e820: biosE820Bytes(o.layout), acpiRsdp: biosAcpi!.rsdp, acpiTables: biosAcpi!.tables };
    this.fwcfg = this.add('fwcfg', new FwCfg({ ncores: o.cores, ramBytes: o.layout.ramBytes, dma, ...files }), FW_CFG_PORTS);
    if (biosAcpi) this.fwcfg.addFile(TABLE_LOADER_FILE, biosAcpi.loader);
    for (const f of o.fwCfgFiles ?? []) this.fwcfg.addFile(f.name, f.data);
    this.debug = this.add('debug', new DebugPorts({
      onExit: o.hooks.onDebugExit, console: o.hooks.debugConsole ?? o.hooks.serialOut, onReset: o.hooks.onReset,
    }), DEBUG_PORTS); // 0xF4 exit, 0xE9 console, 0x80 POST, 0x92, 0xCF9 reset control
    if (o.hooks.debugConsole) this.bus.attach(this.debug, SEABIOS_DEBUGCON); // -debugcon: 0x402 as well
    this.pm = this.add('pm', new AcpiPm(PM_BASE, this.timers, this.router.line(SCI_IRQ), {
      s5SlpTyp: S5_SLP_TYP, onPowerOff: () => o.hooks.onPowerOff?.(), onUnsupportedSleep: (t) => o.hooks.onUnsupportedSleep?.(t),
    }), acpiPmPorts(PM_BASE));
    this.fpuError = this.add('fpu-error', new FpuErrorLatch(this.router.line(FPU_ERROR_IRQ)), FPU_ERROR_PORTS); // FERR#/IGNNE#, 0xF0

    o.nics.forEach((n, i) => {
      const slot = NIC_FIRST_SLOT + i;
      const gsi = [11, 10, 11, 10][(slot - NIC_FIRST_SLOT) % 4];
      const nic = new E1000({
        name: `e1000.${i}`, mac: n.mac, dma, irq: this.router.line(gsi), backend: n.backend, timers: this.timers,
        mmioBase: bars.mmio(E1000_MMIO_SIZE), ioBase: bars.io(E1000_IO_SIZE), interruptLine: gsi,
        // the register file lives in shared memory, where cores read ICR without this thread
        registers: o.devices && i < MAX_FAST_NICS ? nicRegisters(o.devices, i) : undefined,
      });
      this.pci.addFunction(slot, 0, nic); // NICs are saved apart (Platform.saveDevices)
      this.backends.push(n.backend);
      this.nics.push(nic);
    });

    (o.disks ?? []).forEach((d, i) => {
      const slot = NIC_FIRST_SLOT + o.nics.length + i;
      const gsi = legacyIrqFor(slot, 1);
      this.disks.push(this.addPci(`virtio-blk${i}`, slot, new VirtioBlk({
        name: `virtio-blk.${i}`, backend: d.backend, serial: d.serial, dma, irq: this.router.line(gsi), interruptLine: gsi, barBase: bars.mmio(VIRTIO_BAR_SIZE),
      })));
    });

    if (o.hda) {
      this.ata = this.add('ata', new AtaChannel(o.hda, this.router.line(ATA_PRIMARY_IRQ)), ATA_PRIMARY_PORTS);
      this.pci.addFunction(PIIX3_IDE_SLOT, PIIX3_IDE_FUNCTION, piix3IdeFunction());
    }
    if (!o.plan) this.rtc.setBiosBootOrder();
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

  ferr(core: number, asserted: boolean): boolean {
    return this.fpuError.ferr(core, asserted);
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

  /** Register a fixed device: map the ranges it decodes and save it with the machine under `key`. */
  private add<T extends (PortDevice | MmioDevice) & Snapshotable>(key: string, device: T, at: DecodeRanges): T {
    this.bus.attach(device, at);
    this.saved.push([key, device]);
    return device;
  }

  /** Register a PCI function in `slot` (the bus maps its BARs) and save it under `key`. */
  private addPci<T extends PciFunction & Snapshotable>(key: string, slot: number, fn: T): T {
    this.pci.addFunction(slot, 0, fn);
    this.saved.push([key, fn]);
    return fn;
  }

  /** Every device model's state, by name (a machine snapshot: src/machine/snapshot.ts). */
  saveDevices(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, dev] of this.saved) out[name] = dev.saveState();
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
    for (const [name, dev] of this.saved) {
      if (!(name in state)) throw new Error(`the snapshot has no state for device ${name}`);
      dev.restoreState(state[name]);
    }
    this.nics.forEach((n, i) => n.restoreState(nics[i]));
    this.router.restoreState(state.router);
    this.pci.invalidateRouting(); // BARs as the guest had programmed them
    (this.timers as { refresh?(): void }).refresh?.();
    this.publishShared();
  }

  shutdown(): void {
    this.timers.dispose();
    this.hda?.close();
    for (const b of this.backends) void b.close();
    for (const d of this.disks) d.backend.close();
  }
}
