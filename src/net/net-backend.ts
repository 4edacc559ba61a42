// The interface between a NIC model and whatever carries its frames (a socket, a TAP device,
// a hub). Frames are whole Ethernet frames without FCS. Everything runs on the I/O thread:
// `send` never blocks (a backend that cannot take a frame now drops it and counts it), and
// received frames arrive through the `onReceive` callback from the event loop.

import type { PcapWriter } from './pcap-writer.js';

/** Smallest frame a backend passes on: an Ethernet header (dst, src, type). */
export const MIN_FRAME = 14;
/** Largest frame a backend passes on (the stream framing allows 65536; we keep it 16-bit). */
export const MAX_FRAME = 65535;

export interface NetBackendStats {
  txFrames: number;
  txBytes: number;
  /** frames the caller handed us that we could not send (not connected, backpressure, error) */
  txDropped: number;
  rxFrames: number;
  rxBytes: number;
  /** received frames shorter than MIN_FRAME, dropped */
  rxRunts: number;
  /** received frames longer than MAX_FRAME, dropped */
  rxOversize: number;
  /** received frames dropped for other reasons (our own multicast loopback, no listener) */
  rxDropped: number;
  /** protocol violations by the peer (bad length prefix, partial frame at disconnect) */
  malformed: number;
  /** connections lost / re-established (stream-like backends) */
  disconnects: number;
  connects: number;
}

export function emptyStats(): NetBackendStats {
  return {
    txFrames: 0, txBytes: 0, txDropped: 0, rxFrames: 0, rxBytes: 0, rxRunts: 0, rxOversize: 0,
    rxDropped: 0, malformed: 0, disconnects: 0, connects: 0,
  };
}

export type FrameListener = (frame: Uint8Array) => void;
export type LinkListener = (up: boolean) => void;

export interface NetBackend {
  /** spec-like description for logs, e.g. "stream unix:/tmp/hub.sock (client)" */
  readonly description: string;
  readonly stats: NetBackendStats;
  /** queue one frame for sending; never blocks, never throws for I/O trouble */
  send(frame: Uint8Array): void;
  /** the (single) receiver of incoming frames; the frame may be reused after the call returns */
  onReceive(cb: FrameListener): void;
  /** whether the "cable" is plugged (a stream client without a peer reports false) */
  linkUp(): boolean;
  onLinkChange(cb: LinkListener): void;
  /** bytes accepted by send() but still waiting in host buffers (0 where unknown) */
  queuedBytes(): number;
  close(): Promise<void>;
}

/**
 * Shared plumbing: size checks and counting for received frames, the listeners, send stats.
 * Concrete backends call `deliver()` for each frame they read and `sent()/dropped()` on send.
 */
export abstract class BackendBase implements NetBackend {
  abstract readonly description: string;
  readonly stats = emptyStats();
  private rxListener: FrameListener | null = null;
  private linkListener: LinkListener | null = null;
  protected link = true;

  abstract send(frame: Uint8Array): void;
  abstract close(): Promise<void>;

  onReceive(cb: FrameListener): void { this.rxListener = cb; }
  onLinkChange(cb: LinkListener): void { this.linkListener = cb; }
  linkUp(): boolean { return this.link; }
  queuedBytes(): number { return 0; }

  protected setLink(up: boolean): void {
    if (up === this.link) return;
    this.link = up;
    this.linkListener?.(up);
  }

  /** A frame arrived from the outside: validate, count, hand to the NIC. */
  protected deliver(frame: Uint8Array): void {
    if (frame.length < MIN_FRAME) { this.stats.rxRunts++; return; }
    if (frame.length > MAX_FRAME) { this.stats.rxOversize++; return; }
    if (!this.rxListener) { this.stats.rxDropped++; return; }
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    this.rxListener(frame);
  }

  /** Validate an outgoing frame; returns false (and counts) if it must not be sent. */
  protected acceptOutgoing(frame: Uint8Array): boolean {
    if (frame.length < MIN_FRAME || frame.length > MAX_FRAME) { this.stats.txDropped++; return false; }
    return true;
  }

  protected sent(frame: Uint8Array): void {
    this.stats.txFrames++;
    this.stats.txBytes += frame.length;
  }
}

/** A backend that records every frame sent and received into a pcap file. */
export class CapturingBackend implements NetBackend {
  readonly description: string;
  constructor(private readonly inner: NetBackend, private readonly pcap: PcapWriter) {
    this.description = `${inner.description} (capture ${pcap.path})`;
  }
  get stats(): NetBackendStats { return this.inner.stats; }
  send(frame: Uint8Array): void {
    this.pcap.write(frame);
    this.inner.send(frame);
  }
  onReceive(cb: FrameListener): void {
    this.inner.onReceive((frame) => {
      this.pcap.write(frame);
      cb(frame);
    });
  }
  linkUp(): boolean { return this.inner.linkUp(); }
  onLinkChange(cb: LinkListener): void { this.inner.onLinkChange(cb); }
  queuedBytes(): number { return this.inner.queuedBytes(); }
  async close(): Promise<void> {
    await this.inner.close();
    this.pcap.close();
  }
}
