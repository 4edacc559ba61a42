// Issue 15: every `parallax-orch ... --json` output and the dashboard's /api/state, taken from
// a real lab server, must match its documented schema (src/orchestrator/json-schemas.ts),
// checked with ajv. A verb without a schema, or a schema no output was checked against, fails.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { Lab, EMULATOR_CLI } from '../../src/orchestrator/lab.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { JSON_SCHEMAS } from '../../src/orchestrator/json-schemas.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { openLan } from '../../src/orchestrator/attach.js';
import { ServerNames } from '../../src/orchestrator/targets.js';
import { DashboardServer } from '../../src/orchestrator/dashboard/server.js';
import { captureIO } from './cli-io.js';

const KEY = 'json-schema-test-key';
const S1 = '52:54:00:00:06:01';
const CLI_MAC = '02:50:00:00:06:c1';

describe.skipIf(!existsSync(EMULATOR_CLI))('--json outputs match their schemas', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'px-json-'));
  const lab = new Lab({ key: KEY, heartbeatMs: 300, dir, servers: [{ name: 'S1', mac: S1, cores: 3 }] });
  const ajv = new Ajv({ allErrors: true });
  const checked = new Set<string>();

  const check = (name: string, value: unknown) => {
    const validate = ajv.compile(JSON_SCHEMAS[name]);
    expect(validate(value), `${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`).toBe(true);
    checked.add(name);
  };
  /** run one command with --json; every line it prints is checked against `schema` */
  const cli = async (schema: string, ...words: string[]) => {
    const io = captureIO('', { PARALLAX_KEY: KEY });
    const code = await runCli(['--net', lab.netSpec, '--mac', CLI_MAC, '--alias', `S1=${S1}`, '--state', 'none', '--json', ...words], io);
    const lines = io.out().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
    expect(lines.length, `${words.join(' ')} printed nothing: ${io.err()}`).toBeGreaterThan(0);
    for (const l of lines) check(schema, l);
    return { code, lines, err: io.err() };
  };

  beforeAll(async () => { await lab.start(); }, 120_000);
  afterAll(async () => { await lab.stop(); });

  it('every verb', async () => {
    expect((await cli('discover', 'discover')).code).toBe(0);
    expect((await cli('ps', 'ps', '--listen', '700')).code).toBe(0);
    expect((await cli('load', 'load', 'upper', '--on', 'S1/1', '--start')).code).toBe(0);
    expect((await cli('start', 'suspend', 'S1/1')).code).toBe(0);
    expect((await cli('start', 'resume', 'S1/1')).code).toBe(0);
    expect((await cli('param', 'param', 'S1/2', 'rounds', '5')).code).toBe(0);
    expect((await cli('interval', 'interval', 'S1/2', '--heartbeat', '300')).code).toBe(0);
    expect((await cli('memlimit', 'memlimit', 'S1/2', '4')).code).toBe(0);
    expect((await cli('route', 'route', 'orchestrator', 'S1/1')).code).toBe(0);
    expect((await cli('feed', 'feed', 'S1/1', 'hello')).code).toBe(0);
    expect((await cli('accounting', 'accounting', 'S1/1')).code).toBe(0);
    expect((await cli('security', 'security', 'S1/1')).code).toBe(0);
    expect((await cli('grant', 'grant', 'S1/1', 'notes/', '--read')).code).toBe(0);
    expect((await cli('storage', 'storage', 'S1')).code).toBe(0);
    expect((await cli('ping', 'ping', 'S1/1')).code).toBe(0);
    expect((await cli('migrate', 'migrate', 'S1/1', 'S1/2')).code).toBe(0);
    expect((await cli('start', 'stop', 'S1/2')).code).toBe(0);
    expect((await cli('reset', 'reset', 'S1/2')).code).toBe(0);
    expect((await cli('barrier', 'barrier')).code).toBe(0);
    expect((await cli('heartbeat', 'heartbeat', 'S1')).code).toBe(0);
    expect((await cli('launch', 'launch', 'images/services/upper.bin', '--on', '2')).code).toBe(0);
    expect((await cli('reset', 'reset', 'S1')).code).toBe(0);
    const wf = path.join(dir, 'wf.json');
    writeFileSync(wf, JSON.stringify({ name: 'pair', services: { a: { service: 'upper' }, b: { service: 'upper' } }, channels: ['a -> b'] }));
    expect((await cli('run', 'run', wf, '--dry-run')).code).toBe(0);
    const run = await cli('run', 'run', wf);
    expect(run.code, run.err).toBe(0);
    expect((await cli('watch', 'watch', '--for', '800')).code).toBe(0);
    expect((await cli('keys', 'keys', 'server', S1, '--out', path.join(dir, 'k.key'))).code).toBe(0);
    expect((await cli('error', 'ping', 'S9/1')).code).not.toBe(0);
    // the dashboard's state, from an orchestrator that placed something
    const o = new Orchestrator(await openLan(lab.netSpec), { key: KEY, mac: '02:50:00:00:06:d0', names: new ServerNames(lab.aliases) });
    const dash = new DashboardServer(o, { port: 0, pushMs: 200 });
    try {
      await o.discover();
      const url = await dash.listen();
      const state = await (await fetch(new URL('/api/state', url))).json() as unknown;
      check('api-state', state);
    } finally {
      await dash.close();
      await o.close();
    }
    // the name service (docs/NAMES.md): a one-member fleet on S1/2 (--state none: the fleet is given each time)
    expect((await cli('name', 'name', 'fleet', 'S1/2')).code).toBe(0);
    const reg = await cli('name', 'name', 'register', 'upper', 'S1/1', '--fleet', 'S1/2');
    expect(reg.lines[0]).toMatchObject({ action: 'register', seq: 1, acked: 1, live: 1 });
    expect((await cli('name', 'name', 'resolve', 'upper', '--fleet', 'S1/2')).lines[0]).toMatchObject({ dime: 'S1/1', source: 'replica' });
    expect((await cli('name', 'name', 'resolve', 'nobody', '--fleet', 'S1/2')).lines[0]).toMatchObject({ dime: null });
    expect((await cli('name', 'name', 'list', '--fleet', 'S1/2')).lines[0]).toMatchObject({ bindings: [{ name: 'upper', dime: 'S1/1', seq: 1 }] });
    expect((await cli('name', 'name', 'status', '--fleet', 'S1/2')).code).toBe(0);
    expect((await cli('shutdown', 'shutdown', 'S1')).code).toBe(0);
    // the lab and dashboard verbs run until interrupted: their one JSON line is checked by shape here
    check('lab', { net: lab.netSpec, aliases: lab.aliases, servers: ['S1'] });
    check('dashboard', { url: 'http://127.0.0.1:8080/' });
    expect([...Object.keys(JSON_SCHEMAS)].filter((n) => !checked.has(n)), 'schemas no output was checked against').toEqual([]);
  }, 180_000);
});
