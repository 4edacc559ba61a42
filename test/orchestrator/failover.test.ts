// Pipelines that lose nothing (docs/PROTOCOL.md, "Pipelines that lose nothing"): numbered
// lines go source -> stage A -> stage B -> orchestrator at least once, every receiver drops
// what it has seen, and a stage's unacknowledged lines are held by the stage before it. Two
// emulated servers x 3 DIMEs on one hub; ORCH_MACHINES=qemu (or emu,qemu) runs it on QEMU.
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as W from '../../src/protocol/wire.js';
import type { Lab } from '../../src/orchestrator/lab.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { dimeKey, type DimeAddress } from '../../src/orchestrator/targets.js';
import { labMachineKindsRequiredUnderCi, numbered, startLabWithOrchestrator } from './lab-orchestrator.js';
import { resolveService } from '../../src/orchestrator/service-source.js';
import { PolicyEngine } from '../../src/orchestrator/policy/engine.js';
import { parsePolicy } from '../../src/orchestrator/policy/policy-file.js';
import { linePayload, type LineSource } from '../../src/orchestrator/line-stream.js';
import { describeEvent, type OrchestratorEvent } from '../../src/orchestrator/events.js';

const KEY = 'failover-key';
const HB = 500;
const S1 = '52:54:00:00:00:b1';
const S2 = '52:54:00:00:00:b2';
const machines = labMachineKindsRequiredUnderCi('the failover pipeline');

