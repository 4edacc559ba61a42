// `npm run bench:cores`: what grows with the number of cores, for 1, 2, 4, 8, 16, 32, 64 cores,
// parallax-emu beside QEMU TCG with the same DIME image, one server per (machine, cores):
//   boot        spawn -> "DIME ready: N cores" (every DIME up), wall time
//   memory      resident memory of the machine process once every DIME is up (RSS growth per core)
//   collective  one system-scope PING (a multicast launch: DIME 0 authenticates the frame once
//               and hands a copy to every DIME) until all N answers are in (a barrier), host µs
//
//   --cores 1,2,4   --reps R (fresh machine each)   --n N --warm W (collective round trips)
//   --peers parallax-emu,qemu   --out DIR (default bench/results; --short writes nothing)
//   --per-worker N|auto   parallax-emu's --cores-per-worker (default: one core per worker)
import { collectivePing, BENCH_KEY, runOnEachPeer, type PeerBenchOptions } from './lib/dime-paths.js';
import { DimeServer, type MachineKind } from './lib/machines.js';
import { benchWithReport } from './lib/bench-main.js';
import { runLine, type RunRecord } from './lib/run-record.js';
import { argFlag, argNumber, argString, growth, linearFit, markdownTable, median, spreadPct, summarize, table, type Summary } from './lib/report.js';
import type { Orchestrator } from '../src/orchestrator/orchestrator.js';

export interface CoresPoint {
  cores: number;
  bootMs: number[];
  rssMiB: number[];
  collective?: Summary;
  error?: string;
}

export interface CoresResult extends RunRecord<'cores'> {
  params: { cores: number[]; reps: number; n: number; warm: number; memMiB: number; perWorker?: number | 'auto' };
  peers: Partial<Record<MachineKind, CoresPoint[]>>;
  /** per peer: RSS growth per added core (least squares), MiB; collective growth exponent */
  fits: Partial<Record<MachineKind, { rssPerCoreMiB: number; rssBaseMiB: number; bootPerCoreMs: number; collectiveExponent: number; collectiveLogOrBetter: boolean }>>;
}

export interface CoresOptions extends PeerBenchOptions {
  cores: number[];
  reps: number;
  n: number;
  warm: number;
  memMiB: number;
  /** parallax-emu --cores-per-worker (undefined: one core per worker) */
  perWorker?: number | 'auto';
}

/** issue 11: resident memory per added emulated core */
const RSS_PER_CORE_GOAL_MIB = 4;

const PEER: Record<MachineKind, string> = { 'parallax-emu': 'parallax-emu', qemu: 'QEMU TCG' };
const MACS: Record<MachineKind, string> = { 'parallax-emu': '52:54:00:be:02:0a', qemu: '52:54:00:be:03:0a' };

export function coresOptionsFromArgs(): CoresOptions {
  const short = argFlag('short');
  const cores = (argString('cores') ?? (short ? '1,2,4' : '1,2,4,8,16,32,64')).split(',').map(Number);
  for (const c of cores) if (!Number.isInteger(c) || c < 1 || c > 64) throw new Error(`--cores: '${c}' is not a core count (1..64)`);
  const peers = (argString('peers') ?? 'parallax-emu,qemu').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of peers) if (p !== 'parallax-emu' && p !== 'qemu') throw new Error(`--peers: unknown peer '${p}'`);
  return {
    cores,
    reps: Math.max(1, Math.round(argNumber('reps', short ? 1 : 3))),
    n: Math.max(1, Math.round(argNumber('n', short ? 30 : 200))),
    warm: Math.round(argNumber('warm', short ? 5 : 20)),
    peers: peers as MachineKind[],
    memMiB: Math.round(argNumber('mem', 256)),
    perWorker: perWorkerArg(),
  };
}

