// Encode, decode, sign and verify Parallax frames (layouts from wire.ts, HMAC-SHA256 from
// node:crypto). Used by the test client and the orchestrator.
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as W from './wire.js';

export type FieldValue = number | bigint | string | Buffer;
export type Fields = Record<string, FieldValue>;
export interface Decoded extends Record<string, FieldValue | Fields[]> {}

export function parseMac(mac: string | Buffer): Buffer {
  if (Buffer.isBuffer(mac)) {
    if (mac.length !== 6) throw new Error('MAC must be 6 bytes');
    return mac;
  }
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new Error(`bad MAC ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function macToString(b: Buffer): string {
  return [...b.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** CRC-32 (IEEE 802.3), as the kernel checks service images: the Ethernet FCS polynomial. */
export { crc32 } from '../net/ethernet-crc.js';

function writeField(buf: Buffer, f: W.PlacedField, v: FieldValue | undefined): number {
  const t = f.type;
  const o = f.offset;
  if (t === 'rest') {
    const b = v === undefined ? Buffer.alloc(0) : Buffer.isBuffer(v) ? v : Buffer.from(String(v));
    b.copy(buf, o);
    return b.length;
  }
  if (v === undefined) return 0; // zero-filled already
  switch (t) {
    case 'u8': buf.writeUInt8(Number(v), o); break;
    case 'u16': buf.writeUInt16BE(Number(v), o); break;
    case 'u32': buf.writeUInt32BE(Number(v) >>> 0, o); break;
    case 'i32': buf.writeInt32BE(Number(v), o); break;
    case 'u64': buf.writeBigUInt64BE(BigInt(v as number | bigint), o); break;
    case 'mac': parseMac(v as string | Buffer).copy(buf, o); break;
    default: {
      const b = Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
      if (b.length > f.size) throw new Error(`${f.name}: ${b.length} bytes do not fit in ${f.size}`);
      b.copy(buf, o);
    }
  }
  return 0;
}

function readField(buf: Buffer, f: W.PlacedField): FieldValue {
  const o = f.offset;
  switch (f.type) {
    case 'u8': return buf.readUInt8(o);
    case 'u16': return buf.readUInt16BE(o);
    case 'u32': return buf.readUInt32BE(o);
    case 'i32': return buf.readInt32BE(o);
    case 'u64': return buf.readBigUInt64BE(o);
    case 'mac': return macToString(buf.subarray(o, o + 6));
    case 'rest': return Buffer.from(buf.subarray(o));
    default: {
      const raw = buf.subarray(o, o + f.size);
      if ('str' in f.type) {
        const z = raw.indexOf(0);
        return raw.subarray(0, z < 0 ? raw.length : z).toString('utf8');
      }
      return Buffer.from(raw);
    }
  }
}

/** Payload bytes for a layout; missing fields are zero, `records` fills the repeated part. */
export function encodePayload(layout: W.Layout, values: Fields = {}, records: Fields[] = []): Buffer {
  const placed = W.place(layout.fields);
  const rest = placed.fields.find((f) => f.type === 'rest');
  const restLen = rest ? (values[rest.name] === undefined ? 0 : Buffer.byteLength(values[rest.name] as Buffer)) : 0;
  const rec = layout.records ? W.place(layout.records) : undefined;
  const buf = Buffer.alloc(placed.size + restLen + (rec ? rec.size * records.length : 0));
  for (const f of placed.fields) writeField(buf, f, values[f.name]);
  if (rec) {
    records.forEach((r, i) => {
      const sub = buf.subarray(placed.size + i * rec.size, placed.size + (i + 1) * rec.size);
      for (const f of rec.fields) writeField(sub, f, r[f.name]);
    });
  }
  return buf;
}

/** Fields of a payload; throws when it is shorter than the layout's fixed part. */
export function decodePayload(layout: W.Layout, payload: Buffer): Decoded {
  const placed = W.place(layout.fields);
  if (payload.length < placed.size) throw new Error(`payload ${payload.length} bytes, layout needs ${placed.size}`);
  const out: Decoded = {};
  for (const f of placed.fields) out[f.name] = readField(payload, f);
  if (layout.records) {
    const rec = W.place(layout.records);
    const list: Fields[] = [];
    for (let off = placed.size; off + rec.size <= payload.length; off += rec.size) {
      const sub = payload.subarray(off, off + rec.size);
      const r: Fields = {};
      for (const f of rec.fields) r[f.name] = readField(sub, f);
      list.push(r);
    }
    out.records = list;
  }
  return out;
}

export interface FrameFields {
  dstMac: string | Buffer;
  srcMac: string | Buffer;
  channel: W.Channel;
  scope: W.Scope;
  code: number;
  flags?: number;
  dstCore?: number;
  srcCore?: number;
  seq: bigint;
  reqId?: number;
  status?: number;
  payload?: Buffer;
}

export interface Frame {
  dstMac: string;
  srcMac: string;
  etherType: number;
  channel: W.Channel;
  scope: W.Scope;
  code: number;
  message?: W.MessageDef;
  version: number;
  flags: number;
  dstCore: number;
  srcCore: number;
  seq: bigint;
  reqId: number;
  status: number;
  payload: Buffer;
  tag: Buffer;
  /** tag matches the network key */
  authentic: boolean;
  raw: Buffer;
}

export interface CodecOptions {
  key: string | Buffer;
  etherBase?: number;
}

export class PxCodec {
  readonly key: Buffer;
  readonly etherBase: number;

  constructor(opts: CodecOptions) {
    this.key = Buffer.isBuffer(opts.key) ? opts.key : Buffer.from(opts.key, 'utf8');
    this.etherBase = (opts.etherBase ?? W.ETHERTYPE_BASE_DEFAULT) & W.ETHERTYPE_BLOCK_MASK;
  }

  tagOf(covered: Buffer): Buffer {
    return createHmac('sha256', this.key).update(covered).digest();
  }

  /** Full Ethernet frame (no FCS), signed. */
  encode(f: FrameFields): Buffer {
    const payload = f.payload ?? Buffer.alloc(0);
    if (payload.length > W.MAX_PAYLOAD) throw new Error(`payload ${payload.length} > ${W.MAX_PAYLOAD}`);
    const covered = Buffer.alloc(W.ETH_HEADER_LEN + W.HEADER_LEN + payload.length);
    parseMac(f.dstMac).copy(covered, 0);
    parseMac(f.srcMac).copy(covered, 6);
    covered.writeUInt16BE(W.etherType(this.etherBase, f.channel, f.scope, f.code), 12);
    const h = W.ETH_HEADER_LEN;
    covered.writeUInt8(W.PROTOCOL_VERSION, h);
    covered.writeUInt8(f.flags ?? 0, h + 1);
    covered.writeUInt16BE(f.dstCore ?? W.CORE_NONE, h + 2);
    covered.writeUInt16BE(f.srcCore ?? W.CORE_NONE, h + 4);
    covered.writeUInt16BE(payload.length, h + 6);
    covered.writeBigUInt64BE(f.seq, h + 8);
    covered.writeUInt32BE((f.reqId ?? 0) >>> 0, h + 16);
    covered.writeUInt16BE(f.status ?? 0, h + 20);
    payload.copy(covered, h + W.HEADER_LEN);
    return Buffer.concat([covered, this.tagOf(covered)]);
  }

  /** Parse a frame of our EtherType block; null for anything else or a truncated frame. */
  decode(raw: Buffer): Frame | null {
    if (raw.length < W.ETH_HEADER_LEN + W.HEADER_LEN + W.TAG_LEN) return null;
    const et = raw.readUInt16BE(12);
    if ((et & W.ETHERTYPE_BLOCK_MASK) !== this.etherBase) return null;
    const h = W.ETH_HEADER_LEN;
    const len = raw.readUInt16BE(h + 6);
    const end = h + W.HEADER_LEN + len;
    if (end + W.TAG_LEN > raw.length) return null;
    const channel: W.Channel = et & W.ET_CHANNEL_DATA ? 'data' : 'signaling';
    const code = et & W.ET_TYPE_MASK;
    const tag = raw.subarray(end, end + W.TAG_LEN);
    const expect = this.tagOf(raw.subarray(0, end));
    return {
      dstMac: macToString(raw.subarray(0, 6)),
      srcMac: macToString(raw.subarray(6, 12)),
      etherType: et,
      channel,
      scope: et & W.ET_SCOPE_DIME ? 'dime' : 'system',
      code,
      message: W.messageByCode(channel, code),
      version: raw.readUInt8(h),
      flags: raw.readUInt8(h + 1),
      dstCore: raw.readUInt16BE(h + 2),
      srcCore: raw.readUInt16BE(h + 4),
      seq: raw.readBigUInt64BE(h + 8),
      reqId: raw.readUInt32BE(h + 16),
      status: raw.readUInt16BE(h + 20),
      payload: Buffer.from(raw.subarray(h + W.HEADER_LEN, end)),
      tag: Buffer.from(tag),
      authentic: timingSafeEqual(tag, expect),
      raw,
    };
  }

  /** Decoded payload of a frame: the response layout for responses, else the request/event layout. */
  fields(f: Frame): Decoded {
    const m = f.message;
    if (!m) throw new Error(`unknown ${f.channel} instruction ${f.code}`);
    const layout = f.flags & W.FLAGS.RESPONSE ? m.response : m.request;
    if (!layout) throw new Error(`${m.name} has no ${f.flags & W.FLAGS.RESPONSE ? 'response' : 'request'} layout`);
    return decodePayload(layout, f.payload);
  }
}

/** Sequence numbers: strictly increasing per (MAC, core), as the kernel enforces. */
export class ReplayGuard {
  private last = new Map<string, bigint>();
  accept(srcMac: string, srcCore: number, seq: bigint): boolean {
    const k = `${srcMac}/${srcCore}`;
    const prev = this.last.get(k);
    if (prev !== undefined && seq <= prev) return false;
    this.last.set(k, seq);
    return true;
  }
}

/** Service image header fields (little-endian), or null when it is not a DSV1 image. */
export function parseServiceImage(img: Buffer): { entry: bigint; imageLen: number; memLen: number; stackLen: number } | null {
  if (img.length < W.SERVICE_IMAGE.headerLen || img.readUInt32LE(0) !== W.SERVICE_IMAGE.magic) return null;
  return { entry: img.readBigUInt64LE(8), imageLen: img.readUInt32LE(16), memLen: img.readUInt32LE(20), stackLen: img.readUInt32LE(24) };
}
