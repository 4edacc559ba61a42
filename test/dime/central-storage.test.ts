// Central storage (issue 16): the orchestrator exports a host file over raw Ethernet
// (`parallax storage export`, run as its own process like a user would) and DIMEs of two
// servers on one LAN use it through the file SDK ("@shared"), driven by the `filer` service.
// S1 is the first runner (QEMU when installed) and S2 the last (parallax-emu), so one run
// crosses both machines. While the data moves, the LAN loses 1 % of its deliveries (seeded):
//  1. a DIME on S1 writes 256 KiB, a DIME on S2 reads them back: byte-identical (checked on the
//     host file and by checksum), with lost frames counted and resent;
//  2. a DIME with no grant is refused at home, counted and alarmed; a DIME that was pointed at
//     the export but is not in the export's grants is refused by the export server, which
//     counts and alarms it too (and so does the DIME).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as W from '../../src/protocol/wire.js';
import { PxCodec } from '../../src/protocol/codec.js';
import { StreamLan } from './lan.js';
import { DimeClient } from './client.js';
import { availableRunners, missingRunners, type MachineRunner } from './runner.js';
import { IMAGE, serverKeyFileFor } from './bench.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { captureIO } from '../orchestrator/cli-io.js';

const KEY = 'central-storage-key';
const S1 = '52:54:00:00:00:c1';
const S2 = '52:54:00:00:00:c2';
const EXPORTER = '02:50:00:00:c5:01';
const BYTES = 256 * 1024;
const CLI = path.resolve('dist/src/cli/parallax.js');

const runners = availableRunners();
const missing = missingRunners();

