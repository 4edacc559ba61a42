// End-to-end FCAPS scenarios: a test client joins the machine's LAN and drives the DIMEs.
// Every scenario runs on each available machine runner (QEMU now, the emulator later).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as W from '../../src/protocol/wire.js';
import { PxCodec, crc32 } from '../../src/protocol/codec.js';
import { StreamLan } from './lan.js';
import { DimeClient } from './client.js';
import { availableRunners, type MachineRunner } from './runner.js';

const IMAGE = path.resolve('images/dime.elf');
const KEY = 'test-network-key-1';
const SERVER = '52:54:00:12:34:56';
const CORES = 4;
const HB_MS = 300;

const runners = availableRunners();
const cases = runners.map((mk) => [mk().name, mk] as const);

describe.skipIf(cases.length === 0 || !existsSync(IMAGE)).each(cases)('DIME kernel on %s', (_name, mk) => {
  let runner: MachineRunner;
  let lan: StreamLan;
  let client: DimeClient;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dime-lan-'));
    lan = new StreamLan(path.join(dir, 'lan.sock'));
    await lan.listen();
    runner = mk();
    await runner.start(IMAGE, { cores: CORES, netSocket: lan.path, append: `key=${KEY} hb=${HB_MS} perf=0` });
    await lan.connected();
    await runner.waitForOutput(new RegExp(`DIME ready: ${CORES} cores`), 60_000);
    client = new DimeClient(lan, new PxCodec({ key: KEY }));
  });

  afterAll(async () => {
    await runner?.stop();
    await lan?.close();
  });

  it('announces every core in order', () => {
    const ups = [...runner.output.matchAll(/DIME (\d+) up/g)].map((m) => Number(m[1]));
    expect(ups).toEqual([...Array(CORES).keys()]);
  });

  it('discovers every DIME with one system-scope DISCOVER', async () => {
    const replies = await client.request(SERVER, null, 'DISCOVER', {}, { expect: CORES });
    const dimes = replies.map((r) => r.fields.dime as number).sort();
    expect(dimes).toEqual([...Array(CORES).keys()]);
    for (const r of replies) {
      expect(r.frame.authentic).toBe(true);
      expect(r.fields.cores).toBe(CORES);
      expect(r.fields.serverMac).toBe(SERVER);
      expect(r.fields.state).toBe(W.STATE.IDLE);
      expect(r.frame.scope).toBe('dime');
    }
  });

  it('loads and runs hello on every DIME', async () => {
    const since = client.frames.length;
    for (let d = 0; d < CORES; d++) {
      await client.request1(SERVER, d, 'SET_ROUTE', { direction: W.ROUTE_DIR.OUTPUT, kind: W.ROUTE.ORCHESTRATOR, mac: client.mac });
      const r = await client.request1(SERVER, d, 'LOAD_BUILTIN', { name: 'hello' });
      expect(r.frame.status).toBe(W.STATUS.OK);
    }
    const exits = client.collect((f) => f.message?.name === 'SERVICE_EXIT', CORES, 20_000);
    const greetings = client.collect((f) => f.message?.name === 'STREAM', CORES, 20_000);
    const ex = await client.request(SERVER, null, 'EXECUTE', {}, { expect: CORES });
    expect(ex.every((r) => r.frame.status === W.STATUS.OK)).toBe(true);
    const got = (await greetings).map((f) => f.payload.toString()).sort();
    expect(got).toEqual([...Array(CORES).keys()].map((d) => `hello from DIME ${d}\n`));
    for (const e of await exits) {
      const f = client.codec.fields(e);
      expect(f.reason).toBe(W.EXIT_REASON.EXITED);
      expect(f.exitCode).toBe(0);
    }
    await runner.waitForOutput(/\[DIME 3\] hello from DIME 3 of 4/, 5000);
    expect(client.frames.length).toBeGreaterThan(since);
  });
});
