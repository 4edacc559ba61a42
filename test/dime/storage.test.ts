// Local storage (issue 16): the DIME kernel's virtio-blk driver and the file store its DIMEs
// share under per-DIME grants (docs/STORAGE.md), driven through the `filer` service. On every
// runner (QEMU first, then parallax-emu), each with a blank raw image of its own:
//  1. a DIME writes a file, the server is killed (SIGKILL), restarted on the same disk, and
//     another DIME reads the file back;
//  2. DIMEs of one server share files under their grants (a read-only DIME's write is refused),
//     two DIMEs fill files at the same time on different cores;
//  3. a DIME without a grant is refused, counted (QUERY_STORAGE, QUERY_SECURITY) and alarmed.
// Transcripts must agree between the machines, and so must the disk images left behind (byte
// for byte), which are also parsed on the host (src/orchestrator/local-store.ts) and checked.
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as W from '../../src/protocol/wire.js';
import { readStoreImage } from '../../src/orchestrator/local-store.js';
import { availableRunners, missingRunners, type MachineRunner } from './runner.js';
import { IMAGE, expectSameTranscripts, onEveryMachine, startBench, stopBench, type Bench } from './bench.js';
import type { Transcript } from './transcript.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { captureIO } from '../orchestrator/cli-io.js';

const KEY = 'storage-test-key';
const SERVER = '52:54:00:12:34:70';
const CORES = 4;
const DISK_BYTES = 8 * 1024 * 1024;

const runners = availableRunners();
const missing = missingRunners();

/** One command line to the filer on DIME `d`; resolves with its `lines` answer lines. */
async function filer(b: Bench, d: number, line: string, lines = 1): Promise<string[]> {
  const got = b.client.collect((f) => f.message?.name === 'STREAM' && f.srcMac === SERVER && f.srcCore === d, lines, 20_000);
  b.client.stream(SERVER, d, `${line}\n`);
  return (await got).map((f) => f.payload.toString('latin1').replace(/\n$/, ''));
}

async function grant(b: Bench, d: number, prefix: string, rights: number): Promise<number> {
  const r = await b.client.request1(SERVER, d, 'STORE_GRANT', { rights, prefix });
  expect(r.frame.status).toBe(W.STATUS.OK);
  return r.fields.grants as number;
}

async function startFiler(b: Bench, d: number): Promise<void> {
  const c = b.client;
  expect((await c.request1(SERVER, d, 'SET_ROUTE', { direction: W.ROUTE_DIR.OUTPUT, kind: W.ROUTE.ORCHESTRATOR, core: 0, mac: c.mac })).frame.status).toBe(W.STATUS.OK);
  expect((await c.request1(SERVER, d, 'LOAD_BUILTIN', { name: 'filer' })).frame.status).toBe(W.STATUS.OK);
  expect((await c.request1(SERVER, d, 'EXECUTE')).frame.status).toBe(W.STATUS.OK);
}

async function stopFiler(b: Bench, d: number): Promise<void> {
  const ended = b.client.waitFor((f) => f.message?.name === 'SERVICE_EXIT' && f.srcCore === d, 15_000);
  expect((await b.client.request1(SERVER, d, 'STOP')).frame.status).toBe(W.STATUS.OK);
  await ended;
}

async function storage(b: Bench, d: number) {
  const r = await b.client.request1(SERVER, d, 'QUERY_STORAGE');
  expect(r.frame.status).toBe(W.STATUS.OK);
  return r.fields;
}

