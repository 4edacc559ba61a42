// An Ethernet segment the test owns: a unix-socket server speaking QEMU's `-netdev stream`
// framing (src/net/stream-framing.ts: 4-byte big-endian length, then the frame without FCS). Every machine connects as
// a client; the segment is a hub: a frame from one machine reaches all the others and the
// test, and a frame the test sends reaches every machine. Every frame is also announced
// ('frame' from a machine, 'sent' from the test) so a recorder sees the whole segment.
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { StreamFrameDecoder, encodeStreamFrame } from '../../src/net/stream-framing.js';

/** mulberry32: a small seeded generator, so a lossy run can be repeated */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LanLoss {
  /** probability that one delivery (one copy of a frame to one machine or to the test) is lost */
  rate: number;
  seed: number;
}

export class StreamLan extends EventEmitter {
  private server: net.Server;
  private peers: net.Socket[] = [];
  private loss: LanLoss = { rate: 0, seed: 1 };
  private random = seededRandom(1);
  framesIn = 0;
  framesOut = 0;
  dropped = 0;
  /** deliveries lost on purpose (setLoss) */
  lost = 0;
  /** deliveries that could have been lost (counted while a loss rate is set) */
  lossTrials = 0;
  /** connections dropped for a malformed length prefix */
  badStreams = 0;

  constructor(readonly path: string) {
    super();
    this.server = net.createServer((s) => this.attach(s));
  }

  /** Lose each delivery with probability `rate` (seeded; counted in `lost`); rate 0 = a perfect segment. */
  setLoss(loss: LanLoss): void {
    if (!(loss.rate >= 0 && loss.rate < 1)) throw new RangeError(`loss rate ${loss.rate} is not in [0, 1)`);
    this.loss = loss;
    this.random = seededRandom(loss.seed);
  }

  private lose(): boolean {
    if (this.loss.rate === 0) return false;
    this.lossTrials++;
    if (this.random() >= this.loss.rate) return false;
    this.lost++;
    return true;
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
