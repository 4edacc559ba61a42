// `npm run bench`: the whole performance picture, each figure beside its peer or floor:
//   1. MIPS of the emulator core (bench/mips.ts: native, QEMU TCG, parallax-emu)
//   2. signaling round trips on three paths (bench/signaling.ts)
//   3. boot to every DIME up, memory per core, collective signaling for 1..32 cores (bench/cores.ts)
//   4. aggregate throughput with 1 and 2 cores (bench/throughput.ts)
//   5. 64-core start from a snapshot (bench/snapshot.ts, its own process: it starts 64-core machines)
// Writes bench/results/*.json, *.md, signaling.svg and summary.md (the index of this run).
//
//   --short       small samples everywhere, MIPS left out (a smoke run; writes nothing unless --out)
//   --out DIR     where results go (default bench/results)
//   --skip mips,signaling,cores,throughput,snapshot
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { coresMarkdown, printCores, runCores, writeCores, type CoresOptions, type CoresResult } from './cores.js';
import { unmeasured } from './lib/bench-main.js';
import { installCleanup } from './lib/machines.js';
import { repoRoot } from './lib/paths.js';
import { argFlag, argString, commitLine, machineLine, markdownTable, median } from './lib/report.js';
import { printSignaling, runSignaling, signalingMarkdown, writeSignaling, type SignalingOptions, type SignalingResult } from './signaling.js';
import { printThroughput, runThroughput, throughputMarkdown, writeThroughput, type ThroughputOptions, type ThroughputResult } from './throughput.js';

