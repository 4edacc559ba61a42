// Pieces of the orchestrator that need no network: names and targets, service files, policy
// files, workflow checks and ordering, script words, the model's heartbeat bookkeeping.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import * as W from '../../src/protocol/wire.js';
import { PxCodec, encodePayload } from '../../src/protocol/codec.js';
import { ServerNames, parseDime, parseEndpoint, parseTarget } from '../../src/orchestrator/targets.js';
import { resolveService, serviceImageProblem } from '../../src/orchestrator/service-source.js';
import { parsePolicy } from '../../src/orchestrator/policy/policy-file.js';
import { parseWorkflow, findCycle, deployOrder } from '../../src/orchestrator/workflow.js';
import { splitWords } from '../../src/orchestrator/commands/script.js';
import { NetworkModel } from '../../src/orchestrator/model.js';
import { OrchestratorLink } from '../../src/orchestrator/link.js';
import { NullBackend } from '../../src/net/backends/none.js';
import type { OrchestratorEvent } from '../../src/orchestrator/events.js';

describe('targets', () => {
  const names = new ServerNames({ S1: '52:54:00:00:00:0A' });
  it('resolves aliases and MACs, with clear errors', () => {
    expect(parseDime('S1/2', names)).toEqual({ server: '52:54:00:00:00:0a', core: 2 });
    expect(parseDime('52:54:00:00:00:0b/0', names)).toEqual({ server: '52:54:00:00:00:0b', core: 0 });
    expect(parseTarget('S1', names)).toEqual({ server: '52:54:00:00:00:0a', core: null });
    expect(() => parseDime('S1', names)).toThrow(/not a DIME: expected SERVER\/CORE/);
    expect(() => parseDime('S3/1', names)).toThrow(/unknown server 'S3'.*one of S1/);
    expect(parseEndpoint('console', names)).toEqual({ kind: 'console' });
    expect(parseEndpoint('me', names)).toEqual({ kind: 'orchestrator' });
    expect(() => ServerNames.parse(['S1']).entries()).toThrow(/expected NAME=MAC/);
  });
});

describe('service files', () => {
  it('accepts the built images and names built-ins', () => {
    const s = resolveService('images/services/upper.bin');
    expect(s.kind).toBe('file');
    expect(s.name).toBe('upper');
    expect(resolveService('cpuburn')).toEqual({ kind: 'builtin', name: 'cpuburn' });
  });
  it('says why a file is not a service', () => {
    const img = readFileSync('images/services/hello.bin');
    const truncated = img.subarray(0, img.length - 10);
    expect(serviceImageProblem(truncated)).toMatch(/header says \d+ image bytes, the file has \d+/);
    const badEntry = Buffer.from(img);
    badEntry.writeBigUInt64LE(0n, 8);
    expect(serviceImageProblem(badEntry)).toMatch(/entry point 0x0 is outside the image/);
    expect(serviceImageProblem(Buffer.alloc(4))).toMatch(/too short/);
    expect(() => resolveService('name with spaces')).toThrow(/neither a service file nor a built-in/);
  });
});

describe('policy files', () => {
  it('reads the line format and JSON alike', () => {
    const a = parsePolicy('# comment\nfault missed=2.5 prefer=other-server services=echo\nperformance cpu-above=70 for=1000 max-replicas=2\ncheck every=50\n');
    expect(a.fault).toEqual({ missedIntervals: 2.5, prefer: 'other-server', services: ['echo'], resetFailed: true });
    expect(a.performance[0]).toMatchObject({ cpuAbovePct: 70, sustainMs: 1000, maxReplicas: 2, cpuBelowPct: 20, split: true });
    expect(a.checkMs).toBe(50);
    const b = parsePolicy(JSON.stringify({ fault: { missed: 3 }, performance: { 'cpu-above': 90 } }));
    expect(b.fault?.missedIntervals).toBe(3);
    expect(b.performance[0].cpuAbovePct).toBe(90);
  });
  it('names the line and setting at fault', () => {
    expect(() => parsePolicy('fault missed=0')).toThrow(/policy:1: missed must be a number from 1/);
    expect(() => parsePolicy('fault\nfault')).toThrow(/policy:2: a second fault policy/);
    expect(() => parsePolicy('scale up')).toThrow(/unknown policy 'scale'/);
    expect(() => parsePolicy('performance cpu=5')).toThrow(/unknown performance setting 'cpu'/);
    expect(() => parsePolicy('# nothing')).toThrow(/no policy in it/);
    expect(() => parsePolicy('{ "fault": ')).toThrow(/not valid JSON/);
  });
});

