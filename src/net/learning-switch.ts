// A learning Ethernet switch for stream clients: what `--net hub` and `parallax-emu hub` call
// "the hub". Each client connection is a port speaking QEMU's stream framing (4-byte
// big-endian length + frame), so parallax-emu machines (`--net hub,path=...`) and real QEMU VMs
// (`-netdev stream,addr.type=unix,addr.path=...`) can share one LAN. The switch learns source
// MACs per port, forwards known unicast to one port, floods broadcast/multicast/unknown
// unicast, ages entries out, and counts per port.
// A slow port never stalls the others: past a queue limit its frames are dropped and counted.
// Ports that say HELLO run in one virtual time (src/net/virtual-time-barrier.ts): their frames
// carry their send instant and reach other members stamped with send instant + link latency.

import { createServer, type Server, type Socket } from 'node:net';
import { formatMac, isMulticastMac, macKey } from './mac.js';
import { DUPLICATE_NOTICE_LEN, duplicateMacNotice } from './duplicate-mac.js';
import { MAX_FRAME, MIN_FRAME } from './net-backend.js';
import { describeAddress, type SocketAddress } from './net-spec.js';
import { netTrace } from './net-trace.js';
import type { PcapWriter } from './pcap-writer.js';
import { removeStaleSocket } from './backends/stream.js';
import { StreamFrameDecoder, encodeStreamFrame } from './stream-framing.js';
import { VirtualTimeBarrier } from './virtual-time-barrier.js';
import { SeededLoss, type LanLoss } from './seeded-loss.js';
import { VT_FRAME, VT_GRANT, VT_HELLO, VT_TIME, VT_WELCOME, decodeVt, encodeVt } from './virtual-time-wire.js';

/** default link latency of the virtual LAN, ns of guest time */
export const DEFAULT_LINK_LATENCY_NS = 20_000;

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
  /** virtual time: link latency (ns of guest time, default DEFAULT_LINK_LATENCY_NS) */
  latencyNs?: number;
  /** virtual time: members to wait for before time starts (default 0: start with the first) */
  members?: number;
  /** lose deliveries on purpose (seeded, counted in stats.lost): a lossy LAN for tests and demos */
  loss?: LanLoss;
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
  /** frames refused: their source MAC is in use on another connected port (two stations, one MAC) */
  duplicateMac: number;
  /** frames from ports outside the virtual time handed to members (they make a run non-deterministic) */
  unstamped: number;
  /** deliveries (one frame to one port) lost on purpose (SwitchOptions.loss) */
  lost: number;
  /** virtual-time messages a client may not send, or with no frame inside */
  badVt: number;
}

interface Port {
  id: number;
  socket: Socket;
  decoder: StreamFrameDecoder;
  stats: HubPortStats;
  /** warned that this port is outside the virtual time */
  warnedUnstamped?: boolean;
}

interface MacEntry {
  port: Port;
  seenMs: number;
  /** a duplicate claim was logged already */
  warned?: boolean;
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
  readonly stats: SwitchStats = { frames: 0, forwarded: 0, flooded: 0, filtered: 0, learned: 0, moved: 0, aged: 0, tableFull: 0, portsEver: 0, duplicateMac: 0, unstamped: 0, badVt: 0, lost: 0 };
  private readonly loss: SeededLoss;
  readonly vtime: VirtualTimeBarrier;

