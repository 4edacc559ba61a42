// Live migration (docs/MIGRATION.md): a numbered-line pipeline source -> A -> B -> C -> us keeps
// running while its middle stage B is moved 10 times; every line arrives once and in order.
// Bad requests are refused with a clear error and change nothing. Two servers x 3 DIMEs on
// one hub; ORCH_MACHINES=qemu (or emu,qemu) runs it on QEMU too.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import * as W from '../../src/protocol/wire.js';
import type { Lab } from '../../src/orchestrator/lab.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import type { DimeAddress } from '../../src/orchestrator/targets.js';
import { labMachineKindsRequiredUnderCi, numbered, startLabWithOrchestrator } from './lab-orchestrator.js';
import { resolveService } from '../../src/orchestrator/service-source.js';
import type { OrchestratorEvent } from '../../src/orchestrator/events.js';
import type { MigrationReport } from '../../src/orchestrator/migrate.js';

const KEY = 'migrate-key';
const S1 = '52:54:00:00:00:c1';
const S2 = '52:54:00:00:00:c2';
const machines = labMachineKindsRequiredUnderCi('the migration pipeline');
const d = (server: string, core: number): DimeAddress => ({ server, core });

describe.skipIf(machines.length === 0).each(machines)('live migration on %s (2 servers x 3 DIMEs)', (machine) => {
  let lab: Lab;
  let o: Orchestrator;
  let got: Array<{ line: number; text: string; from: string }> = [];
  const onOutput = (e: OrchestratorEvent) => {
    if (e.type === 'output' && e.line !== undefined) got.push({ line: e.line, text: e.text, from: `${e.server}/${e.core}` });
  };
  const A = d(S1, 1), C = d(S2, 1);
  // B's homes: it starts on S1/2, moves to the other server 10 times (the issue's bar), then
  // twice within one server, all while lines flow
  const B_START = d(S1, 2);
  const ACROSS = [d(S2, 2), d(S1, 2), d(S2, 0), d(S1, 0)];
  const MOVES = [...Array.from({ length: 10 }, (_, k) => ACROSS[k % ACROSS.length]), d(S1, 0), d(S1, 2)];
  const B_HOMES = [d(S1, 2), d(S2, 2), d(S2, 0), d(S1, 0)];

  beforeAll(async () => {
    const servers = [{ name: 'S1', mac: S1, cores: 3 }, { name: 'S2', mac: S2, cores: 3 }];
    ({ lab, o } = await startLabWithOrchestrator({ key: KEY, heartbeatMs: 1000, machine, servers }, '02:50:00:00:00:03'));
    o.on('event', onOutput);
  });

  afterAll(async () => {
    await o?.close();
    await lab?.stop();
  });

  it('a pipeline loses, repeats and reorders nothing while its middle stage moves to the other server 10 times, then twice within one', async () => {
    let b = B_START;
    // sinks first: C reads B and writes to us; B reads A and writes to C; A reads us
    await o.deploy(C, { role: 'C', source: resolveService('upper'), input: { kind: 'dime', dime: b }, output: { kind: 'orchestrator' } });
    await o.deploy(b, { role: 'B', source: resolveService('upper'), input: { kind: 'dime', dime: A }, output: { kind: 'dime', dime: C } });
    await o.deploy(A, { role: 'A', source: resolveService('upper'), input: { kind: 'orchestrator' }, output: { kind: 'dime', dime: b } });
    const src = await o.lineSource(A);
    const load = loadavg()[0].toFixed(2);
    const reports: MigrationReport[] = [];
    let TOTAL = 0;
    try {
      // lines flow (one every 50 ms) from before the first move until after the last
      let moving = true;
      const sender = (async () => {
        while (moving || TOTAL < 20) { src.send(numbered(++TOTAL)); await sleep(50); }
        for (let i = 0; i < 10; i++) { src.send(numbered(++TOTAL)); await sleep(50); }
      })();
      try {
        for (const to of MOVES) {
          await sleep(60);
          reports.push(await o.migrate(b, to));
          b = to;
        }
      } catch (e) {
        console.log(`S1 console:\n${(lab.server('S1') as unknown as { machine: { output: string } }).machine.output.slice(-3000)}`);
        throw e;
      } finally {
        moving = false;
        await sender;
      }
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && (got.length < TOTAL || src.unacknowledged > 0)) await sleep(50);
      const lines = got.map((g) => g.line);
      if (lines.length !== TOTAL || lines.some((l, i) => l !== i + 1)) console.log(`got ${lines.length} lines: ${lines.join(',')}`);
      expect(lines).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1)); // 0 lost, 0 duplicated, in order
      expect(got.map((g) => g.text)).toEqual(Array.from({ length: TOTAL }, (_, i) => `${numbered(i + 1).toUpperCase()}\n`));
      expect(src.unacknowledged).toBe(0);
      // B really is where the last migration put it, running, and its old places are idle
      const at = await o.call(b, 'DISCOVER');
      expect(at.fields.state).toBe(W.STATE.RUNNING);
      expect(at.fields.service).toBe('upper');
      for (const other of B_HOMES.filter((x) => x.server !== b.server || x.core !== b.core)) expect((await o.call(other, 'DISCOVER')).fields.state).toBe(W.STATE.IDLE);
      const ms = reports.map((r) => r.downtimeMs);
      const sorted = [...ms].sort((x, y) => x - y);
      const median = (xs: number[]) => { const s = [...xs].sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)].toFixed(1) : '-'; };
      const within = reports.filter((r) => !r.bytes).map((r) => r.downtimeMs), across = reports.filter((r) => r.bytes).map((r) => r.downtimeMs);
      expect([across.length, within.length]).toEqual([10, 2]); // state carried between servers on exactly the 10 cross-server moves
      console.log(`migration on ${machine}: ${reports.length} moves of B (${reports.map((r) => `${r.from}->${r.to}`).join(' ')}); ` +
        `stopped per move (MIGRATE_OUT to RESUME answered) median ${sorted[sorted.length >> 1].toFixed(1)} ms (within a server ${median(within)}, across ${median(across)}), max ${sorted[sorted.length - 1].toFixed(1)} ms; ` +
        `freeze ${reports.map((r) => r.freezeUs).join('/')} us; ${reports.filter((r) => r.restarted).length} frozen in a system call; state carried between servers ${reports.filter((r) => r.bytes).map((r) => r.bytes).join('/')} bytes; ` +
        `${TOTAL} lines, orchestrator dropped ${o.lines.stats.duplicates} duplicates; source resent ${src.stats.resent}; host load ${load} -> ${loadavg()[0].toFixed(2)}`);
    } finally {
      src.close();
    }
  }, 90_000);

  it('bad requests: a busy or unknown target, or a source running nothing, get a clear error and change nothing', async () => {
    const b = (await Promise.all(B_HOMES.map(async (x) => ({ x, st: (await o.call(x, 'DISCOVER')).fields.state })))).find((y) => y.st === W.STATE.RUNNING)!.x;
    const idle = B_HOMES.find((x) => x !== b)!;
    await expect(o.migrate(b, A)).rejects.toThrow(/is busy \(running 'upper'\): nothing moved/);
    await expect(o.migrate(b, d(S1, 7))).rejects.toThrow(/unknown DIME S1\/7: server S1 has 3 DIMEs/);
    await expect(o.migrate(idle, B_HOMES.find((x) => x !== b && x !== idle)!)).rejects.toThrow(/runs nothing .*nothing moved/);
    await expect(o.migrate(b, b)).rejects.toThrow(/already where the service runs/);
    // the kernel checks the same by itself (an orchestrator with an old picture of the DIMEs), for a target on its own server
    const busy = b.server === S1 ? A : C;
    const raw = async (from: DimeAddress, to: DimeAddress) => (await o.link.request(from.server, from.core, 'MIGRATE_OUT', { server: to.server, core: to.core }, { timeoutMs: 3000 }))[0].frame.status;
    expect(await raw(b, busy)).toBe(W.STATUS.BAD_STATE);
    expect(await raw(b, d(b.server, 9))).toBe(W.STATUS.NOT_FOUND);
    expect(await raw(idle, busy)).toBe(W.STATUS.BAD_STATE);
    // across servers, aborted by hand: frozen for export, then MIGRATE_END commit=0 -> it goes on where it was
    const far = b.server === S1 ? d(S2, 2) : d(S1, 2);
    const [out] = await o.link.request(b.server, b.core, 'MIGRATE_OUT', { server: far.server, core: far.core }, { timeoutMs: 3000 });
    expect(out.frame.status).toBe(W.STATUS.OK);
    expect(out.fields.mode).toBe(W.MIGRATE_MODE.EXPORT);
    const first = await o.link.call(b.server, b.core, 'MIGRATE_READ', { offset: 0, length: 64 });
    expect((first.fields.data as Buffer).length).toBe(64);
    // a target fed a state that is not one (bad header) refuses it and goes back to the pool
    const len = out.fields.stateLen as number;
    await o.link.call(far.server, far.core, 'MIGRATE_IN', { stateLen: len, crc32: 0 });
    const [bad] = await o.link.request(far.server, far.core, 'MIGRATE_CHUNK', { offset: 0, data: Buffer.alloc(Math.min(len, W.MAX_PAYLOAD - 8), 0xa5) }, { timeoutMs: 3000 });
    expect(bad.frame.status).toBe(W.STATUS.OK); // the header is not complete yet
    let st = W.STATUS.OK as number;
    for (let off = W.MAX_PAYLOAD - 8; off < len && st === W.STATUS.OK; off += W.MAX_PAYLOAD - 8) {
      st = (await o.link.request(far.server, far.core, 'MIGRATE_CHUNK', { offset: off, data: Buffer.alloc(Math.min(len - off, W.MAX_PAYLOAD - 8), 0xa5) }, { timeoutMs: 3000 }))[0].frame.status;
    }
    expect(st).toBe(W.STATUS.MALFORMED);
    expect((await o.call(far, 'DISCOVER')).fields.state).toBe(W.STATE.IDLE);
    await o.link.call(b.server, b.core, 'MIGRATE_END', { commit: 0, pad: 0, core: far.core, server: far.server });
    // nothing changed: B and A run where they ran, the pipeline still carries a line end to end
    expect((await o.call(b, 'DISCOVER')).fields.state).toBe(W.STATE.RUNNING);
    expect((await o.call(A, 'DISCOVER')).fields.state).toBe(W.STATE.RUNNING);
    const src = await o.lineSource(A);
    try {
      got = [];
      src.send('still here');
      for (let i = 0; i < 100 && got.length < 1; i++) await sleep(50);
      expect(got.map((g) => g.text)).toEqual(['STILL HERE\n']);
    } finally {
      src.close();
    }
  }, 60_000);
});
