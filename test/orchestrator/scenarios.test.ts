// The Parallax papers' scenarios, end to end: two emulated servers (parallax-emu running the
// DIME kernel, 3 DIMEs each) on one virtual LAN (the hub), managed by the orchestrator, both
// in-process and through the `parallax` command line.
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as W from '../../src/protocol/wire.js';
import { PxCodec, encodePayload } from '../../src/protocol/codec.js';
import type { Lab } from '../../src/orchestrator/lab.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { openLan } from '../../src/orchestrator/attach.js';
import type { DimeAddress } from '../../src/orchestrator/targets.js';
import { labMachineKinds, startLabWithOrchestrator } from './lab-orchestrator.js';
import { resolveService } from '../../src/orchestrator/service-source.js';
import { PolicyEngine } from '../../src/orchestrator/policy/engine.js';
import { InputSplitter } from '../../src/orchestrator/policy/performance.js';
import { parsePolicy } from '../../src/orchestrator/policy/policy-file.js';
import type { OrchestratorEvent } from '../../src/orchestrator/events.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { captureIO } from './cli-io.js';

const KEY = 'scenario-key';
const HB = 500;
const S1 = '52:54:00:00:00:a1';
const S2 = '52:54:00:00:00:a2';
const CLI_MAC = '02:50:00:00:00:c1';
// ORCH_MACHINES=emu,qemu runs every scenario on QEMU too (default: parallax-emu only)
const machines = labMachineKinds();

function waitEvent(o: Orchestrator, pred: (e: OrchestratorEvent) => boolean, timeoutMs: number): Promise<OrchestratorEvent> {
  return new Promise((resolve, reject) => {
    const on = (e: OrchestratorEvent) => { if (pred(e)) { clearTimeout(t); o.off('event', on); resolve(e); } };
    const t = setTimeout(() => { o.off('event', on); reject(new Error('timeout waiting for event')); }, timeoutMs);
    o.on('event', on);
  });
}

