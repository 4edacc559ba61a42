// A minimal gdb remote-protocol client for tests: sends packets, collects replies (acks on).
import { createServer, type Socket } from 'node:net';
import { connectWithRetry } from '../lib/connect-retry.js';

export class RspClient {
  private sock!: Socket;
  private buf = '';
  private waiters: Array<(p: string) => void> = [];
  private replies: string[] = [];

  static async connect(port: number, timeoutMs = 20_000): Promise<RspClient> {
    const c = new RspClient();
    c.sock = await connectWithRetry({ host: '127.0.0.1', port }, timeoutMs);
    c.sock.setEncoding('latin1');
    c.sock.on('data', (d: string) => c.onData(d));
    c.sock.on('error', () => undefined);
    return c;
  }

  private onData(d: string): void {
    this.buf += d;
    for (;;) {
      const start = this.buf.indexOf('$');
      const end = this.buf.indexOf('#', start);
      if (start < 0 || end < 0 || this.buf.length < end + 3) return;
      const body = this.buf.slice(start + 1, end);
      this.buf = this.buf.slice(end + 3);
      this.sock.write('+');
      const w = this.waiters.shift();
      if (w) w(body); else this.replies.push(body);
    }
  }

  /** the next packet from the stub */
  next(timeoutMs = 20_000): Promise<string> {
    const r = this.replies.shift();
    if (r !== undefined) return Promise.resolve(r);
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('no reply from the gdb stub')), timeoutMs);
      this.waiters.push((p) => { clearTimeout(t); res(p); });
    });
  }

  write(packet: string): void {
    let sum = 0;
    for (const ch of packet) sum = (sum + ch.charCodeAt(0)) & 0xff;
    this.sock.write(`$${packet}#${sum.toString(16).padStart(2, '0')}`);
  }

  request(packet: string, timeoutMs?: number): Promise<string> {
    this.write(packet);
    return this.next(timeoutMs);
  }

  interrupt(): void {
    this.sock.write('\x03');
  }

  close(): void {
    this.sock.destroy();
  }
}

/** A TCP port free right now (for a stub to listen on). */
export function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}