/** the filer's `gen` pattern (xorshift32 bytes) and its FNV-1a checksum */
function pattern(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed >>> 0;
  for (let i = 0; i < bytes; i++) {
    x = (x ^ (x << 13)) >>> 0; x = (x ^ (x >>> 17)) >>> 0; x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}
function fnv(b: Buffer): string {
  let h = 2166136261;
  for (const c of b) h = Math.imul(h ^ c, 16777619) >>> 0;
  return h.toString(16);
}

if ((missing.length || !existsSync(CLI)) && process.env.CI) {
  describe('DIME central storage', () => {
    it('needs every requested runner and the built CLI (CI is set, so this is a failure)', () => {
      throw new Error([...missing, ...(existsSync(CLI) ? [] : [`${CLI} is missing (run npm run build)`])].join('; '));
    });
  });
}

describe.skipIf(runners.length === 0 || !existsSync(IMAGE) || !existsSync(CLI))('DIME central storage through the orchestrator', () => {
  let lan: StreamLan, s1: MachineRunner, s2: MachineRunner, client: DimeClient, exporter: ChildProcess;
  let exportOut = '';
  const dir = mkdtempSync(path.join(tmpdir(), 'dime-cstore-'));
  const file = path.join(dir, 'shared.bin');
  const exportsDir = path.join(dir, 'exports');

  /** one filer command whose answer comes on the server's console */
  async function filer(r: MachineRunner, server: string, d: number, line: string, answer: RegExp, lossy = false): Promise<RegExpMatchArray> {
    const from = r.output.length;
    client.stream(server, d, `${line}\n`);
    if (lossy) lan.setLoss({ rate: 0.01, seed: 16 }); // the command is on its way: from here on, 1 % of deliveries are lost
    try {
      // up to the end of the line: the console may deliver a line in pieces
      return await r.waitForOutput(new RegExp(`DIME ${d}> (${answer.source})\\r?\\n`), 180_000, from);
    } finally {
      lan.setLoss({ rate: 0, seed: 1 });
    }
  }

  async function startFiler(server: string, d: number): Promise<void> {
    expect((await client.request1(server, d, 'SET_ROUTE', { direction: W.ROUTE_DIR.OUTPUT, kind: W.ROUTE.CONSOLE, core: 0, mac: client.mac })).frame.status).toBe(W.STATUS.OK);
    expect((await client.request1(server, d, 'LOAD_BUILTIN', { name: 'filer' })).frame.status).toBe(W.STATUS.OK);
    expect((await client.request1(server, d, 'EXECUTE')).frame.status).toBe(W.STATUS.OK);
  }

  const cstore = async (server: string, d: number) => (await client.request1(server, d, 'QUERY_CSTORE')).fields;

  beforeAll(async () => {
    lan = new StreamLan(path.join(dir, 'lan.sock'));
    await lan.listen();
    s1 = runners[0]();
    s2 = runners[runners.length - 1]();
    const append = 'hb=0 perf=0';
    await s1.start(IMAGE, { cores: 4, netSocket: lan.path, append, mac: S1, keyFile: serverKeyFileFor(KEY, S1) });
    await s2.start(IMAGE, { cores: 4, netSocket: lan.path, append, mac: S2, keyFile: serverKeyFileFor(KEY, S2) });
    await lan.connected(2, 60_000);
    await Promise.all([s1.waitForOutput(/DIME ready: 4 cores/, 120_000), s2.waitForOutput(/DIME ready: 4 cores/, 120_000)]);
    client = new DimeClient(lan, KEY);
    // the export, as a user runs it: its own process, its own MAC, the LAN and the key of the lab
    writeFileSync(file, Buffer.alloc(0));
    exporter = spawn(process.execPath, [CLI, '--net', `stream,path=${lan.path}`, '--mac', EXPORTER, '--alias', `S1=${S1}`, '--alias', `S2=${S2}`,
      '--state', 'none', 'storage', 'export', file, '--name', 'shared', '--grant', 'S1/1', '--grant', 'S2/1:r', '--exports-dir', exportsDir],
    { env: { ...process.env, PARALLAX_KEY: KEY, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    exporter.stdout!.on('data', (b: Buffer) => { exportOut += b.toString(); });
    exporter.stderr!.on('data', (b: Buffer) => { exportOut += b.toString(); });
    const t0 = Date.now();
    while (!/exporting @shared/.test(exportOut)) {
      if (Date.now() - t0 > 60_000 || exporter.exitCode !== null) throw new Error(`the export did not start:\n${exportOut}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(exportOut).toContain(`exporting @shared (${file}) from ${EXPORTER} to S1/1, S2/1`);
  }, 300_000);

  afterAll(async () => {
    if (exporter && exporter.exitCode === null) exporter.kill('SIGKILL');
    await s1?.stop();
    await s2?.stop();
    await lan?.close();
  });

  it('a file exported centrally is written by a DIME on S1 and read by a DIME on S2 with 1 % of frames lost, byte-identical', async () => {
    await startFiler(S1, 1);
    await startFiler(S2, 1);
    const want = pattern(BYTES, 7);
    const lostBefore = lan.lost;
    const wrote = await filer(s1, S1, 1, `gen @shared ${BYTES} 7`, /ok gen @shared \d+ sum [0-9a-f]+|err .*/, true);
    expect(wrote[1]).toBe(`ok gen @shared ${BYTES} sum ${fnv(want)}`);
    // acknowledged writes are in the host file (every CSTORE_WRITE is written before it is answered; close flushed)
    expect(readFileSync(file).equals(want)).toBe(true);
    const read = await filer(s2, S2, 1, 'sum @shared', /ok sum @shared \d+ sum [0-9a-f]+|err .*/, true);
    expect(read[1]).toBe(`ok sum @shared ${BYTES} sum ${fnv(want)}`);
    const lost = lan.lost - lostBefore;
    const [c1, c2] = [await cstore(S1, 1), await cstore(S2, 1)];
    console.log(`central storage: ${BYTES} B written on ${s1.name}, read on ${s2.name}; ${lost} deliveries lost on the LAN; ` +
      `S1/1 ${c1.requests} requests, ${c1.resent} resent, ${c1.lateAnswers} late; S2/1 ${c2.requests} requests, ${c2.resent} resent, ${c2.lateAnswers} late`);
    expect(lost).toBeGreaterThan(0);
    expect(Number(c1.resent) + Number(c2.resent)).toBeGreaterThan(0); // losses were met and repaired
    expect(c1).toMatchObject({ dime: 1, exports: 1, opens: 1, writes: BYTES / 4096, bytesWritten: BigInt(BYTES), refused: 0, errors: 0 });
    expect(c2).toMatchObject({ dime: 1, exports: 1, opens: 1, bytesRead: BigInt(BYTES), writes: 0, refused: 0, errors: 0 });
    expect(c1.requests).toBeGreaterThanOrEqual(BYTES / W.CSTORE_LIMITS.chunk + 2); // open, the writes, the flush of close
  }, 400_000);

  it('a DIME without a grant is refused at home, and one the export does not know is refused by the export; both counted and alarmed', async () => {
    // S2/2: never told about the export
    await startFiler(S2, 2);
    const alarm = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcMac === S2 && f.srcCore === 2, 20_000);
    expect((await filer(s2, S2, 2, 'sum @shared', /err -?\d+ open @shared|ok .*/))[1]).toBe('err -1 open @shared');
    expect(client.codec.fields(await alarm)).toMatchObject({ kind: W.ALARM_KIND.SECURITY, code: W.SECURITY_CODE.UNAUTHORIZED, count: 1, text: 'storage read: @shared', detail: 1n });
    expect(await cstore(S2, 2)).toMatchObject({ exports: 0, refused: 1, requests: 0, opens: 0 });
    expect((await client.request1(S2, 2, 'QUERY_SECURITY')).fields.storageRefused).toBe(1);
    // S1/3: pointed at the export by someone (this test's orchestrator key), but not in the export's grants
    expect((await client.request1(S1, 3, 'CSTORE_GRANT', { rights: W.STORE_RIGHT.READ | W.STORE_RIGHT.WRITE, server: EXPORTER, name: 'shared' })).fields.exports).toBe(1);
    await startFiler(S1, 3);
    const alarm3 = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcMac === S1 && f.srcCore === 3, 20_000);
    expect((await filer(s1, S1, 3, 'gen @shared 4096 9', /err -?\d+ open @shared|ok .*/))[1]).toBe('err -1 open @shared');
    expect(client.codec.fields(await alarm3)).toMatchObject({ kind: W.ALARM_KIND.SECURITY, code: W.SECURITY_CODE.UNAUTHORIZED, count: 1, text: 'storage write: @shared' });
    expect(await cstore(S1, 3)).toMatchObject({ exports: 1, refused: 1, requests: 1, opens: 0 });
    const t0 = Date.now();
    while (!/ALARM storage: S1\/3 refused write of @shared/.test(exportOut) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
    expect(exportOut).toMatch(/ALARM storage: S1\/3 refused write of @shared \(no grant; 1 refusal\)/);
    // the host file is untouched by the refused DIME
    expect(readFileSync(file).equals(pattern(BYTES, 7))).toBe(true);

    // `storage list` (another process's view: the export's status file) shows the counters per export
    await new Promise((r) => setTimeout(r, 1500));
    const io = captureIO('', { PARALLAX_KEY: KEY });
    expect(await runCli(['--json', '--state', 'none', 'storage', 'list', '--exports-dir', exportsDir], io), io.err()).toBe(0);
    const [e] = (JSON.parse(io.out().trim()) as { exports: Array<Record<string, unknown>> }).exports;
    expect(e).toMatchObject({ name: 'shared', server: EXPORTER, size: BYTES, bytesWritten: BYTES, refused: 1, readonly: false });
    expect(e.bytesRead).toBeGreaterThanOrEqual(BYTES);
    expect(e.grants).toEqual([{ dime: 'S1/1', read: true, write: true }, { dime: 'S2/1', read: true, write: false }]);

    // `storage S1/1 S1/3`: each DIME's own counters (QUERY_CSTORE) beside its local store's
    const io2 = captureIO('', { PARALLAX_KEY: KEY });
    expect(await runCli(['--net', `stream,path=${lan.path}`, '--mac', '02:00:00:00:00:07', '--alias', `S1=${S1}`, '--state', 'none', '--json',
      'storage', 'S1/1', 'S1/3'], io2), io2.err()).toBe(0);
    const [d1, d3] = (JSON.parse(io2.out().trim().split('\n').pop()!) as { dimes: Array<Record<string, unknown>> }).dimes;
    expect(d1).toMatchObject({ dime: 'S1/1', store: 'none', central: { exports: 1, opens: 1, bytesWritten: BYTES, refused: 0 } });
    expect(d3).toMatchObject({ dime: 'S1/3', central: { exports: 1, refused: 1, requests: 1, opens: 0 } });

    // the export ends cleanly on SIGTERM, withdraws its grants and prints its counters
    const ended = new Promise<number | null>((r) => exporter.once('exit', (code) => r(code)));
    exporter.kill('SIGTERM');
    expect(await ended).toBe(0);
    expect(exportOut).toMatch(/@shared\s+02:50:00:00:c5:01\s+262144\s+S1\/1:rw,S2\/1:r/);
    expect(await cstore(S1, 1)).toMatchObject({ exports: 0 });
  }, 300_000);
});
