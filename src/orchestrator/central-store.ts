// Central storage: the orchestrator exports host files to the DIMEs of every server over raw
// Ethernet (CSTORE_* frames in the project's EtherType block, signed like every other frame),
// AoE-like (docs/STORAGE.md, "Central storage"). Requests are stateless and idempotent (each
// names the export and the byte range); a repeated request id is answered from a per-DIME
// cache instead of being done again, so a write resent after a lost answer can never land
// after a later write of the same DIME. This side decides who may touch what: a DIME with no
// grant on an export is refused (UNAUTHORIZED), counted and alarmed, whatever it was told.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import * as W from '../protocol/wire.js';
import { encodePayload, type Decoded, type Frame } from '../protocol/codec.js';
import type { OrchestratorLink } from './link.js';
import type { DimeAddress } from './targets.js';

export interface ExportCounters {
  opens: number;
  reads: number;
  writes: number;
  flushes: number;
  bytesRead: number;
  bytesWritten: number;
  /** repeats of a request already answered (a lost answer, or a resend that crossed it): answered from the cache */
  repeats: number;
  refused: number;
  errors: number;
}

export interface DimeCounters extends ExportCounters {
  dime: string;
}

export interface ExportStatus extends ExportCounters {
  name: string;
  path: string;
  readonly: boolean;
  size: number;
  maxBytes: number;
  grants: Array<{ dime: string; read: boolean; write: boolean }>;
}

/** what a CentralStore saw, for `storage list/watch` (written to its status file) */
export interface CentralStatus {
  server: string;
  pid: number;
  at: number;
  exports: ExportStatus[];
  dimes: DimeCounters[];
  /** frames dropped before they reached an export: not signed right, replayed, malformed, unknown export */
  drops: { forged: number; replayed: number; unconfirmed: number; malformed: number; unknownExport: number };
}

export interface ExportOptions {
  name: string;
  path: string;
  readonly?: boolean;
  /** an export grows up to this size (bytes) */
  maxBytes?: number;
}

/** an alarm raised for a refused DIME (1st, 2nd, 4th... refusal of that DIME, as the kernel does) */
export interface CentralAlarm {
  dime: DimeAddress;
  export: string;
  what: 'read' | 'write';
  count: number;
}

const zero = (): ExportCounters => ({ opens: 0, reads: 0, writes: 0, flushes: 0, bytesRead: 0, bytesWritten: 0, repeats: 0, refused: 0, errors: 0 });
const REPEAT_CACHE = 64; // answers kept per DIME: more than the window a DIME keeps in flight (CSTORE_LIMITS.window)
const NAME_RE = /^[!-~]{1,31}$/;

interface Export {
  opts: Required<ExportOptions>;
  fd: number;
  counters: ExportCounters;
  /** `mac/core` -> STORE_RIGHT bits */
  grants: Map<string, number>;
}

interface Answer { code: number; status: number; payload: Buffer }
interface DimeState { counters: DimeCounters; epoch: bigint; answers: Map<number, Answer> }

export class CentralStore extends EventEmitter {
  private readonly exports = new Map<string, Export>();
  private readonly dimes = new Map<string, DimeState>();
  private readonly drops = { malformed: 0, unknownExport: 0 };
  private readonly onFrame = (f: Frame) => this.handle(f);

  constructor(readonly link: OrchestratorLink, private readonly label: (d: DimeAddress) => string = (d) => `${d.server}/${d.core}`) {
    super();
    link.on('cstore', this.onFrame);
  }

  /** Export a host file (created when absent) as `name`. */
  addExport(o: ExportOptions): void {
    if (!NAME_RE.test(o.name)) throw new RangeError(`export name '${o.name}': 1..31 printable characters, no space`);
    if (this.exports.has(o.name)) throw new RangeError(`export '${o.name}' exists already`);
    const fd = openSync(o.path, o.readonly ? 'r' : (existsSync(o.path) ? 'r+' : 'w+'));
    const opts = { readonly: false, maxBytes: 64 * 1024 * 1024, ...o };
    this.exports.set(o.name, { opts, fd, counters: zero(), grants: new Map() });
  }

  /** Let DIME `d` read (and write) export `name`; rights 0 withdraws. Returns the bits kept. */
  grant(name: string, d: DimeAddress, rights: number): number {
    const e = this.exports.get(name);
    if (!e) throw new RangeError(`no export '${name}'`);
    const bits = e.opts.readonly ? rights & W.STORE_RIGHT.READ : rights;
    if (bits) e.grants.set(`${d.server}/${d.core}`, bits);
    else e.grants.delete(`${d.server}/${d.core}`);
    return bits;
  }

  status(): CentralStatus {
    const s = this.link.stats;
    return {
      server: this.link.mac, pid: process.pid, at: Date.now(),
      exports: [...this.exports.values()].map((e) => ({
        name: e.opts.name, path: e.opts.path, readonly: e.opts.readonly, size: fstatSync(e.fd).size, maxBytes: e.opts.maxBytes, ...e.counters,
        grants: [...e.grants].map(([k, r]) => ({ dime: this.labelKey(k), read: !!(r & W.STORE_RIGHT.READ), write: !!(r & W.STORE_RIGHT.WRITE) })),
      })),
      dimes: [...this.dimes.values()].map((d) => ({ ...d.counters })),
      drops: { forged: s.forged, replayed: s.replayed, unconfirmed: s.unconfirmed, ...this.drops },
    };
  }

