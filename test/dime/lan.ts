// A one-peer Ethernet segment the test owns: a unix-socket server speaking QEMU's
// `-netdev stream` framing (4-byte big-endian length, then the frame without FCS).
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';

export class StreamLan extends EventEmitter {
  private server: net.Server;
  private peer: net.Socket | null = null;
  private pending: Buffer = Buffer.alloc(0);
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

  /** resolves once the machine's NIC backend has connected */
  connected(timeoutMs = 30_000): Promise<void> {
    if (this.peer) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no machine connected to the LAN socket')), timeoutMs);
      this.once('connect', () => { clearTimeout(t); resolve(); });
    });
  }

  private attach(s: net.Socket): void {
    if (this.peer) { s.destroy(); return; }   // one peer, as QEMU's stream backend
    this.peer = s;
    s.on('data', (d) => this.onData(d));
    s.on('close', () => { if (this.peer === s) this.peer = null; this.emit('disconnect'); });
    s.on('error', () => {});
    this.emit('connect');
  }

  private onData(d: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    while (this.pending.length >= 4) {
      const n = this.pending.readUInt32BE(0);
      if (this.pending.length < 4 + n) break;
      const frame = Buffer.from(this.pending.subarray(4, 4 + n));
      this.pending = this.pending.subarray(4 + n);
      this.framesIn++;
      this.emit('frame', frame);
    }
  }

  send(frame: Buffer): void {
    if (!this.peer) { this.dropped++; return; }
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(frame.length, 0);
    this.peer.write(Buffer.concat([hdr, frame]));
    this.framesOut++;
  }

  async close(): Promise<void> {
    this.peer?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.path, { force: true });
  }
}
