// One legacy ATA (IDE) channel with PIO data transfers: the primary channel of the PIIX3 at
// ports 0x1F0-0x1F7 (command block) and 0x3F6 (control block), IRQ 14. It holds a device 0
// (a raw disk image) and no device 1. Enough of ATA/ATAPI-6 (T13 1410D) for a BIOS: software
// reset with the ATA signature, IDENTIFY DEVICE, READ/WRITE SECTORS (LBA28, LBA48 and CHS),
// FLUSH CACHE; the rest is aborted (ERR + ABRT), never ignored. Commands complete at once:
// BSY is never seen, so status polls end on their first read.
//
// The task-file registers are the channel's: a write reaches both device positions, as on the
// cable. Reads with device 1 selected follow QEMU: its status reads 0 (no device), its commands
// are ignored.

import type { DecodeRanges, IrqLine, PortDevice, Snapshotable } from '../types.js';
import { identifyDevice, chsGeometry } from './identify.js';

const SECTOR_SIZE = 512;

/** What holds the disk's bytes: any block-layer backend (src/block) fits this shape. */
export interface AtaBackend {
  /** a multiple of 512 */
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  /** whole sectors at byte `offset`; host I/O errors throw */
  read(offset: number, dst: Uint8Array): void;
  write(offset: number, src: Uint8Array): void;
  flush(): void;
}

export const ATA_PRIMARY_CMD = 0x1f0;
export const ATA_PRIMARY_CTRL = 0x3f6;
export const ATA_PRIMARY_IRQ = 14;
export const ATA_PRIMARY_PORTS: DecodeRanges = { ports: [[ATA_PRIMARY_CMD, 8], [ATA_PRIMARY_CTRL, 1]] };

// status register bits
const ST_BSY = 0x80;
const ST_DRDY = 0x40;
const ST_DSC = 0x10;
const ST_DRQ = 0x08;
const ST_ERR = 0x01;
// error register bits
const ER_ABRT = 0x04;
const ER_IDNF = 0x10;
const ER_UNC = 0x40;
// device control bits
const DC_NIEN = 0x02;
const DC_SRST = 0x04;
const DC_HOB = 0x80;
// device/head bits
const DH_DEV1 = 0x10;
const DH_LBA = 0x40;

const CMD_READ_SECTORS = 0x20;
const CMD_READ_SECTORS_NR = 0x21;
const CMD_READ_SECTORS_EXT = 0x24;
const CMD_WRITE_SECTORS = 0x30;
const CMD_WRITE_SECTORS_NR = 0x31;
const CMD_WRITE_SECTORS_EXT = 0x34;
const CMD_READ_VERIFY = 0x40;
const CMD_READ_VERIFY_NR = 0x41;
const CMD_READ_VERIFY_EXT = 0x42;
const CMD_INIT_DEVICE_PARAMS = 0x91;
const CMD_IDENTIFY_PACKET = 0xa1;
const CMD_FLUSH_CACHE = 0xe7;
const CMD_FLUSH_CACHE_EXT = 0xea;
const CMD_IDENTIFY = 0xec;
const CMD_SET_FEATURES = 0xef;

export interface AtaStats {
  commands: number;
  sectorsRead: number;
  sectorsWritten: number;
  /** commands refused with ABRT (unsupported) or IDNF (outside the disk) */
  aborted: number;
  /** host I/O errors, reported to the guest as UNC (read) or ABRT (write, flush) */
  ioErrors: number;
}

type Phase = 'idle' | 'data-in' | 'data-out';

