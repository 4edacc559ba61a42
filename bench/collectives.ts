// `npm run bench:collectives`: the STORM primitives (docs/COLLECTIVES.md, paper 002) on 1, 2,
// 4, 8, 16 (--max 64) DIMEs across 1, 2 and 4 servers, host µs from the orchestrator's request
// to the coordinator's answer:
//   tree barrier   COLL_START BARRIER: one sweep down the k-ary tree of members and back
//   broadcast      XFER-AND-SIGNAL of a 1 KiB block (PREPARE sweep + COMMIT sweep); from 64
//                  members on, the largest block that fits in one frame beside the member list
//   p2p barrier    the baseline: the orchestrator PINGs every member in turn (n round trips)
//   one PING       one orchestrator <-> DIME round trip (the point-to-point unit)
//   launch         `parallax-orch launch`: the 4 KiB upper.bin image by the collective tree in
//                  blocks (OPEN, STAGE per block, VERIFY + START), started on every member
//   p2p launch     the baseline: LOAD_BEGIN, LOAD_CHUNKs and EXECUTE to each member in turn
// (after each launch the services are stopped, untimed)
// Each series is fitted as a + b*log2(n) (and the p2p one as a + b*n), printed beside STORM's
// Table 2 model (46 log n µs comparison on Gigabit Ethernet, 20 log n on Myrinet/Infiniband).
//   --max 16 (cores of the largest layout: 1 server x max, and 4 servers x max/4)
//   --n 20 --warm 3 --fanout 2 --peers parallax-emu,qemu --short (n 5, max 8) --out DIR
import { BENCH_KEY, runOnEachPeer, type PeerBenchOptions } from './lib/dime-paths.js';
import { DimeServer, type MachineKind } from './lib/machines.js';
import { benchWithReport } from './lib/bench-main.js';
import { runLine, type RunRecord } from './lib/run-record.js';
import { argFlag, argNumber, argString, linearFit, markdownTable, median, table } from './lib/report.js';
import { resolve } from 'node:path';
import * as W from '../src/protocol/wire.js';
import { barrier, xferAndSignal, type CollMember } from '../src/orchestrator/collectives.js';
import { launchBlockBytes, launchService } from '../src/orchestrator/launch.js';
import { resolveService, type ServiceSource } from '../src/orchestrator/service-source.js';
import { repoRoot } from './lib/paths.js';
import type { Orchestrator } from '../src/orchestrator/orchestrator.js';

type Series = 'tree barrier' | 'broadcast 1 KiB' | 'p2p barrier' | 'one PING' | 'launch' | 'p2p launch';
const SERIES: Series[] = ['tree barrier', 'broadcast 1 KiB', 'p2p barrier', 'one PING', 'launch', 'p2p launch'];
/** fitted against n, not log2 n: the point-to-point baselines */
const LINEAR = new Set<Series>(['p2p barrier', 'p2p launch']);
const LAUNCH_IMAGE = resolve(repoRoot, 'images/services/upper.bin');

/** Stop every member's service and wait until each is IDLE again (a STOP ends the service when its core next runs). */
async function stopAll(orch: Orchestrator, members: CollMember[]): Promise<void> {
  for (const m of members) await orch.link.call(m.server, m.core, 'STOP', {}, { timeoutMs: 5000, retries: 3 });
  for (const m of members) {
    for (let i = 0; ; i++) {
      const r = await orch.link.call(m.server, m.core, 'DISCOVER', {}, { timeoutMs: 5000, retries: 3 });
      if (r.fields.state === W.STATE.IDLE) break;
      if (i >= 500) throw new Error(`${m.server}/${m.core} still not idle after STOP`);
      await new Promise((res) => setTimeout(res, 10));
    }
  }
}