  constructor(private readonly opts: SwitchOptions = {}) {
    this.agingMs = opts.agingMs ?? 300_000;
    this.maxQueued = opts.maxQueuedBytes ?? 4 * 1024 * 1024;
    this.maxMacs = opts.maxMacs ?? 65536;
    this.loss = new SeededLoss(opts.loss);
    this.now = opts.now ?? (() => Date.now());
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(1000, Math.min(this.agingMs / 2, 60_000)));
    this.sweepTimer.unref();
    this.vtime = new VirtualTimeBarrier({
      latencyNs: opts.latencyNs ?? DEFAULT_LINK_LATENCY_NS,
      expected: opts.members ?? 0,
      grant: (id, ns) => { const p = this.ports.get(id); if (p) this.sendVt(p, encodeVt({ kind: VT_GRANT, ns })); },
    });
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
      this.vtime.leave(id);
      for (const [k, e] of this.table) if (e.port === port) this.table.delete(k);
      this.opts.log?.(`hub: port ${id} disconnected (rx ${port.stats.rxFrames} tx ${port.stats.txFrames} frames)`);
    });
  }

  /** a control message: not counted as a frame, never forwarded */
  private sendVt(p: Port, msg: Buffer): void {
    if (!p.socket.destroyed) p.socket.write(encodeStreamFrame(msg));
  }

  private onFrame(from: Port, received: Uint8Array): void {
    let frame = received;
    let sentNs: number | undefined;
    const vt = decodeVt(received);
    if (vt) {
      if (vt.kind === VT_HELLO) {
        const late = this.vtime.join(from.id);
        this.sendVt(from, encodeVt({ kind: VT_WELCOME, latencyNs: this.vtime.latencyNs, late }));
        this.opts.log?.(`hub: port ${from.id} joined the virtual time${late ? ' LATE (time had started: its frames may reach the others in their past)' : ''}`);
        return;
      }
      if (vt.kind === VT_TIME && this.vtime.isMember(from.id)) { this.vtime.promise(from.id, vt.ns); return; }
      if (vt.kind !== VT_FRAME || !this.vtime.isMember(from.id)) { this.stats.badVt++; from.stats.rxDropped++; return; }
      frame = vt.frame;
      sentNs = vt.ns;
    } else if (this.vtime.memberCount() > 0 && !this.vtime.isMember(from.id) && !from.warnedUnstamped) {
      from.warnedUnstamped = true;
      this.opts.log?.(`hub: WARNING port ${from.id} is not in the virtual time: its frames reach -icount machines when the host delivers them, so their runs are not deterministic`);
    }
    if (frame.length < MIN_FRAME || frame.length > MAX_FRAME) { from.stats.rxDropped++; return; }
    netTrace('hub-in');
    from.stats.rxFrames++;
    from.stats.rxBytes += frame.length;
    this.stats.frames++;
    this.opts.pcap?.write(frame);
    const t = this.now();
    if (!isMulticastMac(frame, 6) && !this.learn(macKey(frame, 6), from, t)) {
      from.stats.rxDropped++;
      this.stats.duplicateMac++;
      return;
    }
    let out: Port | null = null;
    if (!isMulticastMac(frame, 0)) {
      const e = this.table.get(macKey(frame, 0));
      if (e && t - e.seenMs <= this.agingMs) out = e.port;
    }
    if (out === from) { from.stats.rxDropped++; this.stats.filtered++; return; }
    const wire = encodeStreamFrame(frame);
    // members get a member's frame at its send instant + the link latency
    const stamped = sentNs === undefined ? null : encodeStreamFrame(encodeVt({ kind: VT_FRAME, ns: sentNs + this.vtime.latencyNs, frame }));
    const to = (p: Port): void => {
      if (this.loss.lose()) { this.stats.lost++; return; }
      const member = this.vtime.isMember(p.id);
      if (member && !stamped) this.stats.unstamped++;
      this.transmit(p, member && stamped ? stamped : wire, frame.length);
    };
    if (out) {
      this.stats.forwarded++;
      to(out);
      return;
    }
    this.stats.flooded++;
    for (const p of this.ports.values()) if (p !== from) to(p);
  }

  /**
   * Learn where a source MAC lives; false (refuse the frame) when another connected port uses
   * it and was heard within the aging time: two stations with one MAC would split its traffic.
   * A MAC moves freely once its old port is gone or silent.
   */
  private learn(key: number, port: Port, t: number): boolean {
    const e = this.table.get(key);
    if (e) {
      if (e.port !== port) {
        if (t - e.seenMs <= this.agingMs && this.ports.has(e.port.id)) {
          if (!e.warned) {
            this.opts.log?.(`hub: port ${port.id} claims MAC ${key.toString(16).padStart(12, "0")} of port ${e.port.id}: refused`);
            this.transmit(port, encodeStreamFrame(duplicateMacNotice(key)), DUPLICATE_NOTICE_LEN);
          }
          e.warned = true;
          return false;
        }
        this.stats.moved++;
        e.port = port;
        e.warned = false;
      }
      e.seenMs = t;
      return true;
    }
    if (this.table.size >= this.maxMacs) { this.stats.tableFull++; return true; }
    this.table.set(key, { port, seenMs: t });
    this.stats.learned++;
    return true;
  }

  private transmit(p: Port, wire: Buffer, len: number): void {
    if (p.socket.writableLength > this.maxQueued || p.socket.destroyed) { p.stats.txDropped++; return; }
    p.socket.write(wire);
    netTrace('hub-out');
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
