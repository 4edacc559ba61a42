// A hostile LAN peer (and a buggy key holder) against one DIME server: frames of every
// category, sent as fast as the LAN takes them, and the proof that the server counted every
// one of them exactly once somewhere QUERY_SECURITY shows (docs/PROTOCOL.md, "every drop
// counted"). Used by test/dime/hostile.test.ts (tens of thousands of frames, every machine)
// and by `npm run fuzz:lan` (a million).
import * as W from '../../src/protocol/wire.js';
import { PxCodec, encodePayload, parseMac } from '../../src/protocol/codec.js';
import type { DimeClient } from './client.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** The per-DIME and server-wide counters whose sum is every frame the server received. */
export interface Tally { perDime: number; serverWide: number; total: number; fields: Record<string, number> }

const PER_DIME = ['accepted', 'forged', 'replayed', 'malformed', 'challenged', 'inboxDropped'] as const;
const SERVER_WIDE = ['reports', 'ignored', 'nicOversize', 'nicMissed', 'nicRunts'] as const;

export async function tally(client: DimeClient, server: string, cores: number): Promise<Tally> {
  const fields: Record<string, number> = {};
  let perDime = 0;
  let last: Record<string, unknown> = {};
  for (let d = 0; d < cores; d++) {
    const r = await requestPatiently(client, server, d, 'QUERY_SECURITY');
    for (const k of PER_DIME) { fields[k] = (fields[k] ?? 0) + (r[k] as number); perDime += r[k] as number; }
    last = r;
  }
  let serverWide = 0;
  for (const k of SERVER_WIDE) { fields[k] = last[k] as number; serverWide += last[k] as number; }
  return { perDime, serverWide, total: perDime + serverWide, fields };
}

/** A request that may be dropped by a full inbox (and is counted then): asked again until answered. */
async function requestPatiently(client: DimeClient, server: string, core: number, name: string): Promise<Record<string, unknown>> {
  for (let i = 0; ; i++) {
    try {
      return (await client.request(server, core, name, {}, { timeoutMs: 2000 }))[0].fields as Record<string, unknown>;
    } catch (e) {
      if (i >= 30) throw e;
    }
  }
}

/** Deterministic pseudo-random numbers (the flood is the same on every machine and run). */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

export const CATEGORIES = ['runt', 'oversized', 'foreign', 'garbage', 'truncated', 'version', 'length', 'no-such-dime',
  'wrong-key', 'flipped-tag', 'report', 'replay', 'stale-epoch', 'first-contact', 'broadcast-forged', 'network-key-command', 'genuine'] as const;
export type Category = (typeof CATEGORIES)[number];

/**
 * `count` hostile frames for `server` (cores 0..cores-1), cycling through every category. The
 * genuine ones come from `client` (its key, its epoch) and ask nothing that changes state.
 */
