// virtio-blk (virtio 1.x, 5.2) over the PCI transport: one request queue of 256 entries, as
// QEMU's virtio-blk-pci. A request is a 16-byte header (type, reserved, sector) the device
// reads, data (read or written), and a status byte the device writes last. The sectors live in
// a BlockBackend (src/block): a raw file, or an in-memory overlay for snapshot=on.
//
// Features: SEG_MAX, BLK_SIZE, FLUSH (the guest's flush is an fsync of the file; a driver that
// does not take FLUSH gets write-through: every write is made durable before it completes),
// RO for readonly=on (writes then fail with VIRTIO_BLK_S_IOERR). Requests complete
// synchronously on the I/O thread, inside the notify write.

import type { BlockBackend } from '../../block/block-backend.js';
import { BlockIoError, SECTOR_SIZE } from '../../block/block-backend.js';
import type { DmaMemory, IrqLine, MmioDevice, PciBar, PciFunction, Snapshotable } from '../types.js';
import { bit, type VirtioDeviceModel } from '../virtio/virtio-device.js';
import { VirtioPci } from '../virtio/virtio-pci.js';
import type { Chain, Virtqueue } from '../virtio/virtqueue.js';

export const VIRTIO_ID_BLOCK = 2;

// feature bits (5.2.3)
export const VIRTIO_BLK_F_SIZE_MAX = 1n;
export const VIRTIO_BLK_F_SEG_MAX = 2n;
export const VIRTIO_BLK_F_RO = 5n;
export const VIRTIO_BLK_F_BLK_SIZE = 6n;
export const VIRTIO_BLK_F_FLUSH = 9n;

// request types and statuses (5.2.6)
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

export const QUEUE_SIZE = 256;
/** data buffers per request (the queue size less the header and status, as QEMU) */
export const SEG_MAX = QUEUE_SIZE - 2;
const HEADER = 16;
/** the serial a GET_ID returns is at most this long (no terminating NUL when full) */
export const ID_BYTES = 20;
/** one request moves at most this many data bytes; beyond is IOERR (a guest cannot make us allocate more) */
export const MAX_REQUEST_BYTES = 32 << 20;
/** device configuration: capacity .. num_queues (offsets 0x00-0x23) */
const CONFIG_SIZE = 0x24;

export interface VirtioBlkOptions {
  name?: string;
  backend: BlockBackend;
  dma: DmaMemory;
  irq: IrqLine;
  barBase: number;
  interruptLine: number;
  /** GET_ID's answer (QEMU's serial=) */
  serial?: string;
}

export interface VirtioBlkCounters {
  requests: number;
  reads: number;
  writes: number;
  flushes: number;
  getIds: number;
  /** requests answered VIRTIO_BLK_S_IOERR (out of range, not whole sectors, read-only, host error) */
  ioErrors: number;
  /** request types we do not implement (VIRTIO_BLK_S_UNSUPP) */
  unsupported: number;
  /** chains too short to hold a header and a status byte (no status can be written) */
  malformed: number;
  lastError: string;
}

export class VirtioBlk implements PciFunction, MmioDevice, Snapshotable, VirtioDeviceModel {
  readonly name: string;
  readonly transport: VirtioPci;
  readonly backend: BlockBackend;
  readonly deviceType = VIRTIO_ID_BLOCK;
  readonly queueMaxSizes = [QUEUE_SIZE];
  readonly configSize = CONFIG_SIZE;
  readonly counters: VirtioBlkCounters = { requests: 0, reads: 0, writes: 0, flushes: 0, getIds: 0, ioErrors: 0, unsupported: 0, malformed: 0, lastError: '' };
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private readonly serial: Uint8Array;
  /** FLUSH was negotiated: writes may stay in the host's cache until the guest flushes */
  private writeBack = false;
  private readonly header = new Uint8Array(HEADER);
  private readonly headerView = new DataView(this.header.buffer);

  constructor(o: VirtioBlkOptions) {
    this.name = o.name ?? 'virtio-blk';
    this.backend = o.backend;
    this.serial = new TextEncoder().encode(o.serial ?? '').subarray(0, ID_BYTES);
    const v = new DataView(this.config.buffer);
    const sectors = o.backend.sizeBytes / SECTOR_SIZE;
    v.setUint32(0x00, sectors % 2 ** 32, true); // capacity (512-byte sectors), 64-bit
    v.setUint32(0x04, Math.floor(sectors / 2 ** 32), true);
    v.setUint32(0x0c, SEG_MAX, true); // seg_max
    v.setUint32(0x14, SECTOR_SIZE, true); // blk_size
    v.setUint16(0x22, 1, true); // num_queues (meaningful only with MQ; QEMU fills it anyway)
    this.transport = new VirtioPci({
      name: this.name, dma: o.dma, irq: o.irq, classCode: 0x01, subclass: 0x00, barBase: o.barBase, interruptLine: o.interruptLine,
    }, this);
  }

  // ---- VirtioDeviceModel ----

  deviceFeatures(): bigint {
    return bit(VIRTIO_BLK_F_SEG_MAX) | bit(VIRTIO_BLK_F_BLK_SIZE) | bit(VIRTIO_BLK_F_FLUSH) | (this.backend.readOnly ? bit(VIRTIO_BLK_F_RO) : 0n);
  }

