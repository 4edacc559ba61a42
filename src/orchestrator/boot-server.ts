// The boot server (docs/BOOT.md, "Network boot"): answers the network boot firmware's
// BOOT_REQUEST (sent to the boot multicast address) with a signed offer, then its BOOT_READs
// with BOOT_DATA chunks. Every frame it sends is tagged with the requesting server's key
// (K_server(MAC), derived from the master secret: the orchestrator's authority), and carries
// the firmware's nonce as its epoch, so the firmware refuses another LAN station's reply and a
// replay from an earlier request. Requests it cannot verify are counted and refused.
import { EventEmitter } from 'node:events';
import { createHash, randomInt } from 'node:crypto';
import * as W from '../protocol/wire.js';
import { PxCodec, encodePayload, macToString, parseMac, type Frame } from '../protocol/codec.js';
import type { NetBackend } from '../net/net-backend.js';
import { UsageError } from './errors.js';

export interface BootImage {
  bytes: Buffer;
  /** first word of the kernel's command line (str16 on the wire) */
  name: string;
  /** the rest of the command line */
  cmdline: string;
}

export interface BootServerStats {
  requests: number;
  offers: number;
  reads: number;
  chunks: number;
  /** transfers whose last chunk went out (per server and request) */
  served: number;
  refusedForged: number;
  refusedReplayed: number;
  refusedMalformed: number;
}

export type BootEvent =
  | { type: 'offer'; mac: string; attempt: number }
  | { type: 'served'; mac: string; chunks: number; reads: number }
  | { type: 'refused'; mac: string; why: 'forged' | 'replayed' | 'malformed'; detail: string };

/** What we keep per requesting server: its current nonce and the ones it used before. */
interface Client {
  epoch: bigint;
  lastSeq: bigint;
  oldEpochs: bigint[];
  offered: boolean;
  reads: number;
  served: boolean;
  requests: number;
}

const REQUEST = W.messageByName('BOOT_REQUEST');
const READ = W.messageByName('BOOT_READ');
const DATA = W.messageByName('BOOT_DATA');

export function checkBootImage(img: BootImage): void {
  if (img.bytes.length === 0) throw new UsageError('boot image is empty');
  if (img.bytes.length > 64 * 1024 * 1024) throw new UsageError(`boot image is ${img.bytes.length} bytes; the firmware takes at most 64 MiB`);
  if (Buffer.byteLength(img.name) > 16 || img.name === '' || /\s/.test(img.name)) throw new UsageError(`boot image name '${img.name}': 1-16 bytes, no spaces`);
  if (Buffer.byteLength(img.cmdline) >= W.BOOT.maxCmdline) throw new UsageError(`--append is ${Buffer.byteLength(img.cmdline)} bytes; at most ${W.BOOT.maxCmdline - 1}`);
  if (/(^|\s)key=/.test(img.cmdline)) throw new UsageError('--append must not carry key=: keys reach servers through fw_cfg (--key-file), never a command line');
}

export class BootServer extends EventEmitter {
  readonly stats: BootServerStats = { requests: 0, offers: 0, reads: 0, chunks: 0, served: 0, refusedForged: 0, refusedReplayed: 0, refusedMalformed: 0 };
  readonly mac: string;
  readonly sha256: Buffer;
  private readonly codec: PxCodec;
  private readonly clients = new Map<string, Client>();
  private readonly instance = randomInt(1, 0x10000);
  private seq = BigInt(Date.now()) << 20n;
  private readonly nchunks: number;

  constructor(private readonly backend: NetBackend, opts: { key: string | Buffer; mac: string; image: BootImage; etherBase?: number }) {
    super();
    checkBootImage(opts.image);
    this.mac = macToString(parseMac(opts.mac));
    this.codec = new PxCodec({ key: opts.key, etherBase: opts.etherBase });
    this.sha256 = createHash('sha256').update(opts.image.bytes).digest();
    this.nchunks = Math.ceil(opts.image.bytes.length / W.BOOT.chunk);
    this.image = opts.image;
    backend.onReceive((raw) => this.receive(Buffer.from(raw)));
  }

  private readonly image: BootImage;

  private refuse(mac: string, why: 'forged' | 'replayed' | 'malformed', detail: string): void {
    if (why === 'forged') this.stats.refusedForged++;
    else if (why === 'replayed') this.stats.refusedReplayed++;
    else this.stats.refusedMalformed++;
    this.emit('event', { type: 'refused', mac, why, detail } satisfies BootEvent);
  }

