// The learning hub: three stream clients, learning/forwarding/flooding/aging, a misbehaving
// client, the CLI's argument parsing, and interop with a real QEMU joined as a stream client.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { failWhenMissingInCi, QEMU_HINT, toolGate } from '../tool-gate.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openNetBackend } from '../../src/net/backends/open-backend.js';
import type { StreamBackend } from '../../src/net/backends/stream.js';
import { parseHubArgs, parseListenAddress } from '../../src/cli/hub.js';
import { isDuplicateMacNotice } from '../../src/net/duplicate-mac.js';
import { LearningSwitch } from '../../src/net/learning-switch.js';
import type { NetBackend } from '../../src/net/net-backend.js';
import { BROADCAST, ethFrame } from '../devices/e1000/e1000-harness.js';
import { scratchDir } from '../lib/scratch-dir.js';
import { until } from '../lib/until.js';

const dir = scratchDir('nic-hub');

const MAC_A = Uint8Array.of(0x5a, 0x50, 0, 0, 0, 0xa);
const MAC_B = Uint8Array.of(0x5a, 0x50, 0, 0, 0, 0xb);
const MAC_C = Uint8Array.of(0x5a, 0x50, 0, 0, 0, 0xc);
const MAC_X = Uint8Array.of(0x5a, 0x50, 0, 0, 0, 0xf);

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 60));

async function client(spec: string): Promise<{ b: NetBackend; got: Uint8Array[] }> {
  const b = await openNetBackend(spec);
  const got: Uint8Array[] = [];
  b.onReceive((f) => got.push(f.slice()));
  await (b as StreamBackend).waitConnected();
  return { b, got };
}

describe('ethernet hub', () => {
  it('learns MACs per port, forwards known unicast to one port, floods the rest, ages entries out', async () => {
    let now = 1_000_000;
    const hub = new LearningSwitch({ agingMs: 10_000, now: () => now });
    const path = join(dir, 'hub.sock');
    await hub.listen({ kind: 'unix', path });
    const a = await client(`hub,path=${path}`);
    const b = await client(`hub,path=${path}`);
    const c = await client(`hub,path=${path}`);
    await until(() => hub.portCount() === 3);

    a.b.send(ethFrame(BROADCAST, MAC_A, 50)); // flood, learn A
    await until(() => b.got.length === 1 && c.got.length === 1);
    b.b.send(ethFrame(MAC_A, MAC_B, 50)); // A known: only A; learn B
    await until(() => a.got.length === 1);
    c.b.send(ethFrame(MAC_X, MAC_C, 50)); // unknown unicast: flood to A and B; learn C
    await until(() => a.got.length === 2 && b.got.length === 2);
    a.b.send(ethFrame(MAC_B, MAC_A, 50)); // only B
    await until(() => b.got.length === 3);
    await settle();
    expect([a.got.length, b.got.length, c.got.length]).toEqual([2, 3, 1]);
    expect(hub.macTable().map((e) => e.mac).sort()).toEqual(['5a:50:00:00:00:0a', '5a:50:00:00:00:0b', '5a:50:00:00:00:0c']);
    expect(hub.stats).toMatchObject({ frames: 4, forwarded: 2, flooded: 2, learned: 3 });
    const ports = hub.portStats();
    expect(ports.map((p) => [p.rxFrames, p.txFrames, p.macs])).toEqual([[2, 2, 1], [1, 3, 1], [1, 1, 1]]);

    // a frame for a MAC on the sender's own port is filtered
    a.b.send(ethFrame(MAC_A, MAC_A, 50)); // A is on port A itself
    await until(() => hub.stats.filtered === 1);
    // a second port claiming a MAC that a connected, live port uses is refused and counted:
    // two stations with one MAC would split its traffic (issue 14)
    a.b.send(ethFrame(BROADCAST, MAC_B, 50));
    await until(() => hub.stats.duplicateMac === 1);
    expect(hub.stats.moved).toBe(0);
    expect(hub.portStats()[0].rxDropped).toBeGreaterThanOrEqual(1);
    await until(() => a.got.length === 3); // the refused port is told so (parallax-emu warns)
    expect(isDuplicateMacNotice(a.got[2], MAC_B)).toBe(true);
    b.b.send(ethFrame(BROADCAST, MAC_B, 50)); // B still on its own port
    await until(() => a.got.length === 4 && c.got.length === 2);

    // aging: after the aging time A's entry is stale and a frame to A floods
    now += 11_000;
    b.b.send(ethFrame(MAC_A, MAC_B, 50));
    await until(() => a.got.length === 5 && c.got.length === 3);

    // a port that leaves takes its MACs with it
    await c.b.close();
    await until(() => hub.portCount() === 2);
    expect(hub.macTable().some((e) => e.mac.endsWith('0c'))).toBe(false);
    await a.b.close();
    await b.b.close();
    await hub.close();
  });

  it('disconnects a client that sends a bad length prefix without disturbing the others', async () => {
    const hub = new LearningSwitch();
    await hub.listen({ kind: 'inet', host: '127.0.0.1', port: 0 });
    const addr = hub.addresses()[0];
    const port = addr.kind === 'inet' ? addr.port : 0;
    const a = await client(`hub,port=${port}`);
    const b = await client(`hub,port=${port}`);
    const raw = createConnection({ host: '127.0.0.1', port });
    await until(() => hub.portCount() === 3);
    raw.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await until(() => hub.portCount() === 2);
    expect(hub.portStats().every((p) => p.malformed === 0)).toBe(true);
    a.b.send(ethFrame(BROADCAST, MAC_A, 10));
    await until(() => b.got.length === 1);
    raw.destroy();
    await a.b.close();
    await b.b.close();
    await hub.close();
  });

  it('loses deliveries on purpose with --loss: seeded, so two runs lose the same frames, and counted', async () => {
    const run = async (seed: number) => {
      const hub = new LearningSwitch({ loss: { rate: 0.1, seed } });
      const path = join(dir, `lossy-${seed}-${Math.random().toString(36).slice(2)}.sock`);
      await hub.listen({ kind: 'unix', path });
      const a = await client(`hub,path=${path}`);
      const b = await client(`hub,path=${path}`);
      await until(() => hub.portCount() === 2);
      for (let i = 0; i < 500; i++) { const f = ethFrame(BROADCAST, MAC_A, 60); f[20] = i & 0xff; f[21] = i >> 8; a.b.send(f); }
      await until(() => hub.stats.frames === 500);
      await until(() => b.got.length + hub.stats.lost === 500);
      const heard = b.got.map((f) => f[20] | (f[21] << 8));
      await a.b.close();
      await b.b.close();
      await hub.close();
      return { lost: hub.stats.lost, heard };
    };
    const one = await run(7);
    const two = await run(7);
    expect(one.lost).toBeGreaterThan(20);
    expect(one.lost).toBeLessThan(90);
    expect(two).toEqual(one);
    expect(parseHubArgs(['--listen', '/x', '--loss', '1%', '--loss-seed', '42']).loss).toEqual({ rate: 0.01, seed: 42 });
    expect(parseHubArgs(['--listen', '/x', '--loss', '0.02']).loss).toEqual({ rate: 0.02, seed: 1 });
    expect(() => parseHubArgs(['--listen', '/x', '--loss', '100%'])).toThrow(/--loss/);
    expect(() => parseHubArgs(['--listen', '/x', '--loss', 'lots'])).toThrow(/--loss/);
  });

  it('CLI arguments: listen addresses and options, with clear errors', () => {
    expect(parseListenAddress('/tmp/x.sock')).toEqual({ kind: 'unix', path: '/tmp/x.sock' });
    expect(parseListenAddress('7000')).toEqual({ kind: 'inet', host: '127.0.0.1', port: 7000 });
    expect(parseListenAddress('0.0.0.0:7000')).toEqual({ kind: 'inet', host: '0.0.0.0', port: 7000 });
    expect(parseHubArgs(['--listen', '/a', '--listen=7001', '--aging', '30', '--pcap', '/tmp/h.pcap'])).toMatchObject({
      listen: [{ kind: 'unix', path: '/a' }, { kind: 'inet', port: 7001 }], agingSeconds: 30, pcap: '/tmp/h.pcap',
    });
    expect(() => parseHubArgs([])).toThrow(/at least one --listen/);
    expect(() => parseHubArgs(['--listen'])).toThrow(/needs a value/);
    expect(() => parseHubArgs(['--listen', '99999'])).toThrow(/out of range/);
    expect(() => parseHubArgs(['--bogus'])).toThrow(/unknown argument/);
  });
});