export function* hostileFrames(client: DimeClient, server: string, cores: number, count: number, seed = 1): Generator<[Category, Buffer]> {
  const rnd = prng(seed);
  const evil = new PxCodec({ key: `not the key ${seed}` });
  const mac = parseMac(server);
  const epoch = client.epochs.get(server) ?? 0n;
  const bytes = (n: number) => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = rnd() & 0xff; return b; };
  const et = (ch: W.Channel, scope: W.Scope, code: number) => W.etherType(W.ETHERTYPE_BASE_DEFAULT, ch, scope, code);
  const genuinePing = (core: number, e = epoch, seq = client.nextSeq()) => client.codec.encode({ dstMac: server, srcMac: client.mac, srcCore: W.CORE_NONE,
    channel: 'signaling', scope: 'dime', code: W.messageByName('PING').code, dstCore: core, seq, reqId: 0x7000_0000 + (rnd() & 0xffff), epoch: e,
    payload: encodePayload(W.messageByName('PING').request!, { nonce: BigInt(rnd()) }) });
  let captured = genuinePing(0);
  const header = (len: number) => { const f = Buffer.alloc(len); mac.copy(f, 0); bytes(6).copy(f, 6); f[6] &= 0xfe; return f; };
  for (let i = 0; i < count; i++) {
    const cat = CATEGORIES[i % CATEGORIES.length];
    const core = rnd() % cores;
    let f: Buffer;
    switch (cat) {
      case 'runt': f = header(14 + (rnd() % 46)); bytes(f.length - 12).copy(f, 12); if (rnd() % 2) f.writeUInt16BE(W.ETHERTYPE_BASE_DEFAULT | (rnd() & 0xff), 12); break; // under the 60-byte minimum (NICs pad it)
      case 'oversized': f = header(1600 + (rnd() % 400)); f.writeUInt16BE(et('signaling', 'dime', 0x15), 12); break;
      case 'foreign': f = header(60 + (rnd() % 1000)); f.writeUInt16BE(0x0800, 12); break;
      case 'garbage': f = header(14 + (rnd() % 1500)); bytes(f.length - 12).copy(f, 12); f.writeUInt16BE(W.ETHERTYPE_BASE_DEFAULT | (rnd() & 0xff), 12); f[15] &= 0xfc; break;
      case 'truncated': f = genuinePing(core).subarray(0, 14 + (rnd() % (W.HEADER_LEN + W.TAG_LEN))); break;
      case 'version': f = genuinePing(core); f[14] = W.PROTOCOL_VERSION + 1 + (rnd() % 200); break;
      case 'length': f = genuinePing(core); f.writeUInt16BE(200 + (rnd() % 60000), 14 + 6); break;
      case 'no-such-dime': f = evil.encode({ dstMac: server, srcMac: '02:66:00:00:00:01', channel: 'signaling', scope: 'dime', code: 0x15, dstCore: cores + (rnd() % 1000), seq: 1n, payload: bytes(8) }); break;
      case 'wrong-key': {
        const m = W.MESSAGES[rnd() % W.MESSAGES.length];
        const scope = m.scopes[rnd() % m.scopes.length];
        f = evil.encode({ dstMac: server, srcMac: `02:66:00:00:${(rnd() & 0xff).toString(16)}:02`, channel: m.channel, scope, code: m.code,
          dstCore: scope === 'dime' ? core : W.CORE_NONE, srcCore: rnd() % 2 ? W.CORE_NONE : rnd() % 8, seq: BigInt(rnd()), epoch, payload: bytes(rnd() % 300) });
        break;
      }
      case 'flipped-tag': f = genuinePing(core); f[f.length - 1 - (rnd() % W.TAG_LEN)] ^= 1 << (rnd() % 8); break;
      case 'report': f = genuinePing(core); f[15] = rnd() % 2 ? W.FLAGS.RESPONSE : W.FLAGS.EVENT; break;
      case 'replay': f = Buffer.from(captured); break; // the first copy is accepted, every later one is a replay
      case 'stale-epoch': f = genuinePing(core, epoch ^ BigInt(1 + (rnd() % 1000))); break;
      case 'first-contact': f = genuinePing(core, 0n); break;
      case 'broadcast-forged': f = evil.encode({ dstMac: BROADCAST, srcMac: '02:66:00:00:00:03', channel: 'signaling', scope: 'system', code: 0x01, seq: BigInt(rnd()), payload: Buffer.alloc(0) }); break;
      case 'network-key-command': f = client.codec.encode({ dstMac: BROADCAST, srcMac: client.mac, channel: 'signaling', scope: 'dime', code: W.messageByName('STOP').code, dstCore: core, seq: client.nextSeq() }); break;
      default: f = genuinePing(core); if (rnd() % 50 === 0) captured = f; break;
    }
    yield [cat, f];
  }
}

export interface FloodResult { sent: number; counted: number; before: Tally; after: Tally; byCategory: Record<string, number>; ms: number }

/**
 * Sends `count` hostile frames (in bursts of `burst`, pausing `pauseMs` between bursts, so the
 * LAN socket's buffers stay bounded), then waits until the server has counted every frame the
 * client sent since the first tally (flood, retries and the tally queries themselves).
 */
export async function flood(client: DimeClient, server: string, cores: number, count: number, opts: { burst?: number; pauseMs?: number; settleMs?: number; seed?: number } = {}): Promise<FloodResult> {
  await client.epochOf(server);
  const before = await tally(client, server, cores);
  let sent = 0;
  const lan = client.lan;
  const realSend = lan.send.bind(lan);
  lan.send = (raw: Buffer) => { sent++; realSend(raw); };
  const byCategory: Record<string, number> = {};
  const t0 = Date.now();
  try {
    let inBurst = 0;
    for (const [cat, f] of hostileFrames(client, server, cores, count, opts.seed)) {
      byCategory[cat] = (byCategory[cat] ?? 0) + 1;
      lan.send(f);
      if (++inBurst >= (opts.burst ?? 500)) { inBurst = 0; await new Promise((r) => setTimeout(r, opts.pauseMs ?? 5)); }
    }
    // every frame counted: poll until the tally catches up (it never passes: that would be a double count)
    const deadline = Date.now() + (opts.settleMs ?? 120_000);
    for (;;) {
      const after = await tally(client, server, cores);
      const counted = after.total - before.total;
      if (counted >= sent || Date.now() > deadline) return { sent, counted, before, after, byCategory, ms: Date.now() - t0 };
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    lan.send = realSend;
  }
}
