// 16550A UART (COM1 at 0x3F8-0x3FF, IRQ 4 on a PC). Output is instantaneous: a byte written
// to THR goes straight to the sink, so LSR always shows THRE|TEMT and the transmitter never
// stalls the guest. Input arrives through `feedInput` into a bounded host-side queue that
// refills the 16-byte receive FIFO as the guest drains it (overflow of the host queue is
// counted, not fatal). Like QEMU's serial model, the interrupt output is not gated by MCR.OUT2.
// The receive-timeout interrupt is approximated: data below the trigger level reports a
// timeout (IIR 0xC) at once instead of after four character times.

import type { DecodeRanges, IrqLine, PortDevice, Snapshotable } from './types.js';
import { restoreFields, saveFields } from './saved-state.js';

export const COM1_BASE = 0x3f8;
export const COM1_IRQ = 4;
export const COM1_PORTS: DecodeRanges = { ports: [[COM1_BASE, 8]] };
const FIFO_SIZE = 16;
/** the registers a snapshot keeps as they are (the fields of the same names) */
const SAVED_REGS = {
  ier: 'number', lcr: 'number', mcr: 'number', lsrErrors: 'number', msrDeltas: 'number', scr: 'number', dll: 'number', dlm: 'number',
} as const;
const DEFAULT_INPUT_LIMIT = 64 * 1024;

// register offsets
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

// IER bits
const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MSI = 0x08;
// IIR values
const IIR_NONE = 0x01;
const IIR_RLS = 0x06;
const IIR_RDA = 0x04;
const IIR_TIMEOUT = 0x0c;
const IIR_THRE = 0x02;
const IIR_MSI = 0x00;
const IIR_FIFO_ON = 0xc0;
// LSR bits
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
// MCR bits
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

const TRIGGER_LEVELS = [1, 4, 8, 14];

export interface UartStats {
  bytesOut: number;
  bytesIn: number;
  /** input bytes dropped because the host-side queue was full */
  inputDrops: number;
  /** bytes lost to a receive-FIFO overrun (loopback mode only: host input waits instead) */
  overruns: number;
}

export class Uart16550 implements PortDevice, Snapshotable {
  readonly name: string;
  readonly stats: UartStats = { bytesOut: 0, bytesIn: 0, inputDrops: 0, overruns: 0 };

  private ier = 0;
  private lcr = 0x03; // 8N1 after reset, as firmware leaves it
  private mcr = 0;
  private lsrErrors = 0;
  private msrDeltas = 0;
  private scr = 0;
  private dll = 0x01; // 115200 baud
  private dlm = 0;
  private fifoEnabled = false;
  private triggerLevel = 1;
  /** THR-empty interrupt pending (cleared by reading IIR while it is the source, or writing THR) */
  private thrPending = false;
  private rx: number[] = [];
  private input: number[] = [];
  private inputHead = 0;
  private irqLevel = false;

  constructor(
    private readonly sink: (bytes: Uint8Array) => void,
    private readonly irq?: IrqLine,
    readonly base = COM1_BASE,
    private readonly inputLimit = DEFAULT_INPUT_LIMIT,
  ) {
    this.name = `uart@${base.toString(16)}`;
  }

  /** Queue bytes received from the outside world. Returns how many were accepted. */
  feedInput(bytes: Uint8Array): number {
    let accepted = 0;
    for (const b of bytes) {
      if (this.input.length - this.inputHead >= this.inputLimit) {
        this.stats.inputDrops++;
        continue;
      }
      this.input.push(b);
      accepted++;
      this.refill();
    }
    this.stats.bytesIn += accepted;
    this.update();
    return accepted;
  }

  /** LSR as a read would return it now, or -1 when reading it has a side effect (errors to clear). */
  sideEffectFreeLsr(): number {
    if (this.lsrErrors) return -1;
    return (this.rx.length > 0 ? LSR_DR : 0) | LSR_THRE | LSR_TEMT;
  }

  /** Bytes waiting on the host side (not yet in the receive FIFO). */
  pendingInput(): number {
    return this.input.length - this.inputHead;
  }

  ioRead(port: number, size: number): number {
    // a wider access on an 8-bit ISA device is split into byte cycles at successive ports
    let v = 0;
    for (let i = 0; i < size; i++) {
      const reg = port - this.base + i;
      v |= (reg <= SCR ? this.readReg(reg) : 0xff) << (8 * i);
    }
    return v >>> 0;
  }