/** the records `fill NAME N TAG` writes */
const records = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${i};`).join('');

if (missing.length && process.env.CI) {
  describe('DIME local storage', () => {
    it('needs every requested runner (CI is set, so this is a failure)', () => { throw new Error(missing.join('; ')); });
  });
}

describe.skipIf(runners.length === 0 || !existsSync(IMAGE))(`DIME local storage on ${runners.map((mk) => mk().name).join(' and ')}`, () => {
  const disks: string[] = [];
  const benches: Bench[] = [];
  const opts = (disk: string) => ({ cores: CORES, mac: SERVER, key: KEY, append: 'hb=0 perf=0', drives: [disk] });

  afterAll(async () => {
    await Promise.all(benches.map(stopBench));
  });

  it('a file written by one DIME survives a killed server and is read back by another DIME', async () => {
    const before: Transcript[] = [];
    const after: Transcript[] = [];
    for (const mk of runners) {
      const disk = path.join(mkdtempSync(path.join(tmpdir(), 'dime-store-')), 'disk.img');
      writeFileSync(disk, Buffer.alloc(DISK_BYTES));
      disks.push(disk);
      const first = await startBench(mk, opts(disk));
      let runner: MachineRunner = first.runner;
      try {
        expect(first.runner.output).toMatch(/store: formatted a blank disk\nstore: 16384 sectors, 0 files, 64 slots of 124 KiB/);
        await first.rec.settle(100, 1000);
        first.rec.take();
        expect(await grant(first, 1, 'notes/', W.STORE_RIGHT.READ | W.STORE_RIGHT.WRITE)).toBe(1);
        await startFiler(first, 1);
        expect(await filer(first, 1, 'put notes/a hello from DIME 1')).toEqual(['ok notes/a 17']);
        const s = await storage(first, 1);
        expect(s).toMatchObject({ dime: 1, store: W.STORE_STATE.READY, grants: 1, opens: 1, writes: 1, bytesWritten: 17n, refused: 0, errors: 0, files: 1, slots: 64, slotBytes: 124 * 1024, diskSectors: 16384n, diskErrors: 0 });
        await first.rec.settle();
        before.push(first.rec.take());
      } finally {
        // no STOP, no shutdown: the machine dies with the service still running
        await runner.kill();
        await first.lan.close();
      }
      const second = await startBench(mk, opts(disk));
      benches.push(second);
      runner = second.runner;
      expect(runner.output).toMatch(/store: 16384 sectors, 1 files, 64 slots of 124 KiB/);
      expect(runner.output).not.toMatch(/formatted/);
      await second.rec.settle(100, 1000);
      second.rec.take();
      // a fresh boot: grants are configuration, given again by the orchestrator
      expect(await grant(second, 2, 'notes/', W.STORE_RIGHT.READ)).toBe(1);
      await startFiler(second, 2);
      expect(await filer(second, 2, 'get notes/a')).toEqual(['ok notes/a 17: hello from DIME 1']);
      expect(await storage(second, 2)).toMatchObject({ opens: 1, reads: 2, bytesRead: 17n, writes: 0, refused: 0, files: 1 });
      await second.rec.settle();
      after.push(second.rec.take());
    }
    const names = runners.map((mk) => mk().name);
    expectSameTranscripts('storage: write then kill', names, before);
    expectSameTranscripts('storage: restart and read', names, after);
  }, 240_000);

  it('DIMEs of one server share files under their grants; concurrent writers on two cores', async () => {
    await onEveryMachine('storage: shared under grants', benches, async (b) => {
      expect(await grant(b, 1, 'shared/', W.STORE_RIGHT.READ | W.STORE_RIGHT.WRITE)).toBe(1);
      expect(await grant(b, 2, 'shared/', W.STORE_RIGHT.READ)).toBe(2);
      await startFiler(b, 1);
      expect(await filer(b, 1, 'put shared/log first;')).toEqual(['ok shared/log 6']);
      expect(await filer(b, 2, 'get shared/log')).toEqual(['ok shared/log 6: first;']);
      const alarm = b.client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 2, 10_000);
      expect(await filer(b, 2, 'add shared/log intruder;')).toEqual(['err -1 open shared/log']);
      expect(b.client.codec.fields(await alarm)).toMatchObject({
        dime: 2, kind: W.ALARM_KIND.SECURITY, code: W.SECURITY_CODE.UNAUTHORIZED, peerMac: SERVER, peerCore: 2, count: 1,
        text: 'storage write: shared/log', detail: BigInt(W.STORE_RIGHT.WRITE),
      });
      expect(await filer(b, 1, 'add shared/log second;')).toEqual(['ok shared/log 7']);
      expect(await filer(b, 2, 'get shared/log')).toEqual(['ok shared/log 13: first;second;']);
      expect(await filer(b, 2, 'ls', 3)).toEqual(['ok ls notes/a 17', 'ok ls shared/log 13', 'ok ls end']);
      // two writers at once on two cores, into files whose entries share one directory sector
      expect(await grant(b, 3, 'shared/', W.STORE_RIGHT.READ | W.STORE_RIGHT.WRITE)).toBe(1);
      await startFiler(b, 3);
      expect(await filer(b, 1, 'put shared/f1 -')).toEqual(['ok shared/f1 1']);
      expect(await filer(b, 3, 'put shared/f3 -')).toEqual(['ok shared/f3 1']);
      const [one, three] = await Promise.all([filer(b, 1, 'fill shared/f1 150 one'), filer(b, 3, 'fill shared/f3 150 three')]);
      expect(one[0]).toMatch(/^ok fill shared\/f1 150 sum [0-9a-f]+$/);
      expect(three[0]).toMatch(/^ok fill shared\/f3 150 sum [0-9a-f]+$/);
      expect(await storage(b, 2)).toMatchObject({ grants: 2, refused: 1, writes: 0, files: 4 });
      expect(await storage(b, 1)).toMatchObject({ grants: 1, writes: 153, errors: 0, bytesWritten: BigInt(6 + 7 + 1 + records(150, 'one').length) });
      expect((await b.client.request1(SERVER, 2, 'QUERY_SECURITY')).fields.storageRefused).toBe(1);
      for (const d of [1, 2, 3]) await stopFiler(b, d);
    });
  }, 240_000);

  it('a DIME without a grant is refused, counted and alarmed', async () => {
    await onEveryMachine('storage: no grant', benches, async (b) => {
      await startFiler(b, 0);
      const alarms = b.client.collect((f) => f.message?.name === 'ALARM' && f.srcCore === 0, 3, 10_000);
      expect(await filer(b, 0, 'get notes/a')).toEqual(['err -1 get notes/a']);
      expect(await filer(b, 0, 'put mine x')).toEqual(['err -1 open mine']);
      expect(await filer(b, 0, 'ls')).toEqual(['ok ls end']);   // it does not even see the names
      // refusals are alarmed at the 1st, 2nd, 4th... (counted every time): the 3rd is not, the 4th is
      expect(await filer(b, 0, 'rm notes/a')).toEqual(['err -1 rm notes/a']);
      expect(await filer(b, 0, 'get shared/log')).toEqual(['err -1 get shared/log']);
      const [a1, a2, a3] = (await alarms).map((f) => b.client.codec.fields(f));
      expect(a1).toMatchObject({ kind: W.ALARM_KIND.SECURITY, code: W.SECURITY_CODE.UNAUTHORIZED, count: 1, text: 'storage read: notes/a', detail: 1n });
      expect(a2).toMatchObject({ kind: W.ALARM_KIND.SECURITY, code: W.SECURITY_CODE.UNAUTHORIZED, count: 2, text: 'storage write: mine', detail: 2n });
      expect(a3).toMatchObject({ count: 4, text: 'storage read: shared/log' });
      expect(await storage(b, 0)).toMatchObject({ grants: 0, refused: 4, opens: 0, reads: 0, writes: 0 });
      const sec = (await b.client.request1(SERVER, 0, 'QUERY_SECURITY')).fields;
      expect(sec.storageRefused).toBe(4);
      await b.runner.waitForOutput(/DIME 0 storage: read of 'notes\/a' refused \(no grant\)/, 5000);
      await stopFiler(b, 0);
    });
  }, 240_000);

  it('the orchestrator CLI grants and reports storage (parallax grant / storage)', async () => {
    for (const b of benches) {
      const cli = async (...words: string[]) => {
        const io = captureIO('', { PARALLAX_KEY: KEY });
        const code = await runCli(['--net', `stream,path=${b.lan.path}`, '--mac', b.client.mac, '--alias', `S=${SERVER}`, '--state', 'none', '--json', ...words], io);
        expect(code, io.err()).toBe(0);
        return JSON.parse(io.out().trim().split('\n').pop()!) as Record<string, unknown>;
      };
      expect(await cli('grant', 'S/3', 'logs/', '--read', '--write')).toEqual({ ok: true, dime: 'S/3', prefix: 'logs/', read: true, write: true, grants: 2 });
      const st = (await cli('storage', 'S/1', 'S/0')).dimes as Array<Record<string, unknown>>;
      expect(st[0]).toMatchObject({ dime: 'S/1', store: 'ready', files: 4, slots: 64, writes: 153, refused: 0 });
      expect(st[1]).toMatchObject({ dime: 'S/0', store: 'ready', grants: 0, refused: 4 });
      expect(await cli('grant', 'S/3', 'logs/', '--revoke')).toMatchObject({ grants: 1 });
    }
  }, 120_000);

  it('leaves the same disk on every machine, with the files the DIMEs wrote', async () => {
    await Promise.all(benches.splice(0).map(stopBench));
    expect(disks.length).toBe(runners.length);
    const images = disks.map((d) => readFileSync(d));
    for (let i = 1; i < images.length; i++) expect(images[i].equals(images[0]), `${disks[i]} differs from ${disks[0]}`).toBe(true);
    const store = readStoreImage(images[0]);
    expect(store.kind).toBe('store');
    if (store.kind !== 'store') return;
    expect(store.geometry).toMatchObject({ version: 1, slots: 64, dataStart: 32, slotSectors: 248, diskSectors: 16384n });
    const files = Object.fromEntries(store.files.map((f) => [f.name, f.data.toString('latin1')]));
    expect(files).toEqual({
      'notes/a': 'hello from DIME 1',
      'shared/log': 'first;second;',
      'shared/f1': records(150, 'one'),
      'shared/f3': records(150, 'three'),
    });
  });
});
