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

  async function launch(d: number, service: string, params: Record<string, string> = {}): Promise<void> {
    for (const [key, value] of Object.entries(params)) {
      expect((await client.request1(SERVER, d, 'SET_PARAM', { key, value })).frame.status).toBe(W.STATUS.OK);
    }
    expect((await client.request1(SERVER, d, 'LOAD_BUILTIN', { name: service })).frame.status).toBe(W.STATUS.OK);
    expect((await client.request1(SERVER, d, 'EXECUTE')).frame.status).toBe(W.STATUS.OK);
  }
  const route = (d: number, direction: number, kind: number, core = 0, mac = client.mac) =>
    client.request1(SERVER, d, 'SET_ROUTE', { direction, kind, core, mac });
  const exitOf = (d: number) => client.waitFor((f) => f.message?.name === 'SERVICE_EXIT' && f.srcCore === d, 15_000);

  it('rewires a running filter\'s output live (orchestrator -> another DIME -> console)', async () => {
    await route(1, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    await launch(1, 'upper');
    await route(2, W.ROUTE_DIR.OUTPUT, W.ROUTE.CONSOLE);
    await launch(2, 'conwriter');
    const first = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 1);
    client.stream(SERVER, 1, 'first words');
    expect((await first).payload.toString()).toBe('FIRST WORDS');
    // live: the filter keeps running, its output now goes to DIME 2 through shared memory
    await route(1, W.ROUTE_DIR.OUTPUT, W.ROUTE.DIME, 2, SERVER);
    client.stream(SERVER, 1, 'second words\n');
    await runner.waitForOutput(/\[DIME 2\] SECOND WORDS/, 10_000);
    // switched inside the server: nothing from DIME 1 to DIME 2 appeared on the wire
    expect(client.frames.some((f) => f.message?.name === 'STREAM' && f.srcCore === 1 && f.dstCore === 2)).toBe(false);
    // and the filter still answers the orchestrator after switching back
    await route(1, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    const third = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 1);
    client.stream(SERVER, 1, 'third');
    expect((await third).payload.toString()).toBe('THIRD');
    for (const d of [1, 2]) {
      const ended = exitOf(d);
      expect((await client.request1(SERVER, d, 'STOP')).frame.status).toBe(W.STATUS.OK);
      expect(client.codec.fields(await ended).reason).toBe(W.EXIT_REASON.STOPPED);
    }
  });

  it('stops a spinning service and takes back its memory', async () => {
    await launch(3, 'misbehave', { mode: 'spin' });
    await client.request1(SERVER, 3, 'QUERY_PERF'); // starts a fresh measurement window
    await new Promise((r) => setTimeout(r, 300));
    const perf = await client.request1(SERVER, 3, 'QUERY_PERF');
    expect(perf.fields.state).toBe(W.STATE.RUNNING);
    expect(perf.fields.cpuPermille as number).toBeGreaterThan(800);
    expect(perf.fields.memUsed as number).toBeGreaterThan(0);
    const ended = exitOf(3);
    expect((await client.request1(SERVER, 3, 'STOP')).frame.status).toBe(W.STATUS.OK);
    expect(client.codec.fields(await ended).reason).toBe(W.EXIT_REASON.STOPPED);
    const after = await client.request1(SERVER, 3, 'DISCOVER');
    expect(after.fields.state).toBe(W.STATE.IDLE);
    expect(after.fields.memUsed).toBe(0);
    await client.request1(SERVER, 3, 'SET_PARAM', { key: 'mode', value: '' });
  });

  it('contains a memory isolation violation as a fault alarm', async () => {
    const alarm = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 2, 15_000);
    const ended = exitOf(2);
    await launch(2, 'misbehave', { mode: 'foreign' });
    const a = client.codec.fields(await alarm);
    expect(a.kind).toBe(W.ALARM_KIND.FAULT);
    expect(a.code).toBe(14); // #PF
    expect(a.detail).toBe(0x100000n);
    expect(client.codec.fields(await ended).reason).toBe(W.EXIT_REASON.FAULT);
    // reading past its own memory faults the same way
    const alarm2 = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 2, 15_000);
    await launch(2, 'misbehave', { mode: 'wild' });
    expect(client.codec.fields(await alarm2).detail).toBe(0x80_4000_0000n);
    // the machine and the other DIMEs are untouched
    const pings = await client.request(SERVER, null, 'PING', { nonce: 42n }, { expect: CORES });
    expect(pings.map((p) => p.fields.nonce)).toEqual(Array(CORES).fill(42n));
    expect((await client.request1(SERVER, 2, 'DISCOVER')).fields.memUsed).toBe(0);
  });

  it('rejects forged, replayed and unauthorized commands and raises security alarms', async () => {
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
    await new Promise((r) => setTimeout(r, 100)); // past the alarm rate limit (50 ms)
    const replayAlarm = securityAlarm(W.SECURITY_CODE.REPLAYED);
    client.lan.send(genuine);
    expect(client.codec.fields(await replayAlarm).kind).toBe(W.ALARM_KIND.SECURITY);
    // neither got an answer
    await new Promise((r) => setTimeout(r, 300));
    expect(client.frames.some((f) => f.reqId === 9001)).toBe(false);
    expect(client.frames.filter((f) => f.reqId === 9002).length).toBe(1);
    // unauthorized: a DIME (srcCore != CORE_NONE) may not configure another DIME
    const u = client.codec.encode({ dstMac: SERVER, srcMac: client.mac, channel: 'signaling', scope: 'dime', code: stop.code, dstCore: 1, srcCore: 0, seq: client.nextSeq(), reqId: 9003 });
    const uReply = client.waitFor((f) => f.reqId === 9003);
    client.lan.send(u);
    expect((await uReply).status).toBe(W.STATUS.UNAUTHORIZED);
    // unauthorized: a second orchestrator may not touch a DIME the first one owns
    await client.request1(SERVER, 1, 'LOAD_BUILTIN', { name: 'hello' });
    const other = new PxCodec({ key: KEY });
    const o = other.encode({ dstMac: SERVER, srcMac: '02:00:00:00:00:99', channel: 'signaling', scope: 'dime', code: stop.code, dstCore: 1, seq: client.nextSeq(), reqId: 9004 });
    const oReply = client.waitFor((f) => f.reqId === 9004 && f.dstMac === '02:00:00:00:00:99');
    client.lan.send(o);
    expect((await oReply).status).toBe(W.STATUS.UNAUTHORIZED);
    expect((await client.request1(SERVER, 1, 'STOP')).frame.status).toBe(W.STATUS.OK);
    const after = (await client.request1(SERVER, 1, 'QUERY_SECURITY')).fields;
    expect((after.forged as number) - (before.forged as number)).toBe(1);
    expect((after.replayed as number) - (before.replayed as number)).toBe(1);
    expect((after.unauthorized as number) - (before.unauthorized as number)).toBe(2);
  });

  it('sends heartbeats at the configured interval, and they stop when a service mutes them', async () => {
    expect((await client.request1(SERVER, 3, 'SET_HEARTBEAT', { intervalMs: 200 })).frame.status).toBe(W.STATUS.OK);
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
    await launch(3, 'misbehave', { mode: 'silent' });
    await new Promise((r) => setTimeout(r, 300));
    const mark = client.frames.length;
    await new Promise((r) => setTimeout(r, 800));
    expect(client.events('HEARTBEAT', mark).filter((f) => f.srcCore === 3)).toHaveLength(0);
    expect(client.events('HEARTBEAT', mark).filter((f) => f.srcCore === 0).length).toBeGreaterThan(0);
    expect((await client.request1(SERVER, 3, 'DISCOVER')).fields.flags).toBe(1);
    const ended = exitOf(3);
    await client.request1(SERVER, 3, 'STOP');
    await ended;
    await client.waitFor((f) => f.message?.name === 'HEARTBEAT' && f.srcCore === 3, 2000);
    await client.request1(SERVER, 3, 'SET_PARAM', { key: 'mode', value: '' });
    await client.request1(SERVER, 3, 'SET_HEARTBEAT', { intervalMs: HB_MS });
  });

  it('loads a service over the data channel, verifies its checksum, runs it', async () => {
    const img = readFileSync('images/services/hello.bin');
    // a corrupted transfer is refused and its memory returned
    expect(await client.loadImage(SERVER, 2, 'hello-net', img, 700, crc32(img) ^ 1)).toBe(W.STATUS.BAD_CHECKSUM);
    const d = await client.request1(SERVER, 2, 'DISCOVER');
    expect([d.fields.state, d.fields.memUsed]).toEqual([W.STATE.IDLE, 0]);
    // chunks must arrive in order: a gap is refused
    await client.request1(SERVER, 2, 'LOAD_BEGIN', { size: img.length, crc32: crc32(img), name: 'hello-net' });
    expect((await client.request1(SERVER, 2, 'LOAD_CHUNK', { offset: 700, data: img.subarray(700, 800) })).frame.status).toBe(W.STATUS.OUT_OF_RANGE);
    // the real thing
    expect(await client.loadImage(SERVER, 2, 'hello-net', img, 700)).toBe(W.STATUS.OK);
    expect((await client.request1(SERVER, 2, 'DISCOVER')).fields).toMatchObject({ state: W.STATE.LOADED, service: 'hello-net' });
    await route(2, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    const out = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 2);
    const ended = exitOf(2);
    expect((await client.request1(SERVER, 2, 'EXECUTE')).frame.status).toBe(W.STATUS.OK);
    expect((await out).payload.toString()).toBe('hello from DIME 2\n');
    expect(client.codec.fields(await ended)).toMatchObject({ reason: W.EXIT_REASON.EXITED, service: 'hello-net' });
  });

  it('keeps call records: who asked for what, when, CPU time and bytes', async () => {
    await client.request1(SERVER, 1, 'SET_PARAM', { key: 'ms', value: '150' });
    await route(1, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    const ended = exitOf(1);
    const total0 = (await client.request1(SERVER, 1, 'QUERY_ACCOUNTING', { from: 0xffffffff })).fields.total as number;
    await launch(1, 'cpuburn');
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

  it('suspends and resumes a service; CPU use follows', async () => {
    await launch(3, 'cpuburn');
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
    const ended = exitOf(3);
    await client.request1(SERVER, 3, 'STOP');
    await ended;
  });

  it('enforces the memory limit in 2 MiB chunks', async () => {
    await route(2, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    expect((await client.request1(SERVER, 2, 'SET_MEMLIMIT', { chunks: 0 })).frame.status).toBe(W.STATUS.OUT_OF_RANGE);
    expect((await client.request1(SERVER, 2, 'SET_MEMLIMIT', { chunks: 3 })).frame.status).toBe(W.STATUS.OK);
    const report = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 2);
    const ended = exitOf(2);
    await launch(2, 'misbehave', { mode: 'hog' });
    expect((await report).payload.toString()).toBe('hog: got 2 more chunks before the limit\n');
    expect(client.codec.fields(await ended).exitCode).toBe(2);
    const after = (await client.request1(SERVER, 2, 'DISCOVER')).fields;
    expect([after.memUsed, after.memLimit]).toEqual([0, 3]);
    expect(after.poolFree).toBe(after.poolTotal);
    await client.request1(SERVER, 2, 'RESET');
    expect((await client.request1(SERVER, 2, 'DISCOVER')).fields.memLimit).toBe(8);
  });

  it('routes console input to a console-reader service', async () => {
    await route(1, W.ROUTE_DIR.INPUT, W.ROUTE.CONSOLE);
    await route(1, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    await launch(1, 'conreader');
    const line = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 1);
    runner.typeOnConsole('typed on the console\r');
    expect((await line).payload.toString()).toBe('typed on the console\n');
    // data from the network is refused while the input is the console
    const alarm = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 1);
    client.stream(SERVER, 1, 'not allowed');
    expect(client.codec.fields(await alarm).code).toBe(W.SECURITY_CODE.UNAUTHORIZED);
    await client.request1(SERVER, 1, 'RESET');
  });

  it('broadcasts performance reports at the set interval', async () => {
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

  it('misbehaves on request: heartbeats stop and resume, then a fault ends it', async () => {
    await client.request1(SERVER, 2, 'SET_HEARTBEAT', { intervalMs: 100 });
    await route(2, W.ROUTE_DIR.OUTPUT, W.ROUTE.ORCHESTRATOR);
    await launch(2, 'misbehave', { mode: 'obey' });
    const say = async (cmd: string) => {
      const ok = client.waitFor((f) => f.message?.name === 'STREAM' && f.srcCore === 2);
      client.stream(SERVER, 2, cmd + '\n');
      expect((await ok).payload.toString()).toBe(`ok ${cmd}\n`);
    };
    const beats = (since: number) => client.events('HEARTBEAT', since).filter((f) => f.srcCore === 2).length;
    await say('mute');
    await new Promise((r) => setTimeout(r, 150));
    let mark = client.frames.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(beats(mark)).toBe(0);
    await say('unmute');
    mark = client.frames.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(beats(mark)).toBeGreaterThan(2);
    const alarm = client.waitFor((f) => f.message?.name === 'ALARM' && f.srcCore === 2);
    const ended = exitOf(2);
    client.stream(SERVER, 2, 'fault\n');
    expect(client.codec.fields(await alarm)).toMatchObject({ kind: W.ALARM_KIND.FAULT, code: 14 });
    expect(client.codec.fields(await ended).reason).toBe(W.EXIT_REASON.FAULT);
    await client.request1(SERVER, 2, 'RESET');
  });

  it('survives garbage: malformed, truncated, unknown and out-of-range frames', async () => {
    const before = (await client.request(SERVER, null, 'QUERY_PERF', {}, { expect: CORES })).length;
    expect(before).toBe(CORES);
    const sec0 = (await client.request1(SERVER, 0, 'QUERY_SECURITY')).fields;
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8);
    const base = W.ETHERTYPE_BASE_DEFAULT;
    const mac = Buffer.from(SERVER.split(':').map((x) => parseInt(x, 16)));
    for (let i = 0; i < 200; i++) {
      const len = 14 + (rnd() % 1500);
      const f = Buffer.alloc(len);
      for (let j = 0; j < len; j++) f[j] = rnd() & 0xff;
      mac.copy(f, 0);
      f.writeUInt16BE(base | (rnd() & 0xff), 12);
      if (i % 3 === 0 && len > 15) f[14] = 1; // right version, garbage after
      if (i % 5 === 0 && len > 18) f.writeUInt16BE(rnd() % 8, 16); // plausible core
      client.lan.send(f);
    }
    // authentic but nonsensical requests get error statuses, never a crash
    const signed = async (channel: W.Channel, scope: W.Scope, code: number, payload: Buffer, core = 1) => {
      const reqId = 50_000 + (rnd() % 10_000);
      const reply = client.waitFor((f) => f.reqId === reqId && (f.flags & W.FLAGS.RESPONSE) !== 0, 5000);
      client.send({ dstMac: SERVER, channel, scope, code, dstCore: core, reqId, payload });
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
    expect((await client.request1(SERVER, 1, 'EXECUTE')).frame.status).toBe(W.STATUS.BAD_IMAGE);
    expect((await client.request1(SERVER, 1, 'RESET')).frame.status).toBe(W.STATUS.OK);
    // still healthy everywhere, and the drops were counted
    const pings = await client.request(SERVER, null, 'PING', { nonce: 7n }, { expect: CORES });
    expect(pings).toHaveLength(CORES);
    const sec = await client.request(SERVER, null, 'QUERY_PERF', {}, { expect: CORES }).then(() => client.request1(SERVER, 0, 'QUERY_SECURITY'));
    expect((sec.fields.malformed as number) + (sec.fields.forged as number)).toBeGreaterThan((sec0.malformed as number) + (sec0.forged as number));
    expect(runner.output).not.toMatch(/PANIC/);
  });

  it('shuts the machine down on a system-scope SHUTDOWN', async () => {
    const ack = await client.request(SERVER, null, 'SHUTDOWN', { code: 3 });
    expect(ack[0].frame.status).toBe(W.STATUS.OK);
    expect(await runner.exited).toBe((3 << 1) | 1);
  });
});
