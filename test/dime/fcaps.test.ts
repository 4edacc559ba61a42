// End-to-end FCAPS scenarios: a test client joins each machine's LAN and drives its DIMEs.
// Every scenario runs on every machine runner (QEMU, then parallax-emu, each booted once and
// shared by all scenarios), and the transcripts of the runs must agree (see transcript.ts).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import * as W from '../../src/protocol/wire.js';
import { PxCodec, crc32 } from '../../src/protocol/codec.js';
import { availableRunners } from './runner.js';
import { IMAGE, onEveryMachine, startBenches, stopBench, expectSameTranscripts, type Bench } from './bench.js';
import type { DimeClient } from './client.js';
import { randomFrames, verdict } from './bad-frames.js';

const KEY = 'test-network-key-1';
const SERVER = '52:54:00:12:34:56';
const CORES = 4;

const runners = availableRunners();

describe.skipIf(runners.length === 0 || !existsSync(IMAGE))(`DIME kernel on ${runners.map((mk) => mk().name).join(' and ')}`, () => {
  let benches: Bench[] = [];

  beforeAll(async () => {
    // heartbeats and performance broadcasts off: the scenarios that need them switch them on
    benches = await startBenches(runners, { cores: CORES, mac: SERVER, key: KEY, append: 'hb=0 perf=0' });
  });

  afterAll(async () => {
    await Promise.all(benches.map(stopBench));
  });

  /** one scenario on every machine, transcripts compared */
  const scenario = (title: string, body: (b: Bench) => Promise<void>, timeout = 60_000) =>
    it(title, async () => { await onEveryMachine(title, benches, body); }, timeout * Math.max(1, benches.length));

  const launch = async (client: DimeClient, d: number, service: string, params: Record<string, string> = {}): Promise<void> => {
    for (const [key, value] of Object.entries(params)) {
      expect((await client.request1(SERVER, d, 'SET_PARAM', { key, value })).frame.status).toBe(W.STATUS.OK);
    }
    expect((await client.request1(SERVER, d, 'LOAD_BUILTIN', { name: service })).frame.status).toBe(W.STATUS.OK);
    expect((await client.request1(SERVER, d, 'EXECUTE')).frame.status).toBe(W.STATUS.OK);
  };
  const route = (client: DimeClient, d: number, direction: number, kind: number, core = 0, mac = client.mac) =>
    client.request1(SERVER, d, 'SET_ROUTE', { direction, kind, core, mac });
  const exitOf = (client: DimeClient, d: number) => client.waitFor((f) => f.message?.name === 'SERVICE_EXIT' && f.srcCore === d, 15_000);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('boots and announces every core in order, with the same console on every machine', async () => {
    const ts = [];
    for (const { runner, rec } of benches) {
      const ups = [...runner.output.matchAll(/DIME (\d+) up/g)].map((m) => Number(m[1]));
      expect(ups).toEqual([...Array(CORES).keys()]);
      await rec.settle(100, 1000);
      ts.push(rec.take());
    }
    expectSameTranscripts('boot', benches.map((b) => b.name), ts);
  });

  scenario('discovers every DIME with one system-scope DISCOVER', async ({ client, runner }) => {
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

  scenario('loads and runs hello on every DIME', async ({ client, runner }) => {
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

  scenario('rewires a running filter\'s output live (orchestrator -> another DIME -> console)', async ({ client, runner, lan }) => {
    await route(client, 1, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    await launch(client, 1, 'upper');
    await route(client, 2, W.ROUTE_DIR.OUTPUT, W.ROUTE.CONSOLE);
    await launch(client, 2, 'conwriter');
    const first = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 1);
    client.stream(SERVER, 1, 'first words');
    expect((await first).payload.toString()).toBe('FIRST WORDS');
    // live: the filter keeps running, its output now goes to DIME 2 through shared memory
    await route(client, 1, W.ROUTE_DIR.OUTPUT, W.ROUTE.DIME, 2, SERVER);
    const onWire = lan.framesIn;
    client.stream(SERVER, 1, 'second words\n');
    await runner.waitForOutput(/\[DIME 2\] SECOND WORDS/, 10_000);
    // switched inside the server: the machine put no frame at all on the wire meanwhile
    await sleep(100);
    expect(lan.framesIn).toBe(onWire);
    expect(client.frames.some((f) => f.message?.name === 'STREAM' && f.srcCore === 1 && f.dstCore === 2)).toBe(false);
    // and the filter still answers the orchestrator after switching back
    await route(client, 1, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    const third = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 1);
    client.stream(SERVER, 1, 'third');
    expect((await third).payload.toString()).toBe('THIRD');
    for (const d of [1, 2]) {
      const ended = exitOf(client, d);
      expect((await client.request1(SERVER, d, 'STOP')).frame.status).toBe(W.STATUS.OK);
      expect(client.codec.fields(await ended).reason).toBe(W.EXIT_REASON.STOPPED);
    }
  });

  scenario('stops a spinning service and takes back its memory', async ({ client, runner }) => {
    await launch(client, 3, 'misbehave', { mode: 'spin' });
    await client.request1(SERVER, 3, 'QUERY_PERF'); // starts a fresh measurement window
    await new Promise((r) => setTimeout(r, 300));
    const perf = await client.request1(SERVER, 3, 'QUERY_PERF');
    expect(perf.fields.state).toBe(W.STATE.RUNNING);
    expect(perf.fields.cpuPermille as number).toBeGreaterThan(800);
    expect(perf.fields.memUsed as number).toBeGreaterThan(0);
    const ended = exitOf(client, 3);
    expect((await client.request1(SERVER, 3, 'STOP')).frame.status).toBe(W.STATUS.OK);
    expect(client.codec.fields(await ended).reason).toBe(W.EXIT_REASON.STOPPED);
    const after = await client.request1(SERVER, 3, 'DISCOVER');
    expect(after.fields.state).toBe(W.STATE.IDLE);
    expect(after.fields.memUsed).toBe(0);
    await client.request1(SERVER, 3, 'SET_PARAM', { key: 'mode', value: '' });
  });

  scenario('contains a memory isolation violation as a fault alarm', async ({ client, runner }) => {
    const alarm = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 2, 15_000);
    const ended = exitOf(client, 2);
    await launch(client, 2, 'misbehave', { mode: 'foreign' });
    const a = client.codec.fields(await alarm);
    expect(a.kind).toBe(W.ALARM_KIND.FAULT);
    expect(a.code).toBe(14); // #PF
    expect(a.detail).toBe(0x100000n);
    expect(client.codec.fields(await ended).reason).toBe(W.EXIT_REASON.FAULT);
    // reading past its own memory faults the same way
    const alarm2 = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 2, 15_000);
    await launch(client, 2, 'misbehave', { mode: 'wild' });
    expect(client.codec.fields(await alarm2).detail).toBe(0x80_4000_0000n);
    // the machine and the other DIMEs are untouched
    const pings = await client.request(SERVER, null, 'PING', { nonce: 42n }, { expect: CORES });
    expect(pings.map((p) => p.fields.nonce)).toEqual(Array(CORES).fill(42n));
    expect((await client.request1(SERVER, 2, 'DISCOVER')).fields.memUsed).toBe(0);
  });

  scenario('contains code run from its own data or stack (NX) as a fault alarm', async ({ client }) => {
    const textLen = readFileSync('images/services/misbehave.bin').readUInt32LE(28);
    expect(textLen % 4096).toBe(0);
    for (const mode of ['xdata', 'xstack']) {
      const alarm = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 2, 15_000);
      const ended = exitOf(client, 2);
      await launch(client, 2, 'misbehave', { mode });
      const a = client.codec.fields(await alarm);
      expect(a.kind, mode).toBe(W.ALARM_KIND.FAULT);
      expect(a.code, mode).toBe(14); // #PF: an instruction fetch from a no-execute page
      expect(a.detail, mode).toBe(a.rip); // it faulted on fetching the very first byte
      expect(a.detail as bigint, mode).toBeGreaterThanOrEqual(0x80_0000_0000n + BigInt(textLen));
      expect(client.codec.fields(await ended).reason, mode).toBe(W.EXIT_REASON.FAULT);
    }
    expect((await client.request1(SERVER, 2, 'DISCOVER')).fields.memUsed).toBe(0);
  });

  scenario('rejects forged, replayed and unauthorized commands and raises security alarms', async ({ client, runner }) => {
    const before = (await client.request1(SERVER, 1, 'QUERY_SECURITY')).fields;
    const securityAlarm = (code: number) =>
      client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 1 && client.codec.fields(f).code === code, 10_000);
    const forgedAlarm = securityAlarm(W.SECURITY_CODE.FORGED);
    // forged: signed with the wrong key
    const evil = new PxCodec({ key: 'not-the-key' });
    const ping = W.messageByName('PING');
    client.lan.send(evil.encode({ dstMac: SERVER, srcMac: client.mac, channel: 'signaling', scope: 'dime', code: ping.code, dstCore: 1, seq: client.nextSeq(), reqId: 9001, payload: Buffer.alloc(8) }));
    // replayed: a genuine frame sent twice
    const stop = W.messageByName('STOP');
    const genuine = client.send({ dstMac: SERVER, channel: 'signaling', scope: 'dime', code: stop.code, dstCore: 1, reqId: 9002 });
    await client.waitFor((f) => f.reqId === 9002);
    expect(client.codec.fields(await forgedAlarm).kind).toBe(W.ALARM_KIND.SECURITY);
    await client.guestPause(SERVER, 1, 50); // past the alarm rate limit (50 ms of guest time)
    const replayAlarm = securityAlarm(W.SECURITY_CODE.REPLAYED);
    client.lan.send(genuine);
    expect(client.codec.fields(await replayAlarm).kind).toBe(W.ALARM_KIND.SECURITY);
    // neither got an answer
    await new Promise((r) => setTimeout(r, 300));
    expect(client.frames.some((f) => f.reqId === 9001)).toBe(false);
    expect(client.frames.filter((f) => f.reqId === 9002).length).toBe(1);
    // unauthorized: the network key (every server holds it) may only ask read-only questions
    const u = client.codec.encode({ dstMac: 'ff:ff:ff:ff:ff:ff', srcMac: client.mac, channel: 'signaling', scope: 'dime', code: stop.code, dstCore: 1, seq: client.nextSeq(), reqId: 9003 });
    const uReply = client.waitFor((f) => f.reqId === 9003);
    await client.guestPause(SERVER, 1, 50); // security alarms are rate-limited (one per 50 ms of guest time): each one here must be raised
    const uAlarm = securityAlarm(W.SECURITY_CODE.UNAUTHORIZED);
    client.lan.send(u);
    expect((await uReply).status).toBe(W.STATUS.UNAUTHORIZED);
    await uAlarm;
    // unauthorized: a second orchestrator may not touch a DIME the first one owns
    await client.request1(SERVER, 1, 'LOAD_BUILTIN', { name: 'hello' });
    const other = new PxCodec({ key: KEY });
    const o = other.encode({ dstMac: SERVER, srcMac: '02:00:00:00:00:99', channel: 'signaling', scope: 'dime', code: stop.code, dstCore: 1, seq: client.nextSeq(), reqId: 9004, epoch: client.epochs.get(SERVER) });
    const oReply = client.waitFor((f) => f.reqId === 9004 && f.dstMac === '02:00:00:00:00:99');
    await client.guestPause(SERVER, 1, 50);
    const oAlarm = securityAlarm(W.SECURITY_CODE.UNAUTHORIZED);
    client.lan.send(o);
    expect((await oReply).status).toBe(W.STATUS.UNAUTHORIZED);
    expect(client.codec.fields(await oAlarm)).toMatchObject({ peerMac: '02:00:00:00:00:99', peerCore: W.CORE_NONE });
    expect((await client.request1(SERVER, 1, 'STOP')).frame.status).toBe(W.STATUS.OK);
    const after = (await client.request1(SERVER, 1, 'QUERY_SECURITY')).fields;
    expect((after.forged as number) - (before.forged as number)).toBe(1);
    expect((after.replayed as number) - (before.replayed as number)).toBe(1);
    expect((after.unauthorized as number) - (before.unauthorized as number)).toBe(2);
    expect((after.alarms as number) - (before.alarms as number)).toBe(4);
  });

  scenario('sends heartbeats at the configured interval, and they stop when a service mutes them', async ({ client, runner }) => {
    for (const d of [0, 3]) expect((await client.request1(SERVER, d, 'SET_HEARTBEAT', { intervalMs: 200 })).frame.status).toBe(W.STATUS.OK);
    const start = client.frames.length;
    const beats = await client.collect((f) => f.message?.name === 'HEARTBEAT' && f.srcCore === 3, 8, 10_000);
    const times = beats.map((f) => Number(client.codec.fields(f).uptimeNs as bigint) / 1e6);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThan(180);
    expect(mean).toBeLessThan(230);
    expect(beats.every((f) => client.codec.fields(f).intervalMs === 200)).toBe(true);
    expect(client.frames.length).toBeGreaterThan(start);
    // a service that goes silent: the heartbeats stop although the DIME still answers
    await launch(client, 3, 'misbehave', { mode: 'silent' });
    await new Promise((r) => setTimeout(r, 300));
    const mark = client.frames.length;
    // two more beats of DIME 0 (same 200 ms interval, same guest clock) span a whole interval of
    // guest time, however far a loaded host lets guest time fall behind its own
    await client.collect((f) => f.message?.name === 'HEARTBEAT' && f.srcCore === 0, 2, 10_000);
    expect(client.events('HEARTBEAT', mark).filter((f) => f.srcCore === 3)).toHaveLength(0);
    expect((await client.request1(SERVER, 3, 'DISCOVER')).fields.flags).toBe(1);
    const ended = exitOf(client, 3);
    await client.request1(SERVER, 3, 'STOP');
    await ended;
    await client.waitFor((f) => f.message?.name === 'HEARTBEAT' && f.srcCore === 3, 2000);
    await client.request1(SERVER, 3, 'SET_PARAM', { key: 'mode', value: '' });
    for (const d of [0, 3]) await client.request1(SERVER, d, 'SET_HEARTBEAT', { intervalMs: 0 });
  });

  scenario('loads a service over the data channel, verifies its checksum, runs it', async ({ client, runner }) => {
    const img = readFileSync('images/services/hello.bin');
    // a corrupted transfer is refused, raises a RESOURCE alarm, and its memory is returned
    const refused = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 2);
    expect(await client.loadImage(SERVER, 2, 'hello-net', img, 700, crc32(img) ^ 1)).toBe(W.STATUS.BAD_CHECKSUM);
    expect(client.codec.fields(await refused)).toMatchObject({ kind: W.ALARM_KIND.RESOURCE, code: W.STATUS.BAD_CHECKSUM, detail: BigInt(img.length), text: 'image refused: hello-net' });
    const d = await client.request1(SERVER, 2, 'DISCOVER');
    expect([d.fields.state, d.fields.memUsed]).toEqual([W.STATE.IDLE, 0]);
    // chunks must arrive in order: a gap is refused
    await client.request1(SERVER, 2, 'LOAD_BEGIN', { size: img.length, crc32: crc32(img), name: 'hello-net' });
    expect((await client.request1(SERVER, 2, 'LOAD_CHUNK', { offset: 700, data: img.subarray(700, 800) })).frame.status).toBe(W.STATUS.OUT_OF_RANGE);
    // the real thing
    expect(await client.loadImage(SERVER, 2, 'hello-net', img, 700)).toBe(W.STATUS.OK);
    expect((await client.request1(SERVER, 2, 'DISCOVER')).fields).toMatchObject({ state: W.STATE.LOADED, service: 'hello-net' });
    await route(client, 2, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    const out = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 2);
    const ended = exitOf(client, 2);
    expect((await client.request1(SERVER, 2, 'EXECUTE')).frame.status).toBe(W.STATUS.OK);
    expect((await out).payload.toString()).toBe('hello from DIME 2\n');
    expect(client.codec.fields(await ended)).toMatchObject({ reason: W.EXIT_REASON.EXITED, service: 'hello-net' });
  });

  scenario('keeps call records: who asked for what, when, CPU time and bytes', async ({ client, runner }) => {
    await client.request1(SERVER, 1, 'SET_PARAM', { key: 'ms', value: '150' });
    await route(client, 1, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    const ended = exitOf(client, 1);
    const report = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 1, 15_000);
    const total0 = (await client.request1(SERVER, 1, 'QUERY_ACCOUNTING', { from: 0xffffffff })).fields.total as number;
    await launch(client, 1, 'cpuburn');
    expect((await report).payload.toString()).toBe('cpuburn DIME 1: computed for 150 ms\n');
    const e = client.codec.fields(await ended);
    expect(e.reason).toBe(W.EXIT_REASON.EXITED);
    expect(Number(e.cpuNs as bigint)).toBeGreaterThan(100e6);
    const acct = await client.request1(SERVER, 1, 'QUERY_ACCOUNTING', { from: total0 });
    const recs = acct.fields.records as Array<Record<string, unknown>>;
    const exec = recs.find((r) => r.what === W.messageByName('EXECUTE').code)!;
    expect(exec).toBeDefined();
    expect(exec.whoMac).toBe(client.mac);
    expect(exec.whoCore).toBe(W.CORE_NONE);
    expect(exec.service).toBe('cpuburn');
    expect(exec.status).toBe(0x100 | W.EXIT_REASON.EXITED);
    expect(Number(exec.cpuNs as bigint)).toBeGreaterThan(100e6);
    expect((exec.endNs as bigint) > (exec.startNs as bigint)).toBe(true);
    expect(exec.bytesOut as number).toBeGreaterThan(10); // the report it wrote
    const load = recs.find((r) => r.what === W.messageByName('LOAD_BUILTIN').code)!;
    expect(load.status).toBe(W.STATUS.OK);
    expect(load.bytesIn as number).toBeGreaterThan(0);
    await client.request1(SERVER, 1, 'SET_PARAM', { key: 'ms', value: '' });
  });

  scenario('computes the same checksum on every DIME of every machine (fixed CPU work)', async ({ client }) => {
    await client.request(SERVER, null, 'SET_PARAM', { key: 'rounds', value: '30' }, { expect: CORES });
    for (let d = 0; d < CORES; d++) await route(client, d, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    const reports = client.collect((f) => f.message?.name === 'STREAM', CORES, 30_000);
    const exits = client.collect((f) => f.message?.name === 'SERVICE_EXIT', CORES, 30_000);
    expect((await client.request(SERVER, null, 'LOAD_BUILTIN', { name: 'cpuburn' }, { expect: CORES })).every((r) => r.frame.status === W.STATUS.OK)).toBe(true);
    expect((await client.request(SERVER, null, 'EXECUTE', {}, { expect: CORES })).every((r) => r.frame.status === W.STATUS.OK)).toBe(true);
    const text = (await reports).map((f) => f.payload.toString()).sort();
    text.forEach((t, d) => expect(t).toMatch(new RegExp(`^cpuburn DIME ${d}: 30 rounds, checksum [0-9a-f]+\\n$`)));
    expect((await exits).every((f) => client.codec.fields(f).reason === W.EXIT_REASON.EXITED)).toBe(true);
    await client.request(SERVER, null, 'SET_PARAM', { key: 'rounds', value: '' }, { expect: CORES });
  });

  scenario('suspends and resumes a service; CPU use follows', async ({ client, runner }) => {
    await launch(client, 3, 'cpuburn');
    await client.request1(SERVER, 3, 'QUERY_PERF');
    await new Promise((r) => setTimeout(r, 250));
    expect((await client.request1(SERVER, 3, 'QUERY_PERF')).fields.cpuPermille as number).toBeGreaterThan(800);
    expect((await client.request1(SERVER, 3, 'SUSPEND')).frame.status).toBe(W.STATUS.OK);
    await client.request1(SERVER, 3, 'QUERY_PERF');
    await new Promise((r) => setTimeout(r, 250));
    const idle = (await client.request1(SERVER, 3, 'QUERY_PERF')).fields;
    expect(idle.state).toBe(W.STATE.SUSPENDED);
    expect(idle.cpuPermille as number).toBeLessThan(200);
    expect((await client.request1(SERVER, 3, 'SUSPEND')).frame.status).toBe(W.STATUS.BAD_STATE);
    expect((await client.request1(SERVER, 3, 'RESUME')).frame.status).toBe(W.STATUS.OK);
    await client.request1(SERVER, 3, 'QUERY_PERF');
    await new Promise((r) => setTimeout(r, 250));
    expect((await client.request1(SERVER, 3, 'QUERY_PERF')).fields.cpuPermille as number).toBeGreaterThan(800);
    const ended = exitOf(client, 3);
    await client.request1(SERVER, 3, 'STOP');
    await ended;
  });

  scenario('enforces the memory limit in 2 MiB chunks', async ({ client, runner }) => {
    await route(client, 2, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    expect((await client.request1(SERVER, 2, 'SET_MEMLIMIT', { chunks: 0 })).frame.status).toBe(W.STATUS.OUT_OF_RANGE);
    expect((await client.request1(SERVER, 2, 'SET_MEMLIMIT', { chunks: 3 })).frame.status).toBe(W.STATUS.OK);
    const report = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 2);
    const ended = exitOf(client, 2);
    await launch(client, 2, 'misbehave', { mode: 'hog' });
    expect((await report).payload.toString()).toBe('hog: got 2 more chunks before the limit\n');
    expect(client.codec.fields(await ended).exitCode).toBe(2);
    const after = (await client.request1(SERVER, 2, 'DISCOVER')).fields;
    expect([after.memUsed, after.memLimit]).toEqual([0, 3]);
    expect(after.poolFree).toBe(after.poolTotal);
    await client.request1(SERVER, 2, 'RESET');
    expect((await client.request1(SERVER, 2, 'DISCOVER')).fields.memLimit).toBe(8);
  });

  scenario('routes console input to a console-reader service', async ({ client, runner }) => {
    await route(client, 1, W.ROUTE_DIR.INPUT, W.ROUTE.CONSOLE);
    await route(client, 1, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    await launch(client, 1, 'conreader');
    const line = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 1);
    runner.typeOnConsole('typed on the console\r');
    expect((await line).payload.toString()).toBe('typed on the console\n');
    // data from the network is refused while the input is the console
    const alarm = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 1);
    client.stream(SERVER, 1, 'not allowed');
    expect(client.codec.fields(await alarm).code).toBe(W.SECURITY_CODE.UNAUTHORIZED);
    await client.request1(SERVER, 1, 'RESET');
  });

  scenario('broadcasts performance reports at the set interval', async ({ client, runner }) => {
    expect((await client.request1(SERVER, 0, 'SET_PERF_INTERVAL', { intervalMs: 5 })).frame.status).toBe(W.STATUS.OUT_OF_RANGE);
    await client.request1(SERVER, 0, 'SET_PERF_INTERVAL', { intervalMs: 150 });
    const reports = await client.collect((f) => f.message?.name === 'PERF' && f.srcCore === 0, 3, 5000);
    for (const r of reports) {
      const p = client.codec.fields(r);
      expect(p.dime).toBe(0);
      expect(Number(p.windowNs as bigint)).toBeGreaterThan(100e6);
      expect(p.poolTotal as number).toBeGreaterThan(0);
      expect(p.framesIn as number).toBeGreaterThan(0);
    }
    await client.request1(SERVER, 0, 'SET_PERF_INTERVAL', { intervalMs: 0 });
  });

  scenario('misbehaves on request: heartbeats stop and resume, then a fault ends it', async ({ client, runner }) => {
    await client.request1(SERVER, 2, 'SET_HEARTBEAT', { intervalMs: 100 });
    await route(client, 2, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    await launch(client, 2, 'misbehave', { mode: 'obey' });
    const say = async (cmd: string) => {
      const ok = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 2);
      client.stream(SERVER, 2, cmd + '\n');
      expect((await ok).payload.toString()).toBe(`ok ${cmd}\n`);
    };
    const beats = (since: number) => client.events('HEARTBEAT', since).filter((f) => f.srcCore === 2).length;
    await say('mute');
    await new Promise((r) => setTimeout(r, 150));
    const mark = client.frames.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(beats(mark)).toBe(0);
    await say('unmute');
    // the beats themselves (every 100 ms of guest time), not a host sleep guest time may lag
    expect(await client.collect((f) => f.message?.name === 'HEARTBEAT' && f.srcCore === 2, 3, 10_000)).toHaveLength(3);
    // parameters change while the service runs, and it reads them as they are now
    const ask = async (key: string, answer: string) => {
      const got = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 2);
      client.stream(SERVER, 2, `?${key}\n`);
      expect((await got).payload.toString()).toBe(`${key}=${answer}\n`);
    };
    await ask('colour', '-');
    expect((await client.request1(SERVER, 2, 'SET_PARAM', { key: 'colour', value: 'red' })).frame.status).toBe(W.STATUS.OK);
    await ask('colour', 'red');
    await client.request1(SERVER, 2, 'SET_PARAM', { key: 'colour', value: 'blue' });
    await ask('colour', 'blue');
    const alarm = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 2);
    const ended = exitOf(client, 2);
    client.stream(SERVER, 2, 'fault\n');
    expect(client.codec.fields(await alarm)).toMatchObject({ kind: W.ALARM_KIND.FAULT, code: 14 });
    expect(client.codec.fields(await ended).reason).toBe(W.EXIT_REASON.FAULT);
    await client.request1(SERVER, 2, 'RESET');
  });

  const securityCounters = async (client: DimeClient) => {
    const out: Array<Record<string, number>> = [];
    for (let d = 0; d < CORES; d++) out.push((await client.request1(SERVER, d, 'QUERY_SECURITY')).fields as Record<string, number>);
    return out;
  };

  scenario('drops runt, oversized, truncated, badly tagged, unknown and random frames, each counted', async ({ client, runner }) => {
    const mark = client.frames.length;
    const before = await securityCounters(client);
    // none of these is ever accepted, so a fixed sequence number keeps their bytes the same on every run
    const signedPing = (core: number) => client.codec.encode({ dstMac: SERVER, srcMac: client.mac, channel: 'signaling', scope: 'dime',
      code: W.messageByName('PING').code, dstCore: core, seq: 1000n, reqId: 0, payload: Buffer.alloc(8) });
    const withByte = (f: Buffer, at: number, v: number) => { const c = Buffer.from(f); c[at] = v; return c; };
    const named: Array<[string, Buffer]> = [
      ['runt (10 bytes)', Buffer.concat([Buffer.from(SERVER.split(':').map((x) => parseInt(x, 16))), Buffer.alloc(4)])],
      ['Ethernet header only, our EtherType', Buffer.concat([signedPing(1).subarray(0, 14)])],
      ['oversized (1600 bytes)', Buffer.concat([signedPing(1), Buffer.alloc(1600 - signedPing(1).length)])],
      ['truncated (tag cut short)', signedPing(2).subarray(0, 14 + 24 + 8 + 20)],
      ['unknown protocol version', withByte(signedPing(2), 14, W.PROTOCOL_VERSION + 1)],
      ['no such DIME (core 99)', signedPing(99)],
      ['wrong tag', withByte(signedPing(2), 14 + 24 + 8 + 5, 0x5a ^ signedPing(2)[14 + 24 + 8 + 5])],
      ['foreign EtherType (IPv4)', (() => { const f = signedPing(1); f.writeUInt16BE(0x0800, 12); return f; })()],
      ['a report (EVENT flag) sent to a server', withByte(signedPing(1), 15, W.FLAGS.EVENT)],
    ];
    const frames = [...named.map(([, f]) => f), ...randomFrames(200, SERVER)];
    const expected = { malformed: Array(CORES).fill(0), forged: Array(CORES).fill(0) };
    const kinds = new Map<string, number>();
    // frames that only bump a counter go in batches (each followed by a round trip to every DIME, so
    // no receive ring or inbox ever overflows); a forged one goes alone, its alarm awaited, because
    // security alarms are rate-limited in time and the transcript must not depend on timing
    let batch = 0;
    const barrier = async () => { if (batch) await client.request(SERVER, null, 'PING', { nonce: 1n }, { expect: CORES }); batch = 0; };
    for (const f of frames) {
      const v = verdict(f, CORES, SERVER);
      kinds.set(v.kind, (kinds.get(v.kind) ?? 0) + 1);
      if (v.kind === 'forged') {
        await barrier();
        await client.guestPause(SERVER, v.dime, 50);
        const alarm = client.waitFor((a) => a.message?.name === 'ALARM' && a.srcCore === v.dime, 5000);
        client.lan.send(f);
        expect(client.codec.fields(await alarm)).toMatchObject({ kind: W.ALARM_KIND.SECURITY, code: W.SECURITY_CODE.FORGED });
        expected.forged[v.dime]++;
        continue;
      }
      if (v.kind === 'malformed') expected.malformed[v.dime]++;
      client.lan.send(f);
      if (++batch === 16) await barrier();
    }
    await barrier();
    // the mix really exercises every path
    expect(kinds.get('forged')).toBeGreaterThan(1);
    expect(kinds.get('malformed')).toBeGreaterThan(50);
    expect(kinds.get('ignored')).toBeGreaterThan(10);
    const after = await securityCounters(client);
    expect(after.map((a, d) => a.malformed - before[d].malformed)).toEqual(expected.malformed);
    expect(after.map((a, d) => a.forged - before[d].forged)).toEqual(expected.forged);
    // the oversized one was dropped and counted by the NIC itself; nothing was lost for want of a descriptor
    expect(after[0].nicOversize - before[0].nicOversize).toBe(frames.filter((f) => f.length > 1518).length);
    expect(after[0].nicMissed - before[0].nicMissed).toBe(0);
    // malformed frames raise an alarm at the 1st, 2nd, 4th, 8th... one of each DIME (no amplification)
    const powersOfTwo = (from: number, to: number) => [...Array(to - from).keys()].map((i) => from + 1 + i).filter((n) => (n & (n - 1)) === 0).length;
    const malformedAlarms = (d: number) => client.frames.slice(mark).filter((f) => f.message?.name === 'ALARM' && f.srcCore === d &&
      client.codec.fields(f).code === W.SECURITY_CODE.MALFORMED).length;
    for (let d = 0; d < CORES; d++) expect(malformedAlarms(d), `DIME ${d}`).toBe(powersOfTwo(before[d].malformed, after[d].malformed));
    expect(after[0].alarms - before[0].alarms).toBe(powersOfTwo(before[0].malformed, after[0].malformed) + expected.forged[0]);
    const pings = await client.request(SERVER, null, 'PING', { nonce: 7n }, { expect: CORES });
    expect(pings).toHaveLength(CORES);
    expect(runner.output).not.toMatch(/PANIC/);
  });

  scenario('answers nonsensical authentic requests with an error status, refuses a bad image', async ({ client, runner }) => {
    let reqId = 50_000;
    const signed = async (channel: W.Channel, scope: W.Scope, code: number, payload: Buffer, core = 1) => {
      const id = ++reqId;
      const reply = client.waitFor((f) => f.reqId === id && (f.flags & W.FLAGS.RESPONSE) !== 0, 5000);
      client.send({ dstMac: SERVER, channel, scope, code, dstCore: core, reqId: id, payload });
      return (await reply).status;
    };
    expect(await signed('signaling', 'dime', 0x3f, Buffer.alloc(4))).toBe(W.STATUS.UNSUPPORTED);
    expect(await signed('data', 'dime', 0x3e, Buffer.alloc(4))).toBe(W.STATUS.UNSUPPORTED);
    expect(await signed('signaling', 'dime', W.messageByName('SET_PARAM').code, Buffer.alloc(3))).toBe(W.STATUS.MALFORMED);
    expect(await signed('signaling', 'dime', W.messageByName('SET_ROUTE').code, Buffer.from([0, 9, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(W.STATUS.OUT_OF_RANGE);
    expect(await signed('signaling', 'dime', W.messageByName('SET_PARAM').code, Buffer.alloc(80, 0x41))).toBe(W.STATUS.OK);
    expect(await signed('data', 'dime', W.messageByName('LOAD_CHUNK').code, Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]))).toBe(W.STATUS.BAD_STATE);
    expect(await signed('signaling', 'dime', W.messageByName('LOAD_BEGIN').code, Buffer.concat([Buffer.from([0x7f, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(16)]))).toBe(W.STATUS.NO_MEMORY);
    expect(await signed('signaling', 'system', W.messageByName('SET_ROUTE').code, Buffer.alloc(10), 0xffff)).toBe(W.STATUS.UNSUPPORTED);
    // an image whose header is wrong loads (checksum fine) but does not execute
    const junk = Buffer.alloc(256, 0x90);
    expect(await client.loadImage(SERVER, 1, 'junk', junk)).toBe(W.STATUS.OK);
    const badImage = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 1);
    expect((await client.request1(SERVER, 1, 'EXECUTE')).frame.status).toBe(W.STATUS.BAD_IMAGE);
    expect(client.codec.fields(await badImage)).toMatchObject({ kind: W.ALARM_KIND.RESOURCE, code: W.STATUS.BAD_IMAGE, detail: 256n, text: 'image refused: junk' });
    expect((await client.request1(SERVER, 1, 'RESET')).frame.status).toBe(W.STATUS.OK);
    // an image bigger than the DIME's memory limit is refused before a byte is sent
    await client.request1(SERVER, 1, 'SET_MEMLIMIT', { chunks: 1 });
    const tooBig = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 1);
    const big = await client.request1(SERVER, 1, 'LOAD_BEGIN', { size: 2 * 1024 * 1024 + 1, crc32: 0, name: 'too-big' });
    expect(big.frame.status).toBe(W.STATUS.NO_MEMORY);
    expect(client.codec.fields(await tooBig)).toMatchObject({ kind: W.ALARM_KIND.RESOURCE, code: W.STATUS.NO_MEMORY, detail: 2n * 1024n * 1024n + 1n });
    expect((await client.request1(SERVER, 1, 'DISCOVER')).fields).toMatchObject({ state: W.STATE.IDLE, memUsed: 0 });
    expect((await client.request1(SERVER, 1, 'RESET')).frame.status).toBe(W.STATUS.OK);
    const pings = await client.request(SERVER, null, 'PING', { nonce: 7n }, { expect: CORES });
    expect(pings).toHaveLength(CORES);
    expect(runner.output).not.toMatch(/PANIC/);
  });

  scenario('shuts the machine down on a system-scope SHUTDOWN', async ({ client, runner }) => {
    const ack = await client.request(SERVER, null, 'SHUTDOWN', { code: 3 });
    expect(ack[0].frame.status).toBe(W.STATUS.OK);
    expect(await runner.exited).toBe((3 << 1) | 1);
  });
});