export class AtaChannel implements PortDevice, Snapshotable {
  readonly name = 'ata0';
  readonly stats: AtaStats = { commands: 0, sectorsRead: 0, sectorsWritten: 0, aborted: 0, ioErrors: 0 };
  // task file: current and previous ("HOB") values of the 48-bit registers
  private feature = 0;
  private count = [0, 0];
  private lbaLow = [0, 0];
  private lbaMid = [0, 0];
  private lbaHigh = [0, 0];
  private device = 0;
  private status = ST_DRDY | ST_DSC;
  private error = 0x01;
  private control = 0;
  private irqPending = false;
  // the PIO data phase
  private phase: Phase = 'idle';
  private readonly buffer = new Uint8Array(SECTOR_SIZE);
  private pos = 0;
  private lba = 0;
  private remaining = 0;

  private readonly sectors: number;

  constructor(private readonly disk: AtaBackend, private readonly irq: IrqLine, private readonly serial = 'PX0001') {
    this.sectors = Math.floor(disk.sizeBytes / SECTOR_SIZE);
    this.softReset();
  }

  // ---------------------------------------------------------------- ports

  ioRead(port: number, size: number): number {
    if (port === ATA_PRIMARY_CTRL) return this.readStatus(false);
    const reg = port - ATA_PRIMARY_CMD;
    if (reg === 0) return this.readData(size);
    const hob = (this.control & DC_HOB) !== 0 ? 1 : 0;
    switch (reg) {
      case 1: return this.error;
      case 2: return this.count[hob];
      case 3: return this.lbaLow[hob];
      case 4: return this.lbaMid[hob];
      case 5: return this.lbaHigh[hob];
      case 6: return this.device;
      default: return this.readStatus(true);
    }
  }

  ioWrite(port: number, size: number, value: number): void {
    if (port === ATA_PRIMARY_CTRL) {
      this.writeControl(value & 0xff);
      return;
    }
    const reg = port - ATA_PRIMARY_CMD;
    if (reg === 0) {
      this.writeData(size, value);
      return;
    }
    const v = value & 0xff;
    this.control &= ~DC_HOB; // a task-file write clears HOB (ATA-6 6.2.5)
    switch (reg) {
      case 1: this.feature = v; return;
      case 2: this.count = [v, this.count[0]]; return;
      case 3: this.lbaLow = [v, this.lbaLow[0]]; return;
      case 4: this.lbaMid = [v, this.lbaMid[0]]; return;
      case 5: this.lbaHigh = [v, this.lbaHigh[0]]; return;
      case 6: this.device = v | 0xa0; return;
      default: this.command(v);
    }
  }

  // ---------------------------------------------------------------- registers

  private dev1(): boolean {
    return (this.device & DH_DEV1) !== 0;
  }

  private readStatus(clearsInterrupt: boolean): number {
    if (this.dev1()) return 0; // no device 1
    if (clearsInterrupt) this.setIrq(false);
    return this.status;
  }

  private writeControl(v: number): void {
    const wasReset = (this.control & DC_SRST) !== 0;
    this.control = v;
    if (wasReset && (v & DC_SRST) === 0) this.softReset();
    else if ((v & DC_SRST) !== 0) this.status = ST_BSY;
    this.updateIrq();
  }

  /** The end of a software reset: the ATA signature in the task file, diagnostics passed. */
  private softReset(): void {
    this.count = [1, 0];
    this.lbaLow = [1, 0];
    this.lbaMid = [0, 0];
    this.lbaHigh = [0, 0];
    this.device = 0xa0;
    this.error = 0x01;
    this.status = ST_DRDY | ST_DSC;
    this.phase = 'idle';
    this.setIrq(false);
  }

  private setIrq(on: boolean): void {
    this.irqPending = on;
    this.updateIrq();
  }

  private updateIrq(): void {
    this.irq.setLevel(this.irqPending && (this.control & DC_NIEN) === 0);
  }

  // ---------------------------------------------------------------- commands