describe('workflows', () => {
  const names = () => new ServerNames();
  it('parses a DAG and orders it sinks first', () => {
    const wf = parseWorkflow(JSON.stringify({
      name: 'w', servers: { A: '52:54:00:00:00:01' },
      services: { r: { service: 'conreader', on: 'A/1', input: 'console' }, u: { service: 'upper' }, w: { service: 'conwriter', on: 'A' } },
      channels: ['r -> u', { from: 'u', to: 'w' }],
    }), 'w.json', names());
    expect(deployOrder(wf).map((n) => n.name)).toEqual(['w', 'u', 'r']);
    expect(wf.nodes.find((n) => n.name === 'r')!.input).toEqual({ kind: 'console' });
  });
  it('finds cycles and refuses missing pieces', () => {
    expect(findCycle(['a', 'b', 'c'], [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }])).toBeNull();
    expect(findCycle(['a', 'b', 'c'], [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'b' }])).toEqual(['b', 'c', 'b']);
    const bad = (doc: unknown) => () => parseWorkflow(JSON.stringify(doc), 'x.json', names());
    expect(bad({ services: {} })).toThrow(/at least one service/);
    expect(bad({ services: { a: {} } })).toThrow(/"service" .* is required/);
    expect(bad({ services: { a: { service: 'upper', colour: 'red' } } })).toThrow(/unknown key 'colour'/);
    expect(bad({ services: { a: { service: 'upper' } }, channels: ['a -> a'] })).toThrow(/a service feeding itself/);
    expect(bad({ services: { a: { service: 'upper', on: 'Q9/1' } } })).toThrow(/unknown server 'Q9'/);
    expect(bad({ services: { a: { service: './none.bin' } } })).toThrow(/service file '.\/none.bin' not found/);
    expect(bad({ services: { a: { service: 'upper', output: '52:54:00:00:00:01/2' } } })).toThrow(/connect services with "channels"/);
  });
});

describe('script words', () => {
  it('splits like a shell, with quotes and comments', () => {
    expect(splitWords('feed S1/1 "hello world" # greet')).toEqual(['feed', 'S1/1', 'hello world']);
    expect(splitWords("param S1/1 msg 'it''s'")).toEqual(['param', 'S1/1', 'msg', 'its']);
    expect(splitWords('   # only a comment')).toEqual([]);
    expect(splitWords('feed S1/1 ""')).toEqual(['feed', 'S1/1', '']);
    expect(() => splitWords('feed "open')).toThrow(/unterminated/);
  });
});

describe('the model', () => {
  it('marks a DIME missing after k silent intervals, once, and back when it beats', () => {
    let now = 1000;
    const m = new NetworkModel(new ServerNames({ S1: '52:54:00:00:00:01' }), () => now);
    const events: OrchestratorEvent[] = [];
    m.on('event', (e: OrchestratorEvent) => events.push(e));
    const codec = new PxCodec({ key: 'k' });
    const hb = W.messageByName('HEARTBEAT');
    const beat = (n: number) => {
      const raw = codec.encode({ dstMac: 'ff:ff:ff:ff:ff:ff', srcMac: '52:54:00:00:00:01', srcCore: 1, channel: 'signaling', scope: 'dime', code: hb.code, flags: W.FLAGS.EVENT, seq: BigInt(n),
        payload: encodePayload(hb.request!, { dime: 1, state: W.STATE.RUNNING, beat: n, intervalMs: 100, cpuPermille: 500, service: 'upper' }) });
      const f = codec.decode(raw)!;
      m.applyEvent(f, codec.fields(f));
    };
    beat(1);
    expect(m.list()[0]).toMatchObject({ label: 'S1/1', service: 'upper', cpuPct: 50, health: 'up' });
    now += 250;
    expect(m.checkHealth(3)).toEqual([]);
    now += 100;
    expect(m.checkHealth(3).map((d) => d.label)).toEqual(['S1/1']);
    expect(m.checkHealth(3)).toEqual([]); // reported once per silence
    now += 50;
    beat(2);
    expect(events.map((e) => e.type)).toEqual(['heartbeat', 'missing', 'back', 'heartbeat']);
  });
});

describe('signing', () => {
  it('will not exist without a key', () => {
    expect(() => new OrchestratorLink(new NullBackend(), { key: undefined, mac: '02:00:00:00:00:01' })).toThrow(/refusing to send unsigned commands/);
    expect(() => new OrchestratorLink(new NullBackend(), { key: '', mac: '02:00:00:00:00:01' })).toThrow(/refusing to send unsigned commands/);
  });
  it('signs and numbers every frame it sends', () => {
    const sent: Uint8Array[] = [];
    const backend = new NullBackend();
    backend.send = (f: Uint8Array) => { sent.push(f); };
    const link = new OrchestratorLink(backend, { key: 'net-key', mac: '02:00:00:00:00:01' });
    link.send({ dstMac: '52:54:00:00:00:01', channel: 'signaling', scope: 'dime', code: 0x15, dstCore: 1 });
    link.send({ dstMac: '52:54:00:00:00:01', channel: 'signaling', scope: 'dime', code: 0x15, dstCore: 1 });
    const frames = sent.map((r) => new PxCodec({ key: 'net-key' }).decode(Buffer.from(r))!);
    expect(frames.every((f) => f.authentic)).toBe(true);
    expect(frames[1].seq).toBe(frames[0].seq + 1n);
    expect(new PxCodec({ key: 'other' }).decode(Buffer.from(sent[0]))!.authentic).toBe(false);
  });
});

describe('examples', () => {
  it('every example workflow, policy and script parses', () => {
    for (const f of ['examples/workflows/shout.json', 'examples/workflows/burn.json']) {
      expect(parseWorkflow(readFileSync(f, 'utf8'), f, new ServerNames()).nodes.length).toBeGreaterThan(0);
    }
    const a = parsePolicy(readFileSync('examples/policies/recover-and-scale.policy', 'utf8'));
    const b = parsePolicy(readFileSync('examples/policies/recover-and-scale.json', 'utf8'));
    expect(a).toEqual(b);
    const lines = readFileSync('examples/scripts/paper000-routing.px', 'utf8').split('\n').map(splitWords).filter((w) => w.length);
    expect(lines.filter((w) => w[0] === 'route').length).toBe(6);
  });
});
