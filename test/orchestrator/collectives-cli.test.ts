// The collective verbs through the command line (docs/COLLECTIVES.md): `launch SERVICE --on N`
// puts an image on N DIMEs spread over two servers and starts it on all of them; `barrier`
// waits for every DIME; `heartbeat` names exactly the DIMEs of a server that was killed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Lab } from '../../src/orchestrator/lab.js';
import type { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import * as W from '../../src/protocol/wire.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { labMachineKinds, startLabWithOrchestrator } from './lab-orchestrator.js';
import { captureIO } from './cli-io.js';

const KEY = 'collectives-cli-key';
const S1 = '52:54:00:00:07:a1';
const S2 = '52:54:00:00:07:a2';
const CLI_MAC = '02:50:00:00:07:c1';
const machines = labMachineKinds();

describe.skipIf(machines.length === 0).each(machines)('collective verbs on %s (2 servers x 3 DIMEs)', (machine) => {
  let lab: Lab;
  let o: Orchestrator;
  const cli = async (...words: string[]) => {
    const io = captureIO('', { PARALLAX_KEY: KEY });
    const code = await runCli(['--net', lab.netSpec, '--mac', CLI_MAC, '--alias', `S1=${S1},S2=${S2}`, '--state', 'none', '--json', ...words], io);
    return { code, lines: io.out().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), err: io.err() };
  };

  beforeAll(async () => {
    const servers = [{ name: 'S1', mac: S1, cores: 3 }, { name: 'S2', mac: S2, cores: 3 }];
    ({ lab, o } = await startLabWithOrchestrator({ key: KEY, heartbeatMs: 0, machine, servers }, '02:50:00:00:07:01'));
  }, 180_000);

  afterAll(async () => {
    await o?.close();
    await lab?.stop();
  });

  it('launch on 4 DIMEs of two servers, a barrier, and a heartbeat that finds a killed server\'s DIMEs', async () => {
    const l = await cli('launch', 'images/services/upper.bin', '--on', '4');
    expect(l.code, l.err).toBe(0);
    const on = l.lines[0].on as string[];
    expect(l.lines[0]).toMatchObject({ ok: true, service: 'upper', started: 4, missing: null });
    expect(l.lines[0].blocks as number).toBeGreaterThan(1);
    expect(new Set(on.map((d) => d.split('/')[0]))).toEqual(new Set(['S1', 'S2']));   // chosen across servers
    const seen = await o.discover();
    const running = seen.filter((d) => d.state === W.STATE.RUNNING && d.service === 'upper').map((d) => o.label(d)).sort();
    expect(running).toEqual([...on].sort());
    // asking for more free DIMEs than there are is refused before anything is sent
    const tooMany = await cli('launch', 'images/services/upper.bin', '--on', '3');
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.lines[0].error).toMatch(/only 2 free DIMEs/);

    const b = await cli('barrier');
    expect(b.code, b.err).toBe(0);
    expect(b.lines[0]).toMatchObject({ ok: true, members: 6, answered: 6 });

    const h = await cli('heartbeat');
    expect(h.code, h.err).toBe(0);
    expect(h.lines[0]).toMatchObject({ members: 6, alive: 6, dead: [], sweeps: 1 });

    await lab.server('S2').stop();   // the whole machine goes away
    const h2 = await cli('heartbeat', 'S1', 'S2/0', 'S2/1', 'S2/2', '--member-timeout', '400');
    expect(h2.code, h2.err).toBe(0);
    const round = h2.lines[0];
    console.log(`${machine}: heartbeat after S2 died: ${JSON.stringify(round)}`);
    expect(round).toMatchObject({ alive: 3 });
    expect([...(round.dead as string[])].sort()).toEqual(['S2/0', 'S2/1', 'S2/2']);
  }, 300_000);
});
