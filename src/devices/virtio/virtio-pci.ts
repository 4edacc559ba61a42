// The virtio 1.x PCI transport ("modern" interface, specification 4.1): a PCI function whose
// vendor-specific capabilities point into one 64-bit memory BAR laid out as QEMU lays out its
// virtio-pci devices:
//
//   BAR4 + 0x0000  common configuration (features, status, queue set-up)
//   BAR4 + 0x1000  ISR status (read clears; bit 0 used buffers, bit 1 configuration change)
//   BAR4 + 0x2000  device-specific configuration (the model's)
//   BAR4 + 0x3000  notifications: queue q at 0x3000 + 4q (notify_off_multiplier 4)
//
// A VIRTIO_PCI_CAP_PCI_CFG capability gives the same registers through configuration space
// (firmware in 32-bit mode uses it when BAR4 lies above 4 GiB; the specification requires it).
// Interrupts are INTx (level, held while ISR is not zero); there is no MSI-X, so the MSI-X
// vector fields read VIRTIO_MSI_NO_VECTOR and drivers fall back to INTx as the specification
// allows. No legacy (0.9.5) I/O BAR: the PCI device ID is the modern 0x1040 + type.

import { PciConfigSpace, PCI_VENDOR_RED_HAT, QEMU_SUBSYSTEM, CMD_BUS_MASTER, CMD_INTX_DISABLE, CMD_MEMORY, PCI_COMMAND } from '../pci-config-space.js';
import type { DmaMemory, IrqLine, MmioDevice, PciBar, PciFunction, Snapshotable } from '../types.js';
import { Virtqueue, VirtqueueError, type VirtqueueState } from './virtqueue.js';
import {
  bit, STATUS_DEVICE_NEEDS_RESET, STATUS_DRIVER_OK, STATUS_FEATURES_OK, VIRTIO_F_VERSION_1, VIRTIO_RING_F_INDIRECT_DESC,
  type VirtioDeviceModel,
} from './virtio-device.js';

export const VIRTIO_PCI_VENDOR_ID = PCI_VENDOR_RED_HAT;
export const VIRTIO_PCI_DEVICE_ID_BASE = 0x1040;

export const VIRTIO_BAR = 4;
export const VIRTIO_BAR_SIZE = 0x4000;
export const COMMON_OFFSET = 0x0000;
export const ISR_OFFSET = 0x1000;
export const DEVICE_OFFSET = 0x2000;
export const NOTIFY_OFFSET = 0x3000;
export const NOTIFY_MULTIPLIER = 4;
const REGION = 0x1000;

// capability types (4.1.4)
const CAP_VENDOR = 0x09;
export const CAP_COMMON_CFG = 1;
export const CAP_NOTIFY_CFG = 2;
export const CAP_ISR_CFG = 3;
export const CAP_DEVICE_CFG = 4;
export const CAP_PCI_CFG = 5;

// common configuration layout (4.1.4.3); 64-bit fields are two 32-bit halves
export const COMMON_DFSELECT = 0x00;
export const COMMON_DF = 0x04;
export const COMMON_GFSELECT = 0x08;
export const COMMON_GF = 0x0c;
export const COMMON_MSIX = 0x10;
export const COMMON_NUMQ = 0x12;
export const COMMON_STATUS = 0x14;
export const COMMON_CFGGENERATION = 0x15;
export const COMMON_Q_SELECT = 0x16;
export const COMMON_Q_SIZE = 0x18;
export const COMMON_Q_MSIX = 0x1a;
export const COMMON_Q_ENABLE = 0x1c;
export const COMMON_Q_NOFF = 0x1e;
export const COMMON_Q_DESCLO = 0x20;
export const COMMON_Q_DESCHI = 0x24;
export const COMMON_Q_AVAILLO = 0x28;
export const COMMON_Q_AVAILHI = 0x2c;
export const COMMON_Q_USEDLO = 0x30;
export const COMMON_Q_USEDHI = 0x34;
const COMMON_SIZE = 0x38;
/** field offset -> width in bytes */
const COMMON_FIELDS: [number, number][] = [
  [COMMON_DFSELECT, 4], [COMMON_DF, 4], [COMMON_GFSELECT, 4], [COMMON_GF, 4], [COMMON_MSIX, 2], [COMMON_NUMQ, 2],
  [COMMON_STATUS, 1], [COMMON_CFGGENERATION, 1], [COMMON_Q_SELECT, 2], [COMMON_Q_SIZE, 2], [COMMON_Q_MSIX, 2],
  [COMMON_Q_ENABLE, 2], [COMMON_Q_NOFF, 2], [COMMON_Q_DESCLO, 4], [COMMON_Q_DESCHI, 4], [COMMON_Q_AVAILLO, 4],
  [COMMON_Q_AVAILHI, 4], [COMMON_Q_USEDLO, 4], [COMMON_Q_USEDHI, 4],
];
const FIELD_AT: number[] = new Array(COMMON_SIZE).fill(-1);
for (const [off, w] of COMMON_FIELDS) for (let i = 0; i < w; i++) FIELD_AT[off + i] = off;
const FIELD_WIDTH = new Map(COMMON_FIELDS);
const NO_VECTOR = 0xffff;