  private command(cmd: number): void {
    if (this.dev1()) return; // commands to an absent device 1 are not answered (as QEMU)
    this.stats.commands++;
    this.phase = 'idle';
    this.error = 0;
    switch (cmd) {
      case CMD_IDENTIFY:
        this.buffer.set(identifyDevice(this.sectors, this.serial));
        this.startDataIn(1, 0, true);
        return;
      case CMD_READ_SECTORS: case CMD_READ_SECTORS_NR: case CMD_READ_SECTORS_EXT:
      case CMD_WRITE_SECTORS: case CMD_WRITE_SECTORS_NR: case CMD_WRITE_SECTORS_EXT:
      case CMD_READ_VERIFY: case CMD_READ_VERIFY_NR: case CMD_READ_VERIFY_EXT: {
        const ext = cmd === CMD_READ_SECTORS_EXT || cmd === CMD_WRITE_SECTORS_EXT || cmd === CMD_READ_VERIFY_EXT;
        const t = this.transfer(ext);
        if (t === null) {
          this.abort(ER_IDNF);
          return;
        }
        if (cmd === CMD_READ_VERIFY || cmd === CMD_READ_VERIFY_NR || cmd === CMD_READ_VERIFY_EXT) {
          this.complete();
        } else if (cmd === CMD_WRITE_SECTORS || cmd === CMD_WRITE_SECTORS_NR || cmd === CMD_WRITE_SECTORS_EXT) {
          if (this.disk.readOnly) {
            this.abort(ER_ABRT);
            return;
          }
          this.lba = t.lba;
          this.remaining = t.count;
          this.pos = 0;
          this.phase = 'data-out';
          this.status = ST_DRDY | ST_DSC | ST_DRQ; // the first sector is asked for without an interrupt
        } else {
          this.startDataIn(t.count, t.lba, false);
        }
        return;
      }
      case CMD_FLUSH_CACHE: case CMD_FLUSH_CACHE_EXT:
        if (this.hostIo(() => this.disk.flush())) this.complete();
        else this.ioError(ER_ABRT);
        return;
      case CMD_SET_FEATURES: case CMD_INIT_DEVICE_PARAMS:
        // transfer-mode and geometry settings change nothing for a PIO-only, LBA-capable disk
        this.complete();
        return;
      case CMD_IDENTIFY_PACKET:
      default:
        this.abort(ER_ABRT);
    }
  }

  /** The command's first sector and sector count, or null if it runs past the end of the disk. */
  private transfer(ext: boolean): { lba: number; count: number } | null {
    let lba: number;
    let count: number;
    if (ext) {
      lba = (this.lbaHigh[1] * 2 ** 40) + (this.lbaMid[1] * 2 ** 32) + (this.lbaLow[1] * 2 ** 24) +
        (this.lbaHigh[0] << 16) + (this.lbaMid[0] << 8) + this.lbaLow[0];
      count = ((this.count[1] << 8) | this.count[0]) || 65536;
    } else {
      count = this.count[0] || 256;
      if (this.device & DH_LBA) {
        lba = ((this.device & 0x0f) << 24) + (this.lbaHigh[0] << 16) + (this.lbaMid[0] << 8) + this.lbaLow[0];
      } else {
        const g = chsGeometry(this.sectors);
        const cyl = (this.lbaHigh[0] << 8) | this.lbaMid[0];
        const head = this.device & 0x0f;
        const sector = this.lbaLow[0];
        if (sector === 0 || sector > g.sectorsPerTrack || head >= g.heads) return null;
        lba = (cyl * g.heads + head) * g.sectorsPerTrack + sector - 1;
      }
    }
    if (lba + count > this.sectors) return null;
    return { lba, count };
  }

  private startDataIn(count: number, lba: number, prefilled: boolean): void {
    this.lba = lba;
    this.remaining = count;
    if (!prefilled && !this.loadSector()) return;
    this.pos = 0;
    this.phase = 'data-in';
    this.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.setIrq(true);
  }

