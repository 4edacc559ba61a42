// 8254 programmable interval timer (ports 0x40-0x43) and the PC's port 0x61 (gate of channel
// 2, speaker enable, refresh toggle, OUT2), on the I/O thread.
//
// Counters are not ticked: each channel remembers when its count started and derives the
// current count and OUT from the machine clock (PIT_HZ = 1.193182 MHz) when asked. Channel 0's
// OUT drives IRQ0 through an IrqLine; the only timer callback is at OUT0's next rising edge.
//   mode 0/1 (terminal count, one-shot): IRQ0 follows OUT (high from terminal count on);
//   mode 2/3/4/5 (periodic, strobes): a pulse on each rising edge of OUT. Edges that a late
//   callback missed collapse into one, as they would in an edge-latched 8259.
// When channel 0's edges cannot change anything (the line reports quiescent: latched and
// masked at the 8259 and masked at the IOAPIC, or disconnected by HPET legacy replacement),
// the callback stops re-arming and the channel sleeps until a mask/mode change wakes it.
//
// Gates (8254 data sheet): channels 0 and 1 are tied high; channel 2's is port 0x61 bit 0.
// Modes 0/4 pause while the gate is low, modes 2/3 stop with OUT high and restart on a rising
// gate, modes 1/5 are started by a rising gate. (QEMU 7.2 ignores the gate in modes 0/4.)

import { PIT_HZ } from '../abi/clock.js';
import { checkSavedState, restoreFields, saveFields, type SavedFields } from './saved-state.js';
import type { DecodeRanges, IrqLine, PortDevice, Snapshotable, TimerService } from './types.js';

/** optional extras a router line offers (RoutedIrqLine) */
interface QuiescentAwareLine extends IrqLine {
  quiescent?(): boolean;
  onConfigChange?(fn: () => void): void;
}

/** access modes (control word bits 5:4): 0 latch command, 1 LSB only, 2 MSB only, 3 LSB then MSB */
/** the counters and control word, and port 0x61 (speaker gate/output) */
export const PIT_PORTS: DecodeRanges = { ports: [[0x40, 4], [0x61, 1]] };
const RW_LATCH = 0;
const RW_MSB = 2;
const RW_WORD = 3;

/** whole PIT ticks in `ns` nanoseconds, exact for any ns below 2^53 */
export function pitTicks(ns: number): number {
  if (ns <= 0) return 0;
  const s = Math.floor(ns / 1e9);
  return s * PIT_HZ + Math.floor(((ns - s * 1e9) * PIT_HZ) / 1e9);
}

/** the first nanosecond at which `ticks` PIT ticks have elapsed */
export function pitTicksToNs(ticks: number): number {
  const q = Math.floor(ticks / PIT_HZ);
  return q * 1e9 + Math.ceil(((ticks - q * PIT_HZ) * 1e9) / PIT_HZ);
}

function toBcd(v: number): number {
  return (Math.floor(v / 1000) % 10) * 0x1000 + (Math.floor(v / 100) % 10) * 0x100 + (Math.floor(v / 10) % 10) * 0x10 + (v % 10);
}

