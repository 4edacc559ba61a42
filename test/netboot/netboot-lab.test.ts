// Network boot (docs/BOOT.md, "Network boot"): a lab of three parallax-emu servers, all with
// `-boot n` and no kernel, boots the DIME kernel from one `parallax-orch boot-server`; each
// DIME server then answers the orchestrator (`parallax-orch ps` lists every one). On the same
// LAN the test answers every request first with an offer signed with another master secret (a
// rogue boot server), an unsigned offer and a correctly signed offer from another epoch (a
// replay of an earlier request's answer): every firmware refuses and counts them, keeps asking,
// and boots the real image once the real boot server joins. A boot server started with another
// master secret cannot verify the requests and refuses them all.
// The boot server refuses a forged request and a replayed one. QEMU 7.2 runs the same
// firmware (as -kernel, with an e1000 on the same hub) beside them: the oracle.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as W from '../../src/protocol/wire.js';
import { PxCodec, encodePayload } from '../../src/protocol/codec.js';
import { serverKeyFile } from '../../src/protocol/keys.js';
import { openLan } from '../../src/orchestrator/attach.js';
import { BootServer } from '../../src/orchestrator/boot-server.js';
import { DEFAULT_IMAGE, launchHub, launchMachine, repoRoot, type MachineProcess } from '../../src/orchestrator/launcher.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import type { NetBackend } from '../../src/net/net-backend.js';
import { captureIO } from '../orchestrator/cli-io.js';
import { Proc } from '../net/processes.js';
import { until } from '../lib/until.js';
import { QEMU_HINT, failWhenMissingInCi, toolGate } from '../tool-gate.js';

const ORCH_CLI = path.join(repoRoot(), 'dist/src/cli/parallax.js');
const qemu = toolGate('qemu-system-x86_64', QEMU_HINT);
failWhenMissingInCi(qemu, 'qemu-system-x86_64', 'network boot on QEMU (the oracle)');

interface Server { name: string; mac: string; cores: number; kind: 'emu' | 'qemu'; m?: MachineProcess; started?: number; readyMs?: number }
const servers: Server[] = [
  { name: 'S1', mac: '52:54:00:4e:42:01', cores: 2, kind: 'emu' },
  { name: 'S2', mac: '52:54:00:4e:42:02', cores: 1, kind: 'emu' },
  { name: 'S3', mac: '52:54:00:4e:42:03', cores: 1, kind: 'emu' },
  ...(qemu.run ? [{ name: 'Q1', mac: '52:54:00:4e:42:11', cores: 2, kind: 'qemu' as const }] : []),
];

const BOOT_REQUEST = W.messageByName('BOOT_REQUEST');
const APPEND = 'console=ttyS0 netboot-lab';

let dir: string;
let sock: string;
let master: string;
let hub: MachineProcess;
let bootServer: Proc;
let rogue: BootServer;
let injector: NetBackend;
/** the last BOOT_REQUEST heard from each server: the one the boot server answered (replayed to it later) */
const lastRequest = new Map<string, Buffer>();
const injected = { unsigned: 0, otherEpoch: 0 };
const rogueOffered = new Set<string>();