  close(): void {
    this.link.off('cstore', this.onFrame);
    for (const e of this.exports.values()) closeSync(e.fd);
    this.exports.clear();
  }

  private labelKey(k: string): string {
    const i = k.lastIndexOf('/');
    return this.label({ server: k.slice(0, i), core: Number(k.slice(i + 1)) });
  }

  private dime(f: Frame): DimeState {
    const key = `${f.srcMac}/${f.srcCore}`;
    let d = this.dimes.get(key);
    if (!d) this.dimes.set(key, (d = { counters: { dime: this.labelKey(key), ...zero() }, epoch: f.epoch, answers: new Map() }));
    if (d.epoch !== f.epoch) { d.epoch = f.epoch; d.answers.clear(); } // the server rebooted: its request ids start again
    return d;
  }

  private handle(f: Frame): void {
    let v: Decoded;
    try {
      v = this.link.codec.fields(f);
    } catch {
      this.drops.malformed++;
      return;
    }
    const d = this.dime(f);
    const cached = d.answers.get(f.reqId);
    if (cached && cached.code === f.code) {
      d.counters.repeats++;
      const e = this.exports.get(String(v.name));
      if (e) e.counters.repeats++;
      this.answer(f, cached);
      return;
    }
    const a = this.execute(f, v, d);
    if (!a) return;
    d.answers.set(f.reqId, a);
    if (d.answers.size > REPEAT_CACHE) d.answers.delete(d.answers.keys().next().value as number);
    this.answer(f, a);
  }

  private answer(f: Frame, a: Answer): void {
    this.link.send({ dstMac: f.srcMac, channel: 'data', scope: 'dime', code: a.code, dstCore: f.srcCore, reqId: f.reqId,
      epoch: f.epoch, flags: W.FLAGS.RESPONSE, status: a.status, payload: a.payload });
  }

  private execute(f: Frame, v: Decoded, d: DimeState): Answer | null {
    const m = f.message!;
    const fail = (status: number): Answer => ({ code: f.code, status, payload: Buffer.alloc(0) });
    const e = this.exports.get(String(v.name));
    if (!e) { this.drops.unknownExport++; d.counters.errors++; return fail(W.STATUS.NOT_FOUND); }
    const rights = e.grants.get(`${f.srcMac}/${f.srcCore}`) ?? 0;
    const ok = (values: Record<string, number | bigint | Buffer>): Answer => ({ code: f.code, status: W.STATUS.OK, payload: encodePayload(m.response!, values) });
    const mode = m.name === 'CSTORE_OPEN' ? (v.mode as number) : 0;
    const want = m.name === 'CSTORE_READ' ? W.STORE_RIGHT.READ
      : m.name === 'CSTORE_OPEN' ? (mode & 0x01 ? W.STORE_RIGHT.READ : 0) | (mode & 0x0e ? W.STORE_RIGHT.WRITE : 0)
      : W.STORE_RIGHT.WRITE;
    if ((rights & want) !== want) {
      const n = ++d.counters.refused;
      e.counters.refused++;
      if (!(n & (n - 1))) this.emit('alarm', { dime: { server: f.srcMac, core: f.srcCore }, export: e.opts.name, what: want & W.STORE_RIGHT.WRITE ? 'write' : 'read', count: n } satisfies CentralAlarm);
      return fail(W.STATUS.UNAUTHORIZED);
    }
    try {
      switch (m.name) {
        case 'CSTORE_OPEN':
          if (mode & 0x08) ftruncateSync(e.fd, 0);
          e.counters.opens++;
          d.counters.opens++;
          return ok({ size: BigInt(fstatSync(e.fd).size), rights });
        case 'CSTORE_READ': {
          const len = v.len as number;
          const off = v.offset as bigint;
          if (len > W.CSTORE_LIMITS.chunk) { d.counters.errors++; return fail(W.STATUS.MALFORMED); }
          const size = fstatSync(e.fd).size;
          const n = off >= BigInt(size) ? 0 : Math.min(len, size - Number(off));
          const data = Buffer.alloc(n);
          if (n) readSync(e.fd, data, 0, n, Number(off));
          e.counters.reads++; e.counters.bytesRead += n;
          d.counters.reads++; d.counters.bytesRead += n;
          return ok({ offset: off, size: BigInt(size), data });
        }
        case 'CSTORE_WRITE': {
          const len = v.len as number;
          const off = Number(v.offset as bigint);
          const data = v.data as Buffer;
          if (len > W.CSTORE_LIMITS.chunk || data.length !== len) { d.counters.errors++; return fail(W.STATUS.MALFORMED); }
          if (off + len > e.opts.maxBytes) { d.counters.errors++; e.counters.errors++; return fail(W.STATUS.OUT_OF_RANGE); }
          writeSync(e.fd, data, 0, len, off);
          e.counters.writes++; e.counters.bytesWritten += len;
          d.counters.writes++; d.counters.bytesWritten += len;
          return ok({ size: BigInt(fstatSync(e.fd).size) });
        }
        case 'CSTORE_FLUSH':
          fsyncSync(e.fd);
          e.counters.flushes++;
          d.counters.flushes++;
          return ok({ size: BigInt(fstatSync(e.fd).size) });
        default:
          return null;
      }
    } catch {
      e.counters.errors++;
      d.counters.errors++;
      return fail(W.STATUS.BAD_STATE); // the host file failed: the DIME sees DIME_EIO
    }
  }
}
