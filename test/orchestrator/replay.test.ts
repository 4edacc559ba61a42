// Issue 14: old heartbeats of a dead server, replayed to a freshly started `parallax watch
// --policy`, must not be believed: the DIME it placed a service on is still reported missing.
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lab, EMULATOR_CLI } from '../../src/orchestrator/lab.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { openLan } from '../../src/orchestrator/attach.js';
import { resolveService } from '../../src/orchestrator/service-source.js';
import { ServerNames } from '../../src/orchestrator/targets.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { PxCodec } from '../../src/protocol/codec.js';
import { captureIO } from './cli-io.js';

const KEY = 'replay-test-key';
const S1 = '52:54:00:00:03:01';
const HB = 300;

describe.skipIf(!existsSync(EMULATOR_CLI))('a fresh orchestrator and a dead server\'s replayed heartbeats', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'px-replay-'));
  const lab = new Lab({ key: KEY, heartbeatMs: HB, dir, servers: [{ name: 'S1', mac: S1, cores: 2 }] });
  afterAll(async () => { await lab.stop(); });

  it('refuses them (unconfirmed epoch) and still reports the DIME missing', async () => {
    await lab.start();
    const names = new ServerNames({ S1 });
    const o1 = new Orchestrator(await openLan(lab.netSpec), { key: KEY, mac: '02:50:00:00:03:01', names });
    let found = await o1.discover();
    for (let i = 0; i < 5 && found.length < 2; i++) found = await o1.discover();
    await o1.deploy({ server: S1, core: 1 }, { role: 'shouter', source: resolveService('upper'), output: { kind: 'none' } });
    const statePath = path.join(dir, 'state.json');
    writeFileSync(statePath, JSON.stringify(o1.saveState()));
    await o1.close();

    // a listener on the LAN records S1/1's heartbeats, then the server dies
    const spy = await openLan(lab.netSpec);
    const codec = new PxCodec({ key: KEY });
    const beats: Buffer[] = [];
    spy.onReceive((raw) => {
      const f = codec.decode(Buffer.from(raw));
      if (f?.message?.name === 'HEARTBEAT' && f.srcMac === S1) beats.push(Buffer.from(raw));
    });
    await new Promise((r) => setTimeout(r, 4 * HB));
    expect(beats.length).toBeGreaterThanOrEqual(4);
    await lab.server('S1').stop();

    // a fresh `watch --policy` while the captured heartbeats are replayed, one per interval
    const policy = path.join(dir, 'fault.policy');
    writeFileSync(policy, 'fault missed=2\ncheck every=100\n');
    let i = 0;
    const replay = setInterval(() => spy.send(beats[i++ % beats.length]), HB / 2);
    const io = captureIO('', { PARALLAX_KEY: KEY });
    const code = await runCli(['--net', lab.netSpec, '--mac', '02:50:00:00:03:02', '--alias', `S1=${S1}`, '--state', statePath,
      '--json', 'watch', '--policy', policy, '--for', String(8 * HB), '--type', 'heartbeat,missing'], io);
    clearInterval(replay);
    await spy.close();
    expect(code, io.err()).toBe(0);
    const events = io.out().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; dime?: string });
    expect(events.filter((e) => e.type === 'heartbeat')).toEqual([]);
    expect(events.some((e) => e.type === 'missing' && e.dime === 'S1/1')).toBe(true);
  }, 120_000);
});