describe.skipIf(machines.length === 0).each(machines)('the papers\' scenarios on %s (2 servers x 3 DIMEs, one hub)', (machine) => {
  let lab: Lab;
  let o: Orchestrator;
  const d = (server: string, core: number): DimeAddress => ({ server, core });
  const cli = async (...words: string[]) => {
    const io = captureIO('', { PARALLAX_KEY: KEY });
    const code = await runCli(['--net', lab.netSpec, '--mac', CLI_MAC, '--alias', `S1=${S1},S2=${S2}`, '--state', 'none', ...words], io);
    return { code, out: io.out(), err: io.err() };
  };

  beforeAll(async () => {
    const servers = [{ name: 'S1', mac: S1, cores: 3 }, { name: 'S2', mac: S2, cores: 3 }];
    ({ lab, o } = await startLabWithOrchestrator({ key: KEY, heartbeatMs: HB, machine, servers }, '02:50:00:00:00:01'));
  });

  afterAll(async () => {
    await o?.close();
    await lab?.stop();
  });

  beforeEach(async () => {
    // a clean pool: system-scope RESET overrides whichever orchestrator owned a DIME
    await o.reset({ server: S1, core: null });
    if (lab.server('S2').running) await o.reset({ server: S2, core: null });
  });

  it('(a) hello world on S1 and S2, shown on each server\'s console', async () => {
    const r1 = await cli('load', 'hello', '--on', 'S1/1', '--start');
    const r2 = await cli('load', 'images/services/hello.bin', '--on', 'S2/1', '--start', '--param', 'name=orchestrator');
    expect(r1.code, r1.err).toBe(0);
    expect(r2.code, r2.err).toBe(0);
    await lab.server('S1').waitFor(/\[DIME 1\] hello from DIME 1 of 3\n/, 5000);
    await lab.server('S2').waitFor(/\[DIME 1\] hello from DIME 1 of 3, dear orchestrator/, 5000);
    expect(lab.server('S1').output).not.toMatch(/dear orchestrator/);
  });

  it('(b) the four-step routing scenario of paper 000, all while running', async () => {
    const s1 = lab.server('S1');
    const s2 = lab.server('S2');
    // 1, 2: each server's DIME 1 reads its keyboard and shows the lines on its own console
    for (const s of ['S1', 'S2']) {
      expect((await cli('route', 'console', `${s}/1`)).code).toBe(0);
      expect((await cli('route', `${s}/1`, 'console')).code).toBe(0);
      expect((await cli('load', 'conreader', '--on', `${s}/1`, '--start')).code).toBe(0);
      // a display DIME on each server for lines arriving from the network
      expect((await cli('load', 'conwriter', '--on', `${s}/2`, '--start')).code).toBe(0);
    }
    let mark1 = s1.output.length;
    s1.type('typed on s1\r');
    await s1.waitFor(/DIME 1> typed on s1\n/, 5000, mark1);
    const mark2 = s2.output.length;
    s2.type('typed on s2\r');
    await s2.waitFor(/DIME 1> typed on s2\n/, 5000, mark2);
    // 3: S1's keyboard input now goes to server 2 (its display DIME), live
    const r3 = await cli('route', 'S1/1', 'S2/2');
    expect(r3.code, r3.err).toBe(0);
    let mark2b = s2.output.length;
    mark1 = s1.output.length;
    s1.type('to the other server\r');
    await s2.waitFor(/\[DIME 2\] to the other server\n/, 5000, mark2b);
    expect(s1.output.slice(mark1)).not.toMatch(/to the other server/);
    // 4: S2's keyboard input goes to server 1's DIME 2, live; step 3 still holds
    const r4 = await cli('route', 'S2/1', 'S1/2');
    expect(r4.code, r4.err).toBe(0);
    mark1 = s1.output.length;
    s2.type('back to s1\r');
    await s1.waitFor(/\[DIME 2\] back to s1\n/, 5000, mark1);
    mark2b = s2.output.length;
    s1.type('still crossing\r');
    await s2.waitFor(/\[DIME 2\] still crossing\n/, 5000, mark2b);
    // the services never stopped
    const ps = await cli('ps', '--json', '--listen', '0');
    const rows = JSON.parse(ps.out.trim()).dimes as Array<{ dime: string; state: string; service: string }>;
    for (const x of ['S1/1', 'S2/1']) expect(rows.find((r) => r.dime === x)).toMatchObject({ state: 'running', service: 'conreader' });
    for (const x of ['S1/2', 'S2/2']) expect(rows.find((r) => r.dime === x)).toMatchObject({ state: 'running', service: 'conwriter' });
  });

  it('(c) fault: a DIME\'s heartbeat stops and its service comes back on another DIME within three intervals', async () => {
    const dead = d(S1, 1);
    await o.deploy(dead, { role: 'echo', source: resolveService('misbehave'), params: { mode: 'obey' }, input: { kind: 'any' }, output: { kind: 'orchestrator' } });
    // a neighbour that feeds it, to check its route is restored
    await o.deploy(d(S2, 1), { role: 'feeder', source: resolveService('upper'), input: { kind: 'any' }, output: { kind: 'dime', dime: dead } });
    await waitEvent(o, (e) => e.type === 'heartbeat' && e.server === S1 && e.core === 1 && e.service === 'misbehave', 3000);
    const engine = new PolicyEngine(o, parsePolicy('fault missed=2.5 prefer=same-server services=echo\ncheck every=50'));
    engine.start();
    try {
      const recovered = waitEvent(o, (e) => e.type === 'policy' && e.policy === 'fault' && e.ok && /re-instantiated/.test(e.action), 10_000);
      const restarted = waitEvent(o, (e) => e.type === 'command' && e.command === 'start' && e.ok && !(e.server === S1 && e.core === 1), 10_000);
      o.feed(dead, 'mute\n'); // the service silences its DIME's heartbeat
      const ev = await recovered;
      const lastBeat = o.model.get(dead)!.lastBeatAt!;
      // the service is back when it runs again (EXECUTE accepted); routes are restored next
      const took = (await restarted).at - lastBeat;
      if (process.env.PX_DEBUG) console.log(`recovery: service running again ${took} ms after the last heartbeat (limit ${3 * HB})`);
      expect(took).toBeLessThanOrEqual(3 * HB);
      const moved = [...o.assignments.entries()].find(([, a]) => a.role === 'echo')!;
      const newKey = moved[0];
      expect(newKey).not.toBe(`${S1}/1`);
      expect(newKey.startsWith(S1)).toBe(true); // same server preferred
      const to = o.model.dimes.get(newKey)!;
      expect(to.output).toEqual({ kind: 'orchestrator', mac: o.mac });
      // the feeder was rewired to the new DIME: data flows through it to us again
      expect(o.model.get(d(S2, 1))!.output).toEqual({ kind: 'dime', dime: { server: to.server, core: to.core } });
      const echoed = waitEvent(o, (e) => e.type === 'output' && e.server === to.server && e.core === to.core && /ok HELLO/.test(e.text), 5000);
      o.feed(d(S2, 1), 'hello\n');
      await echoed;
      // and the new DIME beats with the service
      await waitEvent(o, (e) => e.type === 'heartbeat' && e.server === to.server && e.core === to.core && e.service === 'misbehave', 3000);
      expect(ev.type === 'policy' && ev.reason).toMatch(/heartbeat of S1\/1 missing for \d+ ms/);
    } finally {
      engine.stop();
    }
  });

  it('(d) performance: a CPU-bound service crosses the threshold and a replica starts', async () => {
    await o.deploy(d(S1, 1), { role: 'burn', source: resolveService('cpuburn'), params: { ms: '0' }, output: { kind: 'none' } });
    const engine = new PolicyEngine(o, parsePolicy('performance cpu-above=60 for=500 max-replicas=1 cpu-below=10 below-for=500 prefer=other-server\ncheck every=50'));
    engine.start();
    try {
      const ev = await waitEvent(o, (e) => e.type === 'policy' && e.policy === 'performance', 10_000);
      expect(ev.type === 'policy' && ev.ok).toBe(true);
      expect(ev.type === 'policy' && ev.reason).toMatch(/S1\/1 CPU \d+% above 60% for \d+ ms/);
      const replica = [...o.assignments.entries()].find(([, a]) => a.replicaOf === 'burn');
      expect(replica).toBeDefined();
      const [key] = replica!;
      expect(key.startsWith(S2)).toBe(true); // other server preferred
      const r = o.model.dimes.get(key)!;
      let perf = await o.call(r, 'QUERY_PERF');
      for (let i = 0; i < 40 && perf.fields.state !== W.STATE.RUNNING; i++) {
        await new Promise((res) => setTimeout(res, 50)); // EXECUTE is answered before ring 3 is entered
        perf = await o.call(r, 'QUERY_PERF');
      }
      expect(perf.fields.state).toBe(W.STATE.RUNNING);
      expect(perf.fields.memUsed as number).toBeGreaterThan(0);
      const disc = await o.call(r, 'DISCOVER');
      expect(disc.fields.service).toBe('cpuburn');
      // load falls (both suspended): the replica is shut off
      const shut = waitEvent(o, (e) => e.type === 'policy' && e.policy === 'performance' && /shut replica/.test(e.action), 10_000);
      await o.suspend(r);
      await o.suspend(d(S1, 1));
      const down = await shut;
      expect(down.type === 'policy' && down.reason).toMatch(/group 'burn' average CPU \d+% below 10%/);
      expect([...o.assignments.values()].some((a) => a.replicaOf === 'burn')).toBe(false);
    } finally {
      engine.stop();
      await o.reset({ server: S1, core: null });
      await o.reset({ server: S2, core: null });
    }
  });

  it('(d) splitting a service\'s input between a primary and its replica (round robin)', async () => {
    const feeder = d(S1, 1);
    const members = [d(S2, 1), d(S2, 2)];
    for (const [i, m] of members.entries()) await o.deploy(m, { role: `shout${i}`, source: resolveService('upper'), input: { kind: 'orchestrator' }, output: { kind: 'orchestrator' } });
    await o.deploy(feeder, { role: 'lines', source: resolveService('upper'), input: { kind: 'orchestrator' }, output: { kind: 'orchestrator' } });
    const splitter = new InputSplitter(o, feeder, () => members);
    const got: string[] = [];
    const on = (e: OrchestratorEvent) => { if (e.type === 'output' && e.server === S2) got.push(`${e.core}:${e.text}`); };
    o.on('event', on);
    try {
      for (const word of ['one', 'two', 'three', 'four']) {
        o.feed(feeder, word);
        await new Promise((r) => setTimeout(r, 150)); // one frame per word
      }
      const deadline = Date.now() + 5000;
      while (got.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(got.sort()).toEqual(['1:ONE', '1:THREE', '2:FOUR', '2:TWO']);
      expect(splitter.forwarded).toBe(4);
    } finally {
      splitter.close();
      o.off('event', on);
    }
  });

  it('feed: a DIME that refuses the input is an error (exit 1), accepted input is not', async () => {
    expect((await cli('route', 'none', 'S1/2')).code).toBe(0);
    const refused = await cli('feed', 'S1/2', 'hi');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/S1\/2 refused the input: UNAUTHORIZED/);
    expect((await cli('route', 'any', 'S1/2')).code).toBe(0);
    const ok = await cli('feed', 'S1/2', 'hi');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/S1\/2: fed 3 bytes/);
  });

  it('(e) accounting shows who asked for what and for how long', async () => {
    const t = d(S2, 2);
    await o.deploy(t, { role: 'acct', source: resolveService('upper'), output: { kind: 'none' } });
    await new Promise((r) => setTimeout(r, 300));
    const ended = waitEvent(o, (e) => e.type === 'exit' && e.server === S2 && e.core === 2, 5000);
    await o.stop(t);
    const exit = await ended;
    // a second orchestrator (another MAC, same key) asks something too
    const other = await cli('ping', 'S2/2');
    expect(other.code, other.err).toBe(0);
    const res = await cli('accounting', 'S2/2', '--json');
    expect(res.code, res.err).toBe(0);
    const records = JSON.parse(res.out).dimes[0].records as Array<{ whoMac: string; what: string; status: string; durationMs: number | null; service: string }>;
    const mine = records.filter((r) => r.whoMac === o.mac);
    expect(mine.map((r) => r.what)).toEqual(expect.arrayContaining(['SET_ROUTE', 'LOAD_BUILTIN', 'EXECUTE', 'STOP']));
    const exec = mine.filter((r) => r.what === 'EXECUTE').pop()!;
    expect(exec.status).toBe('ended stopped');
    expect(exec.service).toBe('upper');
    // the DIME's own clock: the run time its SERVICE_EXIT reported (guest time, which an
    // emulator on a loaded host lets fall behind the host's)
    expect(exit.type === 'exit' && exit.runMs).toBeGreaterThan(50);
    expect(Math.abs(exec.durationMs! - (exit.type === 'exit' ? exit.runMs : 0))).toBeLessThan(5);
    expect(records.some((r) => r.whoMac === CLI_MAC && r.what === 'PING')).toBe(true);
    const human = await cli('accounting', 'S2/2');
    expect(human.out).toMatch(/02:50:00:00:00:01 +EXECUTE +upper +ended stopped +\d+\.\d ms/);
  });

  it('(f) a forged command is rejected by the DIME and raised; a forged report is refused by the orchestrator', async () => {
    const target = d(S1, 2);
    const before = await o.security(target);
    const alarm = waitEvent(o, (e) => e.type === 'alarm' && e.source === 'dime' && e.kind === 'security' && e.codeName === 'forged' && e.server === S1 && e.core === 2, 5000);
    // an intruder on the LAN without the key
    const intruder = await openLan(lab.netSpec);
    const evil = new PxCodec({ key: 'not-the-network-key' });
    const stop = W.messageByName('STOP');
    intruder.send(evil.encode({ dstMac: S1, srcMac: '02:66:66:66:66:66', channel: 'signaling', scope: 'dime', code: stop.code, dstCore: 2, seq: 1n, reqId: 77 }));
    const a = await alarm;
    expect(a.type === 'alarm' && a.peer).toBe('02:66:66:66:66:66');
    const after = await o.security(target);
    expect(after.forged - before.forged).toBe(1);
    // a forged heartbeat claiming S1/2 is running something: the hub refuses it (S1's MAC is on
    // another, live port: counted), so it never reaches anyone
    const hb = W.messageByName('HEARTBEAT');
    const dup = lab.hub.stats.duplicateMac;
    intruder.send(evil.encode({ dstMac: 'ff:ff:ff:ff:ff:ff', srcMac: S1, srcCore: 2, channel: 'signaling', scope: 'dime', code: hb.code, flags: W.FLAGS.EVENT, seq: 1n << 60n,
      payload: encodePayload(hb.request!, { dime: 2, state: W.STATE.RUNNING, service: 'evil' }) }));
    for (let i = 0; i < 50 && lab.hub.stats.duplicateMac === dup; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lab.hub.stats.duplicateMac).toBe(dup + 1);
    // one from a server MAC nobody holds reaches the orchestrator: refused and raised locally
    const local = waitEvent(o, (e) => e.type === 'alarm' && e.source === 'orchestrator' && e.codeName === 'forged', 3000);
    intruder.send(evil.encode({ dstMac: 'ff:ff:ff:ff:ff:ff', srcMac: '52:54:00:00:01:77', srcCore: 2, channel: 'signaling', scope: 'dime', code: hb.code, flags: W.FLAGS.EVENT, seq: 1n << 60n,
      payload: encodePayload(hb.request!, { dime: 2, state: W.STATE.RUNNING, service: 'evil' }) }));
    await local;
    expect(o.model.get(target)!.service).not.toBe('evil');
    await intruder.close();
    // the CLI shows the alarm in watch --json. The watcher needs a moment to start and discover
    // (longer on a loaded host), so the forged frame is sent again until the watcher has shown
    // it, rather than once after a fixed pause.
    const io = captureIO('', { PARALLAX_KEY: KEY });
    const watching = runCli(['--net', lab.netSpec, '--mac', CLI_MAC, '--alias', `S1=${S1},S2=${S2}`, '--state', 'none',
      'watch', '--json', '--for', '6000', '--type', 'alarm'], io);
    let watchDone = false;
    void watching.finally(() => { watchDone = true; });
    const intruder2 = await openLan(lab.netSpec);
    const seen = () => io.out().includes('"codeName":"forged"');
    for (let i = 0; !watchDone && !seen(); i++) {
      intruder2.send(evil.encode({ dstMac: S2, srcMac: '02:66:66:66:66:67', channel: 'signaling', scope: 'dime', code: stop.code, dstCore: 1, seq: 1n, reqId: 78 + i }));
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(await watching).toBe(0);
    await intruder2.close();
    const w = { out: io.out() };
    const lines = w.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.some((e) => e.type === 'alarm' && e.kind === 'security' && e.codeName === 'forged' && e.dime === 'S2/1')).toBe(true);
  });

  it('deploys a workflow across both servers and rolls a failed one back', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'px-wf-'));
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({
      name: 'shout',
      services: {
        source: { service: 'upper', on: 'S1/1', input: 'orchestrator' },
        sink: { service: 'conwriter', on: 'S2' },
      },
      channels: ['source -> sink'],
    }));
    const r = await cli('run', good, '--json');
    expect(r.code, r.err).toBe(0);
    const placed = JSON.parse(r.out).placements as Array<{ node: string; dime: string }>;
    expect(placed.map((p) => p.node)).toEqual(['sink', 'source']); // sinks first
    const sinkDime = placed.find((p) => p.node === 'sink')!.dime;
    const mark = lab.server('S2').output.length;
    const fed = await cli('feed', 'S1/1', 'workflow data');
    expect(fed.code, fed.err).toBe(0);
    await lab.server('S2').waitFor(new RegExp(`\\[DIME ${sinkDime.split('/')[1]}\\] WORKFLOW DATA`), 5000, mark);
    // a workflow whose second service does not exist on the DIME: the first is rolled back
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'broken', services: { a: { service: 'nosuchservice', on: 'S1/2' }, b: { service: 'conwriter', on: 'S2/2' } }, channels: ['a -> b'] }));
    const rb = await cli('run', bad);
    expect(rb.code).toBe(1);
    expect(rb.err).toMatch(/deploying 'a' on S1\/2 failed: .*NOT_FOUND.*rolled back 1 deployed service/);
    const s22 = await o.call(d(S2, 2), 'DISCOVER');
    expect(s22.fields.state).toBe(W.STATE.IDLE);
    // --keep-partial leaves it
    const rk = await cli('run', bad, '--keep-partial');
    expect(rk.code).toBe(1);
    expect(rk.err).toMatch(/kept 1 deployed service/);
    expect((await o.call(d(S2, 2), 'DISCOVER')).fields.state).toBe(W.STATE.RUNNING);
  });
  // last: it takes a server away for good
  it('(c) fault, whole server: a server dies and its service comes back on the other server', async () => {
    const victim = d(S2, 1);
    await o.deploy(victim, { role: 'survivor', source: resolveService('misbehave'), params: { mode: 'obey' }, input: { kind: 'any' }, output: { kind: 'orchestrator' } });
    await waitEvent(o, (e) => e.type === 'heartbeat' && e.server === S2 && e.core === 1 && e.service === 'misbehave', 3000);
    const engine = new PolicyEngine(o, parsePolicy('fault missed=2.5 prefer=same-server services=survivor\ncheck every=50'));
    engine.start();
    try {
      const restarted = waitEvent(o, (e) => e.type === 'command' && e.command === 'start' && e.ok && e.server === S1, 10_000);
      const recovered = waitEvent(o, (e) => e.type === 'policy' && e.policy === 'fault' && /re-instantiated 'survivor'/.test(e.action), 10_000);
      await lab.server('S2').stop(); // the whole machine goes away
      const ev = await recovered;
      const took = (await restarted).at - o.model.get(victim)!.lastBeatAt!;
      expect(ev.type === 'policy' && ev.ok).toBe(true);
      expect(took).toBeLessThanOrEqual(3 * HB);
      const [key] = [...o.assignments.entries()].find(([, a]) => a.role === 'survivor')!;
      expect(key.startsWith(S1)).toBe(true); // no DIME left on S2: the other server
      const to = o.model.dimes.get(key)!;
      const echoed = waitEvent(o, (e) => e.type === 'output' && e.server === S1 && e.core === to.core && /ok still here/.test(e.text), 5000);
      o.feed(to, 'still here\n');
      await echoed;
    } finally {
      engine.stop();
    }
  });
});
