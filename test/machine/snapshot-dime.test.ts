// Issue 15: a running 4-core DIME server with a service is saved through QMP (savevm), the
// process ends, and a new process restores it (-loadvm): the orchestrator finds the server
// again, the service still runs with its routes and answers, and the server has a new epoch
// (its restored memory must not reuse sequence numbers peers saw after the snapshot). A
// damaged or truncated snapshot file is refused with a clear error. It runs twice: saved with
// one core per worker and restored with two per worker (--cores-per-worker), and the other way.
import { describe, it, expect, afterAll, beforeAll, onTestFinished } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EMULATOR_CLI, MachineProcess, machineCommand } from '../../src/orchestrator/launcher.js';
import { LearningSwitch } from '../../src/net/learning-switch.js';
import { serverKeyFile } from '../../src/protocol/keys.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { openLan } from '../../src/orchestrator/attach.js';
import { ServerNames } from '../../src/orchestrator/targets.js';
import { resolveService } from '../../src/orchestrator/service-source.js';
import type { OrchestratorEvent } from '../../src/orchestrator/events.js';
import { QmpClient } from '../qmp/qmp-client.js';

const KEY = 'snapshot-test-key';
const S1 = '52:54:00:00:05:01';
const CORES = 4;

describe.skipIf(!existsSync(EMULATOR_CLI))('savevm of a running DIME server, restored in a new process', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'px-snap-'));
  const hubPath = path.join(dir, 'lan.sock');
  const hub = new LearningSwitch();
  const keyFile = path.join(dir, 'S1.key');
  const procs: MachineProcess[] = [];
  let o: Orchestrator | null = null;

  const server = (extra: string[], coresPerWorker?: number): MachineProcess => {
    const [cmd, args] = machineCommand({ kind: 'emu', cores: CORES, memMiB: 256, append: 'hb=300 perf=0', net: `hub,path=${hubPath}`, mac: S1, name: 'S1', keyFile, coresPerWorker });
    const p = new MachineProcess(cmd, [...args, '--snapshot-dir', dir, ...extra], `S1 ${extra.join(' ')}`);
    procs.push(p);
    return p;
  };

  afterAll(async () => {
    await o?.close();
    await Promise.all(procs.map((p) => p.stop()));
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeAll(async () => {
    await hub.listen({ kind: 'unix', path: hubPath });
    writeFileSync(keyFile, serverKeyFile(KEY, S1), { mode: 0o600 });
    chmodSync(keyFile, 0o600);
  });

  it.each([[1, 2], [2, 1]])('keeps the service, its routes and the orchestrator\'s view; the epoch is new (saved with %i, restored with %i cores per worker)', async (savedPer, restoredPer) => {
    await o?.close();
    const qmpPath = path.join(dir, `qmp-${savedPer}.sock`);
    const first = server(['-qmp', `unix:${qmpPath},server,wait=off`], savedPer);
    onTestFinished(() => first.stop());
    await first.waitFor(new RegExp(`DIME ready: ${CORES} cores`), 90_000);

    o = new Orchestrator(await openLan(`hub,path=${hubPath}`), { key: KEY, mac: '02:50:00:00:05:d0', names: new ServerNames({ S1 }) });
    let found = await o.discover();
    for (let i = 0; i < 5 && found.filter((v) => v.server === S1).length < CORES; i++) found = await o.discover();
    const shout = { server: S1, core: 2 };
    await o.deploy(shout, { role: 'shout', source: resolveService('upper'), input: { kind: 'orchestrator' }, output: { kind: 'orchestrator' } });
    const outputs: string[] = [];
    o.on('event', (e: OrchestratorEvent) => { if (e.type === 'output' && e.server === S1 && e.core === 2) outputs.push(e.text); });
    const fedAndAnswered = async (word: string) => {
      const deadline = Date.now() + 20_000;
      while (!outputs.includes(word.toUpperCase()) && Date.now() < deadline) {
        await o!.feedChecked(shout, word);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(outputs, `no ${word.toUpperCase()} from the service`).toContain(word.toUpperCase());
    };
    await fedAndAnswered('before');
    const epochBefore = (await o.call(shout, 'QUERY_SECURITY')).fields.epochNow as bigint;

    const qmp = await QmpClient.connect(qmpPath);
    expect(await qmp.execute('qmp_capabilities')).toEqual({ return: {} });
    // QEMU 7.2's snapshot-save job (the tag names the file in --snapshot-dir)
    expect(await qmp.execute('snapshot-save', { 'job-id': 'save1', tag: 'booted', vmstate: 'none', devices: [] })).toEqual({ return: {} });
    const deadlineJob = Date.now() + 60_000;
    while (!qmp.events.some((e) => e.event === 'JOB_STATUS_CHANGE' && (e.data as { status: string }).status === 'concluded') && Date.now() < deadlineJob) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const jobs = (await qmp.execute('query-jobs')).return as { id: string; status: string; error?: string }[];
    expect(jobs).toEqual([expect.objectContaining({ id: 'save1', type: 'snapshot-save', status: 'concluded' })]);
    expect(jobs[0].error).toBeUndefined();
    expect(await qmp.execute('job-dismiss', { id: 'save1' })).toEqual({ return: {} });
    expect(existsSync(path.join(dir, 'booted.pxsnap'))).toBe(true);
    const list = await qmp.execute('human-monitor-command', { 'command-line': 'info snapshots' });
    expect(String(list.return)).toMatch(/booted/);
    // the machine runs on after the save
    expect((await qmp.execute('query-status')).return).toMatchObject({ status: 'running' });
    await fedAndAnswered('during');
    // loadvm in the same process (the monitor's command): back to the saved state, running
    const loaded = await qmp.execute('human-monitor-command', { 'command-line': 'loadvm booted' });
    expect(String(loaded.return)).toMatch(/loaded 'booted'/);
    expect((await qmp.execute('query-status')).return).toMatchObject({ status: 'running' });
    await fedAndAnswered('again');
    expect((await o.call(shout, 'QUERY_SECURITY')).fields.epochNow as bigint).not.toBe(epochBefore);
    // a save through the human monitor too
    expect(String((await qmp.execute('human-monitor-command', { 'command-line': 'savevm second' })).return)).toMatch(/saved 'second'/);
    qmp.close();
    await first.stop();

    const restored = server(['-loadvm', 'booted'], restoredPer);
    onTestFinished(() => restored.stop()); // the next case boots a server with the same MAC
    await restored.waitFor(/restored snapshot 'booted'/, 60_000);
    // the orchestrator that knew the server finds it again with the same service
    const deadline = Date.now() + 30_000;
    let view = o.model.get(shout);
    for (;;) {
      await o.discover(S1);
      view = o.model.get(shout);
      if ((view?.service === 'upper') || Date.now() > deadline) break;
    }
    expect(view?.service).toBe('upper');
    await fedAndAnswered('after');
    const epochAfter = (await o.call(shout, 'QUERY_SECURITY')).fields.epochNow as bigint;
    expect(epochAfter).not.toBe(epochBefore);
    expect(restored.output).toMatch(/restored from a snapshot \(VM generation changed\): new epoch/);
    expect(restored.running).toBe(true);
  }, 240_000);

  it('refuses a damaged, a truncated and a foreign snapshot file with a clear error', async () => {
    const good = path.join(dir, 'booted.pxsnap');
    expect(existsSync(good), 'the first test saves booted.pxsnap').toBe(true);
    const bytes = readFileSync(good);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 100] ^= 0x40;
    const cases: [string, Buffer, RegExp][] = [
      ['flipped.pxsnap', flipped, /checksum mismatch: the file is damaged/],
      ['short.pxsnap', bytes.subarray(0, bytes.length - 4096), /truncated: the header announces \d+ bytes, the file has \d+/],
      ['foreign.pxsnap', Buffer.from('not a snapshot at all, just some text that is long enough to have a header'), /not a parallax-emu snapshot/],
    ];
    for (const [name, data, re] of cases) {
      writeFileSync(path.join(dir, name), data);
      const p = server(['-incoming', `file:${path.join(dir, name)}`]);
      const code = await p.exited;
      expect(code, p.output).toBe(2);
      expect(p.output).toMatch(re);
    }
    // a snapshot of another machine shape
    const [cmd, args] = machineCommand({ kind: 'emu', cores: 2, memMiB: 256, net: 'none', name: 'S1' });
    const p = new MachineProcess(cmd, [...args, '-incoming', `file:${good}`], 'wrong shape');
    procs.push(p);
    expect(await p.exited, p.output).toBe(2);
    expect(p.output).toMatch(/the snapshot is of 4 cores, this machine has 2 \(give -smp 4\)/);
  }, 120_000);
});
