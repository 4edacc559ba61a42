// A reusable PCI type-0 configuration space (256 bytes) with per-byte writable masks,
// write-1-to-clear status bits and standard BAR sizing semantics. A device model builds one,
// declares its BARs, and either hands it to `PciHost.addFunction` directly (it implements
// `PciFunction`) or delegates its own `configRead/configWrite/bars` to it.
//
// API in short:
//   const cs = new PciConfigSpace('e1000', { vendorId: 0x8086, deviceId: 0x100e,
//                                            classCode: 0x02, subclass: 0x00, interruptPin: 1 });
//   cs.defineBar(0, 'mmio', 0x20000, mmioDevice, { base: 0xfeb80000 });
//   cs.defineBar(1, 'io', 0x40, portDevice, { base: 0xc000 });
//   cs.setCommand(CMD_IO | CMD_MEMORY | CMD_BUS_MASTER);       // firmware-like enable
//   cs.onBarsChanged = () => machine.rebuildRouting();          // guest moved a BAR
//   cs.onConfigWrite = (off, value, mask) => { ... };           // device-specific registers
//   cs.setWritable(0xe0, 4, 0xffffffff);                        // make a device register RW
//   const capOff = cs.addCapability(0x05, new Uint8Array(12), new Uint8Array(12).fill(0xff));
//
// Sizing: writing all-ones to a BAR reads back ~(size-1) with the low type bits, as hardware.
// A BAR whose base is 0 or still holds the sizing pattern is "unassigned": `bars()` leaves it
// out, so routing never sends accesses to a half-programmed window.

import type { MmioDevice, PciBar, PciFunction, PortDevice, Snapshotable } from './types.js';

/** Red Hat's PCI vendor ID: the vendor of virtio devices, and the subsystem vendor QEMU gives its functions. */
export const PCI_VENDOR_RED_HAT = 0x1af4;
/** The subsystem IDs QEMU gives every PCI function it models, as guests see them: vendor Red Hat,
 *  subsystem "QEMU virtual machine" (1100). SeaBIOS keys its QEMU paths on them. */
export const QEMU_SUBSYSTEM = { subsystemVendorId: PCI_VENDOR_RED_HAT, subsystemId: 0x1100 } as const;

// standard header offsets
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08;
export const PCI_PROG_IF = 0x09;
export const PCI_SUBCLASS = 0x0a;
export const PCI_CLASS = 0x0b;
export const PCI_CACHE_LINE = 0x0c;
export const PCI_LATENCY = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYS_VENDOR = 0x2c;
export const PCI_SUBSYS_ID = 0x2e;
export const PCI_ROM = 0x30;
export const PCI_CAP_PTR = 0x34;
export const PCI_INT_LINE = 0x3c;
export const PCI_INT_PIN = 0x3d;

// command register bits
export const CMD_IO = 1 << 0;
export const CMD_MEMORY = 1 << 1;
export const CMD_BUS_MASTER = 1 << 2;
export const CMD_PARITY = 1 << 6;
export const CMD_SERR = 1 << 8;
export const CMD_INTX_DISABLE = 1 << 10;
const CMD_WRITABLE = CMD_IO | CMD_MEMORY | CMD_BUS_MASTER | CMD_PARITY | CMD_SERR | CMD_INTX_DISABLE;

// status register bits
export const STATUS_INTX = 1 << 3;
export const STATUS_CAP_LIST = 1 << 4;
/** error bits software clears by writing 1 (master/target aborts, parity, SERR) */
const STATUS_W1C = 0xf900;

export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  classCode: number;
  subclass: number;
  progIf?: number;
  revision?: number;
  /** 0x00 single-function, 0x80 multi-function (device 0 function 0 only) */
  headerType?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** 0 = none, 1..4 = INTA#..INTD# */
  interruptPin?: number;
  interruptLine?: number;
}

export interface BarOptions {
  /** initial (firmware-assigned) base; 0 leaves the BAR unassigned */
  base?: number;
  /** memory BARs only: 64-bit BAR using this index and the next */
  is64?: boolean;
  prefetchable?: boolean;
}

interface BarDef {
  index: number;
  kind: 'mmio' | 'io';
  size: number;
  is64: boolean;
  prefetchable: boolean;
  device: MmioDevice | PortDevice;
}

export class PciConfigSpace implements PciFunction, Snapshotable {
  readonly bytes = new Uint8Array(256);
  private readonly writable = new Uint8Array(256);
  private readonly clearOnOne = new Uint8Array(256);
  private readonly barDefs: (BarDef | undefined)[] = new Array(6).fill(undefined);
  private lastCap = 0;
  private nextCapOffset = 0x40;

  /** called after a guest write changed any BAR base or the command register's decode bits */
  onBarsChanged?: () => void;
  /** called after every guest config write (offset dword-aligned, mask = byte enables) */
  onConfigWrite?: (offset: number, value: number, mask: number) => void;

