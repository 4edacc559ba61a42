// `parallax-orch name ...` against a lab of two emulated servers (docs/NAMES.md): the fleet is
// chosen by the orchestrator (one idle DIME per server) and remembered in the state file; a
// registered name resolves and wires a route where SERVER/CORE would.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lab, EMULATOR_CLI } from '../../src/orchestrator/lab.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { captureIO } from './cli-io.js';

const KEY = 'names-cli-test-key';
const S1 = '52:54:00:00:07:01';
const S2 = '52:54:00:00:07:02';

describe.skipIf(!existsSync(EMULATOR_CLI))('parallax-orch name', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'px-names-'));
  const state = path.join(dir, 'state.json');
  const lab = new Lab({ key: KEY, heartbeatMs: 0, dir, servers: [{ name: 'S1', mac: S1, cores: 2 }, { name: 'S2', mac: S2, cores: 2 }] });
  const cli = async (...words: string[]) => {
    const io = captureIO('', { PARALLAX_KEY: KEY });
    const code = await runCli(['--net', lab.netSpec, '--mac', '02:50:00:00:07:c1', '--alias', `S1=${S1},S2=${S2}`, '--state', state, '--json', ...words], io);
    const out = io.out().trim();
    return { code, json: out ? JSON.parse(out.split('\n')[0]) as Record<string, unknown> : {}, err: io.err() };
  };

  beforeAll(async () => { await lab.start(); }, 120_000);
  afterAll(async () => { await lab.stop(); });

  it('fleet, register, resolve, list, status, and a route by name', async () => {
    const f = await cli('name', 'fleet', 'S1', 'S2');
    expect(f.code, f.err).toBe(0);
    expect(f.json).toMatchObject({ action: 'fleet', view: 1, members: ['S1/1', 'S2/1'], unreachable: [] });
    expect(JSON.parse(readFileSync(state, 'utf8')).nameFleet).toEqual([`${S1}/1`, `${S2}/1`]);
    // from here on the fleet comes from the state file
    expect((await cli('name', 'register', 'sink', 'S2/0')).json).toMatchObject({ name: 'sink', dime: 'S2/0', seq: 1, acked: 2, live: 2, primary: 'S1/1' });
    expect((await cli('name', 'resolve', 'sink')).json).toMatchObject({ dime: 'S2/0', seq: 1, source: 'replica' });
    expect((await cli('name', 'resolve', 'sink', '--via', 'S2/1')).json).toMatchObject({ dime: 'S2/0', via: 'S2/1' });
    expect((await cli('name', 'list')).json).toMatchObject({ bindings: [{ name: 'sink', dime: 'S2/0', seq: 1 }] });
    const st = await cli('name', 'status');
    expect((st.json.members as Array<Record<string, unknown>>).map((m) => [m.dime, m.self, m.applied])).toEqual([['S1/1', 0, 1], ['S2/1', 1, 1]]);
    // wiring by name: the route goes to the DIME the name is bound to
    const r = await cli('route', 'S1/0', 'sink');
    expect(r.code, r.err).toBe(0);
    expect(r.json).toMatchObject({ from: 'S1/0', to: 'S2/0' });
    // and feed: the bytes go to the named DIME (its input must allow us)
    expect((await cli('route', 'orchestrator', 'sink')).json).toMatchObject({ from: 'orchestrator', to: 'S2/0' });
    expect((await cli('feed', 'sink', 'hello')).json).toMatchObject({ ok: true, dime: 'S2/0' });
    const bad = await cli('route', 'S1/0', 'nobody');
    expect(bad.code).not.toBe(0);
    expect(bad.json.error).toMatch(/neither a DIME nor a registered name/);
    const badName = await cli('name', 'register', 'x'.repeat(33), 'S2/0');
    expect(badName.code).not.toBe(0);
  }, 120_000);
});
