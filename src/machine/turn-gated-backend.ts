// -icount networking: a backend whose received frames wait for the I/O thread's turn, so they
// enter the guest at a defined point of instruction-count time, and whose capture records carry
// virtual time. Frames still arrive from outside when the host delivers them: peers that are
// not in the virtual time (QEMU, an orchestrator, a parallax-emu in real time) make the arrival
// instant, and so the run, differ between runs (docs/ARCHITECTURE.md, "Time").

import type { FrameListener, LinkListener, NetBackend, NetBackendStats } from '../net/net-backend.js';
import { pcapRecord, type PcapWriter } from '../net/pcap-writer.js';
import type { TimeSource } from '../abi/clock.js';

export class TurnGatedBackend implements NetBackend {
  readonly description: string;
  private readonly queue: Uint8Array[] = [];
  private receiver: FrameListener = () => {};

  /**
   * `epochMs`: the wall-clock date virtual time 0 stands for in capture records;
   * `record`: each capture record as written (for the replay digest).
   */
  constructor(
    private readonly inner: NetBackend,
    private readonly clock: TimeSource,
    private readonly epochMs: number,
    private readonly pcap: PcapWriter | null,
    private readonly record: (rec: Uint8Array) => void,
  ) {
    this.description = `${inner.description} (frames at -icount turns${pcap ? `, capture ${pcap.path}` : ''})`;
    inner.onReceive((frame) => this.queue.push(Uint8Array.from(frame)));
  }

  get stats(): NetBackendStats { return this.inner.stats; }

  private capture(frame: Uint8Array): void {
    const rec = pcapRecord(frame, this.epochMs + this.clock.nowNs() / 1e6);
    this.pcap?.writeRecord(rec);
    this.record(rec);
  }

  send(frame: Uint8Array): void {
    this.capture(frame);
    this.inner.send(frame);
  }

  /** the I/O thread's turn: hand waiting frames to the NIC; returns how many */
  deliverWaiting(): number {
    const n = this.queue.length;
    for (let i = 0; i < n; i++) {
      const f = this.queue.shift()!;
      this.capture(f);
      this.receiver(f);
    }
    return n;
  }

  onReceive(cb: FrameListener): void { this.receiver = cb; }
  linkUp(): boolean { return this.inner.linkUp(); }
  onLinkChange(cb: LinkListener): void { this.inner.onLinkChange(cb); }
  queuedBytes(): number { return this.inner.queuedBytes(); }
  async close(): Promise<void> {
    await this.inner.close();
    this.pcap?.close();
  }
}
