// I/O APIC (Intel 82093AA datasheet), on the I/O thread, MMIO window at 0xFEC00000.
//
// Indirect registers: IOREGSEL (offset 0x00) selects, IOWIN (offset 0x10) reads/writes; the
// EOI register (offset 0x40) takes a vector, as on QEMU's version-0x20 IOAPIC.
//   0x00 ID (bits 27:24), 0x01 version (RO), 0x02 arbitration ID (RO),
//   0x10 + 2n / 0x11 + 2n  redirection entry n, low / high dword.
// Pins take logical levels (1 = asserted); the polarity bit is stored but, as in QEMU, not
// applied: every source in this machine reports "asserted" rather than an electrical level.
// Edge pins deliver on a rising edge while unmasked (an edge on a masked pin is dropped, as the
// datasheet says). Level pins deliver while asserted, unmasked and remote IRR is clear; the
// LAPIC's EOI for the vector (eoi(v), reached through the MB_EOI mailbox) clears remote IRR and
// re-delivers a pin that is still asserted.

import { DM_EXTINT, DM_FIXED, DM_LOWEST, deliver } from '../abi/interrupt-delivery.js';
import { IOAPIC_BASE, IOAPIC_SIZE } from '../abi/memory-map.js';
import type { DecodeRanges, MmioDevice, Snapshotable } from './types.js';

export const IOAPIC_PINS = 24;
export const IOAPIC_MMIO: DecodeRanges = { mmio: [[IOAPIC_BASE, IOAPIC_SIZE]] };
/**
 * Version 0x20 with maximum redirection entry 0x17: what QEMU 7.2's `pc` machine reports (the
 * ICH-style IOAPIC, which has the directed EOI register at offset 0x40; the 82093AA's 0x11 has not).
 */
export const IOAPIC_VERSION_VALUE = 0x0017_0020;
/** EOI register (version 0x20): writing a vector clears remote IRR of the level entries using it */
export const IOAPIC_EOI_OFFSET = 0x40;

export const IOAPIC_REG_ID = 0x00;
export const IOAPIC_REG_VERSION = 0x01;
export const IOAPIC_REG_ARB = 0x02;
export const IOAPIC_REG_REDIR = 0x10;

const RTE_MASKED = 1 << 16;
const RTE_LEVEL = 1 << 15;
const RTE_REMOTE_IRR = 1 << 14;
const RTE_DELIVERY_STATUS = 1 << 12;
/** writable low-dword bits: vector, delivery mode, destination mode, polarity, trigger, mask */
const RTE_LO_WRITE_MASK = 0x0001_afff;
const RTE_HI_WRITE_MASK = 0xff00_0000;

export interface IoapicState {
  id: number;
  select: number;
  lo: number[];
  hi: number[];
  levels: number[];
}

export class Ioapic implements MmioDevice, Snapshotable {
  readonly name = 'ioapic';
  private id: number;
  private select = 0;
  private readonly lo = new Array<number>(IOAPIC_PINS).fill(RTE_MASKED);
  private readonly hi = new Array<number>(IOAPIC_PINS).fill(0);
  private readonly levels = new Array<boolean>(IOAPIC_PINS).fill(false);

  /** messages sent to LAPICs */
  delivered = 0;
  /** edges dropped on masked pins, ExtINT entries, out-of-range pins */
  dropped = 0;
  /** called after the guest changes a mask or mode (the IRQ router tells timers to re-arm) */
  onConfigChange: (() => void) | null = null;

  constructor(private readonly ctl: Int32Array, id = 0) {
    this.id = id & 0xf;
  }

  reset(): void {
    this.select = 0;
    this.lo.fill(RTE_MASKED);
    this.hi.fill(0);
  }

  /** drive an input pin (1 = asserted) */
  setPin(pin: number, level: boolean): void {
    if (!(pin >= 0 && pin < IOAPIC_PINS)) {
      this.dropped++;
      return;
    }
    const was = this.levels[pin];
    this.levels[pin] = level;
    const e = this.lo[pin];
    if ((e & RTE_LEVEL) !== 0) {
      if (level) this.service(pin);
    } else if (level && !was) {
      if ((e & RTE_MASKED) !== 0) this.dropped++;
      else this.send(pin);
    }
  }

  pinLevel(pin: number): boolean {
    return this.levels[pin] ?? false;
  }

  isMasked(pin: number): boolean {
    return (this.lo[pin] & RTE_MASKED) !== 0;
  }

