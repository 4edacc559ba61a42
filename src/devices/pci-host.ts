// PCI host bridge with configuration mechanism #1 (ports 0xCF8 address, 0xCFC-0xCFF data),
// bus 0 only, shaped like QEMU's i440FX `pc` machine: 00:00.0 host bridge (8086:1237) and
// 00:01.0 PIIX3 ISA bridge (8086:7000). Absent functions answer 0xFFFFFFFF from a 256-entry
// table lookup, since kernels probe all 32 devices x 8 functions x 256 buses.
//
// Port 0xCF9 (reset control) is not ours: the debug-ports device owns it, so the host maps
// 0xCF8 (dword) and 0xCFC-0xCFF separately.

import { PciConfigSpace, QEMU_SUBSYSTEM } from './pci-config-space.js';
import type { DecodeRanges, MmioDevice, PciBar, PciFunction, PortDevice, Snapshotable } from './types.js';

export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_CONFIG_DATA = 0xcfc;
/** configuration mechanism #1 */
export const PCI_HOST_PORTS: DecodeRanges = { ports: [[PCI_CONFIG_ADDRESS, 1], [PCI_CONFIG_DATA, 4]] };

import { PIRQ_TO_IRQ } from '../abi/pci-irq.js';

export { legacyIrqFor, PIRQ_TO_IRQ } from '../abi/pci-irq.js';

export class PciHost implements PortDevice, Snapshotable {
  readonly name = 'pci-host';
  private address = 0;
  private readonly functions: (PciFunction | undefined)[] = new Array(256).fill(undefined);
  private routingDirty = true;
  private mmioBars: { fn: PciFunction; bar: PciBar }[] = [];
  private ioBars: { fn: PciFunction; bar: PciBar }[] = [];
  /** told after a guest config write, a new function or a restore (BARs/decode bits may have moved) */
  private readonly configListeners: (() => void)[] = [];

  readonly hostBridge: PciConfigSpace;
  readonly isaBridge: PciConfigSpace;

  constructor() {
    this.hostBridge = new PciConfigSpace('i440fx', {
      vendorId: 0x8086, deviceId: 0x1237, revision: 0x02, classCode: 0x06, subclass: 0x00, ...QEMU_SUBSYSTEM,
    });
    this.hostBridge.setCommand(0x0006);
    this.hostBridge.put16(0x06, 0x0280); // fast back-to-back, medium DEVSEL
    // PAM0-PAM6 (0x59-0x5F): firmware's shadow-RAM settings for 0xC0000-0xFFFFF are kept and read
    // back, but change nothing: that area is always RAM here (docs/BOOT.md, -bios)
    this.hostBridge.setWritable(0x59, 1, 0x30);
    this.hostBridge.setWritable(0x5a, 4, 0x33333333);
    this.hostBridge.setWritable(0x5e, 2, 0x3333);
    this.isaBridge = new PciConfigSpace('piix3', {
      vendorId: 0x8086, deviceId: 0x7000, classCode: 0x06, subclass: 0x01, headerType: 0x80, ...QEMU_SUBSYSTEM,
    });
    this.isaBridge.setCommand(0x0007);
    this.isaBridge.put16(0x06, 0x0200);
    // PIRQ route control registers (0x60-0x63): IRQ numbers, writable by the guest
    for (let i = 0; i < 4; i++) this.isaBridge.put8(0x60 + i, PIRQ_TO_IRQ[i]);
    this.isaBridge.setWritable(0x60, 4, 0x8f8f8f8f);
    this.addFunction(0, 0, this.hostBridge);
    this.addFunction(1, 0, this.isaBridge);
  }

  /** Attach a function at 00:dev.fn. */
  addFunction(dev: number, fn: number, f: PciFunction): void {
    if (!Number.isInteger(dev) || !Number.isInteger(fn) || dev < 0 || dev > 31 || fn < 0 || fn > 7) {
      throw new Error(`PCI: bad slot ${dev}.${fn} for ${f.name}`);
    }
    const i = (dev << 3) | fn;
    const old = this.functions[i];
    if (old) throw new Error(`PCI: slot 00:${dev.toString(16).padStart(2, '0')}.${fn} already holds ${old.name}`);
    this.functions[i] = f;
    this.invalidateRouting();
  }

