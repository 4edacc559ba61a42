// The PC's pair of 8259A programmable interrupt controllers (master at 0x20/0x21, slave at
// 0xA0/0xA1 cascaded on master input 2) plus the PIIX edge/level control registers (ELCR,
// 0x4D0/0x4D1). Runs on the I/O thread.
//
// INTR and INTA across threads. The master's INTR output goes to core 0 as an ExtINT message:
// the vector is written to C_EXTINT_VECTOR and P_EXTINT set in C_PENDING (postToCore). The
// core "performs INTA" by consuming P_EXTINT. The contract with the CPU:
//   * take an ExtINT only when IF=1 and lapic.lint0ExtIntAccepted();
//   * read C_EXTINT_VECTOR first, then clear P_EXTINT with an atomic RMW (Atomics.and) and use
//     the vector only if the returned old value still had P_EXTINT;
//   * never clear P_EXTINT otherwise (an INIT of core 0 included).
// The PIC only writes the vector while P_EXTINT is clear, and may withdraw a request it posted
// (compare-and-swap P_EXTINT off) when the guest masks the line, a level input drops, a higher
// request arrives or the chip is re-initialised: then the CPU simply never sees it, exactly as
// a CPU that had not sampled INTR yet. IRR->ISR happens at INTA, which we notice lazily: every
// entry point first checks whether the core consumed the posted request and, if so, commits it
// (IRR->ISR, auto-EOI, rotation). Nothing the guest can observe precedes that check, because
// any observation goes through this object. The next request is posted on the next event (EOI,
// port access, input change); when one is already waiting behind an unconsumed request (only
// possible with auto-EOI or special mask mode) a short re-check timer is armed instead, and the
// machine may call intaDone() whenever it likes.
//
// Because a withdrawn request never reaches the CPU, the 8259's spurious IRQ7/IRQ15 does not
// arise here; handlers that check ISR before EOI work unchanged.

import { C_PENDING, P_EXTINT, coreBase } from '../abi/control-block.js';
import { DM_EXTINT, postToCore } from '../abi/interrupt-delivery.js';
import { restoreFields, saveFields, type SavedFields } from './saved-state.js';
import type { DecodeRanges, PortDevice, Snapshotable, TimerService } from './types.js';

/** master, slave and the PIIX ELCR pair */
export const PIC_PORTS: DecodeRanges = { ports: [[0x20, 2], [0xa0, 2], [0x4d0, 2]] };
const CASCADE_IRQ = 2;

/** One 8259A's registers and modes as a snapshot keeps them, by field name (the fields of Chip). */
const CHIP_SAVED = {
  irr: 'number', imr: 'number', isr: 'number', lines: 'number', elcr: 'number', vectorBase: 'number', priorityAdd: 'number',
  initStep: 'number', needIcw4: 'boolean', single: 'boolean', levelAll: 'boolean', icw3: 'number', autoEoi: 'boolean',
  rotateOnAutoEoi: 'boolean', sfnm: 'boolean', readIsr: 'boolean', specialMask: 'boolean', poll: 'boolean',
} as const;
type ChipState = SavedFields<typeof CHIP_SAVED>;

/** One 8259A. The pair below owns cascade and INTR. */
class Chip implements ChipState {
  irr = 0;
  imr = 0;
  isr = 0;
  /** current input levels (edge detection) */
  lines = 0;
  elcr = 0;
  vectorBase = 0;
  /** the input with the highest priority (rotation); 0 = IR0 highest */
  priorityAdd = 0;
  /** 0 = ready (OCWs); 1, 2, 3 = expecting ICW2, ICW3, ICW4 */
  initStep = 0;
  needIcw4 = false;
  single = false;
  levelAll = false;
  icw3 = 0;
  autoEoi = false;
  rotateOnAutoEoi = false;
  sfnm = false;
  readIsr = false;
  specialMask = false;
  poll = false;

  constructor(readonly elcrMask: number) {}

  isLevel(irq: number): boolean {
    return this.levelAll || (this.elcr & (1 << irq)) !== 0;
  }

  setInput(irq: number, level: boolean, forceLevel = false): void {
    const mask = 1 << irq;
    if (forceLevel || this.isLevel(irq)) {
      if (level) this.irr |= mask;
      else this.irr &= ~mask;
    } else if (level && (this.lines & mask) === 0) {
      this.irr |= mask; // rising edge, latched until acknowledged
    }
    if (level) this.lines |= mask;
    else this.lines &= ~mask;
  }

