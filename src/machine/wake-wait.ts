// How a halted core waits for its wake word (C_WAKE): a short poll first, when a spare host
// CPU makes that free (the host's load average says so, and this machine's running cores do
// not fill the host), then Atomics.wait. Polling catches a wake-up in well under a
// microsecond where the futex costs ~4 µs plus the scheduler's reaction; it is never done when
// emulated cores outnumber host cores (a polling core would take the CPU of the one that is
// about to wake it). The poll window adapts as KVM's halt polling does: it grows while
// wake-ups keep arriving soon after it ends, and shrinks when sleeps are long.

import {
  C_RUNSTATE, C_STAT_WAKE_HIST, C_STAT_WAKEUPS, C_STAT_WAKE_NS_LO, WAKE_HIST_LIMITS_US, C_WAKE, C_WAKE_STAMP, G_HOST_CORES, G_HOST_LOAD_X100, G_NCORES, RS_RUNNING, coreBase,
} from '../abi/control-block.js';
import { addCounter64, hostStampNs } from '../abi/host-stamp.js';

/** Poll window limits (ns): start, ceiling. */
const POLL_START_NS = 10_000;
const POLL_MAX_NS = 200_000;

export class WakeWaiter {
  private readonly wakeIdx: number;
  private readonly mayPoll: boolean;
  private pollNs = POLL_START_NS;
  /** wake-ups caught by polling / by the futex (statistics, tests) */
  polled = 0;
  slept = 0;

  constructor(private readonly ctl: Int32Array, private readonly core: number) {
    this.wakeIdx = coreBase(core) + C_WAKE;
    const host = ctl[G_HOST_CORES];
    this.mayPoll = host > 1 && ctl[G_NCORES] <= host && process.env.PARALLAX_HALT_POLL !== '0';
  }

  /**
   * A spare host CPU for polling: the host's load average (every process, this one included)
   * leaves one, and fewer of this machine's other cores run than the host has CPUs.
   */
  private spareHostCpu(): boolean {
    const host = this.ctl[G_HOST_CORES];
    return Atomics.load(this.ctl, G_HOST_LOAD_X100) < (host - 1) * 100 + 50 && this.othersRunning() < host;
  }

  /** Cores of this machine running right now, other than this one. */
  private othersRunning(): number {
    const ctl = this.ctl;
    const n = ctl[G_NCORES];
    let busy = 0;
    for (let i = 0; i < n; i++) if (i !== this.core && Atomics.load(ctl, coreBase(i) + C_RUNSTATE) === RS_RUNNING) busy++;
    return busy;
  }

  /**
   * Wait until C_WAKE moves from `seen` or `timeoutMs` passes. Returns true when woken.
   * Counts the wake-up and its latency (from the sender's stamp) in the control block.
   */
  wait(seen: number, timeoutMs: number): boolean {
    const ctl = this.ctl;
    const idx = this.wakeIdx;
    const t0 = hostStampNs();
    if (this.mayPoll && this.spareHostCpu()) {
      const limit = Math.min(this.pollNs, timeoutMs * 1e6);
      do {
        if (Atomics.load(ctl, idx) !== seen) { this.polled++; this.count(); return true; }
      } while (((hostStampNs() - t0) | 0) < limit);
    }
    const r = Atomics.wait(ctl, idx, seen, timeoutMs);
    if (r === 'timed-out') {
      this.adapt((hostStampNs() - t0) | 0);
      return false;
    }
    this.slept++;
    this.count(); // 'ok', or 'not-equal': the wake-up came just before the futex wait
    this.adapt((hostStampNs() - t0) | 0);
    return true;
  }

  /** grow the window when the sleep was a little longer than it, shrink it for long sleeps */
  private adapt(sleptNs: number): void {
    if (!this.mayPoll) return;
    if (sleptNs >= 0 && sleptNs < POLL_MAX_NS) this.pollNs = Math.min(POLL_MAX_NS, Math.max(POLL_START_NS, this.pollNs * 2));
    else this.pollNs = Math.max(POLL_START_NS, this.pollNs >> 1);
  }

  /** A wake-up ended a sleep its worker did on the cores' shared word (a grouped core): count it. */
  woken(): void {
    this.slept++;
    this.count();
  }

  private count(): void {
    const ctl = this.ctl;
    const b = coreBase(this.core);
    const lat = (hostStampNs() - Atomics.load(ctl, b + C_WAKE_STAMP)) | 0;
    ctl[b + C_STAT_WAKEUPS]++;
    if (lat < 0) return;
    addCounter64(ctl, b + C_STAT_WAKE_NS_LO, lat);
    let i = 0;
    while (lat >= WAKE_HIST_LIMITS_US[i] * 1000) i++;
    ctl[b + C_STAT_WAKE_HIST + i]++;
  }
}
