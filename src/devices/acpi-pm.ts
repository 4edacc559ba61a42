// The ACPI fixed-hardware power-management block of QEMU's `pc` machine (PIIX4 PM at I/O 0x600,
// as the FADT says):
//   0x600 PM1a_STS  (16 bit, write 1 to clear)  TMR_STS bit 0, PWRBTN_STS bit 8, WAK_STS bit 15
//   0x602 PM1a_EN   (16 bit)                    TMR_EN bit 0, PWRBTN_EN bit 8
//   0x604 PM1a_CNT  (16 bit)                    SCI_EN bit 0 (always 1: no SMI_CMD, ACPI mode
//                                               only), SLP_TYP bits 10-12, SLP_EN bit 13 (write-only)
//   0x608 PM_TMR    (32-bit read, 24-bit count) 3.579545 MHz, wraps at 2^24 as on the PIIX4;
//                                               the FADT leaves TMR_VAL_EXT clear, as QEMU's
// The timer counts guest time (the one machine clock, through the timer service), so it agrees
// with the TSC, HPET and PIT. TMR_STS is set whenever bit 23 of the count toggles; with TMR_EN set
// that raises the SCI (IRQ 9, level). Writing SLP_EN with SLP_TYP = 0 (the DSDT's \_S5) powers the
// machine off, as QEMU's PIIX4 does; any other sleep type (S3, S4: not in our DSDT) ends the
// machine with a message rather than leaving the guest spinning.

import type { DecodeRanges, IrqLine, PortDevice, Snapshotable, TimerService } from './types.js';
import { restoreFields, saveFields } from './saved-state.js';

export const PM_TIMER_HZ = 3_579_545;
export const PM_TIMER_BITS = 24;
const TMR_MASK = 2 ** PM_TIMER_BITS - 1;
const HALF_PERIOD = 2 ** (PM_TIMER_BITS - 1);

const STS_TMR = 1 << 0;
const STS_PWRBTN = 1 << 8;
const STS_WAK = 1 << 15;
const STS_WRITABLE = STS_TMR | (1 << 4) | (1 << 5) | STS_PWRBTN | (1 << 9) | (1 << 10) | STS_WAK;
const EN_WRITABLE = STS_TMR | (1 << 5) | STS_PWRBTN | (1 << 9) | (1 << 10);
const CNT_SCI_EN = 1 << 0;
const CNT_SLP_EN = 1 << 13;
const CNT_WRITABLE = 0x1c06; // BM_RLD, GBL_RLS, SLP_TYP

export interface AcpiPmHooks {
  /** the SLP_TYP value of the DSDT's \_S5 package (0 on QEMU's PIIX4) */
  s5SlpTyp: number;
  /** S5: the guest switched the machine off */
  onPowerOff(): void;
  /** another sleep state this machine does not model */
  onUnsupportedSleep(slpTyp: number): void;
}

/** what a snapshot keeps (the fields of the same names) */
const SAVED = { sts: 'number', en: 'number', cnt: 'number', seenHalfPeriods: 'number' } as const;

/** PM1a_EVT at base, PM1a_CNT at base+4, PM_TMR at base+8 (where the FADT says they are) */
export function acpiPmPorts(base: number): DecodeRanges {
  return { ports: [[base, 12]] };
}

export class AcpiPm implements PortDevice, Snapshotable {
  readonly name = 'acpi-pm';
  private sts = 0;
  private en = 0;
  private cnt = CNT_SCI_EN;
  /** bit 23 epochs already folded into TMR_STS */
  private seenHalfPeriods = 0;

  constructor(
    readonly base: number,
    private readonly timers: TimerService,
    private readonly sci: IrqLine,
    private readonly hooks: AcpiPmHooks,
  ) {}

  /** PM timer ticks since boot (exact: split so the product stays below 2^53) */
  ticks(): number {
    const ns = this.timers.nowNs();
    const s = Math.floor(ns / 1e9);
    return s * PM_TIMER_HZ + Math.floor(((ns - s * 1e9) * PM_TIMER_HZ) / 1e9);
  }

  /** the 24-bit PM_TMR value */
  timerValue(): number {
    return this.ticks() % (TMR_MASK + 1);
  }

  private updateTimerStatus(): void {
    const halves = Math.floor(this.ticks() / HALF_PERIOD);
    if (halves !== this.seenHalfPeriods) {
      this.seenHalfPeriods = halves;
      this.sts |= STS_TMR;
    }
  }

  private updateSci(): void {
    this.updateTimerStatus();
    this.sci.setLevel((this.sts & this.en & EN_WRITABLE) !== 0);
    if ((this.en & STS_TMR) !== 0) {
      // wake at the next bit-23 toggle to raise TMR_STS
      const nextTick = (this.seenHalfPeriods + 1) * HALF_PERIOD;
      const atNs = Math.ceil((nextTick / PM_TIMER_HZ) * 1e9);
      this.timers.schedule('acpi-pm-timer', atNs, () => this.updateSci());
    } else {
      this.timers.cancel('acpi-pm-timer');
    }
  }

  ioRead(port: number, size: number): number {
    const off = port - this.base;
    let v: number;
    if (off >= 8 && off < 12) {
      v = this.timerValue();
      return size === 4 ? v : (v >>> ((off - 8) * 8)) & (size === 1 ? 0xff : 0xffff);
    }
    this.updateTimerStatus();
    const word = off < 2 ? this.sts : off < 4 ? this.en : off < 6 ? this.cnt : 0;
    v = size === 4 && off === 0 ? (this.sts | (this.en << 16)) >>> 0 : word;
    if (size === 1) return (v >>> ((off & 1) * 8)) & 0xff;
    return size === 2 ? v & 0xffff : v >>> 0;
  }

  ioWrite(port: number, size: number, value: number): void {
    const off = port - this.base;
    if (size === 4 && off === 0) {
      this.ioWrite(port, 2, value & 0xffff);
      this.ioWrite(port + 2, 2, value >>> 16);
      return;
    }
    const shift = size === 1 ? (off & 1) * 8 : 0;
    const v = (size === 1 ? (value & 0xff) << shift : value & 0xffff) & 0xffff;
    const reg = off & ~1;
    if (reg === 0) {
      this.updateTimerStatus();
      this.sts &= ~(v & STS_WRITABLE);
      this.updateSci();
    } else if (reg === 2) {
      const keep = size === 1 ? this.en & ~(0xff << shift) : 0;
      this.en = (keep | v) & EN_WRITABLE;
      this.updateSci();
    } else if (reg === 4) {
      const keep = size === 1 ? this.cnt & ~(0xff << shift) : 0;
      const full = keep | v;
      this.cnt = CNT_SCI_EN | (full & CNT_WRITABLE);
      if ((full & CNT_SLP_EN) !== 0) {
        const typ = (full >>> 10) & 7;
        if (typ === this.hooks.s5SlpTyp) this.hooks.onPowerOff();
        else this.hooks.onUnsupportedSleep(typ);
      }
    }
  }

  saveState(): unknown {
    return saveFields(this, SAVED);
  }

  restoreState(state: unknown): void {
    restoreFields(this, 'acpi-pm', state, SAVED);
    this.updateSci();
  }
}