  /** the input in `bits` with the highest priority, or -1 */
  highest(bits: number): number {
    if ((bits & 0xff) === 0) return -1;
    for (let p = 0; p < 8; p++) {
      const irq = (p + this.priorityAdd) & 7;
      if ((bits & (1 << irq)) !== 0) return irq;
    }
    return -1;
  }

  priorityOf(irq: number): number {
    return (irq - this.priorityAdd) & 7;
  }

  /** the request this chip would present now, or -1 */
  pendingIrq(isMaster: boolean): number {
    const irq = this.highest(this.irr & ~this.imr);
    if (irq < 0) return -1;
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    if (isMaster && this.sfnm) inService &= ~(1 << CASCADE_IRQ);
    const cur = this.highest(inService);
    if (cur < 0 || this.priorityOf(irq) < this.priorityOf(cur)) return irq;
    return -1;
  }

  /** INTA for `irq` (or a poll): IRR -> ISR, honouring auto-EOI */
  acknowledge(irq: number, isMaster: boolean): void {
    const mask = 1 << irq;
    if (!(this.isLevel(irq) || (isMaster && irq === CASCADE_IRQ))) this.irr &= ~mask;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (irq + 1) & 7;
    } else {
      this.isr |= mask;
    }
  }

  initialise(icw1: number): void {
    this.irr &= this.levelAll || (icw1 & 8) !== 0 ? 0xff : this.elcr; // edge latches are reset
    this.imr = 0;
    this.isr = 0;
    this.priorityAdd = 0;
    this.readIsr = false;
    this.specialMask = false;
    this.poll = false;
    this.needIcw4 = (icw1 & 1) !== 0;
    this.single = (icw1 & 2) !== 0;
    this.levelAll = (icw1 & 8) !== 0;
    if (!this.needIcw4) {
      this.autoEoi = false;
      this.sfnm = false;
    }
    this.rotateOnAutoEoi = false;
    this.initStep = 1;
  }

  writeCommand(v: number): void {
    if ((v & 0x10) !== 0) {
      this.initialise(v);
      return;
    }
    if ((v & 0x08) === 0) {
      this.ocw2(v);
      return;
    }
    // OCW3
    if ((v & 0x04) !== 0) this.poll = true;
    if ((v & 0x02) !== 0) this.readIsr = (v & 1) !== 0;
    if ((v & 0x40) !== 0) this.specialMask = (v & 0x20) !== 0;
  }

  private ocw2(v: number): void {
    const level = v & 7;
    switch (v >>> 5) {
      case 0: this.rotateOnAutoEoi = false; return;
      case 4: this.rotateOnAutoEoi = true; return;
      case 1:
      case 5: {
        const irq = this.highest(this.isr);
        if (irq < 0) return;
        this.isr &= ~(1 << irq);
        if (v >>> 5 === 5) this.priorityAdd = (irq + 1) & 7;
        return;
      }
      case 3: this.isr &= ~(1 << level); return;
      case 7:
        this.isr &= ~(1 << level);
        this.priorityAdd = (level + 1) & 7;
        return;
      case 6: this.priorityAdd = (level + 1) & 7; return;
      default: return; // 2: no operation
    }
  }

  /** data port write: ICW2-4 during initialisation, else OCW1 (mask) */
  writeData(v: number): void {
    switch (this.initStep) {
      case 1:
        this.vectorBase = v & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 3 : 0) : 2;
        return;
      case 2:
        this.icw3 = v;
        this.initStep = this.needIcw4 ? 3 : 0;
        return;
      case 3:
        this.autoEoi = (v & 2) !== 0;
        this.sfnm = (v & 0x10) !== 0;
        this.initStep = 0;
        return;
      default:
        this.imr = v & 0xff;
    }
  }

  save(): ChipState {
    return saveFields(this, CHIP_SAVED) as ChipState;
  }

  load(s: ChipState): void {
    restoreFields(this, 'Pic8259.restoreState', s, CHIP_SAVED);
  }
}

interface Posted {
  masterIrq: number;
  slaveIrq: number;
  vector: number;
}

export interface Pic8259State {
  master: ChipState;
  slave: ChipState;
  posted: Posted | null;
}

export interface Pic8259Options {
  /** core whose LINT0 the INTR output reaches (core 0, the BSP) */
  targetCore?: number;
  /** for the re-check timer used when auto-EOI leaves a request waiting behind a posted one */
  timers?: TimerService;
}