const qemuGate = toolGate('qemu-system-x86_64', QEMU_HINT);
failWhenMissingInCi(qemuGate, 'qemu-system-x86_64', 'interop with QEMU 7.2');
const haveQemu = qemuGate.run;

describe.skipIf(!haveQemu)('interop with QEMU 7.2', () => {
  it("a hub client's ARP request for 10.0.2.2 is answered by QEMU's slirp joined through -netdev stream", async () => {
    const path = join(dir, 'qemu-lan.sock');
    const hub = new LearningSwitch();
    await hub.listen({ kind: 'unix', path });
    let qemu: ChildProcess | null = null;
    try {
      // QEMU's own hub joins its user-mode network (slirp) to a stream client of our hub
      qemu = spawn('qemu-system-x86_64', [
        '-machine', 'none', '-nodefaults', '-display', 'none', // no CPU: only the network backends run
        '-netdev', 'user,id=u,net=10.0.2.0/24',
        '-netdev', 'hubport,id=hp0,hubid=0,netdev=u',
        '-netdev', `stream,id=s,server=off,addr.type=unix,addr.path=${path}`,
        '-netdev', 'hubport,id=hp1,hubid=0,netdev=s',
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      qemu.stderr!.on('data', (d) => { stderr += d; });
      await until(() => hub.portCount() === 1 || qemu!.exitCode !== null, 20_000);
      expect(qemu.exitCode, stderr).toBe(null);
      const me = await client(`hub,path=${path}`);
      const mac = Uint8Array.of(0x5a, 0x50, 1, 2, 3, 4);
      const arp = new Uint8Array(42);
      arp.set(BROADCAST, 0); arp.set(mac, 6);
      arp.set([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1], 12);
      arp.set(mac, 22); arp.set([10, 0, 2, 15], 28); arp.set([10, 0, 2, 2], 38);
      // QEMU may need a moment before its vCPU runs and its net queue flows: retry
      for (let i = 0; i < 50 && me.got.length === 0; i++) {
        me.b.send(arp);
        await new Promise((r) => setTimeout(r, 100));
      }
      const reply = me.got.find((f) => f[12] === 0x08 && f[13] === 0x06 && f[21] === 2);
      expect(reply, 'no ARP reply from slirp').toBeDefined();
      expect(Array.from(reply!.subarray(0, 6))).toEqual(Array.from(mac)); // to us
      expect(Array.from(reply!.subarray(28, 32))).toEqual([10, 0, 2, 2]); // sender IP: the gateway
      expect(Array.from(reply!.subarray(38, 42))).toEqual([10, 0, 2, 15]);
      expect(hub.macTable().length).toBe(2); // our MAC and slirp's
      await me.b.close();
    } finally {
      qemu?.kill('SIGTERM');
      await hub.close();
    }
  });
});
