// Stream backend: frames over a TCP or unix stream socket with QEMU's 4-byte length framing.
// Client mode reconnects with exponential backoff whenever the peer goes away; server mode
// accepts one peer at a time (like QEMU's stream server) and refuses extra connections.
// The link is "up" only while a peer is connected.

import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { netTrace } from '../net-trace.js';
import { BackendBase } from '../net-backend.js';
import { describeAddress, type SocketAddress } from '../net-spec.js';
import { StreamFrameDecoder, encodeStreamFrame } from '../stream-framing.js';

export interface StreamBackendOptions {
  /** first reconnect delay (client); doubles up to `reconnectMaxMs` */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** frames are dropped (counted) while more than this many bytes wait in the socket */
  maxQueuedBytes?: number;
  /** label used in the description ("stream" or "hub") */
  label?: string;
}

export class StreamBackend extends BackendBase {
  readonly description: string;
  private socket: Socket | null = null;
  private server: Server | null = null;
  private readonly decoder = new StreamFrameDecoder();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly maxQueued: number;
  private readonly listening: Promise<void>;
  /** extra connections a server refused because it already had a peer */
  refused = 0;
  /** connection attempts that failed (client) */
  connectFailures = 0;

  constructor(readonly address: SocketAddress, readonly server_: boolean, opts: StreamBackendOptions = {}) {
    super();
    this.link = false;
    this.minMs = opts.reconnectMinMs ?? 100;
    this.maxMs = opts.reconnectMaxMs ?? 2000;
    this.backoffMs = this.minMs;
    this.maxQueued = opts.maxQueuedBytes ?? 4 * 1024 * 1024;
    this.description = `${opts.label ?? 'stream'} ${describeAddress(address)} (${server_ ? 'server' : 'client'})`;
    if (server_) {
      this.listening = this.listen();
    } else {
      this.listening = Promise.resolve();
      this.connect();
    }
  }

  /** Resolves once a server listens (rejects if it cannot); immediate for clients. */
  ready(): Promise<void> { return this.listening; }

  /** The bound TCP port of a server (useful with port=0). */
  boundPort(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  /** Resolves when a peer is connected (or after `timeoutMs`, with false). */
  waitConnected(timeoutMs = 5000): Promise<boolean> {
    if (this.link) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        if (this.link || this.closed || Date.now() - t0 > timeoutMs) {
          clearInterval(poll);
          resolve(this.link);
        }
      }, 5);
    });
  }

  override queuedBytes(): number { return this.socket?.writableLength ?? 0; }

  send(frame: Uint8Array): void {
    if (!this.acceptOutgoing(frame)) return;
    const s = this.socket;
    if (!s || !this.link || s.writableLength > this.maxQueued) { this.stats.txDropped++; return; }
    s.write(encodeStreamFrame(frame));
    netTrace('tx-written');
    this.sent(frame);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.socket?.destroy();
    this.socket = null;
    this.setLink(false);
    if (this.server) {
      const srv = this.server;
      this.server = null;
      await new Promise<void>((resolve) => srv.close(() => resolve()));
      if (this.address.kind === 'unix') removeStaleSocket(this.address.path);
    }
  }

  // ---- client ----

  private connect(): void {
    if (this.closed) return;
    const a = this.address;
    const s = a.kind === 'unix' ? createConnection({ path: a.path }) : createConnection({ host: a.host, port: a.port });
    let connected = false;
    s.once('connect', () => {
      connected = true;
      this.backoffMs = this.minMs;
      if (a.kind === 'inet') s.setNoDelay(true);
      this.attach(s);
    });
    s.once('error', () => { /* 'close' follows and handles it */ });
    s.once('close', () => {
      if (!connected) {
        this.connectFailures++;
        this.scheduleReconnect();
      }
    });
  }

  private scheduleReconnect(): void {
    if (this.closed || this.server_ || this.reconnectTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.maxMs, this.backoffMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  // ---- server ----

  private listen(): Promise<void> {
    const srv = createServer((s) => {
      if (this.socket || this.closed) {
        this.refused++;
        s.destroy();
        return;
      }
      if (this.address.kind === 'inet') s.setNoDelay(true);
      this.attach(s);
    });
    this.server = srv;
    const a = this.address;
    if (a.kind === 'unix') removeStaleSocket(a.path);
    return new Promise((resolve, reject) => {
      srv.once('error', (e) => reject(new Error(`${this.description}: cannot listen: ${(e as Error).message}`)));
      if (a.kind === 'unix') srv.listen(a.path, () => resolve());
      else srv.listen(a.port, a.host, () => resolve());
    });
  }

  // ---- a connected peer (either side) ----

  private attach(s: Socket): void {
    this.socket = s;
    this.decoder.reset();
    this.stats.connects++;
    this.setLink(true);
    s.on('data', (chunk: Buffer) => {
      netTrace('rx-data');
      const ok = this.decoder.push(chunk, (frame) => this.deliver(frame));
      if (!ok) {
        // a corrupt length prefix leaves no way to find the next frame: drop the connection
        this.stats.malformed++;
        s.destroy();
      }
    });
    s.on('error', () => { /* 'close' follows */ });
    s.once('close', () => {
      if (this.socket !== s) return;
      if (this.decoder.hasPartial()) this.stats.malformed++;
      this.decoder.reset();
      this.socket = null;
      this.stats.disconnects++;
      this.setLink(false);
      if (!this.server_) this.scheduleReconnect();
    });
  }
}

/** Remove a leftover unix socket file (never a regular file). */
export function removeStaleSocket(path: string): void {
  try {
    if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
  } catch { /* best effort */ }
}
