// QEMU's firmware configuration device (fw_cfg) on the PC I/O ports: selector 0x510 (16-bit
// write), data 0x511 (byte reads, offset advancing), and the DMA interface at 0x514-0x51B
// (the 64-bit big-endian address of a control structure, written as two 32-bit halves, high
// first at 0x514, low at 0x518; the low write starts the transfer). Reading the DMA ports
// returns the signature "QEMU CFG". Test guests use it to learn the CPU count and RAM size;
// firmware-style guests can also read the e820 map and the ACPI tables as files.
//
// DMA control structure (guest memory, big-endian): u32 control, u32 length, u64 address.
// control bits: 0x01 error, 0x02 read, 0x04 skip, 0x08 select (key in bits 16-31), 0x10 write.
// Reads past the end of an item deliver zeros; writes are refused (error), as no item is writable.

import type { DecodeRanges, DmaMemory, PortDevice, Snapshotable } from './types.js';
import { restoreFields, saveFields } from './saved-state.js';

export const FW_CFG_PORT_SEL = 0x510;
export const FW_CFG_PORT_DATA = 0x511;
export const FW_CFG_PORT_DMA = 0x514;
/** the selector/data pair (0x510-0x511) and the DMA address ports (0x514-0x51B) */
export const FW_CFG_PORTS: DecodeRanges = { ports: [[FW_CFG_PORT_SEL, 2], [FW_CFG_PORT_DMA, 8]] };

export const FW_CFG_SIGNATURE = 0x0000;
export const FW_CFG_ID = 0x0001;
export const FW_CFG_UUID = 0x0002;
export const FW_CFG_RAM_SIZE = 0x0003;
export const FW_CFG_NB_CPUS = 0x0005;
export const FW_CFG_MAX_CPUS = 0x000f;
export const FW_CFG_FILE_DIR = 0x0019;
export const FW_CFG_FILE_FIRST = 0x0020;

/** what a snapshot keeps (the fields of the same names) */
const SAVED = { selected: 'number', offset: 'number', dmaHigh: 'number' } as const;

const DMA_CTL_ERROR = 0x01;
const DMA_CTL_READ = 0x02;
const DMA_CTL_SKIP = 0x04;
const DMA_CTL_SELECT = 0x08;
const DMA_CTL_WRITE = 0x10;
const DMA_SIGNATURE = new TextEncoder().encode('QEMU CFG');
/** largest single DMA transfer we honour (guards against a garbage length) */
const DMA_MAX_LENGTH = 64 * 1024 * 1024;
const FILE_NAME_LEN = 56;

export interface FwCfgOptions {
  ncores: number;
  maxCpus?: number;
  ramBytes: number;
  uuid?: Uint8Array;
  /** `etc/e820` contents: 20-byte little-endian entries */
  e820?: Uint8Array;
  /** `etc/acpi/rsdp` and `etc/acpi/tables` contents (already placed, absolute pointers) */
  acpiRsdp?: Uint8Array;
  acpiTables?: Uint8Array;
  dma?: DmaMemory;
}

export interface FwCfgStats {
  dmaTransfers: number;
  dmaErrors: number;
  /** accesses in a width the device does not decode */
  badAccesses: number;
}

export class FwCfg implements PortDevice, Snapshotable {
  readonly name = 'fw-cfg';
  readonly stats: FwCfgStats = { dmaTransfers: 0, dmaErrors: 0, badAccesses: 0 };
  private readonly items = new Map<number, Uint8Array>();
  private readonly files: { name: string; key: number }[] = [];
  private selected = 0;
  private offset = 0;
  private dmaHigh = 0;
  private readonly dma?: DmaMemory;