/** The point-to-point launch: each member loaded and started by its own requests, one after another. */
async function p2pLaunch(orch: Orchestrator, members: CollMember[], src: Extract<ServiceSource, { kind: 'file' }>): Promise<void> {
  for (const m of members) {
    await orch.link.call(m.server, m.core, 'LOAD_BEGIN', { size: src.image.length, crc32: src.crc32, name: src.name }, { timeoutMs: 5000 });
    for (let off = 0; off < src.image.length; off += 1024) {
      await orch.link.call(m.server, m.core, 'LOAD_CHUNK', { offset: off, data: src.image.subarray(off, off + 1024) }, { timeoutMs: 5000 });
    }
    await orch.link.call(m.server, m.core, 'EXECUTE', {}, { timeoutMs: 5000 });
  }
}

export interface CollPoint { servers: number; n: number; medians: Partial<Record<Series, number>>; p90: Partial<Record<Series, number>> }

export interface CollectivesResult extends RunRecord<'collectives'> {
  params: { max: number; n: number; warm: number; fanout: number };
  peers: Partial<Record<MachineKind, CollPoint[]>>;
  /** per peer and server count: fit of each series, µs = a + b*log2(n) (p2p: a + b*n) */
  fits: Partial<Record<MachineKind, Record<string, Partial<Record<Series, { a: number; b: number }>>>>>;
}

interface Opts extends PeerBenchOptions { max: number; n: number; warm: number; fanout: number }

function optionsFromArgs(): Opts {
  const short = argFlag('short');
  const max = Math.round(argNumber('max', short ? 8 : 16));
  if (![4, 8, 16, 32, 64].includes(max)) throw new Error(`--max: ${max} is not 4, 8, 16, 32 or 64`);
  const peers = (argString('peers') ?? 'parallax-emu,qemu').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of peers) if (p !== 'parallax-emu' && p !== 'qemu') throw new Error(`--peers: unknown peer '${p}'`);
  return { max, n: Math.max(1, Math.round(argNumber('n', short ? 5 : 20))), warm: Math.round(argNumber('warm', short ? 1 : 3)),
    fanout: Math.round(argNumber('fanout', 2)), peers: peers as MachineKind[] };
}

const PEER: Record<MachineKind, string> = { 'parallax-emu': 'parallax-emu', qemu: 'QEMU TCG' };
const macOf = (kind: MachineKind, layout: number, i: number) => `52:54:00:c0:${kind === 'qemu' ? '3' : '2'}${layout}:${(i + 1).toString(16).padStart(2, '0')}`;

async function timed(n: number, warm: number, f: () => Promise<void>, after?: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < warm + n; i++) {
    const t0 = performance.now();
    await f();
    if (i >= warm) out.push((performance.now() - t0) * 1000);
    await after?.();
  }
  return out;
}

const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];

async function measure(orch: Orchestrator, members: CollMember[], o: Opts): Promise<Pick<CollPoint, 'medians' | 'p90'>> {
  const link = orch.link;
  // 1 KiB, or the largest block that fits in one frame beside the members' list (882 bytes at
  // 64 members): XFER-AND-SIGNAL carries one frame per block (docs/COLLECTIVES.md, "Not done")
  const block = Buffer.alloc(Math.min(1024, launchBlockBytes(members.length)), 0x5a);
  if (block.length < 1024) console.log(`  (broadcast on ${members.length} DIMEs: ${block.length}-byte block, the largest that fits beside ${members.length} members)`);
  const img = resolveService(LAUNCH_IMAGE);
  if (img.kind !== 'file') throw new Error(`${LAUNCH_IMAGE} is not an image file`);
  const s: Record<Series, number[]> = {
    'tree barrier': await timed(o.n, o.warm, async () => {
      const r = await barrier(link, members, { fanout: o.fanout });
      if (r.outcome !== 'DONE') throw new Error(`barrier on ${members.length}: ${r.outcome} (${r.answered} answered)`);
    }),
    'broadcast 1 KiB': await timed(o.n, o.warm, async () => {
      const r = await xferAndSignal(link, members, { offset: 0, event: 0, data: block }, { fanout: o.fanout });
      if (r.outcome !== 'DONE') throw new Error(`broadcast on ${members.length}: ${r.outcome} (${r.yes} applied)`);
    }),
    'p2p barrier': await timed(o.n, o.warm, async () => {
      for (const m of members) await link.call(m.server, m.core, 'PING', { nonce: 1n }, { timeoutMs: 5000 });
    }),
    'one PING': await timed(o.n, o.warm, async () => { await link.call(members[0].server, members[0].core, 'PING', { nonce: 2n }, { timeoutMs: 5000 }); }),
    'launch': await timed(o.n, o.warm, async () => {
      const r = await launchService(link, members, img, { fanout: o.fanout });
      if (r.outcome !== 'DONE' || r.started !== members.length) throw new Error(`launch on ${members.length}: ${r.outcome} (${r.started} started, failed at ${r.failedAt})`);
    }, () => stopAll(orch, members)),
    'p2p launch': await timed(o.n, o.warm, () => p2pLaunch(orch, members, img), () => stopAll(orch, members)),
  };
  return {
    medians: Object.fromEntries(SERIES.map((k) => [k, median(s[k])])),
    p90: Object.fromEntries(SERIES.map((k) => [k, p90(s[k])])),
  };
}

