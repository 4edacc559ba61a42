// The tests' orchestrator: the product's OrchestratorLink (signing, sequence numbers, requests,
// STALE_EPOCH resends) on the test's LAN segment, plus what only a test wants: a log of every
// authentic frame on the segment (answers to anyone, DIME-to-DIME streams, events), waiting for
// frames in that log, and raw sends a test can replay or tamper with.
import { EventEmitter } from 'node:events';
import * as W from '../../src/protocol/wire.js';
import { ReplayGuard, crc32, type Frame, type Fields } from '../../src/protocol/codec.js';
import { BackendBase } from '../../src/net/net-backend.js';
import { OrchestratorLink, type Reply, type RequestOptions } from '../../src/orchestrator/link.js';

export type { Reply };

/** What the client needs of a segment: StreamLan, or a test's own raw segment. */
export interface TestSegment {
  send(frame: Buffer): void;
  on(event: 'frame', cb: (frame: Buffer) => void): unknown;
}

/** The link's backend: it sends onto the segment and is handed only the answers addressed to it. */
class SegmentBackend extends BackendBase {
  readonly description = 'test LAN segment';
  constructor(private readonly segment: TestSegment) { super(); }
  send(frame: Uint8Array): void {
    if (!this.acceptOutgoing(frame)) return;
    this.segment.send(Buffer.from(frame));
    this.sent(frame);
  }
  answer(frame: Uint8Array): void { this.deliver(frame); }
  async close(): Promise<void> {}
}

export class DimeClient extends EventEmitter {
  readonly link: OrchestratorLink;
  /** every authentic, in-sequence frame heard on the segment, in order */
  readonly frames: Frame[] = [];
  /** each server's epoch as last seen in an authentic frame from it (a test trusts them; the link does not) */
  readonly epochs = new Map<string, bigint>();
  private readonly backend: SegmentBackend;

  constructor(readonly lan: TestSegment, key: string, mac = '02:00:00:00:00:01') {
    super();
    this.backend = new SegmentBackend(lan);
    // the link only ever sees answers it awaits: it then neither holds nor challenges reports,
    // late answers or another test client's answers (same MAC), which would add frames to the
    // segment a transcript records
    this.link = new OrchestratorLink(this.backend, { key, mac, timeoutMs: 10_000 });
    const guard = new ReplayGuard();
    lan.on('frame', (raw: Buffer) => {
      const f = this.codec.decode(raw);
      if (!f) return;
      if ((f.flags & W.FLAGS.RESPONSE) && f.dstMac === this.mac && this.link.awaits(f.reqId)) this.backend.answer(raw);
      if (!f.authentic || !guard.accept(f.srcMac, f.srcCore, f.seq)) return;
      if (f.srcCore !== W.CORE_NONE && f.epoch !== 0n) this.epochs.set(f.srcMac, f.epoch);
      this.frames.push(f);
      this.emit('frame', f);
    });
  }

  get codec() { return this.link.codec; }
  get mac(): string { return this.link.mac; }
  nextSeq(): bigint { return this.link.nextSeq(); }

  /** Sign and send one frame with any header a test wants; returns the raw frame (to replay or tamper with). */
  send(f: { dstMac: string; channel: W.Channel; scope: W.Scope; code: number; dstCore?: number; reqId?: number; payload?: Buffer; flags?: number; srcCore?: number; seq?: bigint; srcMac?: string; epoch?: bigint }): Buffer {
    const raw = this.codec.encode({ srcMac: this.mac, srcCore: W.CORE_NONE, ...f, seq: f.seq ?? this.nextSeq(), epoch: f.epoch ?? this.epochs.get(f.dstMac) ?? 0n });
    this.lan.send(raw);
    return raw;
  }

  /** Wait for a frame matching `pred` received from now on (or already in `since`). */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 10_000, since = this.frames.length): Promise<Frame> {
    for (let i = since; i < this.frames.length; i++) if (pred(this.frames[i])) return Promise.resolve(this.frames[i]);
    return this.collect(pred, 1, timeoutMs).then(([f]) => f);
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

  /**
   * Waits until at least `ms` of DIME `core`'s own (guest) time has passed since this call. The
   * kernel's timers (the security-alarm rate limit: one per 50 ms) count guest time, and under host
   * load an emulator's guest clock runs behind the host's (time it could not run the guest is
   * stolen, docs/ARCHITECTURE.md "Time"), so a host sleep of the same length is not enough. The
   * DIME's heartbeats carry its uptime: they are switched on at 10 ms meanwhile, then set back to
   * `restoreMs` (two requests, always: a transcript sees the same frames on every machine, and
   * heartbeats only as "periodic").
   */
  async guestPause(server: string, core: number, ms: number, restoreMs = 0): Promise<void> {
    const beat = (f: Frame) => f.message?.name === 'HEARTBEAT' && f.srcMac === server && f.srcCore === core;
    const uptime = (f: Frame) => this.codec.fields(f).uptimeNs as bigint;
    await this.epochOf(server); // a first contact in a stale epoch would be a replay to the DIME
    const set = await this.request1(server, core, 'SET_HEARTBEAT', { intervalMs: 10 });
    if (set.frame.status !== W.STATUS.OK) throw new Error(`SET_HEARTBEAT on DIME ${core}: status ${set.frame.status}`);
    // frames of one DIME arrive in the order it sent them: a beat after the answer was timed after
    // this call began, so the first one is a lower bound on the guest time at its start
    let since = this.frames.length;
    while (since > 0 && !(this.frames[since - 1].reqId === set.frame.reqId && (this.frames[since - 1].flags & W.FLAGS.RESPONSE))) since--;
    if (since === 0) throw new Error('guestPause: the SET_HEARTBEAT answer is not among the frames received');
    const first = uptime(await this.waitFor(beat, 10_000, since));
    const until = first + BigInt(Math.ceil(ms * 1e6));
    await this.waitFor((f) => beat(f) && uptime(f) >= until, 10_000, since);
    await this.request1(server, core, 'SET_HEARTBEAT', { intervalMs: restoreMs });
  }

  /** A server's epoch, confirmed by the link (a PING answered now). */
  async epochOf(server: string): Promise<bigint> {
    return (await this.link.confirmEpoch(server)) ?? this.epochs.get(server) ?? 0n;
  }

  /** The link's request, sent once (a test decides itself what to repeat); non-OK answers are returned. */
  request(server: string, core: number | null, name: string, values: Fields = {}, opts: RequestOptions = {}): Promise<Reply[]> {
    return this.link.request(server, core, name, values, { retries: 0, ...opts });
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
    this.link.stream(server, core, data);
  }

  events(name: string, since = 0): Frame[] {
    const m = W.messageByName(name);
    return this.frames.slice(since).filter((f) => f.message === m && (f.flags & W.FLAGS.EVENT) !== 0);
  }
}