describe('network boot: a lab of three -boot n servers and one boot server', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'px-netboot-'));
    sock = path.join(dir, 'lan.sock');
    master = randomBytes(32).toString('hex');
    writeFileSync(path.join(dir, 'master.key'), `${master}\n`, { mode: 0o600 });
    hub = await launchHub(sock);
    // a boot server that does not hold the orchestrators' master secret: it cannot verify the
    // requests, so it refuses them (counted); a rogue that answers anyway is the injector below
    rogue = new BootServer(await openLan(`hub,path=${sock}`), { key: randomBytes(32).toString('hex'), mac: '02:66:00:00:00:01', image: { bytes: Buffer.from('rogue image'), name: 'rogue', cmdline: '' } });
    // for every request: an offer signed with another master secret (a rogue boot server), an
    // unsigned one, and one signed right but in another epoch (a replay of an earlier answer)
    const codec = new PxCodec({ key: master });
    const rogueCodec = new PxCodec({ key: randomBytes(32) });
    injector = await openLan(`hub,path=${sock}`);
    let seq = 1n;
    injector.onReceive((raw) => {
      const f = codec.decode(Buffer.from(raw));
      if (!f || f.channel !== 'signaling' || f.code !== BOOT_REQUEST.code || f.dstMac !== W.BOOT.multicastMac || !f.authentic) return;
      lastRequest.set(f.srcMac, Buffer.from(raw));
      const payload = encodePayload(BOOT_REQUEST.response!, { size: 4096, chunk: W.BOOT.chunk, sha256: Buffer.alloc(32), name: 'evil', cmdline: '' });
      const offer = (epoch: bigint, c = codec) => c.encode({ dstMac: f.srcMac, srcMac: c === codec ? '02:66:00:00:00:02' : '02:66:00:00:00:03', channel: 'signaling', scope: 'system', code: BOOT_REQUEST.code,
        flags: W.FLAGS.RESPONSE, dstCore: 0, seq: ++seq, reqId: f.reqId, epoch, payload });
      const unsigned = offer(f.epoch);
      unsigned.fill(0, unsigned.length - W.TAG_LEN);
      injector.send(unsigned);
      injected.unsigned++;
      injector.send(offer(f.epoch ^ 0x5a5an));
      injected.otherEpoch++;
      injector.send(offer(f.epoch, rogueCodec));
      rogueOffered.add(f.srcMac);
    });
    for (const s of servers) {
      const keyFile = path.join(dir, `${s.name}.key`);
      writeFileSync(keyFile, serverKeyFile(master, s.mac), { mode: 0o600 });
      s.started = Date.now();
      s.m = launchMachine({ kind: s.kind, cores: s.cores, memMiB: 64, net: `hub,path=${sock}`, mac: s.mac, keyFile, netBoot: true, name: s.name }, `${s.kind} ${s.name}`);
    }
    // the real boot server joins only once every firmware has been answered by the rogue and the
    // injector: each one then surely saw (and refused) them, and kept asking
    await until(() => rogueOffered.size === servers.length && lastRequest.size === servers.length, 240_000, 'a BOOT_REQUEST from every server');
    bootServer = new Proc('boot-server', process.execPath, [ORCH_CLI, 'boot-server', '--net', `hub,path=${sock}`, '--key-file', path.join(dir, 'master.key'),
      '--state', 'none', '--json', '--image', DEFAULT_IMAGE, '--append', APPEND, '--name', 'dime.elf']);
  }, 300_000);

  afterAll(async () => {
    for (const s of servers) await s.m?.stop();
    await rogue?.close();
    await injector?.close();
    await bootServer?.stop();
    await hub?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every server fetches the signed image, refuses the forged and replayed offers, and boots the DIME kernel with the sent command line', async () => {
    await Promise.all(servers.map(async (s) => {
      await s.m!.waitFor(/DIME ready: \d+ cores/, 420_000);
      s.readyMs = Date.now() - s.started!;
    }));
    for (const s of servers) {
      const out = s.m!.output;
      const v = /netboot: image verified \(SHA-256, (\d+) chunks.*refused (\d+) forged, (\d+) replayed/.exec(out);
      expect(v, `${s.name} firmware transcript:\n${out.slice(0, 3000)}`).not.toBeNull();
      expect(Number(v![1])).toBe(Math.ceil(statSync(DEFAULT_IMAGE).size / W.BOOT.chunk));
      // the rogue boot server's offer and the injected unsigned one: bad tags; the other epoch: a replay
      expect(Number(v![2]), `${s.name}: forged offers refused`).toBeGreaterThanOrEqual(2);
      expect(Number(v![3]), `${s.name}: replayed offers refused`).toBeGreaterThanOrEqual(1);
      expect(out).toMatch(/refused a boot frame from 02:66:00:00:00:03: bad tag/);
      expect(out).not.toMatch(/offer from 02:66/);
      expect(out).toContain(`cmdline: dime.elf ${APPEND}`);
      expect(out).toContain(`DIME ready: ${s.cores} cores`);
    }
    expect(injected.unsigned).toBeGreaterThanOrEqual(servers.length);
    // the boot server without the master secret could not verify one request, and answered none
    expect(rogue.stats.refusedForged).toBeGreaterThanOrEqual(servers.length);
    expect(rogue.stats.offers).toBe(0);
    const load = loadavg().map((x) => x.toFixed(1)).join(' ');
    console.log(`network boot, ${servers.length} servers, host load ${load}: ` + servers.map((s) => `${s.name} (${s.kind}, ${s.cores} cores) ready after ${(s.readyMs! / 1000).toFixed(1)} s`).join(', '));
  }, 480_000);

  it('each network-booted DIME server answers the orchestrator (parallax-orch ps)', async () => {
    const io = captureIO('', { PARALLAX_KEY_FILE: path.join(dir, 'master.key') });
    const code = await runCli(['--net', `hub,path=${sock}`, '--state', 'none', '--json', '--timeout', '5000', 'ps', '--wait', '3000', '--listen', '500'], io);
    expect(code, io.err()).toBe(0);
    const dimes = (JSON.parse(io.out()) as { dimes: Array<{ mac: string; core: number }> }).dimes;
    for (const s of servers) {
      const mine = dimes.filter((d) => d.mac === s.mac);
      expect(mine.map((d) => d.core).sort(), `${s.name} in ps:\n${io.out()}`).toEqual([...Array(s.cores).keys()]);
    }
  }, 60_000);

  it('the boot server refuses a forged request and a replayed one, and counts what it served', async () => {
    // a request for a server that is not on the LAN, tagged with a key the orchestrators never derived
    const forger = new PxCodec({ key: randomBytes(32) });
    injector.send(forger.encode({ dstMac: W.BOOT.multicastMac, srcMac: '52:54:00:4e:42:99', channel: 'signaling', scope: 'system', code: BOOT_REQUEST.code, dstCore: W.CORE_NONE, srcCore: 0,
      seq: 1n << 62n, epoch: 7n, payload: encodePayload(BOOT_REQUEST.request!, { firmware: W.BOOT.firmwareVersion }) }));
    // S3's request that the boot server answered, captured on the LAN, sent again once S3 is gone (the hub refuses a live station's MAC from another port)
    const s3 = servers.find((s) => s.name === 'S3')!;
    await s3.m!.stop();
    await new Promise((r) => setTimeout(r, 300));
    injector.send(lastRequest.get(s3.mac)!);
    await new Promise((r) => setTimeout(r, 1500));
    await bootServer.stop();
    const lines = bootServer.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const refusals = lines.filter((l) => l.type === 'refused');
    expect(refusals.some((l) => l.why === 'forged' && l.mac === '52:54:00:4e:42:99'), bootServer.out).toBe(true);
    expect(refusals.some((l) => l.why === 'replayed' && l.mac === s3.mac), bootServer.out).toBe(true);
    const summary = lines[lines.length - 1];
    expect(summary.served).toBeGreaterThanOrEqual(servers.length);
    expect(summary.refusedForged).toBeGreaterThanOrEqual(1);
    expect(summary.refusedReplayed).toBeGreaterThanOrEqual(1);
    expect(summary.sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 30_000);
});
