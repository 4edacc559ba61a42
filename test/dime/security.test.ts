// Issue 14 against the DIME kernel, on every machine runner: the key never shows (console, the
// machine's command line), and captured commands stay dead after a reboot of the server and
// after 128 other senders pushed their sender out of a DIME's replay table.
import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, readFileSync, readdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as W from '../../src/protocol/wire.js';
import { encodePayload, type Frame } from '../../src/protocol/codec.js';
import { serverSecret, networkSecret } from '../../src/protocol/keys.js';
import { availableRunners, type MachineRunner } from './runner.js';
import { IMAGE, serverKeyFileFor } from './bench.js';
import { StreamLan } from './lan.js';
import { DimeClient } from './client.js';

const KEY = 'security-test-master-secret';
const SERVER = '52:54:00:12:34:66';
const CORES = 2;
const runners = availableRunners();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Machine { runner: MachineRunner; lan: StreamLan; client: DimeClient; keyFile: string }

async function boot(mk: () => MachineRunner, lan?: StreamLan, keyFile = serverKeyFileFor(KEY, SERVER), append = 'hb=0 perf=0'): Promise<Machine> {
  if (!lan) {
    lan = new StreamLan(path.join(mkdtempSync(path.join(tmpdir(), 'dime-sec-')), 'lan.sock'));
    await lan.listen();
  }
  const runner = mk();
  await runner.start(IMAGE, { cores: CORES, netSocket: lan.path, mac: SERVER, append, keyFile });
  await runner.waitForOutput(new RegExp(`DIME ready: ${CORES} cores`), 120_000);
  return { runner, lan, client: new DimeClient(lan, KEY), keyFile };
}

/** A frame that is a command from `mac` as an orchestrator would send it now. */
function command(client: DimeClient, name: string, core: number, values: Record<string, string | number | bigint> = {}, srcMac = client.mac): Buffer {
  const m = W.messageByName(name);
  return client.codec.encode({ dstMac: SERVER, srcMac, srcCore: W.CORE_NONE, channel: m.channel, scope: 'dime', code: m.code, dstCore: core,
    seq: client.nextSeq(), reqId: 0x5000 + Math.floor(Math.random() * 1000), epoch: client.epochs.get(SERVER) ?? 0n,
    payload: encodePayload(m.request ?? { fields: [] }, values) });
}

/** Sends the captured command `frame` (a `name`) on `m`'s LAN; DIME 1 must answer it OK. */
async function deliver(m: Machine, frame: Buffer, name: string): Promise<void> {
  m.lan.send(frame);
  const answer = await m.client.waitFor((f) => f.message?.name === name && f.srcCore === 1);
  expect(answer.status).toBe(W.STATUS.OK);
}

const alarmFrom = (client: DimeClient, core: number, code: number) =>
  client.waitFor((f: Frame) => f.message?.name === 'ALARM' && f.srcCore === core && client.codec.fields(f).code === code, 10_000);

