// The `parallax` command line on bad input and unreachable DIMEs: clear errors and the
// documented exit codes (2 usage, 3 timeout, 1 refused), JSON errors with --json, script mode.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LearningSwitch } from '../../src/net/learning-switch.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { captureIO } from './cli-io.js';

const dir = mkdtempSync(path.join(tmpdir(), 'px-cli-'));
const hubPath = path.join(dir, 'lan.sock');
const NET = `hub,path=${hubPath}`;
let hub: LearningSwitch;

async function cli(words: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) {
  const io = captureIO(opts.stdin ?? '', opts.env ?? { PARALLAX_KEY: 'k' });
  const code = await runCli(words, io);
  return { code, out: io.out(), err: io.err() };
}
const base = ['--net', NET, '--state', 'none', '--timeout', '300'];

beforeAll(async () => {
  hub = new LearningSwitch();
  await hub.listen({ kind: 'unix', path: hubPath });
});
afterAll(async () => {
  await hub.close();
});

describe('parallax CLI: bad input', () => {
  it('refuses to send unsigned commands', async () => {
    const r = await cli(['--net', NET, '--state', 'none', 'ps'], { env: {} });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/refusing to send unsigned commands: no network key/);
  });

  it('never takes a key on its command line; a key file must be private to its owner', async () => {
    const r = await cli([...base, '--key', 'sekrit', 'ps']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--key is refused: a key on a command line is visible/);
    expect(r.err).not.toMatch(/sekrit/);
    const loose = path.join(dir, 'loose.key');
    writeFileSync(loose, 'sekrit\n', { mode: 0o644 });
    chmodSync(loose, 0o644);
    const l = await cli([...base, '--key-file', loose, 'ps'], { env: {} });
    expect(l.code).toBe(2);
    expect(l.err).toMatch(/accessible by others \(mode 644\): chmod 600/);
    const lab = await cli([...base, '--lab', '--timeout', '100', 'ps'], { env: {} });
    expect(lab.err).toMatch(/LAB MODE: INSECURE built-in public key/);
    // a server gets its own derived key file, private, never the master secret
    const out = path.join(dir, 'S9.key');
    const k = await cli(['keys', 'server', '52:54:00:00:09:01', '--out', out], { env: { PARALLAX_KEY: 'sekrit' } });
    expect(k.code, k.err).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toMatch(/^parallax-server-key 1\nmac 52:54:00:00:09:01\nserver [0-9a-f]{64}\nnetwork [0-9a-f]{64}\n$/);
    expect(readFileSync(out, 'utf8')).not.toContain('sekrit');
    expect((await cli(['keys', 'server', '52:54:00:00:09:01', '--out', out], { env: { PARALLAX_KEY: 'sekrit' } })).code).toBe(2); // exists
  });

  it('needs a LAN, and a well-formed one', async () => {
    expect((await cli(['ps'])).err).toMatch(/no LAN given/);
    const bad = await cli(['--net', 'carrier-pigeon', 'ps']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown backend type 'carrier-pigeon'/);
    const gone = await cli(['--net', `hub,path=${dir}/nobody.sock`, '--state', 'none', 'ps']);
    expect(gone.code).toBe(4); // its own exit code: not "a DIME refused"
    expect(gone.err).toMatch(/cannot join the LAN .* no link/);
  });

  it('rejects unknown verbs and options with usage exit 2', async () => {
    const r = await cli([...base, 'teleport']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown argument: teleport/);
    expect((await cli([...base, 'ps', '--frobnicate'])).code).toBe(2);
  });

  it('rejects a file that is not a service before sending anything', async () => {
    const junk = path.join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.from('#!/bin/sh\necho not a service image, just a script\n'));
    const r = await cli([...base, 'load', junk, '--on', '52:54:00:00:00:01/1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not a service image: no DSV1 service header/);
    const missing = await cli([...base, 'load', './nowhere.bin', '--on', '52:54:00:00:00:01/1']);
    expect(missing.err).toMatch(/service file '.\/nowhere.bin' not found/);
  });

  it('rejects bad DIME names', async () => {
    expect((await cli([...base, 'start', 'S9/1'])).err).toMatch(/unknown server 'S9'/);
    expect((await cli([...base, 'start', '52:54:00:00:00:01/x'])).err).toMatch(/core must be a number/);
    expect((await cli([...base, 'route', 'console', 'none'])).err).toMatch(/one end must be a DIME/);
  });

  it('reports a DIME that never answers as a timeout (exit 3)', async () => {
    const r = await cli([...base, 'ping', '52:54:00:99:99:99/1']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/52:54:00:99:99:99\/1 did not answer PING within 300 ms/);
    const d = await cli([...base, 'discover', '--wait', '200']);
    expect(d.code).toBe(3);
    expect(d.err).toMatch(/no DIME answered DISCOVER/);
    const s = await cli([...base, 'start', '52:54:00:99:99:99/2']);
    expect(s.code).toBe(3);
    expect(s.err).toMatch(/unknown DIME 52:54:00:99:99:99\/2: server 52:54:00:99:99:99 did not answer/);
  });

  it('gives errors as JSON with --json', async () => {
    const r = await cli([...base, '--json', 'ping', '52:54:00:99:99:99/1']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out)).toEqual({ error: expect.stringMatching(/did not answer PING/), exitCode: 3 });
  });

  it('rejects malformed workflows before joining the LAN', async () => {
    const wf = (name: string, doc: unknown) => { const p = path.join(dir, name); writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc)); return p; };
    const cycle = wf('cycle.json', { services: { a: { service: 'upper' }, b: { service: 'upper' }, c: { service: 'upper' } }, channels: ['a -> b', 'b -> c', 'c -> a'] });
    const missing = wf('missing.json', { services: { a: { service: 'upper' } }, channels: ['a -> ghost'] });
    const broken = wf('broken.json', '{ "services": ');
    const fanout = wf('fanout.json', { services: { a: { service: 'upper' }, b: { service: 'upper' }, c: { service: 'upper' } }, channels: ['a -> b', 'a -> c'] });
    const noLan = ['--net', `hub,path=${dir}/nobody.sock`, '--state', 'none'];
    let r = await cli([...noLan, 'run', cycle]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cycle a -> b -> c -> a/);
    r = await cli([...noLan, 'run', missing]);
    expect(r.err).toMatch(/names a missing service 'ghost'/);
    r = await cli([...noLan, 'run', broken]);
    expect(r.err).toMatch(/not valid JSON/);
    r = await cli([...noLan, 'run', fanout]);
    expect(r.err).toMatch(/fan-out is not supported/);
    r = await cli([...noLan, 'run', path.join(dir, 'absent.json')]);
    expect(r.err).toMatch(/cannot read workflow/);
  });

  it('rejects bad policy files with the line at fault', async () => {
    const p = path.join(dir, 'bad.policy');
    writeFileSync(p, 'fault missed=3\nperformance cpu-above=50 cpu-below=70\n');
    const r = await cli([...base, 'policy', p, '--check']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad.policy:2: cpu-below \(70\) must be lower than cpu-above \(50\)/);
  });
});

describe('parallax CLI: streams and scripts', () => {
  it('watch --json streams nothing but valid lines and stops after --for', async () => {
    const r = await cli([...base, '--json', 'watch', '--for', '300']);
    expect(r.code).toBe(0);
    for (const line of r.out.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('runs a script from stdin, stops at the first failing line with its exit code', async () => {
    const script = '# a comment\necho step one\nsleep 10\nping 52:54:00:99:99:99/1\necho never\n';
    const r = await cli([...base, 'script', '-'], { stdin: script });
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/step one/);
    expect(r.out).not.toMatch(/never/);
    expect(r.err).toMatch(/stdin:4: 'ping 52:54:00:99:99:99\/1' failed; script stopped/);
    const k = await cli([...base, 'script', '-', '--keep-going'], { stdin: script });
    expect(k.code).toBe(3);
    expect(k.out).toMatch(/never/);
    expect(k.err).toMatch(/1 script line failed/);
  });

  it('has colours off when not a TTY', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/parallax-orch <command>/);
    expect(r.out).not.toMatch(/\x1b\[/);
  });
});
