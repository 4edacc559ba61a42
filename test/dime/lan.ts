// An Ethernet segment the test owns: a unix-socket server speaking QEMU's `-netdev stream`
// framing (4-byte big-endian length, then the frame without FCS). Every machine connects as
// a client; the segment is a hub: a frame from one machine reaches all the others and the
// test, and a frame the test sends reaches every machine. Every frame is also announced
// ('frame' from a machine, 'sent' from the test) so a recorder sees the whole segment.
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';

export class StreamLan extends EventEmitter {
  private server: net.Server;
  private peers: net.Socket[] = [];
  framesIn = 0;
  framesOut = 0;
  dropped = 0;

  constructor(readonly path: string) {
    super();
    this.server = net.createServer((s) => this.attach(s));
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
    let pending: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      while (pending.length >= 4) {
        const n = pending.readUInt32BE(0);
        if (pending.length < 4 + n) break;
        const frame = Buffer.from(pending.subarray(4, 4 + n));
        pending = pending.subarray(4 + n);
        this.framesIn++;
        for (const p of this.peers) if (p !== s) this.write(p, frame);
        this.emit('frame', frame);
      }
    });
    s.on('close', () => { this.peers = this.peers.filter((p) => p !== s); this.emit('disconnect'); });
    s.on('error', () => {});
    this.emit('connect');
  }

  private write(p: net.Socket, frame: Buffer): void {
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(frame.length, 0);
    p.write(Buffer.concat([hdr, frame]));
  }

  send(frame: Buffer): void {
    if (!this.peers.length) { this.dropped++; return; }
    for (const p of this.peers) this.write(p, frame);
    this.framesOut++;
    this.emit('sent', frame);
  }

  async close(): Promise<void> {
    for (const p of this.peers) p.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.path, { force: true });
  }
}