  /** A LAPIC finished a level-triggered vector: clear remote IRR, re-deliver if still asserted. */
  eoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const e = this.lo[pin];
      if ((e & 0xff) !== vector || (e & RTE_REMOTE_IRR) === 0) continue;
      this.lo[pin] = e & ~RTE_REMOTE_IRR;
      this.service(pin);
    }
  }

  /** deliver a level pin if it is asserted, unmasked and not already in service */
  private service(pin: number): void {
    const e = this.lo[pin];
    if ((e & RTE_LEVEL) === 0 || !this.levels[pin]) return;
    if ((e & (RTE_MASKED | RTE_REMOTE_IRR)) !== 0) return;
    const mode = (e >>> 8) & 7;
    if (mode === DM_FIXED || mode === DM_LOWEST) this.lo[pin] = e | RTE_REMOTE_IRR;
    this.send(pin);
  }

  private send(pin: number): void {
    const e = this.lo[pin];
    const mode = (e >>> 8) & 7;
    if (mode === DM_EXTINT || mode === 3 || mode === 6) {
      // ExtINT through the IOAPIC (virtual wire B) needs an INTA to the 8259: not wired here.
      this.dropped++;
      return;
    }
    const logical = (e & (1 << 11)) !== 0;
    const dest = (this.hi[pin] >>> 24) & 0xff;
    this.delivered++;
    deliver(this.ctl, dest, logical, mode, e & 0xff, (e & RTE_LEVEL) !== 0);
  }

  // ---------------------------------------------------------------- registers

  mmioRead(offset: number, size: number): number {
    let v: number;
    const base = offset & ~3;
    if (base === 0x00) v = this.select;
    else if (base === 0x10) v = this.readRegister(this.select);
    else v = 0;
    if (size === 4) return v >>> 0;
    return (v >>> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1);
  }

  mmioWrite(offset: number, size: number, value: number): void {
    const base = offset & ~3;
    if (base === 0x00) {
      this.select = value & 0xff; // a byte register: wider writes keep the low byte
      return;
    }
    if (base === IOAPIC_EOI_OFFSET) {
      this.eoi(value & 0xff);
      return;
    }
    if (base === 0x10) {
      if (size !== 4) {
        this.dropped++; // IOWIN is a dword register
        return;
      }
      this.writeRegister(this.select, value >>> 0);
    }
  }

  private readRegister(r: number): number {
    if (r === IOAPIC_REG_ID) return this.id << 24;
    if (r === IOAPIC_REG_VERSION) return IOAPIC_VERSION_VALUE;
    if (r === IOAPIC_REG_ARB) return this.id << 24;
    if (r >= IOAPIC_REG_REDIR && r < IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) {
      const pin = (r - IOAPIC_REG_REDIR) >>> 1;
      // delivery status is always idle: messages go out synchronously
      return (r & 1) === 0 ? this.lo[pin] & ~RTE_DELIVERY_STATUS : this.hi[pin];
    }
    return 0;
  }

  private writeRegister(r: number, v: number): void {
    if (r === IOAPIC_REG_ID) {
      this.id = (v >>> 24) & 0xf;
      return;
    }
    if (r < IOAPIC_REG_REDIR || r >= IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) return;
    const pin = (r - IOAPIC_REG_REDIR) >>> 1;
    if ((r & 1) === 1) {
      this.hi[pin] = (v & RTE_HI_WRITE_MASK) >>> 0;
      return;
    }
    const old = this.lo[pin];
    let e = (v & RTE_LO_WRITE_MASK) | (old & RTE_REMOTE_IRR);
    if ((e & RTE_LEVEL) === 0) e &= ~RTE_REMOTE_IRR; // an edge entry has no remote IRR
    this.lo[pin] = e;
    if ((e & RTE_LEVEL) !== 0) this.service(pin); // an unmasked, asserted level pin fires now
    if ((old ^ e) & (RTE_MASKED | RTE_LEVEL)) this.onConfigChange?.();
  }

  saveState(): IoapicState {
    return { id: this.id, select: this.select, lo: [...this.lo], hi: [...this.hi], levels: this.levels.map((l) => (l ? 1 : 0)) };
  }

  restoreState(state: unknown): void {
    const s = state as IoapicState;
    if (!s || !Array.isArray(s.lo) || s.lo.length !== IOAPIC_PINS || !Array.isArray(s.hi) || !Array.isArray(s.levels)) {
      throw new Error('Ioapic.restoreState: not an IOAPIC snapshot');
    }
    this.id = s.id & 0xf;
    this.select = s.select & 0xff;
    for (let i = 0; i < IOAPIC_PINS; i++) {
      this.lo[i] = s.lo[i];
      this.hi[i] = s.hi[i];
      this.levels[i] = s.levels[i] === 1;
    }
  }
}
