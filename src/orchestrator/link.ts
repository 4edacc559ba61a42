// The orchestrator's attachment to a DIME LAN: any NetBackend (hub/stream/dgram/tap socket, or
// AF_PACKET on a real interface) plus the Parallax codec. It signs every frame it sends with
// the network key and numbers it with a strictly increasing sequence number; it has no way
// to send an unsigned frame, and refuses to exist without a key. Incoming frames are checked
// (tag, then sequence) before anyone sees them; forged and replayed reports are counted and
// raised as local security events instead of being believed.
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import * as W from '../protocol/wire.js';
import { BROADCAST, PxCodec, ReplayGuard, encodePayload, parseMac, macToString, type Decoded, type Fields, type Frame } from '../protocol/codec.js';
import type { NetBackend } from '../net/net-backend.js';
import { RefusedError, TimeoutError, UsageError } from './errors.js';

export interface LinkOptions {
  /** the network key (HMAC-SHA256); required: the orchestrator never sends unsigned frames */
  key: string | Buffer | undefined;
  /** our MAC: DIMEs lock ownership to it, so keep it stable across runs */
  mac: string;
  etherBase?: number;
  /** default reply timeout per request */
  timeoutMs?: number;
  /**
   * fixed sequence numbers, request ids and instance (a replayed run in virtual time sends the
   * same bytes every time); only for a machine booted fresh for the run: its DIMEs then have
   * seen no higher sequence number from us
   */
  fixedIds?: boolean;
}

export interface Reply {
  frame: Frame;
  fields: Decoded;
}

export interface RequestOptions {
  /** answers to wait for (system scope: one per DIME). Default 1. */
  expect?: number;
  /** instead of a count: collect everything that arrives within this window */
  collectMs?: number;
  timeoutMs?: number;
  /** resend this many times on timeout (only for requests that are safe to repeat) */
  retries?: number;
  /** a label for error messages, e.g. "S1/2" */
  label?: string;
}

/** Counters of what the link saw; reported by `parallax watch` and the dashboard. */
export interface LinkStats {
  sent: number;
  received: number;
  forged: number;
  replayed: number;
  ignored: number;
  timeouts: number;
  /** reports in an epoch we have not confirmed ourselves (a dead server's replayed heartbeats, say): not believed */
  unconfirmed: number;
  /** requests answered STALE_EPOCH (first contact, or the server rebooted) and sent again */
  stale: number;
}

const STATUS_NAMES = Object.fromEntries(Object.entries(W.STATUS).map(([k, v]) => [v, k])) as Record<number, string>;
const STATUS_WHY: Record<number, string> = {
  [W.STATUS.BAD_STATE]: 'not allowed in the DIME\'s current state',
  [W.STATUS.NO_MEMORY]: 'over the memory limit or the chunk pool is exhausted',
  [W.STATUS.BAD_CHECKSUM]: 'the image does not match its CRC-32',
  [W.STATUS.OUT_OF_RANGE]: 'a value is out of range',
  [W.STATUS.NOT_FOUND]: 'no such built-in service or parameter',
  [W.STATUS.MALFORMED]: 'the request was malformed',
  [W.STATUS.UNAUTHORIZED]: 'this orchestrator may not do that (another owner, or not allowed)',
  [W.STATUS.BAD_IMAGE]: 'the service image header is invalid',
  [W.STATUS.UNSUPPORTED]: 'unknown instruction or wrong scope',
};

export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `status ${status}`;
}

export function describeStatus(status: number): string {
  return `${statusName(status)} (${STATUS_WHY[status] ?? 'unknown status'})`;
}