function fromBcd(v: number): number {
  return ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

/** One counter's state as a snapshot keeps it, by field name (the fields of Channel). */
const CHANNEL_SAVED = {
  mode: 'number', rw: 'number', bcd: 'boolean', reload: 'number', counting: 'boolean', originNs: 'number', baseTicks: 'number',
  gate: 'boolean', triggered: 'boolean', writeMsbNext: 'boolean', pendingLsb: 'number', readMsbNext: 'boolean',
  latched: 'number|null', latchedMsbNext: 'boolean', status: 'number|null', nullCount: 'boolean',
} as const;
type ChannelState = SavedFields<typeof CHANNEL_SAVED>;

class Channel implements ChannelState {
  mode = 3;
  rw = 0;
  bcd = false;
  /** programmed count as written (0 = the maximum) */
  reload = 0;
  /** a count has been written since the last mode word */
  counting = false;
  /** counting resumed at this instant ... */
  originNs = 0;
  /** ... having already counted this many ticks */
  baseTicks = 0;
  gate = true;
  /** modes 1/5: started by a rising gate */
  triggered = false;
  writeMsbNext = false;
  pendingLsb = 0;
  readMsbNext = false;
  latched: number | null = null;
  latchedMsbNext = false;
  status: number | null = null;
  nullCount = false;

  period(): number {
    if (this.reload !== 0) return this.reload;
    return this.bcd ? 10000 : 65536;
  }

  modulus(): number {
    return this.bcd ? 10000 : 65536;
  }

  /** whether the counter element advances right now */
  running(): boolean {
    if (!this.counting) return false;
    if (this.mode === 1 || this.mode === 5) return this.triggered;
    return this.gate;
  }

  ticks(now: number): number {
    return this.running() ? this.baseTicks + pitTicks(now - this.originNs) : this.baseTicks;
  }

  count(now: number): number {
    const n = this.period();
    if (!this.counting) return this.reload % this.modulus();
    const d = this.ticks(now);
    switch (this.mode) {
      case 2:
        return n - (d % n);
      case 3: {
        const p = d % n;
        const high = Math.ceil(n / 2);
        if ((n & 1) === 0) return p < high ? n - 2 * p : n - 2 * (p - high);
        if (p < high) return p === 0 ? n : n + 1 - 2 * p;
        return n - 1 - 2 * (p - high);
      }
      case 1:
      case 5:
        if (!this.triggered) return this.reload % this.modulus();
        return (((n - d) % this.modulus()) + this.modulus()) % this.modulus();
      default:
        return (((n - d) % this.modulus()) + this.modulus()) % this.modulus();
    }
  }

  out(now: number): boolean {
    const n = this.period();
    switch (this.mode) {
      case 0:
        return this.counting && this.ticks(now) >= n;
      case 1:
        if (!this.counting || !this.triggered) return true;
        return this.ticks(now) >= n;
      case 2:
        if (!this.counting || !this.gate) return true;
        return this.ticks(now) % n !== n - 1;
      case 3:
        if (!this.counting || !this.gate) return true;
        return this.ticks(now) % n < Math.ceil(n / 2);
      case 4:
        return !this.counting || !this.gate || this.ticks(now) !== n;
      case 5:
        return !this.counting || !this.triggered || this.ticks(now) !== n;
    }
    return true;
  }

  /** tick index of the first rising edge of OUT strictly after tick `after`, or Infinity */
  nextRisingEdge(after: number): number {
    if (!this.running()) return Infinity;
    const n = this.period();
    switch (this.mode) {
      case 0:
      case 1:
        return after < n ? n : Infinity;
      case 2:
      case 3:
        return (Math.floor(after / n) + 1) * n;
      default:
        return after < n + 1 ? n + 1 : Infinity;
    }
  }

  /** the raw value as it would be read back (BCD-encoded if so programmed) */
  encoded(now: number): number {
    const c = this.count(now) % this.modulus();
    return this.bcd ? toBcd(c) : c;
  }

  statusByte(now: number): number {
    return (this.out(now) ? 0x80 : 0) | (this.nullCount ? 0x40 : 0) | (this.rw << 4) | (this.mode << 1) | (this.bcd ? 1 : 0);
  }
}

export interface Pit8254State {
  channels: ChannelState[];
  port61: number;
  lastEdgeTick: number;
  irqLevel: boolean;
}

export class Pit8254 implements PortDevice, Snapshotable {
  readonly name = 'pit8254';
  private readonly ch = [new Channel(), new Channel(), new Channel()];
  /** port 0x61 bits 0-3 as written (gate 2, speaker data, parity/IOCHK enables) */
  private port61 = 0;
  /** tick index (in channel 0's current count) of the last edge delivered on IRQ0 */
  private lastEdgeTick = 0;
  private irqLevel = false;
  private sleeping = false;
  /** IRQ0 pulses delivered and timer callbacks run, for statistics */
  pulses = 0;
  callbacks = 0;

  constructor(private readonly timers: TimerService, private readonly irq0: QuiescentAwareLine | null) {
    irq0?.onConfigChange?.(() => this.wake());
    this.reset();
  }

  /** power-on as QEMU models it: every channel in mode 3 counting 65536, gate 2 low */
  reset(): void {
    const now = this.timers.nowNs();
    this.ch.forEach((c, i) => {
      Object.assign(c, new Channel());
      c.gate = i !== 2;
      c.counting = true;
      c.originNs = now;
    });
    this.port61 = 0;
    this.lastEdgeTick = 0;
    this.setIrq(false);
    this.rearm();
  }

  /** as SeaBIOS leaves it (measured under QEMU 7.2): channel 0 mode 2, lobyte/hibyte, count 0 */
  firmwareState(): void {
    this.ioWrite(0x43, 1, 0x34);
    this.ioWrite(0x40, 1, 0);
    this.ioWrite(0x40, 1, 0);
  }

  // ---------------------------------------------------------------- ports

  ioRead(port: number, _size: number): number {
    const now = this.timers.nowNs();
    if (port >= 0x40 && port <= 0x42) return this.readCounter(this.ch[port - 0x40], now);
    if (port === 0x61) {
      const refresh = Math.floor(now / 15_085) & 1; // DRAM refresh request toggles every ~15 us
      return (this.port61 & 0x0f) | (refresh << 4) | (this.ch[2].out(now) ? 0x20 : 0);
    }
    return 0xff; // 0x43 is write-only
  }

  ioWrite(port: number, _size: number, value: number): void {
    const now = this.timers.nowNs();
    const v = value & 0xff;
    if (port >= 0x40 && port <= 0x42) {
      this.writeCounter(port - 0x40, v, now);
    } else if (port === 0x43) {
      this.writeControl(v, now);
    } else if (port === 0x61) {
      this.port61 = v & 0x0f;
      this.setGate(2, (v & 1) !== 0, now);
    }
  }

  private readCounter(c: Channel, now: number): number {
    if (c.status !== null) {
      const s = c.status;
      c.status = null;
      return s;
    }
    if (c.latched !== null) {
      const v = c.latched;
      if (c.rw === RW_WORD && !c.latchedMsbNext) {
        c.latchedMsbNext = true;
        return v & 0xff;
      }
      c.latched = null;
      c.latchedMsbNext = false;
      return c.rw === RW_MSB || c.rw === RW_WORD ? (v >> 8) & 0xff : v & 0xff;
    }
    const v = c.encoded(now);
    switch (c.rw) {
      case RW_MSB: return (v >> 8) & 0xff;
      case RW_WORD:
        c.readMsbNext = !c.readMsbNext;
        return c.readMsbNext ? v & 0xff : (v >> 8) & 0xff;
      default: return v & 0xff;
    }
  }

  private writeCounter(i: number, v: number, now: number): void {
    const c = this.ch[i];
    let value: number;
    switch (c.rw) {
      case RW_MSB: value = v << 8; break;
      case RW_WORD:
        if (!c.writeMsbNext) {
          c.pendingLsb = v;
          c.writeMsbNext = true;
          return;
        }
        c.writeMsbNext = false;
        value = c.pendingLsb | (v << 8);
        break;
      default: value = v;
    }
    this.load(i, c.bcd ? fromBcd(value) : value, now);
  }

  private load(i: number, value: number, now: number): void {
    const c = this.ch[i];
    c.reload = value;
    c.counting = true;
    c.nullCount = false;
    c.originNs = now;
    c.baseTicks = 0;
    if (c.mode === 1 || c.mode === 5) c.triggered = c.triggered && c.gate;
    if (i === 0) {
      this.lastEdgeTick = 0;
      if (c.mode === 0 || c.mode === 1) this.setIrq(c.out(now));
      this.rearm();
    }
  }

  private writeControl(v: number, now: number): void {
    const sel = v >>> 6;
    if (sel === 3) {
      // read-back: bit 5 clear latches counts, bit 4 clear latches status; bits 1-3 pick channels
      for (let i = 0; i < 3; i++) {
        if ((v & (2 << i)) === 0) continue;
        const c = this.ch[i];
        if ((v & 0x10) === 0 && c.status === null) c.status = c.statusByte(now);
        if ((v & 0x20) === 0 && c.latched === null) c.latched = c.encoded(now);
      }
      return;
    }
    const c = this.ch[sel];
    const rw = (v >>> 4) & 3;
    if (rw === RW_LATCH) {
      if (c.latched === null) {
        c.latched = c.encoded(now);
        c.latchedMsbNext = false;
      }
      return;
    }
    let mode = (v >>> 1) & 7;
    if (mode > 5) mode -= 4; // 6 and 7 are aliases of 2 and 3
    c.mode = mode;
    c.rw = rw;
    c.bcd = (v & 1) !== 0;
    c.counting = false;
    c.triggered = false;
    c.baseTicks = 0;
    c.nullCount = true;
    c.writeMsbNext = false;
    c.readMsbNext = false;
    c.latched = null;
    c.status = null;
    if (sel === 0) {
      this.setIrq(false); // OUT low (mode 0) or idle between pulses
      this.lastEdgeTick = 0;
      this.rearm();
    }
  }

  private setGate(i: number, level: boolean, now: number): void {
    const c = this.ch[i];
    if (c.gate === level) return;
    const oneShot = c.mode === 1 || c.mode === 5;
    if (!level) {
      // modes 0/4 pause and 2/3 stop: freeze what has been counted so far
      if (!oneShot) c.baseTicks = c.ticks(now);
      c.gate = false;
    } else {
      c.gate = true;
      if (oneShot || c.mode === 2 || c.mode === 3) {
        c.baseTicks = 0; // a rising gate (re)starts the count
        c.originNs = now;
        if (oneShot && c.counting) c.triggered = true;
      } else {
        c.originNs = now; // modes 0/4 resume
      }
      if (i === 0) this.lastEdgeTick = 0;
    }
    if (i === 0) this.rearm();
  }

  // ---------------------------------------------------------------- IRQ0

  private setIrq(level: boolean): void {
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq0?.setLevel(level);
  }

  /** schedule the callback at channel 0's next rising edge */
  private rearm(): void {
    this.sleeping = false;
    const c = this.ch[0];
    const edge = c.nextRisingEdge(this.lastEdgeTick);
    if (edge === Infinity || !this.irq0) {
      this.timers.cancel('pit0');
      return;
    }
    const at = c.originNs + pitTicksToNs(edge - c.baseTicks);
    this.timers.schedule('pit0', at, () => this.onEdge());
  }

  private onEdge(): void {
    this.callbacks++;
    const now = this.timers.nowNs();
    const c = this.ch[0];
    const d = c.ticks(now);
    const edge = c.nextRisingEdge(this.lastEdgeTick);
    if (edge <= d) {
      if (c.mode === 2 || c.mode === 3) this.lastEdgeTick = Math.floor(d / c.period()) * c.period();
      else this.lastEdgeTick = edge;
      if (c.mode === 0 || c.mode === 1) {
        this.setIrq(true);
      } else {
        this.pulses++;
        this.irq0?.setLevel(true);
        this.irq0?.setLevel(false);
      }
      if ((c.mode === 2 || c.mode === 3) && this.irq0?.quiescent?.()) {
        this.sleeping = true; // further edges would be invisible; a config change wakes us
        this.timers.cancel('pit0');
        return;
      }
    }
    this.rearm();
  }

  private wake(): void {
    if (!this.sleeping) return;
    const c = this.ch[0];
    const d = c.ticks(this.timers.nowNs());
    // edges while asleep were invisible; carry on from the current period
    if (c.mode === 2 || c.mode === 3) this.lastEdgeTick = Math.floor(d / c.period()) * c.period();
    this.rearm();
  }

  /** whether channel 0 has stopped scheduling callbacks because nobody can see its edges */
  isSleeping(): boolean {
    return this.sleeping;
  }

  /** for diagnostics and tests */
  channelOut(i: number): boolean {
    return this.ch[i].out(this.timers.nowNs());
  }

  // ---------------------------------------------------------------- snapshots

  saveState(): Pit8254State {
    return {
      channels: this.ch.map((c) => saveFields(c, CHANNEL_SAVED) as ChannelState),
      port61: this.port61,
      lastEdgeTick: this.lastEdgeTick,
      irqLevel: this.irqLevel,
    };
  }

  restoreState(state: unknown): void {
    const s = state as Pit8254State;
    if (!s || !Array.isArray(s.channels) || s.channels.length !== 3) throw new Error('Pit8254.restoreState: not a PIT snapshot');
    for (const cs of s.channels) checkSavedState('Pit8254.restoreState', cs, CHANNEL_SAVED); // all three fit before one is taken
    s.channels.forEach((cs, i) => restoreFields(this.ch[i], 'Pit8254.restoreState', cs, CHANNEL_SAVED));
    this.port61 = s.port61 & 0x0f;
    this.lastEdgeTick = s.lastEdgeTick;
    this.irqLevel = s.irqLevel;
    this.irq0?.setLevel(this.irqLevel);
    this.rearm();
  }
}
