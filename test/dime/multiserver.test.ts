// Two servers on one LAN: DIMEs find each other through the orchestrator, and a service's
// output crosses servers over raw Ethernet, rewired live (the Parallax papers' scenario).
// Runs for every pair of runners (QEMU + QEMU, QEMU + parallax-emu, parallax-emu + parallax-emu);
// the transcripts of all pairs must agree.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as W from '../../src/protocol/wire.js';
import { BROADCAST, PxCodec } from '../../src/protocol/codec.js';
import { StreamLan } from './lan.js';
import { DimeClient } from './client.js';
import { availableRunners, type MachineRunner } from './runner.js';
import { TranscriptRecorder, type Transcript } from './transcript.js';
import { expectSameTranscripts, serverKeyFileFor } from './bench.js';

const IMAGE = path.resolve('images/dime.elf');
const KEY = 'two-server-key';
const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';
// each runner with itself, and with every other runner (e.g. a QEMU server beside an emulated one)
const runners = availableRunners();
const cases = runners.flatMap((mkA, i) => runners.slice(i).map((mkB) => [`${mkA().name} + ${mkB().name}`, mkA, mkB] as const));
/** scenario -> runner pair -> transcript */
const transcripts = new Map<string, Map<string, Transcript>>();

describe.skipIf(cases.length === 0 || !existsSync(IMAGE)).each(cases)('two DIME servers: %s', (pair, mkA, mkB) => {
  let a: MachineRunner, b: MachineRunner, lan: StreamLan, client: DimeClient, rec: TranscriptRecorder;

  /** a scenario whose transcript is kept for the comparison between pairs */
  const recorded = (title: string, body: () => Promise<void>) => it(title, async () => {
    await rec.settle(100, 1000);
    rec.take();
    await body();
    await rec.settle();
    if (!transcripts.has(title)) transcripts.set(title, new Map());
    transcripts.get(title)!.set(pair, rec.take());
  });

  beforeAll(async () => {
    lan = new StreamLan(path.join(mkdtempSync(path.join(tmpdir(), 'dime-lan2-')), 'lan.sock'));
    await lan.listen();
    a = mkA();
    b = mkB();
    rec = new TranscriptRecorder(new PxCodec({ key: KEY }), lan, [['A', a], ['B', b]]);
    const append = 'hb=0 perf=0';
    await a.start(IMAGE, { cores: 2, netSocket: lan.path, append, mac: A, keyFile: serverKeyFileFor(KEY, A) });
    await b.start(IMAGE, { cores: 2, netSocket: lan.path, append, mac: B, keyFile: serverKeyFileFor(KEY, B) });
    await lan.connected(2);
    await Promise.all([a.waitForOutput(/DIME ready: 2 cores/, 60_000), b.waitForOutput(/DIME ready: 2 cores/, 60_000)]);
    client = new DimeClient(lan, KEY);
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await lan?.close();
  });

  async function run(server: string, d: number, service: string, out: { kind: number; core?: number; mac?: string }) {
    await client.request1(server, d, 'SET_ROUTE', { direction: W.ROUTE_DIR.OUTPUT, kind: out.kind, core: out.core ?? 0, mac: out.mac ?? client.mac });
    expect((await client.request1(server, d, 'LOAD_BUILTIN', { name: service })).frame.status).toBe(W.STATUS.OK);
    expect((await client.request1(server, d, 'EXECUTE')).frame.status).toBe(W.STATUS.OK);
  }

  recorded('discovers the DIMEs of both servers with one broadcast', async () => {
    const replies = await client.request(BROADCAST, null, 'DISCOVER', {}, { expect: 4, timeoutMs: 15_000 });
    const found = replies.map((r) => `${r.fields.serverMac}/${r.fields.dime}`).sort();
    expect(found).toEqual([`${A}/0`, `${A}/1`, `${B}/0`, `${B}/1`]);
  });

  recorded('sends a filter\'s output to a DIME of the other server, then rewires it back home', async () => {
    // B's DIME 1 takes input from A's DIME 1 only
    await client.request1(B, 1, 'SET_ROUTE', { direction: W.ROUTE_DIR.INPUT, kind: W.ROUTE.DIME, core: 1, mac: A });
    await run(B, 1, 'conwriter', { kind: W.ROUTE.CONSOLE });
    await run(A, 0, 'conwriter', { kind: W.ROUTE.CONSOLE });
    await run(A, 1, 'upper', { kind: W.ROUTE.DIME, core: 1, mac: B });
    client.stream(A, 1, 'across the wire\n');
    await b.waitForOutput(/\[DIME 1\] ACROSS THE WIRE/, 10_000);
    const refused = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcMac === B && f.srcCore === 1);
    client.stream(B, 1, 'from the orchestrator\n');
    expect(client.codec.fields(await refused).code).toBe(W.SECURITY_CODE.UNAUTHORIZED);
    expect(b.output).not.toMatch(/from the orchestrator/);
    await client.request1(A, 1, 'SET_ROUTE', { direction: W.ROUTE_DIR.OUTPUT, kind: W.ROUTE.DIME, core: 0, mac: A });
    client.stream(A, 1, 'back home\n');
    await a.waitForOutput(/\[DIME 0\] BACK HOME/, 10_000);
    expect(b.output).not.toMatch(/BACK HOME/);
    // B's DIME saw A's DIME as an authenticated peer
    const sec = await client.request1(B, 1, 'QUERY_SECURITY');
    expect(sec.fields.forged).toBe(0);
    expect(sec.fields.accepted as number).toBeGreaterThan(3);
  });
});

describe.skipIf(cases.length < 2)('two DIME servers on every pair of runners', () => {
  it('give the same transcripts', () => {
    expect(transcripts.size).toBeGreaterThan(0);
    for (const [title, byPair] of transcripts) {
      expect([...byPair.keys()], title).toEqual(cases.map(([pair]) => pair));
      expectSameTranscripts(title, [...byPair.keys()], [...byPair.values()]);
    }
  });
});
