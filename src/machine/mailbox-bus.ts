// The core-side end of device accesses (docs/ARCHITECTURE.md). The LAPIC window is decoded
// here, in the core's own thread. Then, without the I/O thread: writes to COM1, to an e1000's
// registers and level-triggered EOIs are posted (queued in order, src/abi/posted-writes.ts);
// COM1's LSR and an e1000's ICR are read from shared device state when nothing is queued;
// the HPET's main counter is computed from the core's own clock (also under -icount).
// Everything else is posted to the I/O thread's mailbox and the core waits for the reply.

import type { CpuBus, LocalApic } from '../cpu/bus.js';
import {
  C_MBOX_ADDR_HI, C_MBOX_ADDR_LO, C_MBOX_KIND, C_MBOX_SIZE, C_MBOX_STATE, C_MBOX_VAL_HI, C_MBOX_VAL_LO, C_STAT_DEVICE_EXITS, C_STAT_DEVICE_NS_LO,
  C_STAT_DEVICE_SLOW, C_STAT_DEVICE_SLOW_NS_LO, C_STAT_DEVICE_TIMED, MBOX_IDLE, MBOX_REPLY, MBOX_REQUEST, MB_EOI, MB_FERR, MB_IO_READ, MB_IO_WRITE, MB_MMIO_READ, MB_MMIO_WRITE, coreBase,
} from '../abi/control-block.js';
import {
  DS_NIC_BAR, DS_PENDING_NIC, DS_PENDING_UART, DS_UART_LSR, MAX_FAST_NICS, NIC_REG_WORDS, PW_EOI, PW_IO_WRITE, PW_MMIO_WRITE, PW_NIC_ICR_READ, hpetSinceView, nicRegisters, readHpetCounter,
} from '../abi/device-shared.js';
import { postWrite } from '../abi/posted-writes.js';
import type { TimeSource } from '../abi/clock.js';
import { HPET_BASE } from '../abi/memory-map.js';
import { HPET_COUNTER, NS_PER_TICK as HPET_NS_PER_TICK } from '../devices/hpet.js';
import { COM1_BASE } from '../devices/uart16550.js';
import { CTRL, ICR, ICS } from '../devices/e1000/regs.js';
import { TWO32 } from '../cpu/regs.js';
import { addCounter64 } from '../abi/host-stamp.js';

const COM1_LSR = COM1_BASE + 5;

/** NIC register writes whose effect an ICR read must see (reset, acknowledge, set causes) */
function touchesIcr(off: number): boolean {
  const reg = off & ~3;
  return reg === CTRL || reg === ICR || reg === ICS;
}
const NIC_BAR_BYTES = NIC_REG_WORDS * 4;

export class MailboxBus implements CpuBus {
  private readonly b: number;
  lapic: LocalApic | null = null;
  /** device accesses (all), and those that went to the I/O thread */
  exits = 0;
  /** called before each access crosses to the I/O thread (-icount publishes the core's time) */
  beforeExit: (() => void) | null = null;
  slow = 0;
  private readonly dw: Int32Array | null;
  private readonly nicRegs: Uint32Array[] = [];

  /** the core's clock, for device registers that are functions of guest time (the HPET counter) */
  clock: TimeSource | null = null;
  private readonly timeDw: Int32Array | null;
  private readonly hpetSince: Float64Array | null;
  private readonly counter = [0, 0];

  /**
   * `devices`: the shared device state (src/abi/device-shared.ts); without it every access
   * goes to the I/O thread. `clocked`: the same buffer, for the registers read from the
   * core's clock alone (no posted writes involved, so -icount uses them too).
   */
  constructor(private readonly ctl: Int32Array, private readonly core: number, devices?: SharedArrayBuffer, clocked?: SharedArrayBuffer) {
    this.b = coreBase(core);
    this.dw = devices ? new Int32Array(devices) : null;
    this.timeDw = clocked ? new Int32Array(clocked) : null;
    this.hpetSince = clocked ? hpetSinceView(clocked) : null;
    if (devices) for (let i = 0; i < MAX_FAST_NICS; i++) this.nicRegs.push(nicRegisters(devices, i));
  }

