// MC146818 real-time clock and its 128 bytes of CMOS RAM (ports 0x70 index / 0x71 data), on
// the I/O thread.
//
// Time is not ticked: the clock registers are computed from the machine clock plus the wall
// time given at construction (UTC), in BCD or binary (register B bit 2) and 12/24-hour format
// (bit 1). Guest writes to the time registers shift that base; SET (B bit 7) freezes the time
// for a consistent write and restarts the second when cleared. Flags in register C (PF, AF,
// UF, IRQF) are computed lazily from the clock when read; IRQ8 is raised when a flag meets its
// enable bit and stays up until register C is read (reading clears it), so callbacks are only
// armed while an enabled interrupt can still produce an edge.
//
// CMOS memory bytes as QEMU 7.2's `pc` fills them (measured with SeaBIOS): base memory 640 KiB
// (0x15/0x16), extended memory KiB above 1 MiB capped at 0xFFFF (0x17/0x18 and 0x30/0x31),
// 64 KiB blocks between 16 MiB and the end of low RAM (0x34/0x35), 64 KiB blocks above 4 GiB
// (0x5B-0x5D), CPU count - 1 (0x5F), century (0x32, and 0x37 as IBM PS/2 machines), equipment
// byte 0x06 (FPU, PS/2 mouse; no floppy in this machine). Floppy and boot-order bytes stay 0.

import { ramLayout, MiB } from '../abi/memory-map.js';
import { restoreFields, saveFields, type SavedFields } from './saved-state.js';
import type { DecodeRanges, IrqLine, PortDevice, Snapshotable, TimerService } from './types.js';

/** index 0x70, data 0x71 */
export const RTC_PORTS: DecodeRanges = { ports: [[0x70, 2]] };
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
export const RTC_CENTURY = 0x32;

const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_BINARY = 0x04;
const B_24H = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
/** UIP is set this long before each update (MC146818 data sheet, 32.768 kHz time base) */
const UIP_LEAD_NS = 244_000;

export interface RtcCmosOptions {
  /** guest RAM in bytes, for the memory-size bytes */
  ramBytes: number;
  /** number of CPUs, for byte 0x5F */
  cpus: number;
  /** wall-clock time at machine creation (ms since the Unix epoch, UTC); default: now */
  startTimeMs?: number;
}

/** The clock's running state, saved and restored as it is (fields of RtcCmos of the same names). */
const RTC_SAVED = {
  baseEpochSec: 'number', baseNs: 'number', frozenSec: 'number|null', dowAdjust: 'number', periodOriginNs: 'number',
  lastPeriodIndex: 'number', lastSecondIndex: 'number', regC: 'number',
} as const;

export interface RtcCmosState extends SavedFields<typeof RTC_SAVED> {
  index: number;
  nmiDisabled: boolean;
  cmos: number[];
  irqHigh: boolean;
}

/** 32.768 kHz ticks in `ns`, exact below 2^53 */
function ticks32k(ns: number): number {
  if (ns <= 0) return 0;
  const s = Math.floor(ns / 1e9);
  return s * 32768 + Math.floor(((ns - s * 1e9) * 32768) / 1e9);
}

function toBcd(v: number): number {
  return ((Math.floor(v / 10) % 10) << 4) | v % 10;
}

function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0xf);
}

export class RtcCmos implements PortDevice, Snapshotable {
  readonly name = 'rtc-cmos';
  private index = 0;
  private nmiDisabled = false;
  private readonly cmos = new Uint8Array(128);
  /** guest time (whole seconds since the epoch) at instant baseNs */
  private baseEpochSec = 0;
  private baseNs = 0;
  /** time held while SET is on */
  private frozenSec: number | null = null;
  private dowAdjust = 0;
  private periodOriginNs = 0;
  private lastPeriodIndex = 0;
  private lastSecondIndex = 0;
  private regC = 0;
  private irqHigh = false;
  /** IRQ8 edges raised; timer callbacks run */
  interrupts = 0;
  callbacks = 0;

  constructor(private readonly timers: TimerService, private readonly irq8: IrqLine | null, private readonly opts: RtcCmosOptions) {
    this.reset();
  }