function perWorkerArg(): number | 'auto' | undefined {
  const v = argString('per-worker');
  if (v === undefined || v === 'auto') return v;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--per-worker: '${v}' is not a number of cores or auto`);
  return Number(v);
}

async function onePoint(kind: MachineKind, cores: number, o: CoresOptions, hubPath: string, orch: Orchestrator, log: (l: string) => void): Promise<CoresPoint> {
  const p: CoresPoint = { cores, bootMs: [], rssMiB: [] };
  const samples: number[][] = [];
  for (let rep = 0; rep < o.reps; rep++) {
    // a fresh MAC per start: the orchestrator's replay guard must not see a reborn DIME's
    // sequence numbers as old
    const mac = MACS[kind].replace(/0a$/, ((cores * 8 + rep) & 0xff).toString(16).padStart(2, '0'));
    const s = new DimeServer({ kind, cores, mac, hubPath, key: BENCH_KEY, memMiB: o.memMiB, coresPerWorker: o.perWorker });
    try {
      await s.ready(Math.max(60_000, cores * 5000));
      p.bootMs.push(s.bootMs);
      await new Promise((r) => setTimeout(r, 300)); // let the last DIME's start-up settle before reading RSS
      p.rssMiB.push(s.w.rssKiB() / 1024);
      samples.push(await collectivePing(orch, mac, cores, o.n, o.warm));
    } catch (e) {
      p.error = (e as Error).message.split('\n')[0];
      log(`${PEER[kind]} ${cores} cores: FAILED: ${p.error}`);
      break;
    } finally {
      await s.stop();
    }
  }
  if (samples.length) p.collective = summarize(samples);
  log(`${PEER[kind]} ${cores} cores: boot ${(median(p.bootMs) / 1000).toFixed(2)} s, RSS ${median(p.rssMiB).toFixed(0)} MiB, collective median ${p.collective?.median.toFixed(0) ?? '-'} µs`);
  return p;
}

export function runCores(o: CoresOptions): Promise<CoresResult> {
  const params = { cores: o.cores, reps: o.reps, n: o.n, warm: o.warm, memMiB: o.memMiB, perWorker: o.perWorker };
  return runOnEachPeer<CoresResult>('cores', o, { params, peers: {}, fits: {} }, (r) => [
    `cores benchmark: ${o.cores.join(', ')} cores, ${o.reps} fresh machine(s) each, ${o.n} collective round trips (+${o.warm} warm-up); ` +
    `parallax-emu ${o.perWorker === undefined ? 'one core per worker' : `--cores-per-worker ${o.perWorker}`}; ${r.machine}`,
  ], async (kind, { hubPath, orch }, r, log) => {
    const points: CoresPoint[] = [];
    for (const c of o.cores) {
      const pt = await onePoint(kind, c, o, hubPath, orch, log);
      if (pt.error) r.errors.push(`${PEER[kind]} ${c} cores: ${pt.error}`);
      points.push(pt);
    }
    r.peers[kind] = points;
    const ok = points.filter((p) => p.rssMiB.length && p.bootMs.length);
    const rss = linearFit(ok.map((p) => p.cores), ok.map((p) => median(p.rssMiB)));
    const boot = linearFit(ok.map((p) => p.cores), ok.map((p) => median(p.bootMs)));
    const col = points.filter((p) => p.collective);
    const g = growth(col.map((p) => p.cores), col.map((p) => p.collective!.median));
    r.fits[kind] = { rssPerCoreMiB: rss.b, rssBaseMiB: rss.a, bootPerCoreMs: boot.b, collectiveExponent: g.exponent, collectiveLogOrBetter: g.logOrBetter };
  });
}

const v = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x);
const sp = (xs: number[]) => (xs.length > 1 ? `${spreadPct(xs).toFixed(0)}%` : '-');

export function coresTables(r: CoresResult): { title: string; headers: string[]; rows: (string | number)[][] }[] {
  const kinds = Object.keys(r.peers) as MachineKind[];
  // a peer that was not measured (QEMU not installed) has no entry at all
  const at = (k: MachineKind, c: number) => r.peers[k]?.find((p) => p.cores === c);
  const boot = r.params.cores.map((c) => [String(c), ...kinds.flatMap((k) => { const p = at(k, c); return p?.bootMs.length ? [median(p.bootMs) / 1000, sp(p.bootMs)] : ['-', '-']; })]);
  const emuQ = (c: number) => { const e = at('parallax-emu', c), q = at('qemu', c); return e?.bootMs.length && q?.bootMs.length ? (median(e.bootMs) / median(q.bootMs)).toFixed(1) : '-'; };
  // RSS over the smallest machine, per core added to it: what one more core costs
  const c0 = r.params.cores[0];
  const perAdded = (k: MachineKind, c: number) => {
    const p = at(k, c), p0 = at(k, c0);
    return c > c0 && p?.rssMiB.length && p0?.rssMiB.length ? ((median(p.rssMiB) - median(p0.rssMiB)) / (c - c0)).toFixed(1) : '-';
  };
  const mem = r.params.cores.map((c) => [String(c), ...kinds.flatMap((k) => { const p = at(k, c); return [p?.rssMiB.length ? median(p.rssMiB) : '-', perAdded(k, c)]; })]);
  const col = r.params.cores.map((c) => {
    const first = (k: MachineKind) => r.peers[k]?.find((p) => p.collective)?.collective?.median;
    return [String(c), ...kinds.flatMap((k) => {
      const p = at(k, c)?.collective;
      const f = first(k);
      return p ? [p.median, p.p99, `${p.spreadPct.toFixed(0)}%`, f ? (p.median / f).toFixed(2) : '-'] : ['-', '-', '-', '-'];
    }), (1 + Math.log2(c / r.params.cores[0])).toFixed(2)];
  });
  return [
    { title: 'boot to "DIME ready: N cores" (every DIME up), seconds', headers: ['cores', ...kinds.flatMap((k) => [PEER[k], 'spread']), 'emu / QEMU'], rows: boot.map((row, i) => [...row, emuQ(r.params.cores[i])]) },
    { title: `resident memory once every DIME is up, MiB (guest RAM ${r.params.memMiB} MiB; "/core": per core over ${c0} core${c0 > 1 ? 's' : ''})`,
      headers: ['cores', ...kinds.flatMap((k) => [PEER[k], '/core'])], rows: [...mem,
      ['per added core', ...kinds.flatMap((k) => [v(r.fits[k]?.rssPerCoreMiB), '(fit)'])]] },
    { title: 'collective: system-scope PING to every DIME and all answers back (barrier), µs: median, p99', headers: ['cores', ...kinds.flatMap((k) => [PEER[k], 'p99', 'spread', 'x 1st']), 'log2 growth'], rows: col },
  ];
}

export function coresSummaryLines(r: CoresResult): string[] {
  const lines: string[] = [];
  for (const [k, f] of Object.entries(r.fits) as [MachineKind, NonNullable<CoresResult['fits'][MachineKind]>][]) {
    lines.push(`${PEER[k]}: +${f.rssPerCoreMiB.toFixed(1)} MiB and +${f.bootPerCoreMs.toFixed(0)} ms of boot per added core; collective time grows as n^${f.collectiveExponent.toFixed(2)}` +
      ` -> goal "logarithmic or better": ${f.collectiveLogOrBetter ? 'MET' : 'not met'}`);
  }
  const emu = r.fits['parallax-emu'];
  if (emu) lines.push(`parallax-emu RSS per added core ${emu.rssPerCoreMiB.toFixed(1)} MiB -> goal "<= ${RSS_PER_CORE_GOAL_MIB} MiB": ${emu.rssPerCoreMiB <= RSS_PER_CORE_GOAL_MIB ? 'MET' : 'not met'}`);
  for (const c of r.params.cores.filter((n) => n === 8 || n === 64)) {
    const e = r.peers['parallax-emu']?.find((p) => p.cores === c), q = r.peers.qemu?.find((p) => p.cores === c);
    if (e?.bootMs.length && q?.bootMs.length) {
      const ratio = median(e.bootMs) / median(q.bootMs);
      lines.push(`boot of ${c} cores: parallax-emu ${(median(e.bootMs) / 1000).toFixed(2)} s, QEMU ${(median(q.bootMs) / 1000).toFixed(2)} s (${ratio.toFixed(1)}x) -> goal "no slower than QEMU": ${ratio <= 1 ? 'MET' : 'not met'}`);
    }
  }
  lines.push(runLine(r));
  for (const e of r.errors) lines.push(`error: ${e}`);
  return lines;
}

export function printCores(r: CoresResult, log: (l: string) => void = console.log): void {
  for (const t of coresTables(r)) { log(''); log(t.title); log(table(t.headers, t.rows)); }
  log('');
  for (const l of coresSummaryLines(r)) log(l);
}

export function coresMarkdown(r: CoresResult): string {
  return [`# Growth with the core count`, '',
    `${r.params.reps} fresh machine(s) per point, ${r.params.n} collective round trips after ${r.params.warm} warm-up; ` +
    `parallax-emu ${r.params.perWorker === undefined ? 'one core per worker' : `--cores-per-worker ${r.params.perWorker}`}; machine ${r.machine}; commit ${r.commit}; ${r.date}.`, '',
    ...coresTables(r).flatMap((t) => [`## ${t.title}`, '', markdownTable(t.headers, t.rows), '']),
    ...coresSummaryLines(r).map((l) => `- ${l}`), ''].join('\n');
}

export const writeCores = benchWithReport('cores', { run: () => runCores(coresOptionsFromArgs()), print: (r) => printCores(r), markdown: coresMarkdown });