  readConfig(offset: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.config[offset + i];
    return v >>> 0;
  }

  writeConfig(): void {
    // every field is read-only without CONFIG_WCE
  }

  featuresAccepted(features: bigint): void {
    this.writeBack = (features & bit(VIRTIO_BLK_F_FLUSH)) !== 0n;
  }

  reset(): void {
    this.writeBack = false;
  }

  queueNotify(_index: number, q: Virtqueue): void {
    let used = 0;
    for (let chain = q.pop(); chain !== null; chain = q.pop()) {
      q.push(chain.head, this.execute(q, chain));
      used++;
    }
    if (used > 0) this.transport.queueUsed(q);
  }

  // ---- PciFunction / MmioDevice: the transport's ----

  configRead(offset: number): number { return this.transport.configRead(offset); }
  configWrite(offset: number, value: number, mask: number): void { this.transport.configWrite(offset, value, mask); }
  bars(): PciBar[] { return this.transport.bars(); }
  decodesMemory(): boolean { return this.transport.decodesMemory(); }
  decodesIo(): boolean { return this.transport.decodesIo(); }
  mmioRead(offset: number, size: number): number { return this.transport.mmioRead(offset, size); }
  mmioWrite(offset: number, size: number, value: number): void { this.transport.mmioWrite(offset, size, value); }

  // ---- snapshot ----

  saveState(): unknown {
    return { version: 1, writeBack: this.writeBack, transport: this.transport.saveState(), backend: this.backend.saveState() };
  }

  restoreState(state: unknown): void {
    const s = state as { version?: unknown; writeBack?: unknown; transport?: unknown; backend?: unknown } | null;
    if (!s || s.version !== 1) throw new Error(`${this.name}: unsupported saved state`);
    this.transport.restoreState(s.transport);
    this.backend.restoreState(s.backend);
    this.writeBack = !!s.writeBack;
  }

  // ---- requests ----

  /** Carry out one request; returns the bytes written into the chain (data and status). */
  private execute(q: Virtqueue, chain: Chain): number {
    this.counters.requests++;
    if (chain.readableBytes < HEADER || chain.writableBytes < 1) {
      this.counters.malformed++;
      this.counters.lastError = `request chain ${chain.head}: ${chain.readableBytes} readable / ${chain.writableBytes} writable bytes`;
      return 0;
    }
    q.gather(chain, 0, this.header);
    const type = this.headerView.getUint32(0, true);
    const sector = this.headerView.getUint32(8, true) + this.headerView.getUint32(12, true) * 2 ** 32;
    const statusAt = chain.writableBytes - 1;
    let status = VIRTIO_BLK_S_OK;
    let written = 0;
    try {
      switch (type) {
        case VIRTIO_BLK_T_IN: {
          this.counters.reads++;
          const data = this.buffer(statusAt, sector);
          this.backend.read(sector * SECTOR_SIZE, data);
          written = q.scatter(chain, 0, data);
          break;
        }
        case VIRTIO_BLK_T_OUT: {
          this.counters.writes++;
          const data = this.buffer(chain.readableBytes - HEADER, sector);
          if (this.backend.readOnly) throw new BlockIoError('write to a read-only disk (readonly=on)');
          q.gather(chain, HEADER, data);
          this.backend.write(sector * SECTOR_SIZE, data);
          if (!this.writeBack) this.backend.flush();
          break;
        }
        case VIRTIO_BLK_T_FLUSH:
          this.counters.flushes++;
          this.backend.flush();
          break;
        case VIRTIO_BLK_T_GET_ID: {
          this.counters.getIds++;
          const id = new Uint8Array(Math.min(ID_BYTES, statusAt));
          id.set(this.serial.subarray(0, id.length));
          written = q.scatter(chain, 0, id);
          break;
        }
        default:
          this.counters.unsupported++;
          status = VIRTIO_BLK_S_UNSUPP;
      }
    } catch (e) {
      if (!(e instanceof BlockIoError)) throw e;
      this.counters.ioErrors++;
      this.counters.lastError = e.message;
      status = VIRTIO_BLK_S_IOERR;
    }
    q.scatter(chain, statusAt, Uint8Array.of(status));
    return written + 1;
  }

  /** A buffer for `bytes` of data at `sector`, refused unless whole sectors inside the disk. */
  private buffer(bytes: number, sector: number): Uint8Array {
    if (bytes % SECTOR_SIZE !== 0) throw new BlockIoError(`${bytes} data bytes is not whole sectors`);
    if (bytes > MAX_REQUEST_BYTES) throw new BlockIoError(`request of ${bytes} bytes is over ${MAX_REQUEST_BYTES}`);
    if (sector * SECTOR_SIZE + bytes > this.backend.sizeBytes) {
      throw new BlockIoError(`sectors ${sector}+${bytes / SECTOR_SIZE} are past the end of the disk (${this.backend.sizeBytes / SECTOR_SIZE} sectors)`);
    }
    return new Uint8Array(bytes);
  }
}