  private receive(raw: Buffer): void {
    const f = this.codec.decode(raw);
    if (!f || f.srcMac === this.mac || f.channel !== 'signaling' || (f.flags & W.FLAGS.RESPONSE)) return;
    if (f.code !== REQUEST.code && f.code !== READ.code) return;
    if (f.code === REQUEST.code && f.dstMac !== W.BOOT.multicastMac) return;
    if (f.code === READ.code && f.dstMac !== this.mac) return;
    if (!f.authentic) return this.refuse(f.srcMac, 'forged', `${f.message?.name}: bad tag (not signed with the key of server ${f.srcMac})`);
    const c = this.fresh(f);
    if (!c) return;
    if (f.code === REQUEST.code) this.offer(f, c);
    else this.read(f, c);
  }

  /** The client in the frame's epoch, or null (a replay, counted). A new nonce is a new boot attempt. */
  private fresh(f: Frame): Client | null {
    let c = this.clients.get(f.srcMac);
    if (c && c.epoch === f.epoch) {
      if (f.seq <= c.lastSeq) { this.refuse(f.srcMac, 'replayed', `${f.message?.name}: sequence ${f.seq} not above ${c.lastSeq}`); return null; }
      c.lastSeq = f.seq;
      return c;
    }
    if (f.code !== REQUEST.code || (c && c.oldEpochs.includes(f.epoch))) {
      this.refuse(f.srcMac, 'replayed', `${f.message?.name} in ${c?.oldEpochs.includes(f.epoch) ? 'an earlier' : 'an unknown'} epoch`);
      return null;
    }
    const oldEpochs = c ? [c.epoch, ...c.oldEpochs].slice(0, 16) : [];
    if (!c && this.clients.size >= 4096) this.clients.clear(); // bounded under a flood of made-up MACs (each needs a valid tag)
    c = { epoch: f.epoch, lastSeq: f.seq, oldEpochs, offered: false, reads: 0, served: false, requests: c?.requests ?? 0 };
    this.clients.set(f.srcMac, c);
    return c;
  }

  private send(dst: string, channel: W.Channel, code: number, flags: number, f: Frame, payload: Buffer): void {
    this.backend.send(this.codec.encode({
      dstMac: dst, srcMac: this.mac, channel, scope: 'system', code, flags, dstCore: f.srcCore, srcCore: W.CORE_NONE,
      seq: ++this.seq, reqId: f.reqId, instance: this.instance, epoch: f.epoch, payload,
    }));
  }

  private offer(f: Frame, c: Client): void {
    this.stats.requests++;
    c.requests++;
    const payload = encodePayload(REQUEST.response!, {
      size: this.image.bytes.length, chunk: W.BOOT.chunk, sha256: this.sha256, name: this.image.name, cmdline: this.image.cmdline,
    });
    this.send(f.srcMac, 'signaling', REQUEST.code, W.FLAGS.RESPONSE, f, payload);
    c.offered = true;
    this.stats.offers++;
    this.emit('event', { type: 'offer', mac: f.srcMac, attempt: c.requests } satisfies BootEvent);
  }

  private read(f: Frame, c: Client): void {
    if (!c.offered) return this.refuse(f.srcMac, 'malformed', 'BOOT_READ before an offer');
    let offset: number, length: number;
    try {
      const v = this.codec.fields(f);
      offset = Number(v.offset);
      length = Number(v.length);
    } catch {
      return this.refuse(f.srcMac, 'malformed', 'BOOT_READ payload too short');
    }
    const size = this.image.bytes.length;
    if (offset % W.BOOT.chunk !== 0 || offset >= size || length === 0 || length > W.BOOT.window * W.BOOT.chunk) {
      return this.refuse(f.srcMac, 'malformed', `BOOT_READ offset ${offset} length ${length} outside the image or the window`);
    }
    this.stats.reads++;
    c.reads++;
    const end = Math.min(size, offset + length);
    for (let o = offset; o < end; o += W.BOOT.chunk) {
      const data = this.image.bytes.subarray(o, Math.min(size, o + W.BOOT.chunk));
      this.send(f.srcMac, 'data', DATA.code, 0, f, encodePayload(DATA.request!, { offset: o, data }));
      this.stats.chunks++;
    }
    if (end === size && !c.served) {
      c.served = true;
      this.stats.served++;
      this.emit('event', { type: 'served', mac: f.srcMac, chunks: this.nchunks, reads: c.reads } satisfies BootEvent);
    }
  }

  async close(): Promise<void> {
    await this.backend.close();
  }
}