const ISR_QUEUE = 1;
const ISR_CONFIG = 2;

/** Transport features every virtio-pci device here offers. */
const TRANSPORT_FEATURES = bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_RING_F_INDIRECT_DESC);

export interface VirtioPciOptions {
  name: string;
  dma: DmaMemory;
  irq: IrqLine;
  /** PCI class (QEMU: 0x01/0x00 for block) */
  classCode: number;
  subclass: number;
  /** firmware-assigned BAR4 base (PciBarAllocator) */
  barBase: number;
  /** the GSI written to the interrupt-line register */
  interruptLine: number;
}

export interface VirtioPciCounters {
  notifies: number;
  /** notifies before DRIVER_OK or for a queue that is not enabled (ignored) */
  notifiesIgnored: number;
  /** malformed rings: the device then sets DEVICE_NEEDS_RESET */
  badRings: number;
  /** the last malformed ring's reason */
  lastBadRing: string;
  /** FEATURES_OK refused: the driver accepted features not offered, or not VERSION_1 */
  featuresRefused: number;
  interrupts: number;
}

export class VirtioPci implements PciFunction, MmioDevice, Snapshotable {
  readonly name: string;
  readonly pci: PciConfigSpace;
  readonly queues: Virtqueue[];
  readonly counters: VirtioPciCounters = { notifies: 0, notifiesIgnored: 0, badRings: 0, lastBadRing: '', featuresRefused: 0, interrupts: 0 };
  private readonly irq: IrqLine;
  private status = 0;
  private dfSelect = 0;
  private gfSelect = 0;
  private driverFeatures = 0n;
  private queueSelect = 0;
  private isr = 0;
  private configGeneration = 0;
  private irqAsserted = false;
  /** offset of the PCI_CFG capability in configuration space */
  private readonly pciCfgCap: number;

  constructor(opts: VirtioPciOptions, private readonly model: VirtioDeviceModel) {
    this.name = opts.name;
    this.irq = opts.irq;
    this.queues = model.queueMaxSizes.map((n) => new Virtqueue(opts.dma, n));
    this.pci = new PciConfigSpace(opts.name, {
      vendorId: VIRTIO_PCI_VENDOR_ID, deviceId: VIRTIO_PCI_DEVICE_ID_BASE + model.deviceType, revision: 1,
      classCode: opts.classCode, subclass: opts.subclass, ...QEMU_SUBSYSTEM,
      interruptPin: 1, interruptLine: opts.interruptLine,
    });
    this.pci.defineBar(VIRTIO_BAR, 'mmio', VIRTIO_BAR_SIZE, this, { base: opts.barBase, is64: true, prefetchable: true });
    this.addCap(CAP_COMMON_CFG, COMMON_OFFSET, REGION);
    this.addCap(CAP_ISR_CFG, ISR_OFFSET, REGION);
    this.addCap(CAP_DEVICE_CFG, DEVICE_OFFSET, REGION);
    this.addCap(CAP_NOTIFY_CFG, NOTIFY_OFFSET, REGION, NOTIFY_MULTIPLIER);
    // PCI_CFG: bar, offset and length are the driver's to set; pci_cfg_data is the window
    const cfgBody = new Uint8Array(18);
    cfgBody[0] = 20;
    cfgBody[1] = CAP_PCI_CFG;
    const cfgWritable = new Uint8Array(18);
    cfgWritable[2] = 0xff; // bar
    cfgWritable.fill(0xff, 6, 18); // offset, length, pci_cfg_data
    this.pciCfgCap = this.pci.addCapability(CAP_VENDOR, cfgBody, cfgWritable);
    this.pci.setCommand(CMD_MEMORY | CMD_BUS_MASTER);
    this.pci.onConfigWrite = (off, value, mask) => {
      if (off === PCI_COMMAND) this.updateIrq();
      if (off === this.pciCfgCap + 16) this.pciCfgAccess(true, value, mask);
    };
  }