  constructor(o: FwCfgOptions) {
    this.dma = o.dma;
    this.items.set(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.items.set(FW_CFG_ID, le(o.dma ? 3 : 1, 4));
    this.items.set(FW_CFG_UUID, o.uuid ? o.uuid.slice(0, 16) : new Uint8Array(16));
    this.items.set(FW_CFG_RAM_SIZE, le(o.ramBytes, 8));
    this.items.set(FW_CFG_NB_CPUS, le(o.ncores, 2));
    this.items.set(FW_CFG_MAX_CPUS, le(o.maxCpus ?? o.ncores, 2));
    this.addFile('bootorder', new Uint8Array(0));
    if (o.e820) this.addFile('etc/e820', o.e820);
    if (o.acpiRsdp) this.addFile('etc/acpi/rsdp', o.acpiRsdp);
    if (o.acpiTables) this.addFile('etc/acpi/tables', o.acpiTables);
  }

  /** Add (or replace) a named file; returns its selector key. The directory stays name-sorted. */
  addFile(name: string, data: Uint8Array): number {
    const nameBytes = new TextEncoder().encode(name);
    if (nameBytes.length >= FILE_NAME_LEN) throw new Error(`fw_cfg: file name '${name}' longer than ${FILE_NAME_LEN - 1} bytes`);
    const existing = this.files.find((f) => f.name === name);
    if (existing) {
      this.items.set(existing.key, data);
      return existing.key;
    }
    this.files.push({ name, key: -1 });
    this.files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // keys follow directory order, as QEMU assigns them for a sorted directory
    const datas = new Map(this.files.map((f) => [f.name, f.name === name ? data : this.items.get(f.key)!]));
    for (const f of this.files) if (f.key >= 0) this.items.delete(f.key);
    this.files.forEach((f, i) => {
      f.key = FW_CFG_FILE_FIRST + i;
      this.items.set(f.key, datas.get(f.name)!);
    });
    this.rebuildDirectory();
    return this.files.find((f) => f.name === name)!.key;
  }

  /** Set a numbered item directly (for keys beyond the standard set). */
  setItem(key: number, data: Uint8Array): void {
    this.items.set(key & 0xffff, data);
  }

  ioRead(port: number, size: number): number {
    if (port === FW_CFG_PORT_DATA) {
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.nextByte() << (8 * i);
      return v >>> 0;
    }
    if (port >= FW_CFG_PORT_DMA && port < FW_CFG_PORT_DMA + 8) {
      // big-endian register seen through little-endian port I/O: bytes come out in memory order
      let v = 0;
      for (let i = 0; i < size; i++) {
        const k = port - FW_CFG_PORT_DMA + i;
        v |= (k < 8 ? DMA_SIGNATURE[k] : 0) << (8 * i);
      }
      return v >>> 0;
    }
    if (port === FW_CFG_PORT_SEL) return 0;
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }

  ioWrite(port: number, size: number, value: number): void {
    if (port === FW_CFG_PORT_SEL) {
      if (size === 1) {
        this.stats.badAccesses++;
        return;
      }
      this.select(value & 0xffff);
      return;
    }
    if (port === FW_CFG_PORT_DMA || port === FW_CFG_PORT_DMA + 4) {
      if (size !== 4 || !this.dma) {
        this.stats.badAccesses++;
        return;
      }
      const be = bswap32(value);
      if (port === FW_CFG_PORT_DMA) {
        this.dmaHigh = be;
      } else {
        const addr = this.dmaHigh * 2 ** 32 + be;
        this.dmaHigh = 0;
        this.runDma(addr);
      }
      return;
    }
    // writes to the data port are ignored, as QEMU does since 2.4
  }

  private select(key: number): void {
    this.selected = key;
    this.offset = 0;
  }

  private current(): Uint8Array | undefined {
    return this.items.get(this.selected & 0xbfff); // bit 14 was the legacy "write" flag
  }

  private nextByte(): number {
    const item = this.current();
    if (!item || this.offset >= item.length) return 0;
    return item[this.offset++];
  }

  private runDma(addr: number): void {
    const dma = this.dma!;
    this.stats.dmaTransfers++;
    const head = new Uint8Array(16);
    try {
      dma.read(addr, head);
    } catch {
      this.stats.dmaErrors++;
      return; // nowhere to report the error: the structure itself is unreadable
    }
    const dv = new DataView(head.buffer);
    const control = dv.getUint32(0, false);
    let length = dv.getUint32(4, false);
    let target = Number(dv.getBigUint64(8, false));
    let error = false;
    if (control & DMA_CTL_SELECT) this.select(control >>> 16);
    if (control & DMA_CTL_WRITE) {
      error = true;
    } else if (control & (DMA_CTL_READ | DMA_CTL_SKIP)) {
      if (length > DMA_MAX_LENGTH) {
        error = true;
      } else {
        const item = this.current();
        const avail = item ? Math.max(0, item.length - this.offset) : 0;
        const n = Math.min(avail, length);
        if (control & DMA_CTL_READ) {
          const out = new Uint8Array(length);
          if (n > 0) out.set(item!.subarray(this.offset, this.offset + n));
          try {
            dma.write(target, out);
          } catch {
            error = true;
          }
        }
        this.offset += n;
        target += length;
        length = 0;
      }
    }
    if (error) this.stats.dmaErrors++;
    const done = new Uint8Array(4);
    new DataView(done.buffer).setUint32(0, error ? DMA_CTL_ERROR : 0, false);
    try {
      dma.write(addr, done);
    } catch {
      this.stats.dmaErrors++;
    }
  }

  private rebuildDirectory(): void {
    const dir = new Uint8Array(4 + 64 * this.files.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, this.files.length, false);
    this.files.forEach((f, i) => {
      const p = 4 + 64 * i;
      dv.setUint32(p, this.items.get(f.key)!.length, false);
      dv.setUint16(p + 4, f.key, false);
      dir.set(new TextEncoder().encode(f.name), p + 8);
    });
    this.items.set(FW_CFG_FILE_DIR, dir);
  }

  // Item contents come from the machine configuration and are rebuilt with it; only the
  // access position is guest state.
  saveState(): unknown {
    return saveFields(this, SAVED);
  }

  restoreState(state: unknown): void {
    restoreFields(this, 'fw-cfg', state, SAVED);
  }
}

function le(v: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff)) >>> 0;
}
