// The network latency trace (src/net/net-trace.ts): a hub run with PARALLAX_NET_TRACE stamps
// every frame it reads and forwards, with the host's wall clock; tools/net-trace-report.mjs
// turns a set of traces into per-hop figures.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openNetBackend } from '../../src/net/backends/open-backend.js';
import type { StreamBackend } from '../../src/net/backends/stream.js';
import { HUB_CLI, repoRoot } from '../../src/orchestrator/launcher.js';
import { BROADCAST, ethFrame } from '../devices/e1000/e1000-harness.js';
import { scratchDir } from '../lib/scratch-dir.js';

const dir = scratchDir('net-trace');
const REPORT = join(repoRoot(), 'tools', 'net-trace-report.mjs');
const MAC_A = Uint8Array.of(0x5a, 0x50, 0, 0, 0, 0xa);

describe('network latency trace', () => {
  it('a traced hub stamps each frame read and forwarded, between the host times around the send', async () => {
    const traceDir = mkdtempSync(join(dir, 'hub-'));
    const sock = join(dir, 'hub.sock');
    const hub = spawn(process.execPath, [HUB_CLI, '--listen', sock], { env: { ...process.env, PARALLAX_NET_TRACE: traceDir }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    hub.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const t0 = Date.now();
    while (!/listening/.test(err)) {
      if (Date.now() - t0 > 10_000) throw new Error(`hub did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const a = await openNetBackend(`hub,path=${sock}`) as StreamBackend;
    const b = await openNetBackend(`hub,path=${sock}`) as StreamBackend;
    let got = 0;
    b.onReceive(() => { got++; });
    expect(await a.waitConnected()).toBe(true);
    expect(await b.waitConnected()).toBe(true);
    const before = (performance.timeOrigin + performance.now()) * 1000;
    a.send(ethFrame(BROADCAST, MAC_A, 10));
    while (got === 0) await new Promise((r) => setTimeout(r, 5));
    const after = (performance.timeOrigin + performance.now()) * 1000;
    await a.close();
    await b.close();
    const exited = new Promise((r) => hub.once('exit', r));
    hub.kill('SIGTERM');
    await exited;
    const files = readdirSync(traceDir);
    expect(files).toEqual([`${hub.pid}-0.trace`]);
    const lines = readFileSync(join(traceDir, files[0]), 'utf8').trim().split('\n').map((l) => l.split(' '));
    expect(lines.map((l) => l[0])).toEqual(['hub-in', 'hub-out']);
    const [tin, tout] = lines.map((l) => Number(l[1]));
    // both stamps are on the host's wall clock, between the readings taken around the send and
    // the receipt (each process fixes its time origin once, at start: allow for that error)
    const slackUs = 250_000;
    expect(tin).toBeGreaterThanOrEqual(before - slackUs);
    expect(tout).toBeGreaterThanOrEqual(tin);
    expect(tout).toBeLessThanOrEqual(after + slackUs);
  });

  it('the report lines up each received frame through an emulator and the hub', () => {
    const traceDir = mkdtempSync(join(dir, 'report-'));
    // two frames through one emulator (I/O thread 0, core thread 2): stamps in µs
    writeFileSync(join(traceDir, '100-0.trace'), [
      'rx-data 1000', 'irq 1010', 'icr-applied 1110', 'tdt-applied 1510', 'tx-send 1530', 'tx-written 1540',
      'rx-data 3000', 'irq 3020', 'icr-applied 3220', 'tdt-applied 3820', 'tx-send 3850', 'tx-written 3870',
    ].join('\n') + '\n');
    writeFileSync(join(traceDir, '200-0.trace'), 'hub-in 500\nhub-out 530\nhub-in 1600\nhub-out 1650\n');
    writeFileSync(join(traceDir, '300-0.trace'), 'tx-written 400\nrx-data 1700\n');
    const r = spawnSync(process.execPath, [REPORT, traceDir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const row = (name: string): string => r.stdout.split('\n').find((l) => l.includes(name)) ?? '';
    expect(row('process 100')).toMatch(/emulator/);
    expect(row('process 200')).toMatch(/hub/);
    expect(row('process 300')).toMatch(/orchestrator/);
    // medians of two: the upper one; means exact
    expect(row('socket read -> NIC interrupt')).toMatch(/n=\s+2\s+median\s+20\s+p90\s+20\s+mean\s+15/);
    expect(row('ICR taken -> TDT write applied')).toMatch(/median\s+600\s+p90\s+600\s+mean\s+500/);
    expect(row('whole server')).toMatch(/median\s+870\s+p90\s+870\s+mean\s+705/);
    expect(row('frame read -> forwarded')).toMatch(/median\s+50\s+p90\s+50\s+mean\s+40/);
    expect(row('request written -> reply read')).toMatch(/n=\s+1\s+median\s+1300/);
  });
});
