// A hub port in the virtual time (docs/ARCHITECTURE.md, "One virtual time across machines"):
// wraps the hub client, says HELLO on every connect, stamps each frame it sends with the
// sender's guest time, keeps the stamped frames it receives in delivery-time order until the
// owner takes them (`deliverDue`), and carries promises out and grants in. Used by an -icount
// machine (its I/O thread's turn, src/machine/machine.ts) and by the deterministic
// orchestrator client (src/orchestrator/virtual-time-client.ts).
// Frames that come unstamped (from ports outside the virtual time) go to the receiver at once.

import { macKey } from './mac.js';
import type { FrameListener, LinkListener, NetBackend, NetBackendStats } from './net-backend.js';
import { VT_FRAME, VT_GRANT, VT_HELLO, VT_TIME, VT_WELCOME, decodeVt, encodeVt } from './virtual-time-wire.js';

export interface VirtualTimeLinkStats {
  /** stamped frames delivered */
  stamped: number;
  /** unstamped frames (from outside the virtual time) passed on as they came */
  unstamped: number;
  /** stamped frames whose delivery instant had already passed when they came (counted, delivered at once) */
  late: number;
  promises: number;
  grants: number;
}

export class VirtualTimeLink implements NetBackend {
  readonly description: string;
  readonly vstats: VirtualTimeLinkStats = { stamped: 0, unstamped: 0, late: 0, promises: 0, grants: 0 };
  /** the hub welcomed us: link latency (ns) and whether we joined after time had started */
  welcome: { latencyNs: number; late: boolean } | null = null;
  private granted = 0;
  private promised = -1;
  /**
   * stamped frames not yet delivered, in delivery order: by instant, then by source MAC (frames
   * of two senders due at one instant must not take the order the host delivered them in),
   * then as they came (one sender's frames keep their order)
   */
  private readonly waiting: { at: number; src: number; frame: Uint8Array }[] = [];
  private receiver: FrameListener = () => {};
  private linkListener: LinkListener = () => {};
  private wakers: Array<() => void> = [];
  /** the latest instant handed to the receiver */
  private deliveredTo = 0;

  /** `now`: the owner's guest time (ns), the send instant of each frame */
  constructor(private readonly inner: NetBackend, private readonly now: () => number) {
    this.description = `${inner.description} (virtual time)`;
    inner.onReceive((f) => this.onHubFrame(f));
    inner.onLinkChange((up) => {
      if (up) {
        this.granted = 0;
        this.promised = -1;
        this.welcome = null;
        inner.send(encodeVt({ kind: VT_HELLO }));
      } else {
        // no hub: nothing can come, so nothing to wait for
        this.granted = Infinity;
      }
      this.wake();
      this.linkListener(up);
    });
    if (inner.linkUp()) inner.send(encodeVt({ kind: VT_HELLO }));
  }

  get stats(): NetBackendStats { return this.inner.stats; }

  /** Every stamped frame due before this instant is here. */
  grant(): number { return this.granted; }

  /** Delivery instant of the earliest waiting frame (Infinity: none). */
  nextArrival(): number { return this.waiting.length ? this.waiting[0].at : Infinity; }

  /** Hand the receiver every waiting frame due by `ns`; returns how many. */
  deliverDue(ns: number): number {
    let n = 0;
    while (this.waiting.length && this.waiting[0].at <= ns) {
      const w = this.waiting.shift()!;
      this.vstats.stamped++;
      this.receiver(w.frame);
      n++;
    }
    if (ns > this.deliveredTo) this.deliveredTo = ns;
    return n;
  }

  /** Tell the hub we send nothing stamped before `ns` (promises only grow). */
  promise(ns: number): void {
    if (!(ns > this.promised) || !this.inner.linkUp()) return;
    this.promised = ns;
    this.vstats.promises++;
    this.inner.send(encodeVt({ kind: VT_TIME, ns }));
  }

  /** The latest promise sent (-1: none since the last connect). */
  promisedNs(): number { return this.promised; }

  /** Resolves when a grant or a frame comes, the link changes, or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void { clearTimeout(t); resolve(); }
      this.wakers.push(done);
    });
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }

  private onHubFrame(f: Uint8Array): void {
    const m = decodeVt(f);
    if (!m) {
      this.vstats.unstamped++;
      this.receiver(f);
      this.wake();
      return;
    }
    switch (m.kind) {
      case VT_WELCOME: this.welcome = { latencyNs: m.latencyNs, late: m.late }; break;
      case VT_GRANT:
        if (m.ns > this.granted) this.granted = m.ns;
        this.vstats.grants++;
        break;
      case VT_FRAME: {
        if (m.ns <= this.deliveredTo) {
          this.vstats.late++;
          this.vstats.stamped++;
          this.receiver(Uint8Array.from(m.frame));
          break;
        }
        const src = macKey(m.frame, 6);
        let i = this.waiting.length;
        while (i > 0 && (this.waiting[i - 1].at > m.ns || (this.waiting[i - 1].at === m.ns && this.waiting[i - 1].src > src))) i--;
        this.waiting.splice(i, 0, { at: m.ns, src, frame: Uint8Array.from(m.frame) });
        break;
      }
      default: return; // HELLO/TIME are not for clients
    }
    this.wake();
  }

  send(frame: Uint8Array): void {
    this.inner.send(encodeVt({ kind: VT_FRAME, ns: this.now(), frame }));
  }

  onReceive(cb: FrameListener): void { this.receiver = cb; }
  linkUp(): boolean { return this.inner.linkUp(); }
  onLinkChange(cb: LinkListener): void { this.linkListener = cb; }
  queuedBytes(): number { return this.inner.queuedBytes(); }
  async close(): Promise<void> {
    this.granted = Infinity;
    this.wake();
    await this.inner.close();
  }
}