  /** Read the current sector into the buffer; false (the command ended in error) on a host I/O error. */
  private loadSector(): boolean {
    if (!this.hostIo(() => this.disk.read(this.lba * SECTOR_SIZE, this.buffer))) {
      this.ioError(ER_UNC);
      return false;
    }
    this.stats.sectorsRead++;
    return true;
  }

  private hostIo(op: () => void): boolean {
    try {
      op();
      return true;
    } catch {
      this.stats.ioErrors++;
      return false;
    }
  }

  /** end the command after a host I/O error (already counted in stats.ioErrors) */
  private ioError(err: number): void {
    this.abort(err, false);
  }

  private complete(): void {
    this.phase = 'idle';
    this.status = ST_DRDY | ST_DSC;
    this.setIrq(true);
  }

  private abort(err: number, refused = true): void {
    if (refused) this.stats.aborted++;
    this.phase = 'idle';
    this.error = err;
    this.status = ST_DRDY | ST_DSC | ST_ERR;
    this.setIrq(true);
  }

  // ---------------------------------------------------------------- data port

  private readData(size: number): number {
    if (this.phase !== 'data-in' || this.dev1()) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    const n = Math.min(size, SECTOR_SIZE - this.pos);
    let v = 0;
    for (let i = 0; i < n; i++) v |= this.buffer[this.pos + i] << (8 * i);
    this.pos += n;
    if (this.pos >= SECTOR_SIZE) this.sectorDone();
    return v >>> 0;
  }

  private writeData(size: number, value: number): void {
    if (this.phase !== 'data-out' || this.dev1()) return;
    const n = Math.min(size, SECTOR_SIZE - this.pos);
    for (let i = 0; i < n; i++) this.buffer[this.pos + i] = (value >>> (8 * i)) & 0xff;
    this.pos += n;
    if (this.pos >= SECTOR_SIZE) this.sectorDone();
  }

  /** A whole sector went through the data port: the next one, or the end of the command. */
  private sectorDone(): void {
    if (this.phase === 'data-out') {
      if (!this.hostIo(() => this.disk.write(this.lba * SECTOR_SIZE, this.buffer))) {
        this.ioError(ER_ABRT);
        return;
      }
      this.stats.sectorsWritten++;
    }
    this.lba++;
    this.remaining--;
    this.pos = 0;
    if (this.remaining <= 0) {
      const wasWrite = this.phase === 'data-out';
      this.phase = 'idle';
      this.status = ST_DRDY | ST_DSC;
      if (wasWrite) this.setIrq(true); // a write's completion interrupts; a read's last DRQ did
      return;
    }
    if (this.phase === 'data-in' && !this.loadSector()) return;
    this.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.setIrq(true);
  }

  // ---------------------------------------------------------------- snapshots

  saveState(): unknown {
    return {
      feature: this.feature, count: this.count, lbaLow: this.lbaLow, lbaMid: this.lbaMid, lbaHigh: this.lbaHigh,
      device: this.device, status: this.status, error: this.error, control: this.control, irqPending: this.irqPending,
      phase: this.phase, buffer: Array.from(this.buffer), pos: this.pos, lba: this.lba, remaining: this.remaining,
    };
  }

  restoreState(state: unknown): void {
    const s = state as Record<string, unknown>;
    if (!s || typeof s.status !== 'number' || !Array.isArray(s.buffer) || s.buffer.length !== SECTOR_SIZE) {
      throw new Error('ata0: bad saved state');
    }
    this.feature = s.feature as number;
    this.count = s.count as number[]; this.lbaLow = s.lbaLow as number[]; this.lbaMid = s.lbaMid as number[]; this.lbaHigh = s.lbaHigh as number[];
    this.device = s.device as number; this.status = s.status; this.error = s.error as number; this.control = s.control as number;
    this.phase = s.phase as Phase; this.buffer.set(s.buffer as number[]); this.pos = s.pos as number;
    this.lba = s.lba as number; this.remaining = s.remaining as number;
    this.setIrq(s.irqPending === true);
  }
}