export class Pic8259 implements PortDevice, Snapshotable {
  readonly name = 'pic8259';
  private readonly master = new Chip(0xf8); // IRQ0-2 cannot be level-triggered
  private readonly slave = new Chip(0xde); // IRQ8 and IRQ13 neither
  private posted: Posted | null = null;
  private readonly pendingAt: number;
  private readonly targetCore: number;
  private readonly timers: TimerService | undefined;
  private recheckDelayNs = 20_000;

  /** requests withdrawn before the CPU took them, requests taken */
  withdrawn = 0;
  taken = 0;
  /** inputs out of range and the like */
  dropped = 0;
  /** called after the guest changes masks, ELCR or re-initialises (timers may re-arm) */
  onConfigChange: (() => void) | null = null;

  constructor(private readonly ctl: Int32Array, opts: Pic8259Options = {}) {
    this.targetCore = opts.targetCore ?? 0;
    this.timers = opts.timers;
    this.pendingAt = coreBase(this.targetCore) + C_PENDING;
  }

  // ---------------------------------------------------------------- inputs

  /** drive ISA IRQ 0-15 (IRQ2 is the cascade and has no external input) */
  setIrq(irq: number, level: boolean): void {
    if (!(irq >= 0 && irq < 16) || irq === CASCADE_IRQ) {
      this.dropped++;
      return;
    }
    this.syncInta();
    if (irq < 8) this.master.setInput(irq, level);
    else this.slave.setInput(irq - 8, level);
    this.update();
  }

  /** IRQ latched and masked: further edges on it change nothing the guest can see */
  isLatchedAndMasked(irq: number): boolean {
    const chip = irq < 8 ? this.master : this.slave;
    const bit = 1 << (irq & 7);
    return !chip.isLevel(irq & 7) && (chip.irr & bit) !== 0 && (chip.imr & bit) !== 0;
  }

  /** the machine may call this when core 0 has consumed an ExtINT; it is always safe */
  intaDone(): void {
    this.syncInta();
    this.update();
  }

  // ---------------------------------------------------------------- ports

  ioRead(port: number, _size: number): number {
    this.syncInta();
    switch (port) {
      case 0x20: return this.readCommand(this.master, true);
      case 0xa0: return this.readCommand(this.slave, false);
      case 0x21: return this.master.imr;
      case 0xa1: return this.slave.imr;
      case 0x4d0: return this.master.elcr;
      case 0x4d1: return this.slave.elcr;
    }
    return 0xff;
  }

  ioWrite(port: number, _size: number, value: number): void {
    this.syncInta();
    const v = value & 0xff;
    let config = false;
    switch (port) {
      case 0x20: config = (v & 0x10) !== 0; this.master.writeCommand(v); break;
      case 0xa0: config = (v & 0x10) !== 0; this.slave.writeCommand(v); break;
      case 0x21: config = this.master.initStep === 0; this.master.writeData(v); break;
      case 0xa1: config = this.slave.initStep === 0; this.slave.writeData(v); break;
      case 0x4d0: this.writeElcr(this.master, v); config = true; break;
      case 0x4d1: this.writeElcr(this.slave, v); config = true; break;
      default: return;
    }
    this.update();
    if (config) this.onConfigChange?.();
  }

  private writeElcr(chip: Chip, v: number): void {
    chip.elcr = v & chip.elcrMask;
    // a line that became level-triggered now requests exactly while it is high
    for (let irq = 0; irq < 8; irq++) {
      const bit = 1 << irq;
      if (chip.isLevel(irq)) chip.irr = (chip.irr & ~bit) | (chip.lines & bit);
    }
  }

  private readCommand(chip: Chip, isMaster: boolean): number {
    if (chip.poll) {
      chip.poll = false;
      this.withdraw();
      this.propagateCascade();
      const irq = chip.pendingIrq(isMaster);
      let r = 0;
      if (irq >= 0) {
        chip.acknowledge(irq, isMaster);
        r = 0x80 | irq;
      }
      this.update();
      return r;
    }
    return chip.readIsr ? chip.isr : chip.irr;
  }

  // ---------------------------------------------------------------- INTR / INTA

  private propagateCascade(): void {
    this.master.setInput(CASCADE_IRQ, this.slave.pendingIrq(false) >= 0, true);
  }

  private wanted(): Posted | null {
    this.propagateCascade();
    const m = this.master.pendingIrq(true);
    if (m < 0) return null;
    if (m === CASCADE_IRQ) {
      const s = this.slave.pendingIrq(false);
      if (s < 0) return null;
      return { masterIrq: m, slaveIrq: s, vector: this.slave.vectorBase | s };
    }
    return { masterIrq: m, slaveIrq: -1, vector: this.master.vectorBase | m };
  }