  ioWrite(port: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) {
      const reg = port - this.base + i;
      if (reg <= SCR) this.writeReg(reg, (value >>> (8 * i)) & 0xff);
    }
  }

  private readReg(reg: number): number {
    const dlab = (this.lcr & 0x80) !== 0;
    switch (reg) {
      case RBR_THR_DLL: {
        if (dlab) return this.dll;
        const b = this.rx.length > 0 ? this.rx.shift()! : 0;
        this.refill();
        this.update();
        return b;
      }
      case IER_DLM:
        return dlab ? this.dlm : this.ier;
      case IIR_FCR: {
        const id = this.interruptId();
        if (id === IIR_THRE) {
          this.thrPending = false;
          this.update();
        }
        return id | (this.fifoEnabled ? IIR_FIFO_ON : 0);
      }
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR: {
        const v = (this.rx.length > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
        if (this.lsrErrors) {
          this.lsrErrors = 0;
          this.update();
        }
        return v;
      }
      case MSR: {
        const v = this.modemStatus() | this.msrDeltas;
        if (this.msrDeltas) {
          this.msrDeltas = 0;
          this.update();
        }
        return v;
      }
      case SCR:
        return this.scr;
      default:
        return 0xff;
    }
  }

  private writeReg(reg: number, v: number): void {
    const dlab = (this.lcr & 0x80) !== 0;
    switch (reg) {
      case RBR_THR_DLL:
        if (dlab) {
          this.dll = v;
          return;
        }
        this.transmit(v);
        return;
      case IER_DLM:
        if (dlab) {
          this.dlm = v;
          return;
        }
        {
          const was = this.ier;
          this.ier = v & 0x0f;
          // enabling THRE with an empty transmitter raises it at once (a 16550 does too)
          if ((this.ier & IER_THRE) && !(was & IER_THRE)) this.thrPending = true;
          this.update();
        }
        return;
      case IIR_FCR: {
        const enable = (v & 0x01) !== 0;
        if (enable !== this.fifoEnabled) this.rx = [];
        this.fifoEnabled = enable;
        if (v & 0x02) this.rx = [];
        this.triggerLevel = TRIGGER_LEVELS[(v >>> 6) & 3];
        this.refill();
        this.update();
        return;
      }
      case LCR:
        this.lcr = v;
        return;
      case MCR: {
        const before = this.modemStatus();
        this.mcr = v & 0x1f;
        const after = this.modemStatus();
        this.noteModemChange(before, after);
        this.refill();
        this.update();
        return;
      }
      case SCR:
        this.scr = v;
        return;
      default:
        return; // LSR and MSR are read-only
    }
  }

  private transmit(b: number): void {
    if (this.mcr & MCR_LOOP) {
      if (this.rx.length >= this.fifoCapacity()) {
        this.lsrErrors |= LSR_OE;
        this.stats.overruns++;
      } else {
        this.rx.push(b);
      }
    } else {
      this.stats.bytesOut++;
      this.sink(Uint8Array.of(b));
    }
    // the byte left at once: the holding register is empty again
    this.thrPending = (this.ier & IER_THRE) !== 0;
    this.update();
  }

  private fifoCapacity(): number {
    return this.fifoEnabled ? FIFO_SIZE : 1;
  }

  /** Move host input into the receive FIFO while it has room (not in loopback). */
  private refill(): void {
    if (this.mcr & MCR_LOOP) return;
    const cap = this.fifoCapacity();
    while (this.rx.length < cap && this.inputHead < this.input.length) this.rx.push(this.input[this.inputHead++]);
    if (this.inputHead > 4096 && this.inputHead * 2 > this.input.length) {
      this.input = this.input.slice(this.inputHead);
      this.inputHead = 0;
    }
  }

  private modemStatus(): number {
    if (this.mcr & MCR_LOOP) {
      return ((this.mcr & MCR_RTS) ? 0x10 : 0) | ((this.mcr & MCR_DTR) ? 0x20 : 0) |
        ((this.mcr & MCR_OUT1) ? 0x40 : 0) | ((this.mcr & MCR_OUT2) ? 0x80 : 0);
    }
    return 0xb0; // CTS, DSR and DCD asserted: a terminal is always attached
  }

  private noteModemChange(before: number, after: number): void {
    const changed = before ^ after;
    if (changed & 0x10) this.msrDeltas |= 0x01;
    if (changed & 0x20) this.msrDeltas |= 0x02;
    if ((before & 0x40) && !(after & 0x40)) this.msrDeltas |= 0x04; // trailing edge of RI
    if (changed & 0x80) this.msrDeltas |= 0x08;
  }

  private interruptId(): number {
    if ((this.ier & IER_RLS) && this.lsrErrors) return IIR_RLS;
    if ((this.ier & IER_RDA) && this.rx.length > 0) {
      if (!this.fifoEnabled || this.rx.length >= this.triggerLevel) return IIR_RDA;
      return IIR_TIMEOUT;
    }
    if ((this.ier & IER_THRE) && this.thrPending) return IIR_THRE;
    if ((this.ier & IER_MSI) && this.msrDeltas) return IIR_MSI;
    return IIR_NONE;
  }

  private update(): void {
    const level = this.interruptId() !== IIR_NONE;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq?.setLevel(level);
    }
  }

  saveState(): unknown {
    return {
      ...saveFields(this, SAVED_REGS), fifoEnabled: this.fifoEnabled, triggerLevel: this.triggerLevel,
      thrPending: this.thrPending, rx: [...this.rx], input: this.input.slice(this.inputHead),
    };
  }

  restoreState(state: unknown): void {
    const s = restoreFields(this, this.name, state, { ...SAVED_REGS, triggerLevel: 'number', rx: 'array', input: 'array' } as const);
    // absent from older snapshots
    const optional = state as { fifoEnabled?: unknown; thrPending?: unknown };
    this.fifoEnabled = !!optional.fifoEnabled;
    this.thrPending = !!optional.thrPending;
    this.rx = (s.rx as number[]).slice(0, FIFO_SIZE).map((b) => b & 0xff);
    this.input = (s.input as number[]).map((b) => b & 0xff);
    this.inputHead = 0;
    this.irqLevel = false;
    this.update();
  }
}
