// The i8042 keyboard controller as far as kernels need it without a keyboard: the status
// port (0x64) never shows "input buffer full" (bit 1) so A20/flush loops finish, the
// controller answers its own commands (self-test 0xAA -> 0x55, interface tests, command byte,
// output port), the output port's A20 bit is reported through a callback, and 0xFE (or clearing
// output-port bit 0) pulses the reset line. No keyboard or mouse is attached: bytes written to
// the data port for them are ignored.

import type { DecodeRanges, IrqLine, PortDevice, Snapshotable } from './types.js';
import { restoreFields, saveFields } from './saved-state.js';

export const I8042_DATA_PORT = 0x60;
export const I8042_STATUS_PORT = 0x64;
export const I8042_KBD_IRQ = 1;
export const I8042_PORTS: DecodeRanges = { ports: [[I8042_DATA_PORT, 1], [I8042_STATUS_PORT, 1]] };

// status bits
const ST_OBF = 0x01;
const ST_SYSTEM = 0x04; // POST passed (firmware ran its self-test)
const ST_CMD = 0x08; // last write went to the command port
const ST_UNLOCKED = 0x10;

// output port bits
const OUT_RESET = 0x01; // active low system reset
const OUT_A20 = 0x02;

const OUTPUT_QUEUE_LIMIT = 16;
/** what a snapshot keeps as it is (the fields of the same names) */
const SAVED = { commandByte: 'number', outputPort: 'number', pendingCommand: 'number' } as const;

export interface I8042Hooks {
  onReset?: () => void;
  onA20?: (enabled: boolean) => void;
}

export class I8042 implements PortDevice, Snapshotable {
  readonly name = 'i8042';
  /** controller command byte ("mode"): bit 0 keyboard interrupt, bit 1 mouse interrupt */
  private commandByte = 0x03;
  private outputPort = 0xcf; // A20 on, reset line high, as QEMU starts it
  private lastWasCommand = true;
  /** command waiting for its data byte on port 0x60 (0x60 write command byte, 0xD1 output port...) */
  private pendingCommand = 0;
  private queue: number[] = [];
  private irqLevel = false;
  /** bytes dropped because the output queue was full */
  drops = 0;

  constructor(private readonly hooks: I8042Hooks = {}, private readonly irq?: IrqLine) {}

  get a20(): boolean {
    return (this.outputPort & OUT_A20) !== 0;
  }

  ioRead(port: number, _size: number): number {
    if (port === I8042_STATUS_PORT) {
      return (this.queue.length ? ST_OBF : 0) | ST_SYSTEM | (this.lastWasCommand ? ST_CMD : 0) | ST_UNLOCKED;
    }
    if (port === I8042_DATA_PORT) {
      const v = this.queue.length ? this.queue.shift()! : 0x00;
      this.update();
      return v;
    }
    return 0xff;
  }

  ioWrite(port: number, _size: number, value: number): void {
    const v = value & 0xff;
    if (port === I8042_STATUS_PORT) {
      this.lastWasCommand = true;
      this.command(v);
    } else if (port === I8042_DATA_PORT) {
      this.lastWasCommand = false;
      this.data(v);
    }
  }

  private command(c: number): void {
    this.pendingCommand = 0;
    switch (c) {
      case 0x20: this.reply(this.commandByte); return; // read command byte
      case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: this.pendingCommand = c; return;
      case 0xa7: this.commandByte |= 0x20; return; // disable mouse port
      case 0xa8: this.commandByte &= ~0x20; return;
      case 0xa9: this.reply(0x00); return; // mouse interface test: OK
      case 0xaa: this.reply(0x55); return; // controller self-test passed
      case 0xab: this.reply(0x00); return; // keyboard interface test: OK
      case 0xad: this.commandByte |= 0x10; return; // disable keyboard
      case 0xae: this.commandByte &= ~0x10; return;
      case 0xc0: this.reply(0x00); return; // input port
      case 0xd0: this.reply(this.outputPort); return;
      case 0xdd: this.setOutputPort(this.outputPort & ~OUT_A20); return;
      case 0xdf: this.setOutputPort(this.outputPort | OUT_A20); return;
      default:
        // 0xF0-0xFF pulse output-port lines low for a moment; bit 0 low is the reset line
        if (c >= 0xf0 && (c & 0x01) === 0) this.hooks.onReset?.();
        return;
    }
  }

  private data(v: number): void {
    const c = this.pendingCommand;
    this.pendingCommand = 0;
    switch (c) {
      case 0x60: this.commandByte = v; this.update(); return;
      case 0xd1: this.setOutputPort(v); return;
      case 0xd2: case 0xd3: this.reply(v); return; // echo as if from keyboard/mouse
      case 0xd4: return; // byte for the (absent) mouse
      default: return; // byte for the (absent) keyboard
    }
  }

  private setOutputPort(v: number): void {
    const oldA20 = this.a20;
    this.outputPort = v & 0xff;
    if (this.a20 !== oldA20) this.hooks.onA20?.(this.a20);
    if ((v & OUT_RESET) === 0) this.hooks.onReset?.();
  }

  private reply(b: number): void {
    if (this.queue.length >= OUTPUT_QUEUE_LIMIT) {
      this.drops++;
      return;
    }
    this.queue.push(b & 0xff);
    this.update();
  }

  private update(): void {
    const level = this.queue.length > 0 && (this.commandByte & 0x01) !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq?.setLevel(level);
    }
  }

  saveState(): unknown {
    return { ...saveFields(this, SAVED), lastWasCommand: this.lastWasCommand, queue: [...this.queue] };
  }

  restoreState(state: unknown): void {
    const s = restoreFields(this, 'i8042', state, { ...SAVED, queue: 'array' } as const);
    this.lastWasCommand = !!(state as { lastWasCommand?: unknown }).lastWasCommand;
    this.queue = (s.queue as number[]).slice(0, OUTPUT_QUEUE_LIMIT).map((b) => b & 0xff);
    this.irqLevel = false;
    this.update();
  }
}
