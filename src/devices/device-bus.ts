// The machine's one device bus: every port range and every MMIO window the I/O thread decodes
// is registered here, and the I/O thread's ioRead/ioWrite/mmioRead/mmioWrite dispatch through
// it (as Firecracker's `Bus`). Registration is overlap-checked with an error naming both
// devices, so two devices can never silently share an address.
//
// Ports: a one-entry-per-port table keeps dispatch to one array load (kernels probe wide port
// ranges). MMIO: windows kept sorted by base and found by binary search, with the last hit
// checked first (a driver hammers one BAR). PCI BARs are not registered by hand: `attachPci`
// maps every decoding BAR of the host's functions and re-maps them whenever the guest moves a
// BAR or flips a decode bit, so a new PCI device needs only `pci.addFunction`.
//
// Unmapped ports and addresses read as all-ones and swallow writes, as on a PC with nothing
// decoding them; both are counted so surprises show up in statistics.

import type { PciHost } from './pci-host.js';
import type { DecodeRanges, MmioDevice, PortDevice } from './types.js';

const PORT_COUNT = 0x10000;
const NONE = 0xffff;

export interface DeviceBusStats {
  unmappedReads: number;
  unmappedWrites: number;
  /** the last unmapped port touched, -1 if none (a cheap hint for debugging) */
  lastUnmappedPort: number;
  /** MMIO accesses nobody decodes */
  unmappedMmio: number;
  /** PCI BARs left undecoded because they overlapped another mapping (the last reason below) */
  barConflicts: number;
  lastBarConflict: string;
}

interface MmioWindow {
  base: number;
  end: number; // exclusive
  device: MmioDevice;
  /** set for windows the bus maps from PCI BARs (re-mapped on every config change) */
  pci: boolean;
}