/** n members spread round-robin over the servers (so inner tree nodes sit on every server) */
function spread(macs: string[], perServer: number, n: number): CollMember[] {
  return Array.from({ length: n }, (_, i) => ({ server: macs[i % macs.length], core: Math.floor(i / macs.length) % perServer }));
}

async function layout(kind: MachineKind, servers: number, cores: number, hubPath: string, orch: Orchestrator, o: Opts, log: (l: string) => void,
  points: CollPoint[], uses: Array<{ servers: number; ns: number[] }>): Promise<void> {
  const macs = Array.from({ length: servers }, (_, i) => macOf(kind, servers, i));
  const ms = macs.map((mac) => new DimeServer({ kind, cores, mac, hubPath, key: BENCH_KEY, memMiB: 256 }));
  try {
    await Promise.all(ms.map((m) => m.ready(Math.max(120_000, cores * 10_000))));
    for (const mac of macs) await orch.link.confirmEpoch(mac, 10_000);
    for (const u of uses) {
      for (const n of u.ns) {
        const members = spread(macs.slice(0, u.servers), cores, n);
        const r = await measure(orch, members, o);
        points.push({ servers: u.servers, n, ...r });
        log(`${PEER[kind]} ${u.servers} server(s), ${n} DIMEs: ${SERIES.map((k) => `${k} ${r.medians[k]!.toFixed(0)} µs`).join(', ')}`);
      }
    }
  } finally {
    await Promise.all(ms.map((m) => m.stop()));
  }
}

export function runCollectives(o: Opts): Promise<CollectivesResult> {
  const pow = (lo: number, hi: number) => { const out: number[] = []; for (let n = lo; n <= hi; n *= 2) out.push(n); return out; };
  return runOnEachPeer<CollectivesResult>('collectives', o, { params: { max: o.max, n: o.n, warm: o.warm, fanout: o.fanout }, peers: {}, fits: {} }, (r) => [
    `collectives benchmark: up to ${o.max} DIMEs on 1, 2 and 4 servers, ${o.n} operations per point (+${o.warm} warm-up), fan-out ${o.fanout}; ${r.machine}`,
    `host load per CPU now ${r.hostLoadPerCpu.before.toFixed(2)}: a loaded host stretches every figure; compare within a run`,
  ], async (kind, { hubPath, orch }, r, log) => {
    const points: CollPoint[] = [];
    try {
      await layout(kind, 1, o.max, hubPath, orch, o, log, points, [{ servers: 1, ns: pow(1, o.max) }]);
      await layout(kind, 4, o.max / 4, hubPath, orch, o, log, points, [{ servers: 2, ns: pow(2, o.max / 2) }, { servers: 4, ns: pow(4, o.max) }]);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0];
      r.errors.push(`${PEER[kind]}: ${msg}`);
      log(`${PEER[kind]}: FAILED: ${msg}`);
    }
    r.peers[kind] = points;
    const fits: Record<string, Partial<Record<Series, { a: number; b: number }>>> = {};
    for (const servers of [1, 2, 4]) {
      const pts = points.filter((p) => p.servers === servers);
      if (pts.length < 2) continue;
      fits[`${servers}`] = Object.fromEntries(SERIES.map((k) => [k, linearFit(pts.map((p) => (LINEAR.has(k) ? p.n : Math.log2(p.n))), pts.map((p) => p.medians[k]!))]));
    }
    r.fits[kind] = fits;
  });
}