  private call(kind: number, addr: number, size: number, value: number, valueHi = 0): number {
    const ctl = this.ctl;
    const b = this.b;
    this.beforeExit?.();
    const t0 = performance.now();
    ctl[b + C_MBOX_KIND] = kind;
    ctl[b + C_MBOX_ADDR_LO] = addr % TWO32 | 0;
    ctl[b + C_MBOX_ADDR_HI] = Math.floor(addr / TWO32);
    ctl[b + C_MBOX_SIZE] = size;
    ctl[b + C_MBOX_VAL_LO] = value;
    ctl[b + C_MBOX_VAL_HI] = valueHi;
    Atomics.store(ctl, b + C_MBOX_STATE, MBOX_REQUEST);
    Atomics.notify(ctl, b + C_MBOX_STATE);
    // A short spin catches the common fast reply without a futex sleep; then block.
    let spins = 0;
    while (Atomics.load(ctl, b + C_MBOX_STATE) !== MBOX_REPLY) {
      if (++spins > 64) Atomics.wait(ctl, b + C_MBOX_STATE, MBOX_REQUEST, 50);
    }
    const v = ctl[b + C_MBOX_VAL_LO];
    Atomics.store(ctl, b + C_MBOX_STATE, MBOX_IDLE);
    ctl[b + C_STAT_DEVICE_SLOW] = ++this.slow;
    addCounter64(ctl, b + C_STAT_DEVICE_SLOW_NS_LO, Math.round((performance.now() - t0) * 1e6));
    return v;
  }

  /**
   * Start timing 1 in 64 accesses (reading the clock costs more than an access done here);
   * returns the start, or -1. Accesses that go to the I/O thread are all timed in call().
   */
  private stamp(): number {
    return (this.exits & 63) === 0 ? performance.now() : -1;
  }

  /** count one device access and, when timed here (t0 >= 0, not `viaIoThread`), its cost */
  private done(t0: number, viaIoThread = false): void {
    const ctl = this.ctl;
    ctl[this.b + C_STAT_DEVICE_EXITS] = ++this.exits;
    if (t0 < 0 || viaIoThread) return;
    ctl[this.b + C_STAT_DEVICE_TIMED]++;
    addCounter64(ctl, this.b + C_STAT_DEVICE_NS_LO, Math.round((performance.now() - t0) * 1e6));
  }

  /** index of the e1000 whose BAR0 holds `paddr`, or -1 */
  private nicAt(paddr: number): number {
    const dw = this.dw!;
    for (let i = 0; i < MAX_FAST_NICS; i++) {
      const k = DS_NIC_BAR + 2 * i;
      if (dw[k + 1] === 0) continue;
      const off = paddr - (dw[k] >>> 0);
      if (off >= 0 && off < NIC_BAR_BYTES) return i;
    }
    return -1;
  }

  ioRead(port: number, size: number): number {
    const t0 = this.stamp();
    let v: number;
    const dw = this.dw;
    if (dw !== null && port === COM1_LSR && size === 1 && Atomics.load(dw, DS_PENDING_UART) === 0 && (v = Atomics.load(dw, DS_UART_LSR)) >= 0) {
      this.done(t0);
      return v;
    }
    v = this.call(MB_IO_READ, port, size, 0);
    this.done(t0, true);
    return size === 4 ? v >>> 0 : v & (size === 1 ? 0xff : 0xffff);
  }

  ioWrite(port: number, size: number, value: number): void {
    const t0 = this.stamp();
    const dw = this.dw;
    if (dw === null || port < COM1_BASE || port + size > COM1_BASE + 8 ||
      !postWrite(dw, PW_IO_WRITE, port, size, value, port === COM1_BASE && size === 1 ? 0 : DS_PENDING_UART)) {
      this.call(MB_IO_WRITE, port, size, value);
      this.done(t0, true);
      return;
    }
    this.done(t0);
  }

  /** FERR# to the platform's x87 error latch (rare: legacy CR0.NE = 0 reporting); returns IGNNE# */
  ferr(asserted: boolean): boolean {
    return this.call(MB_FERR, this.core, 0, asserted ? 1 : 0) !== 0;
  }

  private inLapic(paddr: number): boolean {
    const l = this.lapic;
    if (l === null || !l.isGloballyEnabled()) return false;
    const base = l.baseAddress();
    return paddr >= base && paddr < base + 0x1000;
  }

  /** the HPET main counter from the core's clock into this.counter; false: ask the I/O thread */
  private hpetCounter(): boolean {
    return this.timeDw !== null && this.clock !== null &&
      readHpetCounter(this.timeDw, this.hpetSince!, this.clock.nowNs(), HPET_NS_PER_TICK, this.counter);
  }