  constructor(readonly name: string, id: PciIdentity) {
    this.put16(PCI_VENDOR_ID, id.vendorId);
    this.put16(PCI_DEVICE_ID, id.deviceId);
    this.bytes[PCI_REVISION] = id.revision ?? 0;
    this.bytes[PCI_PROG_IF] = id.progIf ?? 0;
    this.bytes[PCI_SUBCLASS] = id.subclass;
    this.bytes[PCI_CLASS] = id.classCode;
    this.bytes[PCI_HEADER_TYPE] = id.headerType ?? 0;
    this.put16(PCI_SUBSYS_VENDOR, id.subsystemVendorId ?? 0);
    this.put16(PCI_SUBSYS_ID, id.subsystemId ?? 0);
    this.bytes[PCI_INT_PIN] = id.interruptPin ?? 0;
    this.bytes[PCI_INT_LINE] = id.interruptLine ?? 0;
    this.setWritable(PCI_COMMAND, 2, CMD_WRITABLE);
    this.clearOnOne[PCI_STATUS + 1] = STATUS_W1C >>> 8;
    this.writable[PCI_CACHE_LINE] = 0xff;
    this.writable[PCI_LATENCY] = 0xff;
    this.writable[PCI_INT_LINE] = 0xff;
  }

  // ---- building the space (device side) ----

  /** Declare BAR `index` (0..5). Size must be a power of two (>= 16 for memory, >= 4 for I/O). */
  defineBar(index: number, kind: 'mmio' | 'io', size: number, device: MmioDevice | PortDevice, opts: BarOptions = {}): void {
    const is64 = kind === 'mmio' && !!opts.is64;
    if (!Number.isInteger(index) || index < 0 || index > (is64 ? 4 : 5)) throw new Error(`PCI ${this.name}: bad BAR index ${index}`);
    const minSize = kind === 'mmio' ? 16 : 4;
    if (size < minSize || size > 2 ** 31 || (size & (size - 1)) !== 0) throw new Error(`PCI ${this.name}: BAR${index} size ${size} is not a power of two >= ${minSize}`);
    const def: BarDef = { index, kind, size, is64, prefetchable: !!opts.prefetchable, device };
    this.barDefs[index] = def;
    const off = PCI_BAR0 + index * 4;
    const addrMask = (~(size - 1)) >>> 0;
    this.setWritable(off, 4, addrMask & (kind === 'io' ? 0xfffffffc : 0xfffffff0));
    if (is64) {
      this.barDefs[index + 1] = undefined;
      this.setWritable(off + 4, 4, 0xffffffff);
    }
    this.writeBarBase(def, opts.base ?? 0);
  }