/** the operations of the first table (barriers, with STORM's models beside them) and of the second (transfers) */
const BARRIER_SERIES: Series[] = ['tree barrier', 'p2p barrier', 'one PING'];
const TRANSFER_SERIES: Series[] = ['broadcast 1 KiB', 'launch', 'p2p launch'];

/** Tables of at most 100 columns: barriers, transfers, and the fits with a row per operation. */
export function collectivesTables(r: CollectivesResult): { title: string; headers: string[]; rows: (string | number)[][] }[] {
  const out: { title: string; headers: string[]; rows: (string | number)[][] }[] = [];
  const cell = (p: CollPoint, k: Series) => `${p.medians[k]!.toFixed(0)} (${p.p90[k]!.toFixed(0)})`;
  for (const [kind, points] of Object.entries(r.peers) as [MachineKind, CollPoint[]][]) {
    out.push({
      title: `${PEER[kind]}: barriers, median host µs (p90); STORM Table 2 models: GigE 46 log2 n, Myrinet 20 log2 n`,
      headers: ['servers', 'DIMEs', 'log2 n', ...BARRIER_SERIES, 'STORM GigE', 'STORM Myrinet'],
      rows: points.map((p) => [p.servers, p.n, Math.log2(p.n), ...BARRIER_SERIES.map((k) => cell(p, k)),
        (46 * Math.log2(p.n)).toFixed(0), (20 * Math.log2(p.n)).toFixed(0)]),
    });
    out.push({
      title: `${PEER[kind]}: transfers, median host µs (p90)`,
      headers: ['servers', 'DIMEs', 'log2 n', ...TRANSFER_SERIES],
      rows: points.map((p) => [p.servers, p.n, Math.log2(p.n), ...TRANSFER_SERIES.map((k) => cell(p, k))]),
    });
    const fits = Object.entries(r.fits[kind] ?? {});
    out.push({
      title: `${PEER[kind]}: fits per number of servers, µs = a + b*log2(n) (p2p barrier and p2p launch: a + b*n)`,
      headers: ['operation', ...fits.flatMap(([s]) => [`${s} server${s === '1' ? '' : 's'}: a`, 'b'])],
      rows: SERIES.map((k) => [k, ...fits.flatMap(([, f]) => [f[k]?.a.toFixed(0) ?? '-', f[k]?.b.toFixed(0) ?? '-'])]),
    });
  }
  return out;
}

export function printCollectives(r: CollectivesResult, log: (l: string) => void = console.log): void {
  for (const t of collectivesTables(r)) { log(''); log(t.title); log(table(t.headers, t.rows)); }
  log('');
  log(runLine(r));
  for (const e of r.errors) log(`error: ${e}`);
}

export function collectivesMarkdown(r: CollectivesResult): string {
  return ['# Collectives (STORM primitives) against the number of DIMEs', '',
    `${r.params.n} operations per point after ${r.params.warm} warm-up, fan-out ${r.params.fanout}; ${runLine(r)}; ${r.date}.`, '',
    ...collectivesTables(r).flatMap((t) => [`## ${t.title}`, '', markdownTable(t.headers, t.rows), '']),
    ...r.errors.map((e) => `- error: ${e}`), ''].join('\n');
}

export const writeCollectives = benchWithReport('collectives', { run: () => runCollectives(optionsFromArgs()), print: (r) => printCollectives(r), markdown: collectivesMarkdown });