/** Requests that change nothing (or set a value) and may be resent after a lost answer. */
const REPEATABLE = new Set(['DISCOVER', 'QUERY_PERF', 'QUERY_SECURITY', 'QUERY_ACCOUNTING', 'PING', 'SET_HEARTBEAT', 'SET_PERF_INTERVAL', 'SET_PARAM', 'SET_MEMLIMIT', 'SET_ROUTE',
  // collectives: a repeat carries the same op id, which the coordinator recognises (docs/COLLECTIVES.md)
  'COLL_START', 'TEST_EVENT', 'COLL_READ',
  // name fleet: a view is installed once per number; a register of the same binding is answered with its seq (docs/NAMES.md)
  'NAME_FLEET', 'NAME_REGISTER', 'NAME_RESOLVE', 'NAME_STATUS',
  // live migration: a read, a chunk already written, or an END already acted on is answered again (docs/MIGRATION.md)
  'MIGRATE_READ', 'MIGRATE_CHUNK', 'MIGRATE_END']);

interface Pending {
  reqId: number;
  server: string;
  replies: Reply[];
  /** answered STALE_EPOCH: send again in the epoch that answer carried */
  stale?: boolean;
  expect: number;
  collect: boolean;
  done: (r: Reply[]) => void;
  timer?: NodeJS.Timeout;
}

/** data frames a DIME sends an orchestrator: service output, numbered lines, their acknowledgments */
const STREAM_TO_US = new Set(['STREAM', 'STREAM_SEQ', 'STREAM_ACK']);
/** central storage requests a DIME sends the orchestrator exporting files (central-store.ts), emitted as 'cstore' */
const CSTORE_TO_US = new Set(['CSTORE_OPEN', 'CSTORE_READ', 'CSTORE_WRITE', 'CSTORE_FLUSH']);

export class OrchestratorLink extends EventEmitter {
  readonly codec: PxCodec;
  readonly mac: string;
  readonly stats: LinkStats = { sent: 0, received: 0, forged: 0, replayed: 0, ignored: 0, timeouts: 0, unconfirmed: 0, stale: 0 };
  private seq: bigint;
  private reqId: number;
  private readonly guard = new ReplayGuard();
  /** each server's epoch, confirmed by an answer to a request of ours (docs/PROTOCOL.md, freshness) */
  private readonly epochs = new Map<string, bigint>();
  /** reports heard in an epoch not confirmed yet, per server (at most 64 each, 256 servers) */
  private readonly held = new Map<string, Frame[]>();
  /** servers being challenged (and when the last challenge went out) */
  private readonly challenging = new Map<string, number>();
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;
  private closed = false;

  constructor(readonly backend: NetBackend, opts: LinkOptions) {
    super();
    if (opts.key === undefined || (typeof opts.key === 'string' ? opts.key.length === 0 : opts.key.length === 0)) {
      throw new UsageError('refusing to send unsigned commands: no network key (give --key-file FILE or set PARALLAX_KEY)');
    }
    this.mac = macToString(parseMac(opts.mac));
    if (parseMac(this.mac)[0] & 1) throw new UsageError(`orchestrator MAC ${this.mac} is a multicast address`);
    this.codec = new PxCodec({ key: opts.key, etherBase: opts.etherBase });
    this.timeoutMs = opts.timeoutMs ?? 2000;
    // like the kernel's RTC-based epoch: numbers keep rising across runs of the CLI
    this.seq = opts.fixedIds ? 1n << 20n : BigInt(Date.now()) << 20n;
    // request ids are our challenge nonces: an answer to one proves the server is alive now
    this.reqId = opts.fixedIds ? 1 : randomInt(0, 2 ** 32);
    if (opts.fixedIds) this.instance = 1;
    backend.onReceive((raw) => this.receive(Buffer.from(raw)));
  }

  /** this process's instance: its own sequence space beside other processes with our MAC */
  readonly instance: number = randomInt(1, 0x10000);

  nextSeq(): bigint {
    return ++this.seq;
  }

  /** Sign and send one frame. Returns the raw bytes (tests replay or tamper with them). */
  send(f: { dstMac: string; channel: W.Channel; scope: W.Scope; code: number; dstCore?: number; reqId?: number; payload?: Buffer; epoch?: bigint; flags?: number; status?: number }): Buffer {
    if (this.closed) throw new Error('link closed');
    const epoch = f.epoch ?? this.epochs.get(f.dstMac) ?? 0n;
    const raw = this.codec.encode({ srcMac: this.mac, srcCore: W.CORE_NONE, seq: this.nextSeq(), instance: this.instance, ...f, epoch });
    this.backend.send(raw);
    this.stats.sent++;
    return raw;
  }