function ones(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

const hex = (n: number) => '0x' + n.toString(16);

export class DeviceBus {
  private readonly slot = new Uint16Array(PORT_COUNT).fill(NONE);
  private readonly devices: PortDevice[] = [];
  /** sorted by base, never overlapping */
  private windows: MmioWindow[] = [];
  private lastHit: MmioWindow | undefined;
  private pciPortRanges: { base: number; size: number }[] = [];
  readonly stats: DeviceBusStats = {
    unmappedReads: 0, unmappedWrites: 0, lastUnmappedPort: -1, unmappedMmio: 0, barConflicts: 0, lastBarConflict: '',
  };

  // ---- registration: a whole device ----

  /** Map every port range and MMIO window a device declares (its `DecodeRanges`). */
  attach(device: PortDevice | MmioDevice, at: DecodeRanges): void {
    for (const [base, count] of at.ports ?? []) this.map(base, count, device as PortDevice);
    for (const [base, size] of at.mmio ?? []) this.mapMmio(base, size, device as MmioDevice);
  }

  // ---- registration: ports ----

  /** Map ports [start, start+count) to `device`; overlapping an existing mapping is an error. */
  map(start: number, count: number, device: PortDevice): void {
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > PORT_COUNT) {
      throw new Error(`device bus: bad port range ${hex(start)}+${count} for ${device.name}`);
    }
    for (let p = start; p < start + count; p++) {
      if (this.slot[p] !== NONE) {
        throw new Error(`device bus: ${device.name} overlaps ${this.devices[this.slot[p]].name} at port ${hex(p)}`);
      }
    }
    let idx = this.devices.indexOf(device);
    if (idx < 0) {
      idx = this.devices.length;
      if (idx >= NONE) throw new Error('device bus: too many port devices');
      this.devices.push(device);
    }
    this.slot.fill(idx, start, start + count);
  }

  /** Remove any mapping of ports [start, start+count). */
  unmap(start: number, count: number): void {
    const s = Math.max(0, start);
    const e = Math.min(PORT_COUNT, start + count);
    if (e > s) this.slot.fill(NONE, s, e);
  }

  /** The device decoding `port`, or undefined. */
  deviceAt(port: number): PortDevice | undefined {
    const i = this.slot[port & 0xffff];
    return i === NONE ? undefined : this.devices[i];
  }

  // ---- registration: MMIO ----

  /** Map physical [base, base+size) to `device` (accesses arrive as offsets from base). */
  mapMmio(base: number, size: number, device: MmioDevice): void {
    this.insertWindow({ base, end: base + size, device, pci: false });
  }

  /** Remove the MMIO window starting at `base` (no-op when none does). */
  unmapMmio(base: number): void {
    this.windows = this.windows.filter((w) => w.base !== base);
    this.lastHit = undefined;
  }

  /** The MMIO device decoding `paddr` and the offset into its window, or undefined. */
  mmioAt(paddr: number): { device: MmioDevice; offset: number } | undefined {
    const w = this.findWindow(paddr);
    return w ? { device: w.device, offset: paddr - w.base } : undefined;
  }

  // ---- registration: PCI ----

  /**
   * Decode the BARs of every function on `pci` from now on: they are mapped now and re-mapped
   * after each guest config write or newly added function. A BAR that would overlap a fixed
   * device or another BAR stays undecoded and is counted (a guest may program nonsense).
   */
  attachPci(pci: PciHost): void {
    pci.addConfigListener(() => this.syncPciBars(pci));
    this.syncPciBars(pci);
  }

  private syncPciBars(pci: PciHost): void {
    for (const r of this.pciPortRanges) this.unmap(r.base, r.size);
    this.pciPortRanges = [];
    this.windows = this.windows.filter((w) => !w.pci);
    this.lastHit = undefined;
    for (const { fn, bar } of pci.activeBars()) {
      try {
        if (bar.kind === 'io') {
          this.map(bar.base, bar.size, bar.device as PortDevice);
          this.pciPortRanges.push({ base: bar.base, size: bar.size });
        } else {
          this.insertWindow({ base: bar.base, end: bar.base + bar.size, device: bar.device as MmioDevice, pci: true });
        }
      } catch (e) {
        this.stats.barConflicts++;
        this.stats.lastBarConflict = `${fn.name} BAR${bar.index}: ${(e as Error).message}`;
      }
    }
  }

  // ---- dispatch (the hot path) ----

  ioRead(port: number, size: number): number {
    port &= 0xffff;
    const i = this.slot[port];
    if (i === NONE) {
      this.stats.unmappedReads++;
      this.stats.lastUnmappedPort = port;
      return ones(size);
    }
    return this.devices[i].ioRead(port, size);
  }

  ioWrite(port: number, size: number, value: number): void {
    port &= 0xffff;
    const i = this.slot[port];
    if (i === NONE) {
      this.stats.unmappedWrites++;
      this.stats.lastUnmappedPort = port;
      return;
    }
    this.devices[i].ioWrite(port, size, value);
  }

  mmioRead(paddr: number, size: number): number {
    const w = this.findWindow(paddr);
    if (w === undefined) {
      this.stats.unmappedMmio++;
      return size === 4 ? -1 : ones(size);
    }
    return w.device.mmioRead(paddr - w.base, size);
  }

  mmioWrite(paddr: number, size: number, value: number): void {
    const w = this.findWindow(paddr);
    if (w === undefined) { this.stats.unmappedMmio++; return; }
    w.device.mmioWrite(paddr - w.base, size, value);
  }

  /** one 8-byte access: to the device whole when it takes one, else as two 4-byte accesses */
  mmioRead64(paddr: number): bigint {
    const w = this.findWindow(paddr);
    if (w === undefined) {
      this.stats.unmappedMmio++;
      return 0xffff_ffff_ffff_ffffn;
    }
    const d = w.device, off = paddr - w.base;
    if (d.mmioRead64 !== undefined) return BigInt.asUintN(64, d.mmioRead64(off));
    const lo = d.mmioRead(off, 4) >>> 0;
    return (BigInt(d.mmioRead(off + 4, 4) >>> 0) << 32n) | BigInt(lo);
  }

  mmioWrite64(paddr: number, value: bigint): void {
    const w = this.findWindow(paddr);
    if (w === undefined) { this.stats.unmappedMmio++; return; }
    const d = w.device, off = paddr - w.base;
    if (d.mmioWrite64 !== undefined) { d.mmioWrite64(off, BigInt.asUintN(64, value)); return; }
    d.mmioWrite(off, 4, Number(BigInt.asIntN(32, value)));
    d.mmioWrite(off + 4, 4, Number(BigInt.asIntN(32, value >> 32n)));
  }

  // ---- internals ----

  private findWindow(paddr: number): MmioWindow | undefined {
    const last = this.lastHit;
    if (last !== undefined && paddr >= last.base && paddr < last.end) return last;
    const ws = this.windows;
    let lo = 0;
    let hi = ws.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const w = ws[mid];
      if (paddr < w.base) hi = mid - 1;
      else if (paddr >= w.end) lo = mid + 1;
      else { this.lastHit = w; return w; }
    }
    return undefined;
  }

  private insertWindow(w: MmioWindow): void {
    if (!Number.isFinite(w.base) || w.base < 0 || !(w.end > w.base) || w.end > 2 ** 52) {
      throw new Error(`device bus: bad MMIO window ${hex(w.base)}..${hex(w.end)} for ${w.device.name}`);
    }
    const clash = this.windows.find((o) => w.base < o.end && o.base < w.end);
    if (clash) {
      throw new Error(`device bus: ${w.device.name} at ${hex(w.base)}..${hex(w.end)} overlaps ${clash.device.name} at ${hex(clash.base)}..${hex(clash.end)}`);
    }
    this.windows = [...this.windows, w].sort((a, b) => a.base - b.base);
    this.lastHit = undefined;
  }
}
