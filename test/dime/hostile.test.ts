// Issue 14: a hostile-frame flood against a DIME server on every machine runner. Tens of
// thousands of frames of every category (hostile-flood.ts) in bounded time: the server counts
// every one exactly once where QUERY_SECURITY shows it (no frame dropped unseen, none counted
// twice), and every DIME still answers afterwards.
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import * as W from '../../src/protocol/wire.js';
import { availableRunners } from './runner.js';
import { IMAGE, startBench, stopBench, type Bench } from './bench.js';
import { CATEGORIES, flood } from './hostile-flood.js';

const KEY = 'hostile-flood-key';
const SERVER = '52:54:00:12:34:77';
const CORES = 2;
const FRAMES = Number(process.env.HOSTILE_FRAMES ?? 20_000);
const runners = availableRunners();

describe.skipIf(runners.length === 0 || !existsSync(IMAGE)).each(runners.map((mk) => [mk().name, mk] as const))('hostile flood on %s', (_n, mk) => {
  let bench: Bench | undefined;
  afterAll(async () => { await stopBench(bench); });

  it(`counts every one of ${FRAMES} hostile frames exactly once, and still answers`, async () => {
    bench = await startBench(mk, { cores: CORES, mac: SERVER, key: KEY, append: 'hb=0 perf=0' });
    const r = await flood(bench.client, SERVER, CORES, FRAMES, { settleMs: 150_000 });
    if (process.env.PX_DEBUG) console.log(bench.name, r.ms, 'ms', r.after.fields, r.byCategory);
    expect(Object.keys(r.byCategory).sort()).toEqual([...CATEGORIES].sort());
    expect(r.counted, `counted ${JSON.stringify(r.after.fields)} vs before ${JSON.stringify(r.before.fields)}`).toBe(r.sent);
    const d = (k: string) => r.after.fields[k] - r.before.fields[k];
    for (const k of ['accepted', 'forged', 'replayed', 'malformed', 'challenged', 'reports', 'nicOversize']) expect(d(k), k).toBeGreaterThan(0);
    const pings = await bench.client.request(SERVER, null, 'PING', { nonce: 9n }, { expect: CORES, timeoutMs: 20_000 });
    expect(pings.map((p) => p.fields.nonce)).toEqual(Array(CORES).fill(9n));
    expect(pings.every((p) => p.frame.status === W.STATUS.OK)).toBe(true);
  }, 400_000);
});
