// The wire format: one definition (wire.ts) -> checked-in C header, codec round trips.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import * as W from '../../src/protocol/wire.js';
import { generateCHeader, HEADER_PATH } from '../../src/protocol/gen-c-header.js';
import { PxCodec, ReplayGuard, crc32, encodePayload, decodePayload, parseServiceImage } from '../../src/protocol/codec.js';

describe('Parallax wire format', () => {
  it('checked-in protocol.h is what wire.ts generates', () => {
    expect(readFileSync(HEADER_PATH, 'utf8')).toBe(generateCHeader());
  });

  it('EtherType encodes channel, scope and instruction type inside one 256-value block', () => {
    const seen = new Set<number>();
    for (const m of W.MESSAGES) {
      for (const s of m.scopes) {
        const et = W.etherType(W.ETHERTYPE_BASE_DEFAULT, m.channel, s, m.code);
        expect(et & W.ETHERTYPE_BLOCK_MASK).toBe(W.ETHERTYPE_BASE_DEFAULT);
        expect(!!(et & W.ET_CHANNEL_DATA)).toBe(m.channel === 'data');
        expect(!!(et & W.ET_SCOPE_DIME)).toBe(s === 'dime');
        expect(et & W.ET_TYPE_MASK).toBe(m.code);
        expect(seen.has(et)).toBe(false);
        seen.add(et);
      }
      expect(m.code).toBeGreaterThan(0);
      expect(m.code).toBeLessThanOrEqual(W.ET_TYPE_MASK);
    }
    expect(W.etherType(0x8800, 'data', 'dime', 2)).toBe(0x88c2);
    expect(W.HEADER_LEN).toBe(32);
    expect(W.MAX_PAYLOAD).toBe(1436);
  });

  it('every layout fits in one frame', () => {
    for (const m of W.MESSAGES) {
      for (const l of [m.request, m.response]) if (l) expect(W.place(l.fields).size).toBeLessThanOrEqual(W.MAX_PAYLOAD);
    }
  });

  it('encodes, signs, decodes and verifies', () => {
    const c = new PxCodec({ key: 'k' });
    const m = W.messageByName('SET_PARAM');
    const payload = encodePayload(m.request!, { key: 'mode', value: 'spin' });
    const raw = c.encode({ dstMac: '52:54:00:12:34:56', srcMac: '02:00:00:00:00:01', channel: 'signaling', scope: 'dime', code: m.code, dstCore: 3, seq: 77n, reqId: 5, payload });
    expect(raw.length).toBe(14 + 32 + 80 + 32);
    expect(raw.readUInt16BE(12)).toBe(0xab4c);
    // the tag key: HKDF-SHA256 (RFC 5869, spelled out here with HMAC) of the server's secret,
    // itself HKDF of the master secret: an orchestrator's frame carries its destination's key
    const hkdf = (ikm: Buffer | string, info: string) =>
      createHmac('sha256', createHmac('sha256', 'parallax/2').update(ikm).digest()).update(Buffer.concat([Buffer.from(info), Buffer.from([1])])).digest();
    const tagKey = hkdf(hkdf('k', 'server 52:54:00:12:34:56'), 'tag');
    const tag = createHmac('sha256', tagKey).update(raw.subarray(0, raw.length - 32)).digest();
    expect(raw.subarray(raw.length - 32)).toEqual(tag);
    const f = c.decode(raw)!;
    expect(f.authentic).toBe(true);
    expect(f.message?.name).toBe('SET_PARAM');
    expect([f.dstCore, f.srcCore, f.seq, f.reqId, f.scope]).toEqual([3, W.CORE_NONE, 77n, 5, 'dime']);
    expect(c.fields(f)).toMatchObject({ key: 'mode', value: 'spin' });
    // any flipped bit breaks the tag
    const bad = Buffer.from(raw);
    bad[30] ^= 1; // inside the sequence number
    expect(c.decode(bad)!.authentic).toBe(false);
    expect(new PxCodec({ key: 'other' }).decode(raw)!.authentic).toBe(false);
    // other EtherType blocks are not ours
    expect(new PxCodec({ key: 'k', etherBase: 0x8800 }).decode(raw)).toBeNull();
  });

  it('decodes repeated records', () => {
    const m = W.messageByName('QUERY_ACCOUNTING');
    const buf = encodePayload(m.response!, { total: 2, oldest: 0 }, [{ seq: 0, what: 6, service: 'hello' }, { seq: 1, what: 7, cpuNs: 99n }]);
    const d = decodePayload(m.response!, buf);
    expect(d.records).toHaveLength(2);
    expect((d.records as Array<Record<string, unknown>>)[1]).toMatchObject({ seq: 1, what: 7, cpuNs: 99n });
  });

  it('replay guard and CRC-32', () => {
    const g = new ReplayGuard();
    expect(g.accept('a', 1, 5n)).toBe(true);
    expect(g.accept('a', 1, 5n)).toBe(false);
    expect(g.accept('a', 2, 5n)).toBe(true);
    expect(g.accept('a', 1, 6n)).toBe(true);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('built service images carry a valid DSV1 header', () => {
    const img = readFileSync('images/services/hello.bin');
    const h = parseServiceImage(img)!;
    expect(h).not.toBeNull();
    expect(h.imageLen).toBe(img.length);
    expect(h.entry >= BigInt(W.SERVICE_IMAGE.userBase)).toBe(true);
  });

  it('docs/PROTOCOL.md lists every instruction with its type number', () => {
    const doc = readFileSync('docs/PROTOCOL.md', 'utf8');
    for (const m of W.MESSAGES) {
      const code = '0x' + m.code.toString(16).toUpperCase().padStart(2, '0');
      expect(doc, m.name).toMatch(new RegExp(`\\| ${code} \\| ${m.name} \\|`));
    }
  });
});