  reset(): void {
    const now = this.timers.nowNs();
    const startMs = this.opts.startTimeMs ?? Date.now();
    this.baseEpochSec = Math.floor(startMs / 1000);
    this.baseNs = now - (startMs - this.baseEpochSec * 1000) * 1e6; // keep the host's second phase
    this.frozenSec = null;
    this.dowAdjust = 0;
    this.cmos.fill(0);
    this.cmos[RTC_REG_A] = 0x26;
    this.cmos[RTC_REG_B] = B_24H;
    this.fillMemoryBytes();
    this.periodOriginNs = now;
    this.lastPeriodIndex = 0;
    this.lastSecondIndex = this.secondIndex(now);
    this.regC = 0;
    this.setIrq(false);
    this.index = 0;
    this.nmiDisabled = false;
    this.schedule();
  }

  private fillMemoryBytes(): void {
    const { lowBytes, highBytes } = ramLayout(this.opts.ramBytes);
    const c = this.cmos;
    const put16 = (at: number, v: number) => {
      c[at] = v & 0xff;
      c[at + 1] = (v >> 8) & 0xff;
    };
    put16(0x15, Math.min(Math.floor(lowBytes / 1024), 640));
    const ext = Math.min(lowBytes > MiB ? Math.floor((lowBytes - MiB) / 1024) : 0, 0xffff);
    put16(0x17, ext);
    put16(0x30, ext);
    put16(0x34, Math.min(lowBytes > 16 * MiB ? Math.floor((lowBytes - 16 * MiB) / 65536) : 0, 0xffff));
    const above = Math.floor(highBytes / 65536);
    c[0x5b] = above & 0xff;
    c[0x5c] = (above >> 8) & 0xff;
    c[0x5d] = (above >> 16) & 0xff;
    c[0x5f] = Math.max(0, Math.min(255, this.opts.cpus - 1));
    c[0x14] = 0x06;
    c[0x37] = toBcd(Math.floor(new Date(this.baseEpochSec * 1000).getUTCFullYear() / 100));
  }

  /**
   * -bios: QEMU's default boot order "cad" (hard disk, floppy, CD) where SeaBIOS reads it:
   * 0x3D = 2nd << 4 | 1st, 0x38 = 3rd << 4 (floppy boot-signature check on). Codes: 1 floppy,
   * 2 hard disk, 3 CD. Kept across a CMOS reset of the memory bytes.
   */
  setBiosBootOrder(): void {
    this.cmos[0x3d] = (1 << 4) | 2;
    this.cmos[0x38] = 3 << 4;
  }

  /** NMI masked by port 0x70 bit 7 (the machine consults it before raising an NMI) */
  nmiMasked(): boolean {
    return this.nmiDisabled;
  }

  // ---------------------------------------------------------------- time

  private secondIndex(now: number): number {
    return Math.floor((now - this.baseNs) / 1e9);
  }

  /** whole guest seconds since the epoch */
  private currentSec(now: number): number {
    if (this.frozenSec !== null) return this.frozenSec;
    return this.baseEpochSec + this.secondIndex(now);
  }

  private binary(): boolean {
    return (this.cmos[RTC_REG_B] & B_BINARY) !== 0;
  }

  private enc(v: number): number {
    return this.binary() ? v : toBcd(v);
  }

  private dec(v: number): number {
    return this.binary() ? v : fromBcd(v);
  }