  mmioRead(paddr: number, size: number): number {
    if (this.inLapic(paddr)) return this.lapic!.mmioRead(paddr - this.lapic!.baseAddress(), size);
    const t0 = this.stamp();
    if (size === 4 && (paddr === HPET_BASE + HPET_COUNTER || paddr === HPET_BASE + HPET_COUNTER + 4) && this.hpetCounter()) {
      this.done(t0);
      return this.counter[paddr === HPET_BASE + HPET_COUNTER ? 0 : 1];
    }
    const dw = this.dw;
    if (dw !== null && size === 4 && paddr < TWO32) {
      const nic = this.nicAt(paddr);
      // ICR is read-to-clear: take it atomically (the I/O thread sets causes with Atomics.or),
      // then let the I/O thread lower INTA# as the model does after its own ICR read
      if (nic >= 0 && paddr - (dw[DS_NIC_BAR + 2 * nic] >>> 0) === ICR && Atomics.load(dw, DS_PENDING_NIC + nic) === 0) {
        const v = Atomics.exchange(this.nicRegs[nic], ICR >> 2, 0);
        // an ICR that was already clear changes nothing: INTA# is low with it
        if (v !== 0) while (!postWrite(dw, PW_NIC_ICR_READ, nic, 0, 0)) { /* full: the I/O thread is taking records off */ }
        this.done(t0);
        return v >>> 0;
      }
    }
    const v = this.call(MB_MMIO_READ, paddr, size, 0);
    this.done(t0, true);
    return v;
  }

  mmioWrite(paddr: number, size: number, value: number): void {
    if (this.inLapic(paddr)) {
      this.lapic!.mmioWrite(paddr - this.lapic!.baseAddress(), size, value);
      return;
    }
    const t0 = this.stamp();
    const dw = this.dw;
    const nic = dw === null || paddr >= TWO32 ? -1 : this.nicAt(paddr);
    if (nic < 0 || !postWrite(dw!, PW_MMIO_WRITE, paddr, size, value, touchesIcr(paddr - (dw![DS_NIC_BAR + 2 * nic] >>> 0)) ? DS_PENDING_NIC + nic : 0)) {
      this.call(MB_MMIO_WRITE, paddr, size, value);
      this.done(t0, true);
      return;
    }
    this.done(t0);
  }

  /**
   * One 8-byte access (a 64-bit MOV), crossing to the I/O thread whole so the device sees one
   * access (HPET's counter read in one piece). The LAPIC's registers are 32 bits wide: two halves.
   */
  mmioRead64(paddr: number): bigint {
    if (this.inLapic(paddr)) {
      const off = paddr - this.lapic!.baseAddress();
      const lo = this.lapic!.mmioRead(off, 4) >>> 0;
      return (BigInt(this.lapic!.mmioRead(off + 4, 4) >>> 0) << 32n) | BigInt(lo);
    }
    const t0 = this.stamp();
    if (paddr === HPET_BASE + HPET_COUNTER && this.hpetCounter()) {
      this.done(t0);
      return (BigInt(this.counter[1]) << 32n) | BigInt(this.counter[0]);
    }
    const lo = this.call(MB_MMIO_READ, paddr, 8, 0) >>> 0;
    const hi = this.ctl[this.b + C_MBOX_VAL_HI] >>> 0;
    this.done(t0, true);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  mmioWrite64(paddr: number, value: bigint): void {
    const lo = Number(BigInt.asIntN(32, value)), hi = Number(BigInt.asIntN(32, value >> 32n));
    if (this.inLapic(paddr)) {
      const off = paddr - this.lapic!.baseAddress();
      this.lapic!.mmioWrite(off, 4, lo);
      this.lapic!.mmioWrite(off + 4, 4, hi);
      return;
    }
    // not posted (the posted-write ring carries 32-bit values); the I/O thread applies every
    // earlier posted write before this one, so the order holds
    const t0 = this.stamp();
    this.call(MB_MMIO_WRITE, paddr, 8, lo, hi);
    this.done(t0, true);
  }

  /** a level-triggered interrupt was EOI'd at this core's LAPIC */
  levelEoi(vector: number): void {
    const t0 = this.stamp();
    const dw = this.dw;
    if (dw === null || !postWrite(dw, PW_EOI, vector, 0, 0)) {
      this.call(MB_EOI, vector, 0, 0);
      this.done(t0, true);
      return;
    }
    this.done(t0);
  }
}
