// Test client: an orchestrator in miniature, speaking the Parallax protocol through codec.ts.
import { EventEmitter } from 'node:events';
import * as W from '../../src/protocol/wire.js';
import { BROADCAST, PxCodec, ReplayGuard, crc32, encodePayload, type Frame, type Fields, type Decoded } from '../../src/protocol/codec.js';
import type { StreamLan } from './lan.js';

export interface Reply { frame: Frame; fields: Decoded }

export class DimeClient extends EventEmitter {
  readonly frames: Frame[] = [];
  readonly rejected: Frame[] = [];
  seq: bigint;
  private reqId = 1;
  /** each server's epoch as last seen in an authentic frame from it (a test client trusts them) */
  readonly epochs = new Map<string, bigint>();

  constructor(readonly lan: StreamLan, readonly codec: PxCodec, readonly mac = '02:00:00:00:00:01') {
    super();
    this.seq = BigInt(Date.now()) << 20n;
    const guard = new ReplayGuard();
    lan.on('frame', (raw: Buffer) => {
      const f = codec.decode(raw);
      if (!f) return;
      if (!f.authentic || !guard.accept(f.srcMac, f.srcCore, f.seq)) { this.rejected.push(f); return; }
      if (f.srcCore !== W.CORE_NONE && f.epoch !== 0n) this.epochs.set(f.srcMac, f.epoch);
      this.frames.push(f);
      this.emit('frame', f);
    });
  }

  nextSeq(): bigint { return ++this.seq; }

  /** Sign and send; returns the raw frame (so a test can replay or tamper with it). */
  send(f: { dstMac: string; channel: W.Channel; scope: W.Scope; code: number; dstCore?: number; reqId?: number; payload?: Buffer; flags?: number; srcCore?: number; seq?: bigint; srcMac?: string; epoch?: bigint }): Buffer {
    const raw = this.codec.encode({ srcMac: this.mac, srcCore: W.CORE_NONE, ...f, seq: f.seq ?? this.nextSeq(), epoch: f.epoch ?? this.epochs.get(f.dstMac) ?? 0n });
    this.lan.send(raw);
    return raw;
  }

  /** Wait for a frame matching `pred` received from now on (or already in `since`). */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 10_000, since = this.frames.length): Promise<Frame> {
    for (let i = since; i < this.frames.length; i++) if (pred(this.frames[i])) return Promise.resolve(this.frames[i]);
    return new Promise((resolve, reject) => {
      const on = (f: Frame) => { if (pred(f)) { clearTimeout(t); this.off('frame', on); resolve(f); } };
      const t = setTimeout(() => { this.off('frame', on); reject(new Error('timeout waiting for frame')); }, timeoutMs);
      this.on('frame', on);
    });
  }

  collect(pred: (f: Frame) => boolean, count: number, timeoutMs = 10_000): Promise<Frame[]> {
    const got: Frame[] = [];
    return new Promise((resolve, reject) => {
      const on = (f: Frame) => {
        if (!pred(f)) return;
        got.push(f);
        if (got.length >= count) { clearTimeout(t); this.off('frame', on); resolve(got); }
      };
      const t = setTimeout(() => { this.off('frame', on); reject(new Error(`timeout: ${got.length}/${count} frames`)); }, timeoutMs);
      this.on('frame', on);
    });
  }

  /** Send a request and wait for `expect` responses (one per DIME for system scope). */
  /** A server's epoch: from what it sent, else asked with a first-contact PING (answered STALE_EPOCH). */
  async epochOf(server: string): Promise<bigint> {
    const known = this.epochs.get(server);
    if (known !== undefined) return known;
    await this.request(server, 0, 'PING', { nonce: 1n }, { epoch: 0n, rawStale: true });
    return this.epochs.get(server) ?? 0n;
  }

  /**
   * Send a request and wait for `expect` responses (one per DIME for system scope). A request
   * in an epoch the server does not have is answered STALE_EPOCH once: learn it and resend
   * (unless `rawStale`, which returns that answer).
   */
  async request(server: string, core: number | null, name: string, values: Fields = {}, opts: { expect?: number; timeoutMs?: number; seq?: bigint; epoch?: bigint; rawStale?: boolean } = {}): Promise<Reply[]> {
    const m = W.messageByName(name);
    const payload = encodePayload(m.request ?? { fields: [] }, values);
    for (let attempt = 0; ; attempt++) {
      const reqId = this.reqId++;
      const stale = new Promise<Frame>((resolve) => {
        const on = (f: Frame) => { if ((f.flags & W.FLAGS.RESPONSE) && f.reqId === reqId && f.status === W.STATUS.STALE_EPOCH) { this.off('frame', on); resolve(f); } };
        this.on('frame', on);
        setTimeout(() => this.off('frame', on), opts.timeoutMs ?? 10_000).unref();
      });
      const wait = this.collect((f) => (f.flags & W.FLAGS.RESPONSE) !== 0 && f.reqId === reqId && f.status !== W.STATUS.STALE_EPOCH && (server === BROADCAST || f.srcMac === server), opts.expect ?? 1, opts.timeoutMs ?? 10_000);
      const ok = wait.then((frames) => ({ frames }));
      ok.catch(() => undefined); // a STALE answer won the race: this one times out unobserved
      this.send({ dstMac: server, channel: m.channel, scope: core === null ? 'system' : 'dime', code: m.code, dstCore: core ?? W.CORE_NONE, reqId, payload, seq: attempt === 0 ? opts.seq : undefined, epoch: attempt === 0 ? opts.epoch : undefined });
      const first = await Promise.race([ok, stale.then((f) => ({ stale: f }))]);
      if ('frames' in first) return first.frames.map((frame) => ({ frame, fields: this.codec.fields(frame) }));
      if (opts.rawStale || attempt >= 2) return [{ frame: first.stale, fields: {} }];
    }
  }

  async request1(server: string, core: number, name: string, values: Fields = {}, timeoutMs?: number): Promise<Reply> {
    return (await this.request(server, core, name, values, { timeoutMs }))[0];
  }

  /** Load an image over the data channel in chunks; returns the final status. */
  async loadImage(server: string, core: number, name: string, image: Buffer, chunk = 1024, crc = crc32(image)): Promise<number> {
    const begin = await this.request1(server, core, 'LOAD_BEGIN', { size: image.length, crc32: crc, name });
    if (begin.frame.status !== W.STATUS.OK) return begin.frame.status;
    let status: number = W.STATUS.OK;
    for (let off = 0; off < image.length; off += chunk) {
      const r = await this.request1(server, core, 'LOAD_CHUNK', { offset: off, data: image.subarray(off, off + chunk) });
      status = r.frame.status;
      if (status !== W.STATUS.OK) return status;
    }
    return status;
  }

  /** Bytes to a DIME's input (data channel STREAM). */
  stream(server: string, core: number, data: Buffer | string): void {
    const m = W.messageByName('STREAM');
    this.send({ dstMac: server, channel: 'data', scope: 'dime', code: m.code, dstCore: core, payload: encodePayload(m.request!, { data: Buffer.from(data) }) });
  }

  events(name: string, since = 0): Frame[] {
    const m = W.messageByName(name);
    return this.frames.slice(since).filter((f) => f.message === m && (f.flags & W.FLAGS.EVENT) !== 0);
  }
}
