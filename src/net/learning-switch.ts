// A learning Ethernet switch for stream clients: what `--net hub` and `parallax-emu hub` call
// "the hub". Each client connection is a port speaking QEMU's stream framing (4-byte
// big-endian length + frame), so parallax-emu machines (`--net hub,path=...`) and real QEMU VMs
// (`-netdev stream,addr.type=unix,addr.path=...`) can share one LAN. The switch learns source
// MACs per port, forwards known unicast to one port, floods broadcast/multicast/unknown
// unicast, ages entries out, and counts per port.
// A slow port never stalls the others: past a queue limit its frames are dropped and counted.

import { createServer, type Server, type Socket } from 'node:net';
import { formatMac, isMulticastMac, macKey } from './mac.js';
import { MAX_FRAME, MIN_FRAME } from './net-backend.js';
import { describeAddress, type SocketAddress } from './net-spec.js';
import type { PcapWriter } from './pcap-writer.js';
import { removeStaleSocket } from './backends/stream.js';
import { StreamFrameDecoder, encodeStreamFrame } from './stream-framing.js';

export interface SwitchOptions {
  /** forget a MAC not seen for this long (default 300 s, the 802.1D default) */
  agingMs?: number;
  /** per-port output queue limit in bytes before frames to that port are dropped */
  maxQueuedBytes?: number;
  /** most MACs remembered; beyond it new MACs are not learned (their frames flood) */
  maxMacs?: number;
  /** record every frame the hub receives */
  pcap?: PcapWriter;
  /** log connects/disconnects (default: silent) */
  log?: (line: string) => void;
  /** clock (ms) for aging; replaceable in tests */
  now?: () => number;
}

export interface HubPortStats {
  id: number;
  peer: string;
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** frames for this port dropped because its queue was full */
  txDropped: number;
  /** frames from this port dropped: runt, oversize, or destined back to itself */
  rxDropped: number;
  malformed: number;
  macs: number;
}

export interface SwitchStats {
  frames: number;
  forwarded: number;
  flooded: number;
  /** unicast whose destination sits on the port it came from */
  filtered: number;
  learned: number;
  moved: number;
  aged: number;
  tableFull: number;
  portsEver: number;
}

interface Port {
  id: number;
  socket: Socket;
  decoder: StreamFrameDecoder;
  stats: HubPortStats;
}

interface MacEntry {
  port: Port;
  seenMs: number;
}

export class LearningSwitch {
  private readonly servers: Server[] = [];
  private readonly listenAddrs: SocketAddress[] = [];
  private readonly ports = new Map<number, Port>();
  private readonly table = new Map<number, MacEntry>();
  private nextPortId = 1;
  private readonly agingMs: number;
  private readonly maxQueued: number;
  private readonly maxMacs: number;
  private readonly now: () => number;
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;
  readonly stats: SwitchStats = { frames: 0, forwarded: 0, flooded: 0, filtered: 0, learned: 0, moved: 0, aged: 0, tableFull: 0, portsEver: 0 };

