// The export server of central storage (src/orchestrator/central-store.ts) on a test LAN, with
// the test playing a DIME server: signed CSTORE_* requests in, answers checked. What the
// two-server test (test/dime/central-storage.test.ts) cannot force: a repeated request id is
// answered from the cache and not done again (a late repeat never overwrites a later write),
// malformed and unknown-export requests, a refused DIME counted and alarmed once per power of two.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as W from '../../src/protocol/wire.js';
import { encodePayload, type Frame } from '../../src/protocol/codec.js';
import { openLan } from '../../src/orchestrator/attach.js';
import { OrchestratorLink } from '../../src/orchestrator/link.js';
import { CentralStore, type CentralAlarm } from '../../src/orchestrator/central-store.js';
import { StreamLan } from '../dime/lan.js';
import { DimeClient } from '../dime/client.js';

const KEY = 'central-store-unit-key';
const SERVER = '52:54:00:00:77:01';
const EXPORTER = '02:50:00:00:77:99';
const EPOCH = 0x1234_5678_9abcn;

describe('central storage export server', () => {
  let lan: StreamLan, link: OrchestratorLink, store: CentralStore, dime: DimeClient, file: string;
  const alarms: CentralAlarm[] = [];
  let reqId = 100;

  /** a request as DIME `core` of SERVER would send it; resolves with the export's answer */
  async function ask(core: number, name: string, values: Record<string, unknown>, id = ++reqId): Promise<Frame> {
    const m = W.messageByName(name);
    const answer = dime.waitFor((f) => f.srcMac === EXPORTER && f.dstMac === SERVER && f.reqId === id && f.code === m.code && (f.flags & W.FLAGS.RESPONSE) !== 0, 5000);
    dime.send({ dstMac: EXPORTER, srcMac: SERVER, srcCore: core, channel: 'data', scope: 'dime', code: m.code, dstCore: W.CORE_NONE, reqId: id,
      epoch: EPOCH, payload: encodePayload(m.request!, values as never) });
    return answer;
  }

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstore-unit-'));
    file = path.join(dir, 'vol.bin');
    writeFileSync(file, Buffer.alloc(0));
    lan = new StreamLan(path.join(dir, 'lan.sock'));
    await lan.listen();
    link = new OrchestratorLink(await openLan(`stream,path=${lan.path}`), { key: KEY, mac: EXPORTER });
    await lan.connected(1);
    store = new CentralStore(link);
    store.on('alarm', (a: CentralAlarm) => alarms.push(a));
    store.addExport({ name: 'vol', path: file, maxBytes: 4096 });
    store.grant('vol', { server: SERVER, core: 1 }, W.STORE_RIGHT.READ | W.STORE_RIGHT.WRITE);
    dime = new DimeClient(lan, KEY, '02:00:00:00:00:05');
    // play the server: the export believes requests only in an epoch it confirmed with a PING
    dime.on('frame', (f: Frame) => {
      if (f.message?.name !== 'PING' || f.dstMac !== SERVER || (f.flags & W.FLAGS.RESPONSE)) return;
      dime.send({ dstMac: f.srcMac, srcMac: SERVER, srcCore: 1, channel: 'signaling', scope: 'dime', code: f.code, dstCore: W.CORE_NONE,
        reqId: f.reqId, flags: W.FLAGS.RESPONSE, epoch: EPOCH, payload: Buffer.alloc(8) });
    });
  });

  afterAll(async () => {
    store?.close();
    await link?.close();
    await lan?.close();
  });

  it('writes and reads at offsets; a repeated request id is answered from the cache, never done again', async () => {
    const w1 = await ask(1, 'CSTORE_WRITE', { offset: 0n, len: 5, name: 'vol', data: Buffer.from('hello') }, 1);
    expect(w1.status).toBe(W.STATUS.OK);
    expect(dime.codec.fields(w1).size).toBe(5n);
    expect(w1.epoch).toBe(EPOCH); // the answer carries the DIME server's epoch (its kernel checks it)
    const w2 = await ask(1, 'CSTORE_WRITE', { offset: 0n, len: 5, name: 'vol', data: Buffer.from('HELLO') }, 2);
    expect(w2.status).toBe(W.STATUS.OK);
    // request 1 again (its answer was lost, say, and it crossed request 2): answered, not done
    const again = await ask(1, 'CSTORE_WRITE', { offset: 0n, len: 5, name: 'vol', data: Buffer.from('hello') }, 1);
    expect(again.status).toBe(W.STATUS.OK);
    expect(again.payload.equals(w1.payload)).toBe(true);
    expect(readFileSync(file, 'latin1')).toBe('HELLO');
    const r = await ask(1, 'CSTORE_READ', { offset: 1n, len: 100, name: 'vol' });
    expect(dime.codec.fields(r)).toMatchObject({ offset: 1n, size: 5n });
    expect((dime.codec.fields(r).data as Buffer).toString()).toBe('ELLO');
    const past = await ask(1, 'CSTORE_READ', { offset: 9n, len: 100, name: 'vol' });
    expect((dime.codec.fields(past).data as Buffer).length).toBe(0);
    const o = await ask(1, 'CSTORE_OPEN', { mode: 0x01, name: 'vol' });
    expect(dime.codec.fields(o)).toMatchObject({ size: 5n, rights: 3 });
    expect((await ask(1, 'CSTORE_FLUSH', { name: 'vol' })).status).toBe(W.STATUS.OK);
  });

  it('bad requests get a clear status and are counted: too long, past the size limit, unknown export', async () => {
    expect((await ask(1, 'CSTORE_READ', { offset: 0n, len: 2000, name: 'vol' })).status).toBe(W.STATUS.MALFORMED);
    expect((await ask(1, 'CSTORE_WRITE', { offset: 0n, len: 9, name: 'vol', data: Buffer.from('short') })).status).toBe(W.STATUS.MALFORMED);
    expect((await ask(1, 'CSTORE_WRITE', { offset: 4094n, len: 5, name: 'vol', data: Buffer.from('12345') })).status).toBe(W.STATUS.OUT_OF_RANGE);
    expect((await ask(1, 'CSTORE_READ', { offset: 0n, len: 5, name: 'nope' })).status).toBe(W.STATUS.NOT_FOUND);
    expect(store.status().drops.unknownExport).toBe(1);
  });

  it('a DIME without a grant is refused, counted every time and alarmed at the 1st, 2nd, 4th refusal', async () => {
    for (let i = 0; i < 4; i++) expect((await ask(2, i % 2 ? 'CSTORE_WRITE' : 'CSTORE_READ', { offset: 0n, len: 1, name: 'vol', data: Buffer.from('x') })).status).toBe(W.STATUS.UNAUTHORIZED);
    expect(alarms.map((a) => [a.dime.core, a.what, a.count])).toEqual([[2, 'read', 1], [2, 'write', 2], [2, 'write', 4]]);
    expect(readFileSync(file, 'latin1')).toBe('HELLO');
    const s = store.status();
    const e = s.exports[0];
    expect(e).toMatchObject({ name: 'vol', size: 5, refused: 4, repeats: 1, writes: 2, bytesWritten: 10, flushes: 1, opens: 1 });
    expect(s.dimes.find((d) => d.dime.endsWith('/2'))).toMatchObject({ refused: 4, reads: 0, writes: 0 });
    expect(s.dimes.find((d) => d.dime.endsWith('/1'))).toMatchObject({ repeats: 1, writes: 2, errors: 4 });
    expect(e.grants).toEqual([{ dime: `${SERVER}/1`, read: true, write: true }]);
  });
});
