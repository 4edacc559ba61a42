// The orchestrator on a real Linux interface (AF_PACKET through koffi): a DIME server
// (parallax-emu on a TAP) and the orchestrator (on one end of a veth pair) share a bridge.
// Needs root (it creates and removes its own px* interfaces); skipped otherwise.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EmuServer, EMULATOR_CLI, DEFAULT_IMAGE } from '../../src/orchestrator/lab.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { openLan } from '../../src/orchestrator/attach.js';
import { parsePacketSpec } from '../../src/net/backends/packet.js';

const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
const suffix = String(process.pid % 10000);
const BR = `pxbr${suffix}`;
const TAP = `pxtap${suffix}`;
const VA = `pxva${suffix}`;
const VB = `pxvb${suffix}`;
const canRun = process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0 && existsSync(EMULATOR_CLI) && existsSync(DEFAULT_IMAGE);

describe('packet backend spec', () => {
  it('parses packet,ifname=NAME and rejects the rest', () => {
    expect(parsePacketSpec('packet,ifname=eth0')).toEqual({ ifname: 'eth0' });
    expect(parsePacketSpec('hub,path=/x')).toBeNull();
    expect(() => parsePacketSpec('packet')).toThrow(/packet needs ifname=NAME/);
    expect(() => parsePacketSpec('packet,ifname=eth0,speed=9')).toThrow(/unknown option/);
  });

  it('names a missing interface clearly', async () => {
    await expect(openLan('packet,ifname=nosuchif0')).rejects.toThrow(/no interface named 'nosuchif0'|CAP_NET_RAW/);
  });
});

describe.skipIf(!canRun)('orchestrator over AF_PACKET on a veth bridged to an emulated server', () => {
  let server: EmuServer;
  let o: Orchestrator;

  beforeAll(async () => {
    const steps = [
      ['link', 'add', BR, 'type', 'bridge'], ['link', 'set', BR, 'up'],
      ['tuntap', 'add', 'dev', TAP, 'mode', 'tap'], ['link', 'set', TAP, 'master', BR], ['link', 'set', TAP, 'up'],
      ['link', 'add', VA, 'type', 'veth', 'peer', 'name', VB], ['link', 'set', VB, 'master', BR], ['link', 'set', VB, 'up'], ['link', 'set', VA, 'up'],
    ];
    for (const s of steps) {
      const r = ip(...s);
      if (r.status !== 0) throw new Error(`ip ${s.join(' ')}: ${r.stderr}`);
    }
    server = new EmuServer({ name: 'P1', mac: '52:54:00:00:00:e1', cores: 2, hubPath: '', key: 'packet-key', heartbeatMs: 500 });
    server.startWithNet(`tap,ifname=${TAP}`);
    await server.waitFor(/DIME ready: 2 cores/, 60_000);
    o = new Orchestrator(await openLan(`packet,ifname=${VA}`), { key: 'packet-key', mac: '02:50:00:00:00:e0' });
  });

  afterAll(async () => {
    await o?.close();
    await server?.stop();
    for (const dev of [VA, TAP, BR]) ip('link', 'del', dev);
  });

  it('discovers the DIMEs and runs a service through a real interface', async () => {
    const found = await o.discover(undefined, 800);
    expect(found.map((d) => d.label).sort()).toEqual(['52:54:00:00:00:e1/0', '52:54:00:00:00:e1/1']);
    const rtt = await o.ping({ server: '52:54:00:00:00:e1', core: 1 });
    expect(rtt).toBeLessThan(2000);
    await o.deploy({ server: '52:54:00:00:00:e1', core: 1 }, { role: 'hello', source: (await import('../../src/orchestrator/service-source.js')).resolveService('hello') });
    await server.waitFor(/\[DIME 1\] hello from DIME 1 of 2/, 5000);
  });
});