  /** Every feature bit offered: the model's and the transport's. */
  offeredFeatures(): bigint {
    return this.model.deviceFeatures() | TRANSPORT_FEATURES;
  }

  deviceStatus(): number { return this.status; }
  negotiatedFeatures(): bigint { return this.driverFeatures; }

  /** The model used buffers on a queue: raise the queue interrupt unless the driver suppressed it. */
  queueUsed(queue: Virtqueue): void {
    if (queue.wantsInterrupt()) this.raise(ISR_QUEUE);
  }

  /** The model's configuration changed (capacity, ...). */
  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) & 0xff;
    this.raise(ISR_CONFIG);
  }

  // ---- PciFunction ----

  configRead(offset: number): number {
    if (offset === this.pciCfgCap + 16) this.pciCfgAccess(false, 0, 0);
    return this.pci.configRead(offset);
  }
  configWrite(offset: number, value: number, mask: number): void { this.pci.configWrite(offset, value, mask); }
  bars(): PciBar[] { return this.pci.bars(); }
  decodesMemory(): boolean { return this.pci.decodesMemory(); }
  decodesIo(): boolean { return this.pci.decodesIo(); }

  // ---- BAR4 ----

  mmioRead(offset: number, size: number): number {
    if (offset < COMMON_OFFSET + COMMON_SIZE) return this.readCommon(offset, size);
    if (offset >= ISR_OFFSET && offset < ISR_OFFSET + REGION) {
      if (offset !== ISR_OFFSET) return 0;
      const v = this.isr;
      this.isr = 0;
      this.updateIrq();
      return v;
    }
    if (offset >= DEVICE_OFFSET && offset < DEVICE_OFFSET + REGION) {
      const o = offset - DEVICE_OFFSET;
      return o + size <= this.model.configSize ? this.model.readConfig(o, size) >>> 0 : 0;
    }
    return 0;
  }

  mmioWrite(offset: number, size: number, value: number): void {
    if (offset < COMMON_OFFSET + COMMON_SIZE) { this.writeCommon(offset, size, value); return; }
    if (offset >= DEVICE_OFFSET && offset < DEVICE_OFFSET + REGION) {
      const o = offset - DEVICE_OFFSET;
      if (o + size <= this.model.configSize) this.model.writeConfig(o, size, value);
      return;
    }
    if (offset >= NOTIFY_OFFSET && offset < NOTIFY_OFFSET + REGION) this.notify((offset - NOTIFY_OFFSET) / NOTIFY_MULTIPLIER);
  }

  // ---- snapshot ----

  saveState(): unknown {
    return {
      version: 1,
      status: this.status, dfSelect: this.dfSelect, gfSelect: this.gfSelect, driverFeatures: this.driverFeatures.toString(16),
      queueSelect: this.queueSelect, isr: this.isr, configGeneration: this.configGeneration,
      queues: this.queues.map((q) => q.saveState()), pci: this.pci.saveState(),
    };
  }

  restoreState(state: unknown): void {
    const s = state as Record<string, unknown> | null;
    if (!s || s.version !== 1 || !Array.isArray(s.queues) || s.queues.length !== this.queues.length || typeof s.driverFeatures !== 'string') {
      throw new Error(`${this.name}: unsupported saved state`);
    }
    this.pci.restoreState(s.pci);
    this.status = Number(s.status) & 0xff;
    this.dfSelect = Number(s.dfSelect) >>> 0;
    this.gfSelect = Number(s.gfSelect) >>> 0;
    this.driverFeatures = BigInt('0x' + (s.driverFeatures || '0'));
    this.queueSelect = Number(s.queueSelect) & 0xffff;
    this.isr = Number(s.isr) & 3;
    this.configGeneration = Number(s.configGeneration) & 0xff;
    (s.queues as VirtqueueState[]).forEach((q, i) => this.queues[i].restoreState(q));
    this.applyRingFeatures();
    this.irqAsserted = false;
    this.irq.setLevel(false);
    this.updateIrq();
  }

  // ---- internals ----

  private addCap(type: number, offset: number, length: number, multiplier?: number): void {
    const body = new Uint8Array(multiplier === undefined ? 14 : 18);
    const v = new DataView(body.buffer);
    body[0] = body.length + 2; // cap_len counts the id and next bytes too
    body[1] = type;
    body[2] = VIRTIO_BAR;
    v.setUint32(6, offset, true);
    v.setUint32(10, length, true);
    if (multiplier !== undefined) v.setUint32(14, multiplier, true);
    this.pci.addCapability(CAP_VENDOR, body);
  }

  /** An access through the PCI_CFG window: `length` bytes at `offset` of BAR `bar` (4.1.4.9). */
  private pciCfgAccess(write: boolean, value: number, mask: number): void {
    const c = this.pciCfgCap;
    const bar = this.pci.get8(c + 4);
    const offset = this.pci.get32(c + 8);
    const length = this.pci.get32(c + 12);
    if (bar !== VIRTIO_BAR || (length !== 1 && length !== 2 && length !== 4) || offset % length !== 0 || offset + length > VIRTIO_BAR_SIZE) return;
    if (write) {
      if (mask !== 0xffffffff && (mask & ((2 ** (8 * length)) - 1)) === 0) return;
      this.mmioWrite(offset, length, length === 4 ? value >>> 0 : value & ((1 << (8 * length)) - 1));
    } else {
      this.pci.put32(c + 16, this.mmioRead(offset, length));
    }
  }

  private selected(): Virtqueue | undefined {
    return this.queues[this.queueSelect];
  }

  private commonField(field: number): number {
    const q = this.selected();
    switch (field) {
      case COMMON_DFSELECT: return this.dfSelect;
      case COMMON_DF: return this.dfSelect > 1 ? 0 : Number((this.offeredFeatures() >> BigInt(32 * this.dfSelect)) & 0xffffffffn);
      case COMMON_GFSELECT: return this.gfSelect;
      case COMMON_GF: return this.gfSelect > 1 ? 0 : Number((this.driverFeatures >> BigInt(32 * this.gfSelect)) & 0xffffffffn);
      case COMMON_MSIX: return NO_VECTOR;
      case COMMON_NUMQ: return this.queues.length;
      case COMMON_STATUS: return this.status;
      case COMMON_CFGGENERATION: return this.configGeneration;
      case COMMON_Q_SELECT: return this.queueSelect;
      case COMMON_Q_SIZE: return q ? q.size : 0; // 0: no such queue
      case COMMON_Q_MSIX: return NO_VECTOR;
      case COMMON_Q_ENABLE: return q?.ready ? 1 : 0;
      case COMMON_Q_NOFF: return q ? this.queueSelect : 0;
      case COMMON_Q_DESCLO: return q ? q.descAddr % 2 ** 32 : 0;
      case COMMON_Q_DESCHI: return q ? Math.floor(q.descAddr / 2 ** 32) : 0;
      case COMMON_Q_AVAILLO: return q ? q.availAddr % 2 ** 32 : 0;
      case COMMON_Q_AVAILHI: return q ? Math.floor(q.availAddr / 2 ** 32) : 0;
      case COMMON_Q_USEDLO: return q ? q.usedAddr % 2 ** 32 : 0;
      case COMMON_Q_USEDHI: return q ? Math.floor(q.usedAddr / 2 ** 32) : 0;
      default: return 0;
    }
  }

  private readCommon(offset: number, size: number): number {
    const field = FIELD_AT[offset];
    if (field === undefined || field < 0) return 0;
    const shift = 8 * (offset - field);
    const v = this.commonField(field) >>> 0;
    const mask = size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    return shift >= 32 ? 0 : ((v >>> shift) & mask) >>> 0;
  }

  private writeCommon(offset: number, size: number, value: number): void {
    const field = FIELD_AT[offset];
    if (field === undefined || field < 0) return;
    const width = FIELD_WIDTH.get(field)!;
    const shift = 8 * (offset - field);
    let v: number;
    if (shift === 0 && size >= width) {
      v = width === 4 ? value >>> 0 : value & ((1 << (8 * width)) - 1);
    } else {
      // a narrower write into a field: merge its bytes into the current value
      const mask = ((size === 4 ? 0xffffffff : (1 << (8 * size)) - 1) << shift) >>> 0;
      v = ((this.commonField(field) & ~mask) | ((value << shift) & mask)) >>> 0;
      if (width < 4) v &= (1 << (8 * width)) - 1;
    }
    const q = this.selected();
    const hi = (x: number) => v * 2 ** 32 + (x % 2 ** 32);
    const lo = (x: number) => Math.floor(x / 2 ** 32) * 2 ** 32 + v;
    switch (field) {
      case COMMON_DFSELECT: this.dfSelect = v; return;
      case COMMON_GFSELECT: this.gfSelect = v; return;
      case COMMON_GF: {
        if (this.gfSelect > 1 || (this.status & STATUS_FEATURES_OK)) return; // frozen once FEATURES_OK
        const sh = BigInt(32 * this.gfSelect);
        this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << sh)) | (BigInt(v) << sh);
        return;
      }
      case COMMON_STATUS: this.writeStatus(v); return;
      case COMMON_Q_SELECT: this.queueSelect = v; return;
      case COMMON_Q_SIZE:
        // a power of two no larger than the maximum, before the queue is enabled
        if (q && !q.ready && v > 0 && v <= q.maxSize && (v & (v - 1)) === 0) q.size = v;
        return;
      case COMMON_Q_ENABLE:
        if (q && v === 1) q.ready = true;
        return;
      case COMMON_Q_DESCLO: if (q && !q.ready) q.descAddr = lo(q.descAddr); return;
      case COMMON_Q_DESCHI: if (q && !q.ready) q.descAddr = hi(q.descAddr); return;
      case COMMON_Q_AVAILLO: if (q && !q.ready) q.availAddr = lo(q.availAddr); return;
      case COMMON_Q_AVAILHI: if (q && !q.ready) q.availAddr = hi(q.availAddr); return;
      case COMMON_Q_USEDLO: if (q && !q.ready) q.usedAddr = lo(q.usedAddr); return;
      case COMMON_Q_USEDHI: if (q && !q.ready) q.usedAddr = hi(q.usedAddr); return;
      default: return; // read-only fields and MSI-X vectors (no MSI-X)
    }
  }

  private writeStatus(v: number): void {
    if (v === 0) { this.reset(); return; }
    if ((v & STATUS_FEATURES_OK) && !(this.status & STATUS_FEATURES_OK)) {
      const unknown = this.driverFeatures & ~this.offeredFeatures();
      if (unknown !== 0n || !(this.driverFeatures & bit(VIRTIO_F_VERSION_1))) {
        this.counters.featuresRefused++;
        v &= ~STATUS_FEATURES_OK; // the driver reads it back and gives up (3.1.1 step 6)
      } else {
        this.applyRingFeatures();
        this.model.featuresAccepted(this.driverFeatures);
      }
    }
    this.status = (v & 0xff) | (this.status & STATUS_DEVICE_NEEDS_RESET);
  }

  private applyRingFeatures(): void {
    const indirect = (this.driverFeatures & bit(VIRTIO_RING_F_INDIRECT_DESC)) !== 0n;
    for (const q of this.queues) q.indirect = indirect;
  }

  private reset(): void {
    this.status = 0;
    this.dfSelect = this.gfSelect = 0;
    this.driverFeatures = 0n;
    this.queueSelect = 0;
    this.isr = 0;
    for (const q of this.queues) q.reset();
    this.applyRingFeatures();
    this.model.reset();
    this.updateIrq();
  }

  private notify(index: number): void {
    this.counters.notifies++;
    const q = this.queues[index];
    if (!q || !q.ready || !(this.status & STATUS_DRIVER_OK) || (this.status & STATUS_DEVICE_NEEDS_RESET)) {
      this.counters.notifiesIgnored++;
      return;
    }
    try {
      this.model.queueNotify(index, q);
    } catch (e) {
      if (!(e instanceof VirtqueueError)) throw e;
      this.counters.badRings++;
      this.counters.lastBadRing = `queue ${index}: ${e.message}`;
      this.status |= STATUS_DEVICE_NEEDS_RESET;
      this.configChanged();
    }
  }

  private raise(bits: number): void {
    this.isr |= bits;
    this.updateIrq();
  }

  private updateIrq(): void {
    const want = this.isr !== 0 && !(this.pci.command() & CMD_INTX_DISABLE);
    this.pci.setInterruptStatus(this.isr !== 0);
    if (want === this.irqAsserted) return;
    this.irqAsserted = want;
    if (want) this.counters.interrupts++;
    this.irq.setLevel(want);
  }
}
