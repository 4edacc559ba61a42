// Datagram backend: one Ethernet frame per UDP datagram, no header (QEMU's -netdev dgram and
// socket,udp=/mcast=). Unicast sends to a fixed remote and receives on a local port.
// Multicast joins a group and sends to it; since the group loops our own datagrams back
// (and other local members need that loopback), frames carrying one of our own source MACs
// are dropped on receive.

import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { macKey } from '../mac.js';
import { BackendBase } from '../net-backend.js';

export type DgramConfig =
  | { mode: 'unicast'; local: { host: string; port: number }; remote: { host: string; port: number } }
  | { mode: 'multicast'; group: string; port: number; localHost?: string };

/** How many distinct source MACs we remember as "ours" for the multicast self-filter. */
const OWN_MAC_LIMIT = 64;

export class DgramBackend extends BackendBase {
  readonly description: string;
  private readonly sock: Socket;
  private readonly bound: Promise<void>;
  private readonly ownMacs = new Set<number>();
  private closed = false;
  /** our own multicast frames seen again through the loopback and dropped */
  selfDropped = 0;
  sendErrors = 0;

  constructor(readonly config: DgramConfig, ownMac?: Uint8Array) {
    super();
    if (ownMac) this.ownMacs.add(macKey(ownMac));
    const remoteHost = config.mode === 'unicast' ? config.remote.host : config.group;
    const type = isIP(remoteHost) === 6 ? 'udp6' : 'udp4';
    this.sock = createSocket({ type, reuseAddr: config.mode === 'multicast' });
    this.description = config.mode === 'unicast'
      ? `dgram udp ${config.local.host}:${config.local.port} -> ${config.remote.host}:${config.remote.port}`
      : `dgram multicast ${config.group}:${config.port}`;
    this.sock.on('message', (msg) => this.onDatagram(msg));
    this.sock.on('error', () => { this.sendErrors++; });
    this.bound = new Promise((resolve, reject) => {
      this.sock.once('error', (e) => reject(new Error(`${this.description}: ${e.message}`)));
      const onBound = (): void => {
        try {
          if (config.mode === 'multicast') {
            this.sock.addMembership(config.group, config.localHost);
            this.sock.setMulticastLoopback(true);
            this.sock.setMulticastTTL(1);
            if (config.localHost) this.sock.setMulticastInterface(config.localHost);
          }
          resolve();
        } catch (e) {
          reject(new Error(`${this.description}: ${(e as Error).message}`));
        }
      };
      if (config.mode === 'unicast') this.sock.bind(config.local.port, config.local.host, onBound);
      else this.sock.bind(config.port, onBound);
    });
    this.bound.catch(() => { /* surfaced through ready() */ });
  }

  ready(): Promise<void> { return this.bound; }

  /** Local UDP port actually bound (useful with local.port=0). */
  boundPort(): number {
    try { return this.sock.address().port; } catch { return 0; }
  }

  send(frame: Uint8Array): void {
    if (!this.acceptOutgoing(frame) || this.closed) { if (this.closed) this.stats.txDropped++; return; }
    if (this.config.mode === 'multicast' && this.ownMacs.size < OWN_MAC_LIMIT) this.ownMacs.add(macKey(frame, 6));
    const c = this.config;
    const [host, port] = c.mode === 'unicast' ? [c.remote.host, c.remote.port] : [c.group, c.port];
    // the kernel copies the datagram; a copy on our side keeps the caller free to reuse `frame`
    this.sock.send(Buffer.from(frame), port, host, (err) => {
      if (err) { this.sendErrors++; this.stats.txDropped++; }
    });
    this.sent(frame);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.setLink(false);
    await new Promise<void>((resolve) => {
      try { this.sock.close(() => resolve()); } catch { resolve(); }
    });
  }

  private onDatagram(msg: Buffer): void {
    if (this.config.mode === 'multicast' && msg.length >= 12 && this.ownMacs.has(macKey(msg, 6))) {
      this.selfDropped++;
      this.stats.rxDropped++;
      return;
    }
    this.deliver(msg);
  }
}