  constructor(private readonly opts: SwitchOptions = {}) {
    this.agingMs = opts.agingMs ?? 300_000;
    this.maxQueued = opts.maxQueuedBytes ?? 4 * 1024 * 1024;
    this.maxMacs = opts.maxMacs ?? 65536;
    this.now = opts.now ?? (() => Date.now());
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(1000, Math.min(this.agingMs / 2, 60_000)));
    this.sweepTimer.unref();
  }

  /** Start accepting clients at `address` (may be called several times). */
  listen(address: SocketAddress): Promise<void> {
    const srv = createServer((s) => this.accept(s));
    this.servers.push(srv);
    if (address.kind === 'unix') removeStaleSocket(address.path);
    return new Promise((resolve, reject) => {
      srv.once('error', (e) => reject(new Error(`hub: cannot listen on ${describeAddress(address)}: ${e.message}`)));
      const done = (): void => {
        const a = srv.address();
        this.listenAddrs.push(address.kind === 'inet' && a && typeof a === 'object' ? { ...address, port: a.port } : address);
        resolve();
      };
      if (address.kind === 'unix') srv.listen(address.path, done);
      else srv.listen(address.port, address.host, done);
    });
  }

  /** Addresses actually listened on (TCP port 0 resolved). */
  addresses(): SocketAddress[] { return [...this.listenAddrs]; }

  portStats(): HubPortStats[] {
    const macs = new Map<number, number>();
    for (const e of this.table.values()) macs.set(e.port.id, (macs.get(e.port.id) ?? 0) + 1);
    return [...this.ports.values()].map((p) => ({ ...p.stats, macs: macs.get(p.id) ?? 0 }));
  }

  /** The learned table as [mac, port id] pairs (live entries only). */
  macTable(): { mac: string; port: number; ageMs: number }[] {
    const t = this.now();
    const out: { mac: string; port: number; ageMs: number }[] = [];
    for (const [k, e] of this.table) {
      if (t - e.seenMs > this.agingMs) continue;
      const b = new Uint8Array(6);
      let v = k;
      for (let i = 5; i >= 0; i--) { b[i] = v % 256; v = Math.floor(v / 256); }
      out.push({ mac: formatMac(b), port: e.port.id, ageMs: t - e.seenMs });
    }
    return out;
  }

  portCount(): number { return this.ports.size; }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const p of this.ports.values()) p.socket.destroy();
    this.ports.clear();
    this.table.clear();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (const a of this.listenAddrs) if (a.kind === 'unix') removeStaleSocket(a.path);
  }

  private accept(s: Socket): void {
    if (this.closed) { s.destroy(); return; }
    const id = this.nextPortId++;
    this.stats.portsEver++;
    const peer = s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : 'unix';
    if (s.remoteAddress) s.setNoDelay(true);
    const port: Port = {
      id, socket: s, decoder: new StreamFrameDecoder(),
      stats: { id, peer, rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0, rxDropped: 0, malformed: 0, macs: 0 },
    };
    this.ports.set(id, port);
    this.opts.log?.(`hub: port ${id} connected (${peer})`);
    s.on('data', (chunk: Buffer) => {
      if (!port.decoder.push(chunk, (f) => this.onFrame(port, f))) {
        port.stats.malformed++;
        this.opts.log?.(`hub: port ${id} sent a bad length prefix (${port.decoder.badLength}); disconnecting it`);
        s.destroy();
      }
    });
    s.on('error', () => { /* 'close' follows */ });
    s.once('close', () => {
      if (port.decoder.hasPartial()) port.stats.malformed++;
      this.ports.delete(id);
      for (const [k, e] of this.table) if (e.port === port) this.table.delete(k);
      this.opts.log?.(`hub: port ${id} disconnected (rx ${port.stats.rxFrames} tx ${port.stats.txFrames} frames)`);
    });
  }

  private onFrame(from: Port, frame: Uint8Array): void {
    if (frame.length < MIN_FRAME || frame.length > MAX_FRAME) { from.stats.rxDropped++; return; }
    from.stats.rxFrames++;
    from.stats.rxBytes += frame.length;
    this.stats.frames++;
    this.opts.pcap?.write(frame);
    const t = this.now();
    if (!isMulticastMac(frame, 6)) this.learn(macKey(frame, 6), from, t);
    let out: Port | null = null;
    if (!isMulticastMac(frame, 0)) {
      const e = this.table.get(macKey(frame, 0));
      if (e && t - e.seenMs <= this.agingMs) out = e.port;
    }
    if (out === from) { from.stats.rxDropped++; this.stats.filtered++; return; }
    const wire = encodeStreamFrame(frame);
    if (out) {
      this.stats.forwarded++;
      this.transmit(out, wire, frame.length);
      return;
    }
    this.stats.flooded++;
    for (const p of this.ports.values()) if (p !== from) this.transmit(p, wire, frame.length);
  }

  private learn(key: number, port: Port, t: number): void {
    const e = this.table.get(key);
    if (e) {
      if (e.port !== port) { this.stats.moved++; e.port = port; }
      e.seenMs = t;
      return;
    }
    if (this.table.size >= this.maxMacs) { this.stats.tableFull++; return; }
    this.table.set(key, { port, seenMs: t });
    this.stats.learned++;
  }

  private transmit(p: Port, wire: Buffer, len: number): void {
    if (p.socket.writableLength > this.maxQueued || p.socket.destroyed) { p.stats.txDropped++; return; }
    p.socket.write(wire);
    p.stats.txFrames++;
    p.stats.txBytes += len;
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, e] of this.table) {
      if (t - e.seenMs > this.agingMs) { this.table.delete(k); this.stats.aged++; }
    }
  }
}