  /** Make `len` bytes at `offset` writable by the guest under `mask` (little-endian). */
  setWritable(offset: number, len: number, mask: number): void {
    for (let i = 0; i < len; i++) this.writable[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  /** Mark bits at `offset` as write-1-to-clear (status-like registers). */
  setWriteOneToClear(offset: number, len: number, mask: number): void {
    for (let i = 0; i < len; i++) this.clearOnOne[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  /**
   * Append a capability (id, next pointer, then `body`) to the capability list; returns its
   * offset. `writableBody` marks guest-writable bits of the body bytes.
   */
  addCapability(id: number, body: Uint8Array, writableBody?: Uint8Array): number {
    const off = this.nextCapOffset;
    const len = (2 + body.length + 3) & ~3;
    if (off + len > 256) throw new Error(`PCI ${this.name}: no room for capability ${id}`);
    this.bytes[off] = id;
    this.bytes[off + 1] = 0;
    this.bytes.set(body, off + 2);
    if (writableBody) this.writable.set(writableBody.subarray(0, body.length), off + 2);
    if (this.lastCap === 0) this.bytes[PCI_CAP_PTR] = off;
    else this.bytes[this.lastCap + 1] = off;
    this.lastCap = off;
    this.nextCapOffset = off + len;
    this.put16(PCI_STATUS, this.get16(PCI_STATUS) | STATUS_CAP_LIST);
    return off;
  }

  /** Device-side store (bypasses masks), e.g. for status bits the device raises. */
  put8(offset: number, v: number): void { this.bytes[offset] = v & 0xff; }
  put16(offset: number, v: number): void { this.bytes[offset] = v & 0xff; this.bytes[offset + 1] = (v >>> 8) & 0xff; }
  put32(offset: number, v: number): void { for (let i = 0; i < 4; i++) this.bytes[offset + i] = (v >>> (8 * i)) & 0xff; }
  get8(offset: number): number { return this.bytes[offset]; }
  get16(offset: number): number { return this.bytes[offset] | (this.bytes[offset + 1] << 8); }
  get32(offset: number): number {
    return (this.bytes[offset] | (this.bytes[offset + 1] << 8) | (this.bytes[offset + 2] << 16) | (this.bytes[offset + 3] << 24)) >>> 0;
  }

  /** Firmware-like command register set-up (not masked, does not fire onBarsChanged). */
  setCommand(bits: number): void { this.put16(PCI_COMMAND, bits & CMD_WRITABLE); }
  command(): number { return this.get16(PCI_COMMAND); }
  /** Reflect the device's INTx state in status bit 3 (software can poll it). */
  setInterruptStatus(asserted: boolean): void {
    const s = this.get16(PCI_STATUS);
    this.put16(PCI_STATUS, asserted ? s | STATUS_INTX : s & ~STATUS_INTX);
  }
  interruptLine(): number { return this.bytes[PCI_INT_LINE]; }

  // ---- PciFunction ----

  configRead(offset: number): number {
    if (offset < 0 || offset > 252) return 0xffffffff;
    return this.get32(offset & 0xfc);
  }

  configWrite(offset: number, value: number, mask: number): void {
    if (offset < 0 || offset > 252) return;
    offset &= 0xfc;
    const beforeBars = this.barSignature();
    for (let i = 0; i < 4; i++) {
      const enable = (mask >>> (8 * i)) & 0xff;
      if (enable === 0) continue;
      const o = offset + i;
      const v = (value >>> (8 * i)) & enable;
      const w = this.writable[o] & enable;
      const c = this.clearOnOne[o];
      let b = (this.bytes[o] & ~w) | (v & w);
      b &= ~(v & c);
      this.bytes[o] = b;
    }
    if (this.onConfigWrite) this.onConfigWrite(offset, value, mask);
    if (this.onBarsChanged && this.barSignature() !== beforeBars) this.onBarsChanged();
  }

  bars(): PciBar[] {
    const out: PciBar[] = [];
    for (const def of this.barDefs) {
      if (!def) continue;
      const base = this.barBase(def);
      if (base === 0 || base === this.sizingPattern(def)) continue;
      if (def.kind === 'io' && base + def.size > 0x10000) continue;
      out.push({ index: def.index, kind: def.kind, base, size: def.size, device: def.device });
    }
    return out;
  }

  decodesMemory(): boolean { return (this.get16(PCI_COMMAND) & CMD_MEMORY) !== 0; }
  decodesIo(): boolean { return (this.get16(PCI_COMMAND) & CMD_IO) !== 0; }
  busMasterEnabled(): boolean { return (this.get16(PCI_COMMAND) & CMD_BUS_MASTER) !== 0; }

  /** Size of BAR `index` as declared (0 when absent). */
  barSize(index: number): number { return this.barDefs[index]?.size ?? 0; }

  /** Current programmed base of BAR `index` (may be unassigned: 0 or the sizing pattern). */
  barAddress(index: number): number {
    const def = this.barDefs[index];
    return def ? this.barBase(def) : 0;
  }

  saveState(): unknown {
    return { bytes: Array.from(this.bytes) };
  }

  restoreState(state: unknown): void {
    const s = state as { bytes?: unknown };
    if (!s || !Array.isArray(s.bytes) || s.bytes.length !== 256) throw new Error(`PCI ${this.name}: bad saved config space`);
    this.bytes.set(s.bytes as number[]);
    if (this.onBarsChanged) this.onBarsChanged();
  }

  // ---- internals ----

  private typeBits(def: BarDef): number {
    if (def.kind === 'io') return 0x1;
    return (def.is64 ? 0x4 : 0) | (def.prefetchable ? 0x8 : 0);
  }

  private writeBarBase(def: BarDef, base: number): void {
    const off = PCI_BAR0 + def.index * 4;
    const lo = (base % 2 ** 32) >>> 0;
    const low = ((lo & this.get32Mask(off)) | this.typeBits(def)) >>> 0;
    this.put32(off, low);
    if (def.is64) this.put32(off + 4, Math.floor(base / 2 ** 32) >>> 0);
  }

  private get32Mask(off: number): number {
    return (this.writable[off] | (this.writable[off + 1] << 8) | (this.writable[off + 2] << 16) | (this.writable[off + 3] << 24)) >>> 0;
  }

  private barBase(def: BarDef): number {
    const off = PCI_BAR0 + def.index * 4;
    const lo = (this.get32(off) & (def.kind === 'io' ? 0xfffffffc : 0xfffffff0)) >>> 0;
    if (!def.is64) return lo;
    return this.get32(off + 4) * 2 ** 32 + lo;
  }

  private sizingPattern(def: BarDef): number {
    const lo = (~(def.size - 1) & (def.kind === 'io' ? 0xfffffffc : 0xfffffff0)) >>> 0;
    return def.is64 ? 0xffffffff * 2 ** 32 + lo : lo;
  }

  private barSignature(): string {
    let s = String(this.get16(PCI_COMMAND) & (CMD_IO | CMD_MEMORY));
    for (let i = 0; i < 6; i++) s += ',' + this.get32(PCI_BAR0 + i * 4);
    return s;
  }
}
