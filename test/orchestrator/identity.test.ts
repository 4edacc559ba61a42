// Issue 14: every orchestrator process has its own sequence space (header `instance`), so a
// dashboard, a `watch` and CLI commands of one user (one MAC) running together raise no
// security alarm at the DIMEs, and none is locked out by another.
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lab, EMULATOR_CLI } from '../../src/orchestrator/lab.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { openLan } from '../../src/orchestrator/attach.js';
import { defaultOrchestratorMac } from '../../src/orchestrator/cli-context.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { captureIO } from './cli-io.js';

const KEY = 'identity-test-key';
const S1 = '52:54:00:00:04:01';
const FOR_MS = Number(process.env.IDENTITY_MS ?? 60_000);

describe.skipIf(!existsSync(EMULATOR_CLI))('one identity per orchestrator process', () => {
  const lab = new Lab({ key: KEY, heartbeatMs: 1000, dir: mkdtempSync(path.join(tmpdir(), 'px-ident-')), servers: [{ name: 'S1', mac: S1, cores: 2 }] });
  afterAll(async () => { await lab.stop(); });

  it(`dashboard + watch + CLI commands of one user together for ${FOR_MS / 1000} s: no alarm, nothing refused`, async () => {
    await lab.start();
    const env = { PARALLAX_KEY: KEY, PARALLAX_ALIASES: `S1=${S1}`, PARALLAX_NET: lab.netSpec, PARALLAX_STATE: 'none' };
    const run = (words: string[]) => { const io = captureIO('', env); return runCli(words, io).then((code) => ({ code, out: io.out(), err: io.err() })); };
    const dashboard = run(['dashboard', '--port', '0', '--for', String(FOR_MS)]);
    const watch = run(['watch', '--json', '--type', 'alarm', '--for', String(FOR_MS)]);
    const cli: Array<{ code: number; err: string }> = [];
    const until = Date.now() + FOR_MS - 3000;
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; Date.now() < until; i++) {
      cli.push(await run(i % 2 ? ['ping', 'S1/1'] : ['ps']));
      await new Promise((r) => setTimeout(r, 1500));
    }
    const [d, w] = await Promise.all([dashboard, watch]);
    expect(d.code, d.err).toBe(0);
    expect(w.code, w.err).toBe(0);
    expect(cli.length).toBeGreaterThanOrEqual(Math.min(10, Math.floor(FOR_MS / 6000)));
    expect(cli.filter((c) => c.code !== 0).map((c) => c.err)).toEqual([]);
    expect(w.out.trim()).toBe(''); // not one alarm
    // and the DIMEs themselves counted no replay
    const o = new Orchestrator(await openLan(lab.netSpec), { key: KEY, mac: defaultOrchestratorMac() });
    try {
      for (const core of [0, 1]) expect((await o.security({ server: S1, core })).replayed).toBe(0);
    } finally {
      await o.close();
    }
  }, FOR_MS + 120_000);
});

describe.skipIf(!existsSync(EMULATOR_CLI))('two servers with one MAC', () => {
  const lab = new Lab({ key: KEY, heartbeatMs: 500, dir: mkdtempSync(path.join(tmpdir(), 'px-dupmac-')),
    servers: [{ name: 'S1', mac: '52:54:00:00:05:01', cores: 1 }, { name: 'S1', mac: '52:54:00:00:05:01', cores: 1 }] });
  afterAll(async () => { await lab.stop(); });

  it('the second one warns at start, and the hub refuses its frames (counted)', async () => {
    await lab.start();
    const warned = (s: (typeof lab.servers)[number]) => /WARNING MAC 52:54:00:00:05:01 is already in use on this LAN/.test(s.output);
    const t0 = Date.now();
    while (!lab.servers.some(warned) && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 100));
    expect(lab.servers.filter(warned)).toHaveLength(1);
    expect(lab.hub.stats.duplicateMac).toBeGreaterThan(0);
  }, 90_000);
});
