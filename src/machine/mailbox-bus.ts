// The core-side end of the device mailbox (docs/ARCHITECTURE.md, "How a device access crosses
// threads"): port I/O and MMIO outside the core's own LAPIC are posted to the I/O thread, and
// the core waits for the reply. The LAPIC window is decoded here, in the core's own thread.

import type { CpuBus, LocalApic } from '../cpu/bus.js';
import {
  C_MBOX_ADDR_HI, C_MBOX_ADDR_LO, C_MBOX_KIND, C_MBOX_SIZE, C_MBOX_STATE, C_MBOX_VAL_LO, C_STAT_DEVICE_EXITS,
  MBOX_IDLE, MBOX_REPLY, MBOX_REQUEST, MB_EOI, MB_IO_READ, MB_IO_WRITE, MB_MMIO_READ, MB_MMIO_WRITE, coreBase,
} from '../abi/control-block.js';
import { TWO32 } from '../cpu/regs.js';

export class MailboxBus implements CpuBus {
  private readonly b: number;
  lapic: LocalApic | null = null;
  exits = 0;

  constructor(private readonly ctl: Int32Array, core: number) {
    this.b = coreBase(core);
  }

  private call(kind: number, addr: number, size: number, value: number): number {
    const ctl = this.ctl;
    const b = this.b;
    ctl[b + C_MBOX_KIND] = kind;
    ctl[b + C_MBOX_ADDR_LO] = addr % TWO32 | 0;
    ctl[b + C_MBOX_ADDR_HI] = Math.floor(addr / TWO32);
    ctl[b + C_MBOX_SIZE] = size;
    ctl[b + C_MBOX_VAL_LO] = value;
    Atomics.store(ctl, b + C_MBOX_STATE, MBOX_REQUEST);
    Atomics.notify(ctl, b + C_MBOX_STATE);
    // A short spin catches the common fast reply without a futex sleep; then block.
    let spins = 0;
    while (Atomics.load(ctl, b + C_MBOX_STATE) !== MBOX_REPLY) {
      if (++spins > 64) Atomics.wait(ctl, b + C_MBOX_STATE, MBOX_REQUEST, 50);
    }
    const v = ctl[b + C_MBOX_VAL_LO];
    Atomics.store(ctl, b + C_MBOX_STATE, MBOX_IDLE);
    this.exits++;
    ctl[b + C_STAT_DEVICE_EXITS] = this.exits;
    return v;
  }

  ioRead(port: number, size: number): number {
    const v = this.call(MB_IO_READ, port, size, 0);
    return size === 4 ? v >>> 0 : v & (size === 1 ? 0xff : 0xffff);
  }

  ioWrite(port: number, size: number, value: number): void {
    this.call(MB_IO_WRITE, port, size, value);
  }

  private inLapic(paddr: number): boolean {
    const l = this.lapic;
    if (l === null || !l.isGloballyEnabled()) return false;
    const base = l.baseAddress();
    return paddr >= base && paddr < base + 0x1000;
  }

  mmioRead(paddr: number, size: number): number {
    if (this.inLapic(paddr)) return this.lapic!.mmioRead(paddr - this.lapic!.baseAddress(), size);
    return this.call(MB_MMIO_READ, paddr, size, 0);
  }

  mmioWrite(paddr: number, size: number, value: number): void {
    if (this.inLapic(paddr)) {
      this.lapic!.mmioWrite(paddr - this.lapic!.baseAddress(), size, value);
      return;
    }
    this.call(MB_MMIO_WRITE, paddr, size, value);
  }

  /** a level-triggered interrupt was EOI'd at this core's LAPIC */
  levelEoi(vector: number): void {
    this.call(MB_EOI, vector, 0, 0);
  }
}