describe.skipIf(runners.length === 0 || !existsSync(IMAGE)).each(runners.map((mk) => [mk().name, mk] as const))('issue 14 on %s', (_name, mk) => {
  let live: Machine[] = [];
  afterEach(async () => {
    for (const m of live) { await m.runner.stop(); }
    await Promise.all([...new Set(live.map((m) => m.lan))].map((l) => l.close()));
    live = [];
  });
  /** boot(mk, ...), kept for afterEach to stop */
  const started = async (lan?: StreamLan, keyFile?: string, append?: string): Promise<Machine> => {
    const m = await boot(mk, lan, keyFile, append);
    live.push(m);
    return m;
  };

  it('never shows the key: not on the console, not on the machine\'s command line; key= is redacted and ignored', async () => {
    const m = await started(undefined, undefined, 'hb=0 perf=0 key=typed-by-mistake');
    const secrets = [KEY, serverSecret(KEY, SERVER).toString('hex'), networkSecret(KEY).toString('hex'), 'typed-by-mistake'];
    for (const s of secrets) expect(m.runner.output).not.toContain(s);
    expect(m.runner.output).toMatch(/cmdline: .*key=<redacted>/);
    expect(m.runner.output).toMatch(/key= on the command line is ignored/);
    expect(m.runner.output).toMatch(/security: server key from fw_cfg/);
    // what `ps` shows: every process's command line
    const cmdlines = readdirProc().join('\n');
    expect(cmdlines).toContain(m.keyFile); // the machine is there, with the path of its key file
    for (const s of secrets.slice(0, 3)) expect(cmdlines).not.toContain(s);
    // and the key file works: commands are accepted
    expect((await m.client.request1(SERVER, 1, 'PING', { nonce: 5n })).frame.status).toBe(W.STATUS.OK);
  }, 180_000);

  it('refuses a captured command replayed after the server rebooted, and alarms', async () => {
    const first = await started();
    const { client, lan } = first;
    await client.epochOf(SERVER);
    const load = command(client, 'LOAD_BUILTIN', 1, { name: 'hello' });
    const exec = command(client, 'EXECUTE', 1);
    await deliver(first, load, 'LOAD_BUILTIN');
    await deliver(first, exec, 'EXECUTE');
    await first.runner.stop();
    live = [];
    // the same machine again (same MAC, same key, same LAN), a new boot
    const second = await started(lan, first.keyFile);
    const c2 = second.client;
    const mark = c2.frames.length;
    const alarm = alarmFrom(c2, 1, W.SECURITY_CODE.REPLAYED);
    lan.send(load);
    expect(c2.codec.fields(await alarm)).toMatchObject({ kind: W.ALARM_KIND.SECURITY, text: 'replayed (stale epoch)' });
    await c2.guestPause(SERVER, 1, 50); // alarms are rate-limited (50 ms of guest time)
    lan.send(exec);
    await sleep(500);
    const answers = c2.frames.slice(mark).filter((f) => (f.flags & W.FLAGS.RESPONSE) && f.srcCore === 1 && f.message?.name !== 'SET_HEARTBEAT');
    expect(answers.map((f) => [f.message?.name, f.status])).toEqual([['LOAD_BUILTIN', W.STATUS.STALE_EPOCH], ['EXECUTE', W.STATUS.STALE_EPOCH]]);
    const sec = (await c2.request1(SERVER, 1, 'QUERY_SECURITY')).fields;
    expect(sec.replayed).toBe(2);
    expect((await c2.request1(SERVER, 1, 'DISCOVER')).fields).toMatchObject({ state: W.STATE.IDLE, service: '' });
    expect(second.runner.output).not.toMatch(/hello from DIME 1/);
  }, 240_000);

  it('refuses a captured command replayed after 128 other senders evicted its sender from the replay table', async () => {
    const m = await started();
    const { client, lan } = m;
    await client.epochOf(SERVER);
    const captured = command(client, 'SET_PARAM', 1, { key: 'who', value: 'first' });
    await deliver(m, captured, 'SET_PARAM');
    const before = (await client.request1(SERVER, 1, 'QUERY_SECURITY')).fields;
    // 128 other key holders (orchestrators with other MACs) each talk to DIME 1: the table is full, the first one goes
    for (let i = 0; i < 128; i++) {
      const mac = `02:00:00:00:10:${i.toString(16).padStart(2, '0')}`;
      for (let attempt = 0; attempt < 3; attempt++) {
        const f = command(client, 'PING', 1, { nonce: BigInt(i) }, mac);
        const reqId = f.readUInt32BE(14 + 16);
        const answer = client.waitFor((a) => (a.flags & W.FLAGS.RESPONSE) !== 0 && a.reqId === reqId && a.dstMac === mac, 5000);
        lan.send(f);
        if ((await answer).status === W.STATUS.OK) break; // STALE_EPOCH: the client learnt the new epoch, again
      }
    }
    const mid = (await client.request1(SERVER, 1, 'QUERY_SECURITY')).fields;
    expect((mid.epochChanges as number) - (before.epochChanges as number)).toBeGreaterThanOrEqual(1);
    await client.guestPause(SERVER, 1, 50); // alarms are rate-limited (50 ms of guest time)
    const alarm = alarmFrom(client, 1, W.SECURITY_CODE.REPLAYED);
    lan.send(captured);
    expect(client.codec.fields(await alarm).text).toBe('replayed (stale epoch)');
    const after = (await client.request1(SERVER, 1, 'QUERY_SECURITY')).fields;
    expect((after.replayed as number) - (mid.replayed as number)).toBe(1);
  }, 240_000);
});

/** Command lines of every process (what `ps` shows), NUL-separated words joined by spaces. */
function readdirProc(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try { out.push(readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ')); } catch { /* gone */ }
  }
  return out;
}