async function main(): Promise<void> {
  installCleanup();
  const short = argFlag('short');
  const out = argString('out') ?? (short ? undefined : resolve(repoRoot, 'bench/results'));
  const skip = new Set((argString('skip') ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  const t0 = performance.now();
  const failures: string[] = [];
  console.log(`== parallax-emu benchmarks (${short ? 'short' : 'full'}): ${machineLine()}; commit ${commitLine(repoRoot)}`);

  // bench/mips.ts always writes bench/results/mips.json, so a short run leaves it out
  if (short && !skip.has('mips')) console.log('\n== 1. MIPS: not run with --short (npm run bench:mips)');
  if (!short && !skip.has('mips')) {
    console.log('\n== 1. MIPS (bench/mips.ts)');
    const r = spawnSync(process.execPath, [resolve(repoRoot, 'dist/bench/mips.js')], { stdio: 'inherit', timeout: 1_800_000 });
    if (r.status !== 0) failures.push(`mips: exit status ${r.status ?? r.signal}`);
  }

  /** one benchmark of the run: measure, print, write its files, note what it could not measure */
  const step = async <R extends { errors: string[] }>(name: string, title: string, run: () => Promise<R>, print: (r: R) => void, write: (r: R, dir: string) => string[]): Promise<void> => {
    if (skip.has(name)) return;
    console.log(`\n== ${title}`);
    const r = await run();
    print(r);
    if (out) write(r, out);
    failures.push(...unmeasured(r.errors).map((e) => `${name}: ${e}`));
  };
  const sigOpts: SignalingOptions = short ? { short, reps: 1, n: 30, warm: 5, settle: true, size: 16, peers: ['parallax-emu', 'qemu'] } : { short, reps: 5, n: 1000, warm: 100, settle: true, size: 16, peers: ['parallax-emu', 'qemu'] };
  await step('signaling', '2. signaling round trips (bench/signaling.ts)', () => runSignaling(sigOpts), printSignaling, writeSignaling);
  const coresOpts: CoresOptions = short ? { cores: [1, 2], reps: 1, n: 10, warm: 2, peers: ['parallax-emu', 'qemu'], memMiB: 256 }
    : { cores: [1, 2, 4, 8, 16, 32], reps: 3, n: 200, warm: 20, peers: ['parallax-emu', 'qemu'], memMiB: 256 };
  await step('cores', '3. boot, memory and collective signaling by core count (bench/cores.ts)', () => runCores(coresOpts), printCores, writeCores);
  const thrOpts: ThroughputOptions = short ? { cores: [1, 2], reps: 1, ms: 300, peers: ['parallax-emu', 'qemu'] } : { cores: [1, 2], reps: 3, ms: 3000, peers: ['parallax-emu', 'qemu'] };
  await step('throughput', '4. aggregate throughput, 1 and 2 cores (bench/throughput.ts)', () => runThroughput(thrOpts), printThroughput, writeThroughput);

  if (!skip.has('snapshot')) {
    console.log('\n== 5. start from a snapshot, 64 cores (bench/snapshot.ts)');
    const args = short ? ['--short'] : out ? ['--out', out] : [];
    const r = spawnSync(process.execPath, [resolve(repoRoot, 'dist/bench/snapshot.js'), ...args], { stdio: 'inherit', timeout: 1_800_000 });
    if (r.status !== 0) failures.push(`snapshot: exit status ${r.status ?? r.signal}`);
  }

  const elapsed = (performance.now() - t0) / 1000;
  if (out) {
    mkdirSync(out, { recursive: true });
    const summary = [`# parallax-emu benchmark results`, '',
      `Latest result of each benchmark in this folder (each section names its own machine, commit and date); written ${new Date().toISOString()}. How to read them: docs/BENCHMARKS.md.`, '',
      ...summarySections(out), ...(failures.length ? ['## Not measured in the last run', '', ...failures.map((f) => `- ${f}`), ''] : [])].join('\n');
    writeFileSync(join(out, 'summary.md'), summary);
    console.log(`\nwrote ${out}/summary.md (+ per-benchmark JSON and markdown, signaling.svg)`);
  }
  console.log(`\n== done in ${elapsed.toFixed(0)} s${failures.length ? `; not measured: ${failures.length} item(s)` : ''}`);
  for (const f of failures) console.log(`   ${f}`);
  process.exitCode = failures.length ? 1 : 0;
}

/**
 * The newest result of each benchmark found in `dir`, as markdown sections. Each benchmark's
 * own markdown (and the chart) is rendered again from its JSON, so the files always agree.
 */
function summarySections(dir: string): string[] {
  const read = <T>(name: string): T | null => {
    const f = isAbsolute(name) ? name : join(dir, name);
    if (!existsSync(f)) return null;
    try { return JSON.parse(readFileSync(f, 'utf8')) as T; } catch { return null; }
  };
  const out: string[] = [];
  const mips = read<MipsJson>('mips.json') ?? read<MipsJson>(resolve(repoRoot, 'bench/results/mips.json'));
  if (mips) out.push(mipsSection(mips));
  const sig = read<SignalingResult>('signaling.json');
  if (sig) { writeSignaling(sig, dir); out.push(signalingMarkdown(sig).replace(/^# /, '## ')); }
  const cores = read<CoresResult>('cores.json');
  if (cores) writeCores(cores, dir);
  if (cores) out.push(coresMarkdown(cores).replace(/^## /gm, '### ').replace(/^# /, '## '));
  const thr = read<ThroughputResult>('throughput.json');
  if (thr) { writeThroughput(thr, dir); out.push(throughputMarkdown(thr).replace(/^# /, '## ')); }
  // bench/snapshot.ts writes its own markdown (a separate process); its section as written
  const snapshotMd = join(dir, 'snapshot.md');
  if (existsSync(snapshotMd)) out.push(readFileSync(snapshotMd, 'utf8').replace(/^# /, '## '));
  return out;
}

interface MipsJson { machine: string; commit?: string; date?: string; iterations: number; insns: number; results: Record<string, { deltaMs: number[]; checksum: string }> }

function mipsSection(j: MipsJson): string {
  const nat = median(j.results.native?.deltaMs ?? [NaN]);
  const q = median(j.results['qemu-tcg']?.deltaMs ?? [NaN]);
  const rows = Object.entries(j.results).map(([peer, r]) => {
    const ms = median(r.deltaMs);
    return [peer, ms, j.insns / (ms * 1000), (ms / nat).toFixed(2), Number.isFinite(q) ? (ms / q).toFixed(2) : '-'];
  });
  return ['## MIPS (emulator core)', '', `bench/mips.ts: ${j.iterations} iterations, ${j.insns} instructions counted by parallax-emu, checksums equal across peers; machine ${j.machine}` +
    (j.commit ? `; commit ${j.commit}; ${j.date ?? ''}.` : '.'), '',
    markdownTable(['peer', 'ms', 'MIPS', 'x native time', 'x QEMU time'], rows), ''].join('\n');
}

main().catch((e) => { console.error(`bench: ${(e as Error).stack ?? e}`); process.exit(1); });
