// The fault policy with no network: a service whose DIME went silent when no other DIME could
// take it (on a stalled host every DIME looks silent at once) is moved as soon as one can, not
// left behind for good: the DIME of a dead server never beats again, so nothing else would
// ever retry it (failover.test.ts saw the pipeline stall forever at a load of 20).
import { describe, it, expect } from 'vitest';
import { Orchestrator, type DeploySpec } from '../../src/orchestrator/orchestrator.js';
import { NullBackend } from '../../src/net/backends/none.js';
import { ServerNames, dimeKey, type DimeAddress } from '../../src/orchestrator/targets.js';
import { resolveService } from '../../src/orchestrator/service-source.js';
import { PolicyEngine } from '../../src/orchestrator/policy/engine.js';
import { parsePolicy } from '../../src/orchestrator/policy/policy-file.js';
import type { OrchestratorEvent } from '../../src/orchestrator/events.js';
import { NetworkModel } from '../../src/orchestrator/model.js';

const S1 = '52:54:00:00:00:01';
const S2 = '52:54:00:00:00:02';
const HB = 500;

function setup() {
  const o = new Orchestrator(new NullBackend(), { key: 'k', mac: '02:00:00:00:00:01', names: new ServerNames({ S1, S2 }) });
  const b: DimeAddress = { server: S2, core: 1 };
  const spare: DimeAddress = { server: S1, core: 2 };
  for (const d of [b, spare]) o.model.expectHeartbeats(d, HB);
  o.assignments.set(dimeKey(b), { role: 'B', source: resolveService('upper'), params: {} });
  const deployed: Array<{ to: string; role: string }> = [];
  let refuse = 0;
  o.deploy = async (to: DimeAddress, spec: DeploySpec) => {
    if (refuse > 0) { refuse--; throw new Error(`${o.label(to)} did not answer`); }
    deployed.push({ to: o.label(to), role: spec.role });
    o.assignments.set(dimeKey(to), { role: spec.role, source: spec.source, params: {} });
  };
  o.reset = async () => { throw new Error('no answer'); };
  const policy: string[] = [];
  o.on('event', (e: OrchestratorEvent) => { if (e.type === 'policy') policy.push(e.action); });
  const silent = (d: DimeAddress, ms: number) => { o.model.get(d)!.lastBeatAt = Date.now() - ms; };
  const beats = (d: DimeAddress) => Object.assign(o.model.get(d)!, { lastBeatAt: Date.now(), health: 'up' });
  return { o, b, spare, deployed, policy, silent, beats, refuse: (n: number) => { refuse = n; } };
}

describe('fault policy: a recovery that could not be done is tried again while the DIME stays silent', () => {
  it('no free DIME (every DIME silent at once): the service moves when one beats again', async () => {
    const { o, b, spare, deployed, policy, silent, beats } = setup();
    const engine = new PolicyEngine(o, parsePolicy('fault missed=2.5 prefer=same-server services=B\ncheck every=50'));
    silent(b, 3 * HB);
    silent(spare, 3 * HB);
    await engine.tick();
    expect(deployed).toEqual([]);
    expect(policy).toEqual([expect.stringMatching(/cannot re-instantiate 'B' \(upper\) from S2\/1: no free DIME; trying again/)]);
    await engine.tick(); // still nothing free: tried again quietly
    expect(policy).toHaveLength(1);
    beats(spare); // S1 was only slow; S2 stays dead
    await engine.tick();
    expect(deployed).toEqual([{ to: 'S1/2', role: 'B' }]);
    expect(policy[1]).toMatch(/re-instantiated 'B' \(upper\) from S2\/1 on S1\/2/);
    await engine.tick(); // done: not moved again
    expect(deployed).toHaveLength(1);
    engine.stop();
  });

  it('no target answered: tried again an interval later', async () => {
    const { o, b, spare, deployed, policy, silent, beats, refuse } = setup();
    const engine = new PolicyEngine(o, parsePolicy('fault missed=2.5 prefer=same-server services=B\ncheck every=50'));
    refuse(1); // the only free DIME does not answer the first time
    silent(b, 3 * HB);
    await engine.tick();
    expect(deployed).toEqual([]);
    expect(policy.some((p) => /re-instantiating 'B' .* on S1\/2/.test(p))).toBe(true);
    await engine.tick(); // not before an interval has passed
    expect(deployed).toEqual([]);
    await new Promise((r) => setTimeout(r, HB + 20));
    beats(spare); // (still beating)
    await engine.tick();
    expect(deployed).toEqual([{ to: 'S1/2', role: 'B' }]);
    engine.stop();
  });

  it('a free DIME of the silent one\'s server that has not beaten for 1.5 intervals is not chosen (that server may be dead): the service waits for one that beats', async () => {
    const { o, b, spare, deployed, policy, silent, beats } = setup();
    const near = { server: S2, core: 2 };
    o.model.expectHeartbeats(near, HB);
    const engine = new PolicyEngine(o, parsePolicy('fault missed=2.5 prefer=same-server services=B\ncheck every=50'));
    silent(b, 3 * HB);
    silent(near, 2 * HB); // stale, not yet missing
    silent(spare, 3 * HB); // missing
    await engine.tick();
    expect(deployed).toEqual([]);
    expect(policy[0]).toMatch(/no free DIME that beats \(S2\/2 silent for \d+ ms\)/);
    beats(near);
    await engine.tick();
    expect(deployed).toEqual([{ to: 'S2/2', role: 'B' }]);
    engine.stop();
  });

  it('a stale free DIME on another server is still a target (most likely slow, not dead), after the fresh ones', async () => {
    const { o, b, spare, deployed, silent } = setup();
    const engine = new PolicyEngine(o, parsePolicy('fault missed=2.5 prefer=same-server services=B\ncheck every=50'));
    silent(b, 3 * HB);
    silent(spare, 2 * HB); // stale, not yet missing, on S1
    await engine.tick();
    expect(deployed).toEqual([{ to: 'S1/2', role: 'B' }]);
    engine.stop();
  });

  it('a DIME that beats again is not retried', async () => {
    const { o, b, spare, deployed, silent, beats } = setup();
    const engine = new PolicyEngine(o, parsePolicy('fault missed=2.5 prefer=same-server services=B\ncheck every=50'));
    silent(b, 3 * HB);
    silent(spare, 3 * HB);
    await engine.tick();
    beats(b);
    beats(spare);
    await engine.tick();
    expect(deployed).toEqual([]);
    expect(o.assignments.get(dimeKey(b))?.role).toBe('B');
    engine.stop();
  });
});

describe('the model: a DIME that just answered EXECUTE', () => {
  it('counts its silence from that answer, not from a heartbeat older than the limit already', () => {
    let now = 10_000;
    const m = new NetworkModel(new ServerNames({ S1 }), () => now);
    const d = { server: S1, core: 2 };
    m.expectHeartbeats(d, HB); // beat at 10 000
    now += 1000; // a slow host: no heartbeat since, and the service is started now
    m.heardFrom(d);
    now += 1000;
    expect(m.checkHealth(2.5)).toEqual([]); // 1000 ms since the answer, not 2000 since the beat
    now += 300;
    expect(m.checkHealth(2.5).map((x) => x.label)).toEqual(['S1/2']);
    m.heardFrom(d); // missing ones come back by heartbeat only
    expect(m.get(d)!.health).toBe('missing');
  });
});