describe.skipIf(machines.length === 0).each(machines)('pipelines that lose nothing on %s (2 servers x 3 DIMEs)', (machine) => {
  let lab: Lab;
  let o: Orchestrator;
  const d = (server: string, core: number): DimeAddress => ({ server, core });
  /** numbered lines that reached the orchestrator, in arrival order */
  let got: Array<{ line: number; text: string; from: string; at: number }> = [];
  const onOutput = (e: OrchestratorEvent) => {
    if (e.type === 'output' && e.line !== undefined) got.push({ line: e.line, text: e.text, from: `${e.server}/${e.core}`, at: e.at });
  };

  beforeAll(async () => {
    const servers = [{ name: 'S1', mac: S1, cores: 3 }, { name: 'S2', mac: S2, cores: 3 }];
    ({ lab, o } = await startLabWithOrchestrator({ key: KEY, heartbeatMs: HB, machine, servers }, '02:50:00:00:00:02'));
    o.on('event', onOutput);
  });

  afterAll(async () => {
    await o?.close();
    await lab?.stop();
  });

  beforeEach(async () => {
    got = [];
    o.lines.acking = true;
    await o.reset({ server: S1, core: null });
    if (lab.server('S2').running) await o.reset({ server: S2, core: null });
  });

  it('a duplicated, out-of-order or replayed numbered line is dropped and counted, by the DIME and by the orchestrator', async () => {
    const stage = d(S1, 1);
    await o.deploy(stage, { role: 'shout', source: resolveService('upper'), input: { kind: 'orchestrator' }, output: { kind: 'orchestrator' } });
    const src = await o.lineSource(stage, 4242);
    try {
      const before = (await o.call(stage, 'QUERY_SECURITY')).fields;
      const resent0 = src.stats.resent;
      for (let i = 1; i <= 3; i++) src.send(numbered(i));
      for (let i = 0; i < 100 && (got.length < 3 || src.unacknowledged > 0); i++) await sleep(50);
      expect(got.map((g) => g.text)).toEqual(['LINE 0001\n', 'LINE 0002\n', 'LINE 0003\n']);
      expect(got.map((g) => g.line)).toEqual([1, 2, 3]);
      expect(src.unacknowledged).toBe(0); // the stage acknowledged them once we had them
      const seq = W.messageByName('STREAM_SEQ');
      const send = (line: number, restart: boolean, text: string) =>
        o.link.send({ dstMac: S1, channel: 'data', scope: 'dime', code: seq.code, dstCore: 1, payload: linePayload(4242, line, restart, Buffer.from(text)) });
      const dup = send(2, false, 'line 0002 again\n'); // a duplicate (fresh frame, old line number)
      send(1, true, 'line 0001 restarted\n'); // a sender restarting behind what the DIME has
      send(9, false, 'line 0009\n'); // a gap: 4..8 never came
      o.link.backend.send(dup); // the same frame verbatim: a replay (header sequence), dropped before its line is read
      send(4, false, 'two\nlines\n'); // not one line
      src.send(numbered(4)); // in order: taken
      for (let i = 0; i < 100 && (got.length < 4 || src.unacknowledged > 0); i++) await sleep(50);
      await sleep(300);
      const after = (await o.call(stage, 'QUERY_SECURITY')).fields;
      // the two above, and any line the source sent again because its acknowledgment was slow
      const dupCount = (after.lineDuplicates as number) - (before.lineDuplicates as number);
      expect(dupCount).toBeGreaterThanOrEqual(2);
      expect(dupCount).toBeLessThanOrEqual(2 + src.stats.resent - resent0);
      expect((after.lineGaps as number) - (before.lineGaps as number)).toBe(1);
      expect((after.lineRefused as number) - (before.lineRefused as number)).toBe(1);
      expect((after.replayed as number) - (before.replayed as number)).toBe(1);
      expect(got.map((g) => g.text)).toEqual(['LINE 0001\n', 'LINE 0002\n', 'LINE 0003\n', 'LINE 0004\n']);

      // the orchestrator's end: it stops acknowledging, so the DIME holds what it sends; the
      // DIME's output route set again makes it send the held lines again (RESTART): the
      // orchestrator drops them as duplicates, counts them, and acknowledges again
      o.lines.acking = false;
      src.send(numbered(5));
      src.send(numbered(6));
      for (let i = 0; i < 100 && got.length < 6; i++) await sleep(50);
      expect(got.slice(4).map((g) => g.line)).toEqual([5, 6]);
      const held = (await o.call(stage, 'QUERY_SECURITY')).fields.linesHeld as number;
      expect(held).toBe(2);
      const dups = o.lines.stats.duplicates;
      o.lines.acking = true;
      await o.setRoute(stage, 'output', { kind: 'orchestrator' });
      for (let i = 0; i < 100 && o.lines.stats.duplicates < dups + 2; i++) await sleep(50);
      expect(o.lines.stats.duplicates - dups).toBeGreaterThanOrEqual(2); // a stall resend may add some
      for (let i = 0; i < 100 && src.unacknowledged > 0; i++) await sleep(50);
      expect(src.unacknowledged).toBe(0);
      expect((await o.call(stage, 'QUERY_SECURITY')).fields.linesHeld).toBe(0);
      expect(got.map((g) => g.line)).toEqual([1, 2, 3, 4, 5, 6]); // each once
    } finally {
      src.close();
    }
  });

  // last: it takes S2 away for good
  it('kill S2 mid-pipeline: stage B comes back on S1, every numbered line arrives exactly once and in order', async () => {
    const a = d(S1, 1);
    const b = d(S2, 1);
    const t0 = Date.now();
    // what the test is doing now, and what it saw: a step that does not finish fails well before
    // vitest's timeout with the step's name and the timeline (heartbeat gaps, missing/back,
    // policy actions, failed commands) so a failure says what it was waiting for
    let step = 'deploying B and A';
    let killedAt = 0;
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const timeline = () => {
      const rel = (at: number) => `${String(at - t0).padStart(6)} ms`;
      const lastBeat = new Map<string, number>();
      const rows: string[] = [];
      for (const e of o.recentEvents(2000, (x) => x.at >= t0)) {
        const who = 'server' in e ? `${o.names.label(e.server)}/${e.core ?? '*'}` : '';
        if (e.type === 'heartbeat') {
          const prev = lastBeat.get(who);
          lastBeat.set(who, e.at);
          if (prev !== undefined && e.at - prev > 2 * HB) rows.push(`${rel(e.at)} ${who} heartbeat ${e.at - prev} ms after the one before (${e.service || 'idle'})`);
        } else if (e.type === 'missing' || e.type === 'back' || e.type === 'policy' || e.type === 'exit' || (e.type === 'command' && (!e.ok || e.command === 'deploy' || e.command === 'start'))) {
          rows.push(`${rel(e.at)} ${describeEvent(e)}`);
        }
      }
      if (killedAt) rows.push(`${rel(killedAt)} S2 stopped`);
      rows.sort((x, y) => parseInt(x) - parseInt(y));
      const where = [...o.assignments.entries()].map(([k, x]) => `${x.role}@${k}`).join(' ');
      return `at step '${step}' (${Date.now() - t0} ms in; ${got.length} lines back; source holds ${src?.unacknowledged ?? '-'}; ` +
        `assignments ${where}; orchestrator event loop delay max ${(lag.max / 1e6).toFixed(0)} ms; host load ${loadavg()[0].toFixed(2)})\n` +
        `${rows.length > 120 ? `(${rows.length - 120} earlier rows left out)\n` : ''}${rows.slice(-120).join('\n')}`;
    };
    const waitUntil = async (what: string, ms: number, done: () => boolean, every = 20) => {
      step = what;
      const until = Date.now() + ms;
      while (!done()) {
        if (Date.now() > until) throw new Error(`gave up after ${ms} ms ${timeline()}`);
        await sleep(every);
      }
    };
    let src: LineSource | undefined;
    // sinks first: B reads A and writes to us; A reads us and writes to B
    await o.deploy(b, { role: 'B', source: resolveService('upper'), input: { kind: 'dime', dime: a }, output: { kind: 'orchestrator' } });
    await o.deploy(a, { role: 'A', source: resolveService('upper'), input: { kind: 'orchestrator' }, output: { kind: 'dime', dime: b } });
    /** where B runs now (the fault policy may move it) */
    const whereB = () => [...o.assignments.entries()].find(([, x]) => x.role === 'B')?.[0];
    const beatOfB = (since: number) => (e: OrchestratorEvent) => e.type === 'heartbeat' && e.at > since && `${e.server}/${e.core}` === whereB() && e.service === 'upper';
    await waitUntil('waiting for B\'s first heartbeat', 5000, () => o.recentEvents(50, beatOfB(t0)).length > 0, 50);
    step = 'starting the line source';
    src = await o.lineSource(a);
    const engine = new PolicyEngine(o, parsePolicy('fault missed=2.5 prefer=same-server services=B\ncheck every=50'));
    // until S2 is stopped, S1's free DIMEs are reserved: on a loaded host a late heartbeat looks
    // like a missing one and the policy moves B (it should), but a B moved to S1 before the kill
    // leaves nothing for this test to see; moved within S2 it still goes down with S2
    const s1Free = [d(S1, 0), d(S1, 2)].map(dimeKey);
    for (const k of s1Free) o.reserved.add(k);
    engine.start();
    const TOTAL = 100;
    const KILL_AT = 30;
    const load = loadavg()[0].toFixed(2);
    try {
      let killed: Promise<void> | undefined;
      let killedB: string | undefined;
      for (let i = 1; i <= TOTAL; i++) {
        step = `sending line ${i}`;
        src.send(numbered(i));
        if (i === KILL_AT) {
          // half an interval after one of B's heartbeats (where a failure at a random moment falls
          // on average; one right after a beat is noticed up to half an interval later: the
          // 'after the last heartbeat' figure printed below); the whole machine goes away with
          // lines in flight. B's next heartbeat is looked for wherever B is now: on a loaded
          // host the fault policy may already have moved it (a late heartbeat looks like a
          // missing one); a heartbeat that never comes is an error naming this step
          const since = Date.now();
          killed = (async () => {
            const until = Date.now() + 30 * HB;
            while (!o.recentEvents(50, beatOfB(since)).length) {
              if (Date.now() > until) throw new Error(`no heartbeat from B (${whereB()}) within ${30 * HB} ms of line ${KILL_AT} ${timeline()}`);
              await sleep(5);
            }
            await sleep(HB / 2);
            killedB = whereB();
            for (const k of s1Free) o.reserved.delete(k);
            killedAt = Date.now();
            await lab.server('S2').stop();
          })();
          killed.catch(() => undefined); // awaited below
        }
        await sleep(50); // 20 lines/s, as in the issue
        // the kill must fall mid-pipeline: when B's heartbeat is late (a loaded host), hold
        // the rest of the lines until S2 is gone
        if (i === KILL_AT + 20 && !killedAt) {
          step = `line ${i} sent, waiting for B's heartbeat to stop S2`;
          await killed;
        }
      }
      step = 'killing S2';
      await killed;
      expect(killedB?.startsWith(S2), `B was on S2 when S2 was stopped (it was on ${killedB}) ${timeline()}`).toBe(true);
      await waitUntil(`waiting for B to leave S2, and for all ${TOTAL} lines and their acknowledgments`, 20_000,
        () => !whereB()?.startsWith(S2) && got.length >= TOTAL && src!.unacknowledged === 0, 100).catch((e) => console.log((e as Error).message));
      step = 'checking';
      const oldB = o.model.dimes.get(killedB!)!;
      const lastBeat = oldB.lastBeatAt!;
      const lines = got.map((g) => g.line);
      if (lines.length !== TOTAL || lines.some((l, i) => l !== i + 1)) console.log(`got ${lines.length} lines: ${lines.join(',')}\n${timeline()}`);
      const moved = whereB();
      expect(moved, `B was re-instantiated ${timeline()}`).toBeDefined();
      const newKey = moved!;
      expect(newKey.startsWith(S1), `B is on ${newKey} ${timeline()}`).toBe(true);
      // exactly once, in order
      expect(got.map((g) => g.line)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
      expect(got.map((g) => g.text)).toEqual(Array.from({ length: TOTAL }, (_, i) => `${numbered(i + 1).toUpperCase()}\n`));
      expect(src.unacknowledged).toBe(0);
      // resumed: the first line that came from the new B, after the last heartbeat of the old one
      const first = got.find((g) => g.from === newKey && g.at >= killedAt)!; // (B may have been there before, on a false alarm)
      expect(first).toBeDefined();
      const resumedMs = first.at - lastBeat;
      const fromKillMs = first.at - killedAt;
      const stalledBefore = got.filter((g) => g.from.startsWith(S2)).length;
      const aSec = (await o.call(a, 'QUERY_SECURITY')).fields;
      console.log(`failover on ${machine}: S2 stopped with B on ${o.label(oldB)} ${killedAt - lastBeat} ms after B's last heartbeat; pipeline resumed ${fromKillMs} ms after the kill, ` +
        `${resumedMs} ms after the last heartbeat (limit ${3 * HB} = 3 heartbeats); ${stalledBefore} lines came through S2, ${TOTAL - stalledBefore} through the new B; ` +
        `orchestrator dropped ${o.lines.stats.duplicates} duplicates, ${o.lines.stats.gaps} gaps; A: ${aSec.lineDuplicates} duplicates, ${aSec.lineGaps} gaps, ` +
        `${aSec.lineRefused} refused; source resent ${src.stats.resent}; host load ${load} -> ${loadavg()[0].toFixed(2)}; orchestrator event loop delay max ${(lag.max / 1e6).toFixed(0)} ms`);
      const t = (e: OrchestratorEvent | undefined) => (e ? `${e.at - lastBeat}` : '-');
      const evs = o.recentEvents(2000);
      const missing = evs.find((e) => e.type === 'missing' && `${e.server}/${e.core}` === killedB && e.at >= killedAt);
      const started = evs.find((e) => e.type === 'command' && e.command === 'start' && e.ok && `${e.server}/${e.core}` === newKey && e.at >= killedAt);
      const rewired = evs.find((e) => e.type === 'policy' && e.ok && /re-instantiated 'B'/.test(e.action) && e.at >= killedAt);
      console.log(`  timeline after B's last heartbeat (ms): missing ${t(missing)}, new B running ${t(started)}, A rewired ${t(rewired)}, first new line ${resumedMs}`);
      expect(fromKillMs, timeline()).toBeLessThanOrEqual(3 * HB);
    } finally {
      for (const k of s1Free) o.reserved.delete(k);
      lag.disable();
      engine.stop();
      src.close();
    }
  });
});
