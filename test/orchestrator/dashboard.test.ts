// The dashboard in headless Chromium (Debian's, driven by playwright-core): it shows the
// servers and their DIMEs with state, service and gauges, routes drawn between DIMEs, and
// alarms and policy actions in the event log.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { failWhenMissingInCi, toolGate } from '../tool-gate.js';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import * as W from '../../src/protocol/wire.js';
import { PxCodec } from '../../src/protocol/codec.js';
import { Lab, EMULATOR_CLI, DEFAULT_IMAGE } from '../../src/orchestrator/lab.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { openLan } from '../../src/orchestrator/attach.js';
import { ServerNames } from '../../src/orchestrator/targets.js';
import { resolveService } from '../../src/orchestrator/service-source.js';
import { DashboardServer } from '../../src/orchestrator/dashboard/server.js';

const KEY = 'dash-key';
const S1 = '52:54:00:00:00:d1';
const S2 = '52:54:00:00:00:d2';
const SHOTS = path.resolve('build/orchestrator');
const chromiumGate = toolGate('chromium', 'Debian: apt-get install chromium');
failWhenMissingInCi(chromiumGate, 'chromium', 'parallax dashboard in headless Chromium');
/** Debian's chromium, found on PATH (a PATH without it is a machine without it) */
const CHROMIUM = chromiumGate.run ? execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() : '';
const ready = chromiumGate.run && existsSync(EMULATOR_CLI) && existsSync(DEFAULT_IMAGE);

describe.skipIf(!ready)('parallax dashboard in headless Chromium', () => {
  let lab: Lab;
  let o: Orchestrator;
  let dash: DashboardServer;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    lab = new Lab({ key: KEY, heartbeatMs: 300, servers: [{ name: 'S1', mac: S1, cores: 2 }, { name: 'S2', mac: S2, cores: 2 }] });
    await lab.start();
    o = new Orchestrator(await openLan(lab.netSpec), { key: KEY, mac: '02:50:00:00:00:d0', names: new ServerNames(lab.aliases) });
    await o.discover();
    await o.deploy({ server: S2, core: 1 }, { role: 'display', source: resolveService('conwriter'), output: { kind: 'console' } });
    await o.deploy({ server: S1, core: 1 }, { role: 'shout', source: resolveService('upper'), input: { kind: 'orchestrator' }, output: { kind: 'dime', dime: { server: S2, core: 1 } } });
    dash = new DashboardServer(o, { port: 0, pushMs: 200 });
    url = await dash.listen();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await o?.close();
    await lab?.stop();
  });

  it('shows servers, DIMEs, gauges, routes and the alarm log', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(url);
    await page.waitForSelector('[data-dime="S1/1"] .service:text("upper")', { timeout: 10_000 });
    expect(await page.locator('.server').count()).toBe(2);
    expect(await page.locator('.dime').count()).toBe(4);
    expect(await page.locator('[data-dime="S2/1"] .service').textContent()).toBe('conwriter');
    expect(await page.locator('[data-dime="S1/1"]').getAttribute('class')).toMatch(/running/);
    expect(await page.locator('[data-dime="S1/0"] .state').textContent()).toBe('idle');
    // heartbeats arrive: the age text and a CPU gauge value are shown
    await page.waitForSelector('[data-dime="S1/0"] .hb:text("s ago")', { timeout: 5000 });
    expect(await page.locator('[data-dime="S1/1"] .gauge.cpu .bar').count()).toBe(1);
    // the route between the two servers' DIMEs is drawn
    await page.waitForSelector('path.route[data-from="S1/1"][data-to="S2/1"]', { state: 'attached', timeout: 5000 });
    // a forged command: the DIME's alarm shows in the log
    const intruder = await openLan(lab.netSpec);
    const evil = new PxCodec({ key: 'wrong' });
    intruder.send(evil.encode({ dstMac: S1, srcMac: '02:66:00:00:00:01', channel: 'signaling', scope: 'dime', code: W.messageByName('STOP').code, dstCore: 1, seq: 1n, reqId: 1 }));
    await page.waitForSelector('#log li.alarm:text("forged")', { timeout: 5000 });
    await intruder.close();
    // a policy action appears too (reported the same way the engine does)
    o.report({ type: 'policy', at: Date.now(), policy: 'fault', action: 'test action shown', reason: 'dashboard test', ok: true });
    await page.waitForSelector('#log li.policy:text("test action shown")', { timeout: 5000 });
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
    const state = await (await fetch(new URL('/api/state', url))).json() as { servers: Array<{ dimes: unknown[] }> };
    expect(state.servers.flatMap((s) => s.dimes).length).toBe(4);
    await page.close();
  });
});
