// An Ethernet segment the test owns: a unix-socket server speaking QEMU's `-netdev stream`
// framing (src/net/stream-framing.ts: 4-byte big-endian length, then the frame without FCS). Every machine connects as
// a client; the segment is a hub: a frame from one machine reaches all the others and the
// test, and a frame the test sends reaches every machine. Every frame is also announced
// ('frame' from a machine, 'sent' from the test) so a recorder sees the whole segment.
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { StreamFrameDecoder, encodeStreamFrame } from '../../src/net/stream-framing.js';
import { SeededLoss, type LanLoss } from '../../src/net/seeded-loss.js';

export type { LanLoss } from '../../src/net/seeded-loss.js';

export class StreamLan extends EventEmitter {
  private server: net.Server;
  private peers: net.Socket[] = [];
  private readonly loss = new SeededLoss();
  framesIn = 0;
  framesOut = 0;
  dropped = 0;
  /** deliveries lost on purpose (setLoss) */
  get lost(): number { return this.loss.lost; }
  /** deliveries that could have been lost (counted while a loss rate is set) */
  get lossTrials(): number { return this.loss.trials; }
  /** connections dropped for a malformed length prefix */
  badStreams = 0;

  constructor(readonly path: string) {
    super();
    this.server = net.createServer((s) => this.attach(s));
  }

  /** Lose each delivery with probability `rate` (seeded; counted in `lost`); rate 0 = a perfect segment. */
  setLoss(loss: LanLoss): void {
    this.loss.set(loss);
  }

  private lose(): boolean {
    return this.loss.lose();
  }

  async listen(): Promise<void> {
    rmSync(this.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => resolve());
    });
  }

  /** resolves once `count` machines' NIC backends have connected */
  connected(count = 1, timeoutMs = 30_000): Promise<void> {
    if (this.peers.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.off('connect', on); reject(new Error(`${this.peers.length}/${count} machines connected`)); }, timeoutMs);
      const on = () => { if (this.peers.length >= count) { clearTimeout(t); this.off('connect', on); resolve(); } };
      this.on('connect', on);
    });
  }

  private attach(s: net.Socket): void {
    this.peers.push(s);
    const decoder = new StreamFrameDecoder();
    const onFrame = (f: Uint8Array) => {
      const frame = Buffer.from(f.buffer, f.byteOffset, f.length);
      this.framesIn++;
      for (const p of this.peers) if (p !== s && !this.lose()) p.write(encodeStreamFrame(frame));
      if (!this.lose()) this.emit('frame', frame);
    };
    s.on('data', (d: Buffer) => {
      if (!decoder.push(d, onFrame)) { this.badStreams++; s.destroy(); }
    });
    s.on('close', () => { this.peers = this.peers.filter((p) => p !== s); this.emit('disconnect'); });
    s.on('error', () => {});
    this.emit('connect');
  }

  send(frame: Buffer): void {
    if (!this.peers.length) { this.dropped++; return; }
    for (const p of this.peers) if (!this.lose()) p.write(encodeStreamFrame(frame));
    this.framesOut++;
    this.emit('sent', frame);
  }

  async close(): Promise<void> {
    for (const p of this.peers) p.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.path, { force: true });
  }
}