  private readTime(reg: number, now: number): number {
    const d = new Date(this.currentSec(now) * 1000);
    switch (reg) {
      case 0x00: return this.enc(d.getUTCSeconds());
      case 0x02: return this.enc(d.getUTCMinutes());
      case 0x04: {
        const h = d.getUTCHours();
        if ((this.cmos[RTC_REG_B] & B_24H) !== 0) return this.enc(h);
        return this.enc(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
      }
      case 0x06: return this.enc(((d.getUTCDay() + this.dowAdjust) % 7) + 1);
      case 0x07: return this.enc(d.getUTCDate());
      case 0x08: return this.enc(d.getUTCMonth() + 1);
      case 0x09: return this.enc(d.getUTCFullYear() % 100);
      case RTC_CENTURY: return this.enc(Math.floor(d.getUTCFullYear() / 100));
    }
    return 0;
  }

  private writeTime(reg: number, v: number, now: number): void {
    const cur = this.currentSec(now);
    const d = new Date(cur * 1000);
    let year = d.getUTCFullYear();
    let month = d.getUTCMonth();
    let day = d.getUTCDate();
    let hour = d.getUTCHours();
    let min = d.getUTCMinutes();
    let sec = d.getUTCSeconds();
    switch (reg) {
      case 0x00: sec = this.dec(v & 0x7f) % 60; break;
      case 0x02: min = this.dec(v & 0x7f) % 60; break;
      case 0x04:
        if ((this.cmos[RTC_REG_B] & B_24H) !== 0) hour = this.dec(v & 0x3f) % 24;
        else hour = (this.dec(v & 0x7f) % 12) + ((v & 0x80) !== 0 ? 12 : 0);
        break;
      case 0x06: {
        const want = (this.dec(v) + 6) % 7; // register 1..7 = Sunday..Saturday
        this.dowAdjust = (((want - d.getUTCDay()) % 7) + 7) % 7;
        return;
      }
      case 0x07: day = this.dec(v); break;
      case 0x08: month = this.dec(v) - 1; break;
      case 0x09: year = Math.floor(year / 100) * 100 + (this.dec(v) % 100); break;
      case RTC_CENTURY: year = this.dec(v) * 100 + (year % 100); break;
    }
    const next = Math.floor(Date.UTC(year, month, day, hour, min, sec) / 1000);
    if (!Number.isFinite(next)) return;
    if (this.frozenSec !== null) this.frozenSec = next;
    else this.baseEpochSec += next - cur; // keep the phase of the second
  }

  private uip(now: number): boolean {
    if (this.frozenSec !== null) return false;
    const into = (now - this.baseNs) - this.secondIndex(now) * 1e9;
    return into >= 1e9 - UIP_LEAD_NS;
  }

  /** periodic-interrupt period in 32.768 kHz ticks, 0 when off */
  private periodTicks(): number {
    let code = this.cmos[RTC_REG_A] & 0x0f;
    if (code === 0) return 0;
    if (code <= 2) code += 7; // rates 1 and 2 behave as 8 and 9 with a 32.768 kHz time base
    return 1 << (code - 1);
  }

  /** bring register C up to `now` */
  private evaluate(now: number): void {
    const period = this.periodTicks();
    if (period !== 0) {
      const idx = Math.floor(ticks32k(now - this.periodOriginNs) / period);
      if (idx > this.lastPeriodIndex) this.regC |= C_PF;
      this.lastPeriodIndex = idx;
    }
    const sIdx = this.secondIndex(now);
    if (this.frozenSec === null && sIdx > this.lastSecondIndex) {
      this.regC |= C_UF;
      if (this.alarmMatchedSince(this.lastSecondIndex, sIdx)) this.regC |= C_AF;
    }
    if (this.frozenSec === null) this.lastSecondIndex = sIdx;
    const b = this.cmos[RTC_REG_B];
    if ((this.regC & ((b & (B_PIE | B_AIE | B_UIE)) & 0x70)) !== 0) this.regC |= C_IRQF;
    this.setIrq((this.regC & C_IRQF) !== 0);
  }

  /** whether an update in (fromIdx, toIdx] produced a time matching the alarm */
  private alarmMatchedSince(fromIdx: number, toIdx: number): boolean {
    if (toIdx - fromIdx > 86_400) return true; // any alarm pattern matches within a day
    const want = [this.cmos[0x01], this.cmos[0x03], this.cmos[0x05]];
    for (let i = fromIdx + 1; i <= toIdx; i++) {
      const d = new Date((this.baseEpochSec + i) * 1000);
      const have = [this.enc(d.getUTCSeconds()), this.enc(d.getUTCMinutes()), this.readHourAt(d)];
      // values 0xC0-0xFF are "don't care"
      if (want.every((w, k) => (w & 0xc0) === 0xc0 || w === have[k])) return true;
    }
    return false;
  }

  private readHourAt(d: Date): number {
    const h = d.getUTCHours();
    if ((this.cmos[RTC_REG_B] & B_24H) !== 0) return this.enc(h);
    return this.enc(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
  }

  private setIrq(level: boolean): void {
    if (level === this.irqHigh) return;
    this.irqHigh = level;
    if (level) this.interrupts++;
    this.irq8?.setLevel(level);
  }

  /** arm a callback at the next instant an enabled flag can raise IRQ8 */
  private schedule(): void {
    const b = this.cmos[RTC_REG_B];
    if (this.irqHigh || (b & (B_PIE | B_AIE | B_UIE)) === 0) {
      this.timers.cancel('rtc');
      return;
    }
    const now = this.timers.nowNs();
    let at = Infinity;
    const period = this.periodTicks();
    if ((b & B_PIE) !== 0 && period !== 0) {
      const next = (this.lastPeriodIndex + 1) * period; // in 32 kHz ticks from the origin
      const s = Math.floor(next / 32768);
      at = Math.min(at, this.periodOriginNs + s * 1e9 + Math.ceil(((next - s * 32768) * 1e9) / 32768));
    }
    if ((b & (B_AIE | B_UIE)) !== 0 && this.frozenSec === null) at = Math.min(at, this.baseNs + (this.lastSecondIndex + 1) * 1e9);
    if (at === Infinity) {
      this.timers.cancel('rtc');
      return;
    }
    this.timers.schedule('rtc', Math.max(at, now), () => {
      this.callbacks++;
      this.evaluate(this.timers.nowNs());
      this.schedule();
    });
  }

  // ---------------------------------------------------------------- ports

  ioRead(port: number, _size: number): number {
    if (port !== 0x71) return 0xff; // the index register is write-only
    const now = this.timers.nowNs();
    const r = this.index;
    switch (r) {
      case 0x00: case 0x02: case 0x04: case 0x06: case 0x07: case 0x08: case 0x09: case RTC_CENTURY:
        return this.readTime(r, now);
      case RTC_REG_A: return (this.cmos[RTC_REG_A] & 0x7f) | (this.uip(now) ? 0x80 : 0);
      case RTC_REG_C: {
        this.evaluate(now);
        const v = this.regC;
        this.regC = 0;
        this.setIrq(false);
        this.schedule();
        return v;
      }
      case RTC_REG_D: return 0x80; // valid RAM and time (battery good)
    }
    return this.cmos[r];
  }

  ioWrite(port: number, _size: number, value: number): void {
    const v = value & 0xff;
    if (port === 0x70) {
      this.index = v & 0x7f;
      this.nmiDisabled = (v & 0x80) !== 0;
      return;
    }
    if (port !== 0x71) return;
    const now = this.timers.nowNs();
    const r = this.index;
    switch (r) {
      case 0x00: case 0x02: case 0x04: case 0x06: case 0x07: case 0x08: case 0x09: case RTC_CENTURY:
        this.writeTime(r, v, now);
        return;
      case RTC_REG_A: {
        this.evaluate(now);
        const old = this.cmos[RTC_REG_A];
        this.cmos[RTC_REG_A] = v & 0x7f;
        if ((old & 0x0f) !== (v & 0x0f)) {
          this.periodOriginNs = now;
          this.lastPeriodIndex = 0;
        }
        this.schedule();
        return;
      }
      case RTC_REG_B: this.writeRegB(v, now); return;
      case RTC_REG_C: case RTC_REG_D: return; // read-only
    }
    this.cmos[r] = v;
  }

  private writeRegB(v: number, now: number): void {
    this.evaluate(now);
    const old = this.cmos[RTC_REG_B];
    if ((v & B_SET) !== 0) {
      v &= ~B_UIE; // SET clears UIE
      if ((old & B_SET) === 0) this.frozenSec = this.currentSec(now);
    } else if ((old & B_SET) !== 0 && this.frozenSec !== null) {
      this.baseEpochSec = this.frozenSec; // the clock restarts a full second from now
      this.baseNs = now;
      this.lastSecondIndex = 0;
      this.frozenSec = null;
    }
    this.cmos[RTC_REG_B] = v;
    this.evaluate(now); // a newly enabled flag that is already set raises IRQ8
    this.schedule();
  }

  // ---------------------------------------------------------------- snapshots

  saveState(): RtcCmosState {
    return {
      index: this.index,
      nmiDisabled: this.nmiDisabled,
      cmos: [...this.cmos],
      ...(saveFields(this, RTC_SAVED) as SavedFields<typeof RTC_SAVED>),
      irqHigh: this.irqHigh,
    };
  }

  restoreState(state: unknown): void {
    const s = state as RtcCmosState;
    if (!s || !Array.isArray(s.cmos) || s.cmos.length !== 128) throw new Error('RtcCmos.restoreState: not an RTC snapshot');
    restoreFields(this, 'RtcCmos.restoreState', s, RTC_SAVED); // first: it refuses a bad state before anything is taken
    this.index = s.index & 0x7f;
    this.nmiDisabled = !!s.nmiDisabled;
    this.cmos.set(s.cmos);
    this.irqHigh = !s.irqHigh;
    this.setIrq(!!s.irqHigh);
    this.schedule();
  }
}