  /** if the core consumed our posted request, it did INTA: commit it */
  private syncInta(): void {
    const p = this.posted;
    if (p === null || (Atomics.load(this.ctl, this.pendingAt) & P_EXTINT) !== 0) return;
    this.posted = null;
    this.commit(p);
  }

  private commit(p: Posted): void {
    this.taken++;
    this.master.acknowledge(p.masterIrq, true);
    if (p.slaveIrq >= 0) this.slave.acknowledge(p.slaveIrq, false);
    this.propagateCascade();
  }

  /** take back a posted, unconsumed request; commits it instead if the core just took it */
  private withdraw(): void {
    const p = this.posted;
    if (p === null) return;
    this.posted = null;
    for (;;) {
      const cur = Atomics.load(this.ctl, this.pendingAt);
      if ((cur & P_EXTINT) === 0) {
        this.commit(p);
        return;
      }
      if (Atomics.compareExchange(this.ctl, this.pendingAt, cur, cur & ~P_EXTINT) === cur) {
        this.withdrawn++;
        return;
      }
    }
  }

  private update(): void {
    for (let guard = 0; guard < 4; guard++) {
      const want = this.wanted();
      const p = this.posted;
      if (p !== null) {
        if (want && want.vector === p.vector && want.masterIrq === p.masterIrq && want.slaveIrq === p.slaveIrq) break;
        this.withdraw();
        continue; // the state may have changed if the core took it meanwhile
      }
      if (want) {
        this.posted = want;
        postToCore(this.ctl, this.targetCore, DM_EXTINT, want.vector);
      }
      break;
    }
    this.armRecheck();
  }

  /** with a request posted and another one ready behind it, look again soon */
  private armRecheck(): void {
    if (!this.timers) return;
    const p = this.posted;
    const others = (this.master.irr & ~this.master.imr & ~(1 << (p?.masterIrq ?? 8)))
      | (this.slave.irr & ~this.slave.imr & ~(1 << (p && p.slaveIrq >= 0 ? p.slaveIrq : 8)));
    if (p === null || others === 0) {
      this.timers.cancel('pic8259-inta');
      this.recheckDelayNs = 20_000;
      return;
    }
    const at = this.timers.nowNs() + this.recheckDelayNs;
    this.recheckDelayNs = Math.min(this.recheckDelayNs * 2, 1_000_000);
    this.timers.schedule('pic8259-inta', at, () => this.intaDone());
  }

  // ---------------------------------------------------------------- reset and firmware

  /** power-on: both chips uninitialised, everything unmasked, vectors 0 (QEMU's reset state) */
  reset(): void {
    this.withdraw();
    for (const c of [this.master, this.slave]) {
      c.load(new Chip(c.elcrMask).save());
    }
    this.update();
  }

  /**
   * As SeaBIOS leaves the pair for a QEMU 7.2 -kernel guest (measured): ICW1 0x11, vectors 0x08
   * and 0x70, cascade on IR2, 8086 mode; IMR 0xB8/0x8E (IRQ0, 1, 2, 6, 8, 12, 13, 14 open);
   * ELCR 0x00/0x0C (IRQ10 and IRQ11 level-triggered for PCI).
   */
  firmwareState(): void {
    const seq: [number, number][] = [
      [0x20, 0x11], [0xa0, 0x11], [0x21, 0x08], [0xa1, 0x70], [0x21, 0x04], [0xa1, 0x02], [0x21, 0x01], [0xa1, 0x01],
      [0x21, 0xb8], [0xa1, 0x8e], [0x4d0, 0x00], [0x4d1, 0x0c],
    ];
    for (const [port, v] of seq) this.ioWrite(port, 1, v);
  }

  /** for tests and diagnostics */
  debugState(): { irr: number; isr: number; imr: number; posted: number } {
    return {
      irr: this.master.irr | (this.slave.irr << 8),
      isr: this.master.isr | (this.slave.isr << 8),
      imr: this.master.imr | (this.slave.imr << 8),
      posted: this.posted ? this.posted.vector : -1,
    };
  }

  // ---------------------------------------------------------------- snapshots

  saveState(): Pic8259State {
    return { master: this.master.save(), slave: this.slave.save(), posted: this.posted ? { ...this.posted } : null };
  }

  restoreState(state: unknown): void {
    const s = state as Pic8259State;
    if (!s || typeof s !== 'object' || !s.master || !s.slave) throw new Error('Pic8259.restoreState: not a PIC snapshot');
    this.master.load(s.master);
    this.slave.load(s.slave);
    this.posted = s.posted ? { ...s.posted } : null;
  }
}