  /**
   * Send request `name` to a DIME (core) or a whole server (core null = system scope) and wait
   * for the answers. Throws TimeoutError when too few arrive; the caller checks statuses.
   */
  async request(server: string, core: number | null, name: string, values: Fields = {}, opts: RequestOptions = {}): Promise<Reply[]> {
    const m = W.messageByName(name);
    if (core === null && !m.scopes.includes('system')) throw new UsageError(`${name} needs one DIME (SERVER/CORE), not a whole server`);
    if (core !== null && !m.scopes.includes('dime')) throw new UsageError(`${name} applies to a whole server only`);
    const payload = encodePayload(m.request ?? { fields: [] }, values);
    const attempts = 1 + (REPEATABLE.has(name) ? (opts.retries ?? 1) : 0);
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const expect = opts.expect ?? 1;
    let last: Reply[] = [];
    let staleAnswers = 0;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const reqId = (this.reqId = (this.reqId + 1) >>> 0);
      let pending!: Pending;
      const got = new Promise<Reply[]>((resolve) => {
        const p: Pending = { reqId, server, replies: [], expect, collect: opts.collectMs !== undefined, done: (r) => { clearTimeout(p.timer); resolve(r); } };
        pending = p;
        this.pending.set(reqId, p);
        p.timer = setTimeout(() => { this.pending.delete(reqId); resolve(p.replies); }, opts.collectMs ?? timeoutMs);
      });
      this.send({ dstMac: server, channel: m.channel, scope: core === null ? 'system' : 'dime', code: m.code, dstCore: core ?? W.CORE_NONE, reqId, payload });
      last = await got;
      // not executed: the server has another epoch (first contact, or it rebooted); we learnt it from the answer
      if (pending.stale && staleAnswers++ < 2) { this.stats.stale++; attempt--; continue; }
      if (opts.collectMs !== undefined || last.length >= expect) return last;
    }
    this.stats.timeouts++;
    const who = opts.label ?? (core === null ? server : `${server}/${core}`);
    throw new TimeoutError(`${who} did not answer ${name} within ${timeoutMs} ms` +
      (expect > 1 ? ` (${last.length} of ${expect} answers)` : '') + (attempts > 1 ? ` (${attempts} tries)` : ''));
  }

  /** One DIME, one answer, status must be OK. */
  async call(server: string, core: number, name: string, values: Fields = {}, opts: RequestOptions = {}): Promise<Reply> {
    const [r] = await this.request(server, core, name, values, opts);
    if (r.frame.status !== W.STATUS.OK) {
      throw new RefusedError(`${opts.label ?? `${server}/${core}`} refused ${name}: ${describeStatus(r.frame.status)}`, r.frame.status);
    }
    return r;
  }

  /** The server's epoch, confirmed (a PING answered now, by a server that is up). */
  async confirmEpoch(server: string, timeoutMs = this.timeoutMs): Promise<bigint | undefined> {
    if (!this.epochs.has(server)) await this.request(server, 0, 'PING', { nonce: 0n }, { timeoutMs, retries: 1 }).catch(() => undefined);
    return this.epochs.get(server);
  }

  /** Whether an answer with this request id is still awaited (a recorder passes the link only those). */
  awaits(reqId: number): boolean {
    return this.pending.has(reqId);
  }

  /** Bytes to a DIME's input (data channel STREAM); no answer comes back (call confirmEpoch first). */
  stream(server: string, core: number, data: Buffer | string): void {
    const m = W.messageByName('STREAM');
    const bytes = Buffer.from(data);
    for (let off = 0; off === 0 || off < bytes.length; off += W.MAX_PAYLOAD) {
      const part = bytes.subarray(off, off + W.MAX_PAYLOAD);
      this.send({ dstMac: server, channel: 'data', scope: 'dime', code: m.code, dstCore: core, payload: encodePayload(m.request!, { data: part }) });
    }
  }

  private receive(raw: Buffer): void {
    const f = this.codec.decode(raw);
    if (!f) return; // not our EtherType block
    if (f.srcMac === this.mac) return; // our own frame looped back
    if (!f.authentic) {
      this.stats.forged++;
      this.emit('security', { kind: 'forged', frame: f });
      return;
    }
    // requests from other orchestrators are not for us; everything else must be in sequence
    const report = (f.flags & (W.FLAGS.RESPONSE | W.FLAGS.EVENT)) !== 0;
    const streamToUs = f.channel === 'data' && (STREAM_TO_US.has(f.message?.name ?? '') || CSTORE_TO_US.has(f.message?.name ?? '')) && f.dstMac === this.mac;
    if (!report && !streamToUs) { this.stats.ignored++; return; }
    const ours = (f.flags & W.FLAGS.RESPONSE) !== 0 && f.dstMac === this.mac && this.pending.has(f.reqId);
    const known = this.epochs.get(f.srcMac);
    if (ours && known !== f.epoch) {
      // an answer to our own fresh request id: this is the server's epoch now; what it reported
      // in that epoch before we asked is believed now, in order
      this.epochs.set(f.srcMac, f.epoch);
      this.guard.forgetServer(f.srcMac);
      const held = this.held.get(f.srcMac) ?? [];
      this.held.delete(f.srcMac);
      for (const h of held) if (h.epoch === f.epoch) this.deliver(h);
    } else if (!ours && known !== f.epoch) {
      // a report from an epoch we did not confirm (yet): perhaps a dead server's frames replayed.
      // Held (bounded) until the server answers a request of ours in that epoch.
      this.stats.unconfirmed++;
      let list = this.held.get(f.srcMac);
      if (!list) {
        if (this.held.size >= 256) this.held.clear();
        this.held.set(f.srcMac, (list = []));
      }
      list.push(f);
      if (list.length > 64) list.shift();
      this.challenge(f.srcMac);
      return;
    }
    this.deliver(f);
  }

  /** A frame from a confirmed epoch: sequence check, then to its request or to the listeners. */
  private deliver(f: Frame): void {
    if (!this.guard.accept(f.srcMac, f.srcCore, f.seq)) {
      this.stats.replayed++;
      this.emit('security', { kind: 'replayed', frame: f });
      return;
    }
    this.stats.received++;
    if (f.flags & W.FLAGS.RESPONSE) {
      if (f.dstMac !== this.mac) return; // an answer to another orchestrator
      const p = this.pending.get(f.reqId);
      if (!p || (p.server !== BROADCAST && p.server !== f.srcMac)) return;
      if (f.status === W.STATUS.STALE_EPOCH && p.server !== BROADCAST) {
        p.stale = true;
        this.pending.delete(p.reqId);
        p.done(p.replies);
        return;
      }
      let fields: Decoded = {};
      try {
        fields = f.status === W.STATUS.OK || f.payload.length > 0 ? this.codec.fields(f) : {};
      } catch {
        fields = {}; // a short error answer carries no payload
      }
      p.replies.push({ frame: f, fields });
      if (!p.collect && p.replies.length >= p.expect) {
        this.pending.delete(p.reqId);
        p.done(p.replies);
      }
      return;
    }
    if (CSTORE_TO_US.has(f.message?.name ?? '')) { this.emit('cstore', f); return; }
    this.emit('frame', f);
  }

  /** Ask a server we heard in an unconfirmed epoch to prove it is alive (at most once a second). */
  private challenge(server: string): void {
    const last = this.challenging.get(server);
    if (this.closed || server === BROADCAST || (last !== undefined && Date.now() - last < 1000)) return;
    if (this.challenging.size > 1024) this.challenging.clear(); // bounded under a flood of made-up MACs
    this.challenging.set(server, Date.now());
    // every DIME answers: each answer also sets that DIME's lowest acceptable sequence number
    this.request(server, null, 'PING', { nonce: 0n }, { collectMs: 300 }).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.done(p.replies);
    this.pending.clear();
    await this.backend.close();
  }
}
