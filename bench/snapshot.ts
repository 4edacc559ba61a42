// `npm run bench:snapshot`: starting a booted DIME server from a snapshot (the CI fast path)
// against booting it, in the same run, on the same host, for each worker layout
// (--cores-per-worker: 1 = a worker per core, auto = one worker per host CPU, all = every core
// in one worker):
//   boot       spawn -> "DIME ready: N cores" (a cold boot of the DIME kernel)
//   restore    spawn -> "restored snapshot" (-incoming file:, same command line): the whole
//              start, Node and worker start-up included; the emulator's own part (read,
//              checksum, inflate RAM, devices, cores) is printed beside it
//   answers    spawn -> every DIME answered the orchestrator (a system-scope PING with all N
//              answers back, over the hub): the server is usable
//   RSS        resident memory of the restored machine once it answers, and per core
//   QEMU boot  QEMU TCG's spawn -> "DIME ready: N cores" with the same image (the peer)
//   floor      spawn -> exit of `node -e 0` (what any Node process pays to start)
//   save       savevm time (--snapshot-out after "DIME ready"), file size, stored 2 MiB frames
//
//   --cores 64   --mem 512   --reps 3   --per-worker 1,auto,all   --peers parallax-emu,qemu
//   --out DIR (default bench/results; --short writes nothing)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { EMULATOR_CLI, MachineProcess, machineCommand } from '../src/orchestrator/launcher.js';
import { benchMain, jsonText, writeResultFiles } from './lib/bench-main.js';
import { repoRoot } from './lib/paths.js';
import { argFlag, argNumber, argString, commitLine, loadPerCpu, machineLine, markdownTable, median, table } from './lib/report.js';
import { BENCH_KEY, joinLan, runnablePeers, withBenchLan } from './lib/dime-paths.js';
import { DimeServer, benchKeyFile, qemuAvailable, type MachineKind } from './lib/machines.js';
import type { Orchestrator } from '../src/orchestrator/orchestrator.js';

/** One worker layout's figures (--cores-per-worker). */
export interface LayoutPoint {
  perWorker: string;
  bootMs: number[];
  restoreMs: number[];
  /** spawn -> every DIME answered the orchestrator */
  answersMs: number[];
  /** the emulator's own restore time (its "restored ... in N ms" line) */
  restoreInnerMs: number[];
  /** of that, the wait for every core worker to be built and parked */
  workerStartMs: number[];
  /** resident memory of the restored machine once it answers */
  rssMiB: number[];
}

export interface SnapshotBenchResult {
  benchmark: 'snapshot';
  machine: string;
  commit: string;
  date: string;
  params: SnapshotBenchOptions;
  layouts: LayoutPoint[];
  /** QEMU TCG's cold boot of the same image (empty: not measured) */
  qemuBootMs: number[];
  nodeFloorMs: number[];
  saveMs: number;
  fileMiB: number;
  frames: number;
  hostLoadPerCpu: { before: number; after: number };
  /** the host's 1/5/15-minute load averages (uptime) before and after */
  uptime: { before: number[]; after: number[] };
  errors: string[];
}

export interface SnapshotBenchOptions { cores: number; memMiB: number; reps: number; perWorker: string[]; peers: MachineKind[] }

const MAC = '52:54:00:be:05:0a';

const log = (l: string) => process.stderr.write(`${l}\n`);

async function timed(args: string[], until: RegExp, label: string): Promise<{ ms: number; out: string }> {
  const t0 = performance.now();
  const p = new MachineProcess(process.execPath, args, label);
  try {
    await p.waitFor(until, 300_000);
    return { ms: performance.now() - t0, out: p.output };
  } finally {
    await p.stop();
  }
}

/**
 * Spawn -> every one of `cores` DIMEs answers one system-scope PING (the orchestrator's first
 * full answer). Each PING waits up to 2 s for all answers (a loaded host answers slowly; a
 * shorter window would measure how often all 64 answers fit in it) and returns as soon as
 * they are all in.
 */
async function untilAnswers(orch: Orchestrator, cores: number, t0: number, timeoutMs: number): Promise<number> {
  for (let i = 0; performance.now() - t0 < timeoutMs; i++) {
    const replies = await orch.link.request(MAC, null, 'PING', { nonce: BigInt(i) }, { expect: cores, timeoutMs: 2000 }).catch(() => []);
    if (replies.length >= cores) return performance.now() - t0;
  }
  throw new Error(`not every DIME answered within ${timeoutMs} ms`);
}