  /** Call `fn` whenever BARs or decode bits may have moved (the device bus re-maps them). */
  addConfigListener(fn: () => void): void {
    this.configListeners.push(fn);
  }

  functionAt(dev: number, fn: number): PciFunction | undefined {
    return this.functions[((dev & 31) << 3) | (fn & 7)];
  }

  /** Call after device-side BAR/command changes so lookups and listeners see them. */
  invalidateRouting(): void {
    this.routingDirty = true;
    for (const fn of this.configListeners) fn();
  }

  /** All decoding BARs (the device bus maps them). */
  activeBars(): { fn: PciFunction; bar: PciBar }[] {
    if (this.routingDirty) this.rebuild();
    return [...this.mmioBars, ...this.ioBars];
  }

  // ---- ports ----

  ioRead(port: number, size: number): number {
    if (port === PCI_CONFIG_ADDRESS) {
      // only dword accesses reach the address register (byte 0xCF9 belongs to reset control)
      return size === 4 ? this.address >>> 0 : ones(size);
    }
    if (port >= PCI_CONFIG_DATA && port <= PCI_CONFIG_DATA + 3) {
      const k = port - PCI_CONFIG_DATA;
      const f = this.target();
      if (!f) return ones(size);
      const dword = f.fn.configRead(f.reg);
      return extract(dword, k, size);
    }
    return ones(size);
  }

  ioWrite(port: number, size: number, value: number): void {
    if (port === PCI_CONFIG_ADDRESS) {
      if (size === 4) this.address = (value & 0x80fffffc) >>> 0;
      return;
    }
    if (port >= PCI_CONFIG_DATA && port <= PCI_CONFIG_DATA + 3) {
      const k = port - PCI_CONFIG_DATA;
      const f = this.target();
      if (!f) return;
      const bytes = Math.min(size, 4 - k);
      const mask = (bytes === 4 ? 0xffffffff : ((1 << (8 * bytes)) - 1) << (8 * k)) >>> 0;
      f.fn.configWrite(f.reg, ((value << (8 * k)) & mask) >>> 0, mask);
      this.invalidateRouting();
    }
  }

  saveState(): unknown {
    return { address: this.address, host: this.hostBridge.saveState(), isa: this.isaBridge.saveState() };
  }

  restoreState(state: unknown): void {
    const s = state as { address?: unknown; host?: unknown; isa?: unknown };
    if (!s || typeof s.address !== 'number') throw new Error('pci-host: bad saved state');
    this.address = s.address >>> 0;
    this.hostBridge.restoreState(s.host);
    this.isaBridge.restoreState(s.isa);
    this.invalidateRouting();
  }

  private target(): { fn: PciFunction; reg: number } | undefined {
    const a = this.address;
    if ((a & 0x80000000) === 0) return undefined;
    if (((a >>> 16) & 0xff) !== 0) return undefined;
    const fn = this.functions[(a >>> 8) & 0xff];
    if (!fn) return undefined;
    return { fn, reg: a & 0xfc };
  }

  private rebuild(): void {
    this.mmioBars = [];
    this.ioBars = [];
    for (const fn of this.functions) {
      if (!fn) continue;
      const mem = fn.decodesMemory();
      const io = fn.decodesIo();
      if (!mem && !io) continue;
      for (const bar of fn.bars()) {
        if (bar.kind === 'mmio' && mem) this.mmioBars.push({ fn, bar });
        else if (bar.kind === 'io' && io) this.ioBars.push({ fn, bar });
      }
    }
    this.routingDirty = false;
  }
}

function ones(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

function extract(dword: number, byteOffset: number, size: number): number {
  const v = dword >>> (8 * byteOffset);
  if (size === 1) return v & 0xff;
  if (size === 2) return byteOffset > 2 ? (v & 0xff) | 0xff00 : v & 0xffff;
  return byteOffset === 0 ? dword >>> 0 : (v | (0xffffffff << (8 * (4 - byteOffset)))) >>> 0;
}
