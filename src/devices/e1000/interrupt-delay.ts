// One moderated e1000 interrupt cause: RXT0 (delays RDTR and RADV) or TXDW (TIDV and TADV).
// The packet timer restarts with every packet; the absolute timer starts with the first
// packet of a burst and is not restarted, so a steady stream cannot postpone the interrupt
// for ever. Whichever expires first raises the cause and stops the other (8254x manual,
// "Interrupt Delay" and "Absolute Delay" timers). Delays are in units of 1.024 µs.
import type { TimerService } from '../types.js';
import { DELAY_UNIT_NS } from './regs.js';

export class DelayedInterrupt {
  /** a packet is waiting for one of the timers (saved in snapshots) */
  pending = false;

  constructor(
    private readonly timers: TimerService | undefined,
    private readonly packetKey: string,
    private readonly absoluteKey: string,
    private readonly raise: () => void,
  ) {}

  /** A packet asks for the interrupt: now when there are no timers or no packet delay. */
  request(packetDelay: number, absoluteDelay: number): void {
    if (!this.timers || packetDelay === 0) { this.fire(); return; }
    const now = this.timers.nowNs();
    this.timers.schedule(this.packetKey, now + packetDelay * DELAY_UNIT_NS, () => this.fire());
    if (absoluteDelay && !this.pending) this.timers.schedule(this.absoluteKey, now + absoluteDelay * DELAY_UNIT_NS, () => this.fire());
    this.pending = true;
  }

  /** Raise the cause now (a timer expired, or the driver flushed: RDTR.FPD). */
  fire(): void {
    this.cancel();
    this.raise();
  }

  /** Forget the waiting packet without raising anything (device reset, snapshot restore). */
  cancel(): void {
    if (this.timers) { this.timers.cancel(this.packetKey); this.timers.cancel(this.absoluteKey); }
    this.pending = false;
  }
}