export async function runSnapshotBench(o: SnapshotBenchOptions): Promise<SnapshotBenchResult> {
  const errors: string[] = [];
  const before = loadPerCpu();
  const uptimeBefore = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'px-bench-snap-'));
  const file = join(dir, 'booted.pxsnap');
  const r: SnapshotBenchResult = {
    benchmark: 'snapshot', machine: machineLine(), commit: commitLine(repoRoot), date: new Date().toISOString(),
    params: o, layouts: o.perWorker.map((perWorker) => ({ perWorker, bootMs: [], restoreMs: [], answersMs: [], restoreInnerMs: [], workerStartMs: [], rssMiB: [] })),
    qemuBootMs: [], nodeFloorMs: [], saveMs: NaN, fileMiB: NaN, frames: NaN,
    hostLoadPerCpu: { before, after: NaN }, uptime: { before: uptimeBefore, after: [] }, errors,
  };
  const withQemu = runnablePeers(o.peers, errors).includes('qemu') && qemuAvailable();
  try {
    await withBenchLan(async ({ hubPath }) => {
      const keyFile = benchKeyFile({ kind: 'parallax-emu', cores: o.cores, mac: MAC, key: BENCH_KEY });
      const base = (perWorker: string) => machineCommand({
        kind: 'emu', cores: o.cores, memMiB: o.memMiB, net: `hub,path=${hubPath}`, mac: MAC, keyFile, append: 'hb=60000 perf=0',
        coresPerWorker: perWorker === 'auto' ? 'auto' : perWorker === 'all' ? o.cores : Number(perWorker),
      })[1];
      log(`snapshot bench: booting ${o.cores} cores and saving (${EMULATOR_CLI})`);
      const savedLine = /saved the machine to .* \(([\d.]+) MiB, (\d+) RAM frames\) in (\d+) ms/;
      const saved = await timed([...base('auto'), '--snapshot-out', file], savedLine, 'save');
      const m = savedLine.exec(saved.out)!;
      r.fileMiB = statSync(file).size / 2 ** 20;
      r.frames = Number(m[2]);
      r.saveMs = Number(m[3]);
      for (let i = 0; i < o.reps; i++) {
        for (const pt of r.layouts) {
          log(`snapshot bench: rep ${i + 1}/${o.reps}, ${pt.perWorker} core(s) per worker: boot, restore`);
          pt.bootMs.push((await timed(base(pt.perWorker), new RegExp(`DIME ready: ${o.cores} cores`), 'boot')).ms);
          // a fresh orchestrator per start: the restored server's new epoch is all it knows of it
          const orch = await joinLan(hubPath, 5000);
          const line = /restored .* in (\d+) ms \((\d+) ms of it waiting for the core workers/;
          const t0 = performance.now();
          const p = new MachineProcess(process.execPath, [...base(pt.perWorker), '-incoming', `file:${file}`], 'restore');
          try {
            const m2 = await p.waitFor(line, 300_000);
            pt.restoreMs.push(performance.now() - t0);
            pt.restoreInnerMs.push(Number(m2[1]));
            pt.workerStartMs.push(Number(m2[2]));
            pt.answersMs.push(await untilAnswers(orch, o.cores, t0, 120_000));
            pt.rssMiB.push(p.rssKiB() / 1024);
          } finally {
            await p.stop();
            await orch.close().catch(() => undefined);
          }
        }
        if (withQemu) {
          const q = new DimeServer({ kind: 'qemu', cores: o.cores, mac: '52:54:00:be:06:0a', key: BENCH_KEY, memMiB: o.memMiB });
          try { r.qemuBootMs.push((await q.ready(300_000)).bootMs); } finally { await q.stop(); }
        }
        const t0 = performance.now();
        spawnSync(process.execPath, ['-e', '0']);
        r.nodeFloorMs.push(performance.now() - t0);
      }
    });
  } catch (e) {
    errors.push((e as Error).message.split('\n')[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  r.hostLoadPerCpu.after = loadPerCpu();
  r.uptime.after = loadavg();
  return r;
}

const ms = (xs: number[]) => (xs.length ? median(xs).toFixed(0) : '-');

function rows(r: SnapshotBenchResult): (string | number)[][] {
  const q = r.qemuBootMs.length ? median(r.qemuBootMs) : NaN;
  const vsQemu = (xs: number[]) => (xs.length && Number.isFinite(q) ? (median(xs) / q).toFixed(2) : '-');
  return r.layouts.map((p) => [
    p.perWorker, ms(p.bootMs), vsQemu(p.bootMs), ms(p.restoreMs), ms(p.workerStartMs),
    ms(p.restoreInnerMs.map((x, i) => x - p.workerStartMs[i])), ms(p.answersMs), vsQemu(p.answersMs),
    p.rssMiB.length ? median(p.rssMiB).toFixed(0) : '-', p.rssMiB.length ? (median(p.rssMiB) / r.params.cores).toFixed(1) : '-',
  ]);
}

const HEADERS = ['per worker', 'boot', 'x QEMU', 'restored', 'workers', 'restore', 'answers', 'x QEMU', 'RSS MiB', '/core'];

function loadLine(r: SnapshotBenchResult): string {
  const f = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  return `host load (uptime 1/5/15 min): ${f(r.uptime.before)} before, ${f(r.uptime.after)} after; per CPU ${r.hostLoadPerCpu.before.toFixed(2)} / ${r.hostLoadPerCpu.after.toFixed(2)}`;
}

/** the goal of the CI fast path: every DIME answering within this long of the command's start */
const START_GOAL_MS = 500;

/** The goal line: the fastest layout's median spawn -> every DIME answering. */
function goalLine(r: SnapshotBenchResult): string {
  const best = r.layouts.filter((p) => p.answersMs.length).map((p) => ({ p: p.perWorker, ms: median(p.answersMs) })).sort((a, b) => a.ms - b.ms)[0];
  if (!best) return `fast path: not measured -> goal "every DIME answers < ${START_GOAL_MS} ms": not met`;
  return `fast path (${best.p} per worker): every DIME answers at ${best.ms.toFixed(0)} ms -> goal "< ${START_GOAL_MS} ms": ` +
    (best.ms < START_GOAL_MS ? 'MET' : 'not met');
}

function notes(r: SnapshotBenchResult): string[] {
  return [
    goalLine(r),
    `QEMU TCG boot to "DIME ready": ${r.qemuBootMs.length ? ms(r.qemuBootMs) + ' ms' : 'not measured'}; node -e 0 (floor): ${ms(r.nodeFloorMs)} ms`,
    `save: ${r.saveMs} ms, file ${r.fileMiB.toFixed(1)} MiB, ${r.frames} RAM frames of 2 MiB stored`,
    'ms, medians; restored = spawn to the "restored" line (workers = of it, the core workers starting; restore = the rest of it); answers = spawn to every DIME answering the orchestrator',
  ];
}

function print(r: SnapshotBenchResult): void {
  console.log(`start from a snapshot, ${r.params.cores} cores, ${r.params.memMiB} MiB, median of ${r.params.reps} (${r.machine}; ${r.commit})`);
  console.log(loadLine(r));
  console.log(table(HEADERS, rows(r)));
  for (const l of notes(r)) console.log(l);
  for (const e of r.errors) console.log(`error: ${e}`);
}

function write(r: SnapshotBenchResult, dir: string): string[] {
  const md = [`# Start from a snapshot (${r.params.cores} cores)`, '', `${r.machine}; ${r.commit}; ${r.date}`, loadLine(r), '',
    markdownTable(HEADERS, rows(r)), '', ...notes(r).map((l) => `- ${l}`), ...r.errors.map((e) => `- error: ${e}`), ''].join('\n');
  return writeResultFiles(dir, { 'snapshot.json': jsonText(r), 'snapshot.md': md });
}

benchMain({
  script: 'snapshot',
  short: () => argFlag('short'),
  run: () => runSnapshotBench({
    cores: argNumber('cores', 64), memMiB: argNumber('mem', 512), reps: argNumber('reps', argFlag('short') ? 1 : 3),
    perWorker: (argString('per-worker') ?? '1,auto,all').split(',').map((x) => x.trim()).filter(Boolean),
    peers: (argString('peers') ?? 'parallax-emu,qemu').split(',').map((x) => x.trim()) as MachineKind[],
  }),
  print,
  write,
});
