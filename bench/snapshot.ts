// `npm run bench:snapshot`: starting a booted DIME server from a snapshot (the CI fast path)
// against booting it, in the same run, on the same host:
//   boot       spawn -> "DIME ready: N cores" (a cold boot of the DIME kernel)
//   restore    spawn -> "restored snapshot" (-incoming file:, same command line): the whole
//              start, Node and worker start-up included; the emulator's own part (read,
//              checksum, inflate RAM, devices, cores) is printed beside it
//   floor      spawn -> exit of `node -e 0` (what any Node process pays to start)
//   save       savevm time (--snapshot-out after "DIME ready"), file size, stored 2 MiB frames
//
//   --cores 64   --mem 512   --reps 3   --out DIR (default bench/results; --short writes nothing)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMULATOR_CLI, MachineProcess, machineCommand } from '../src/orchestrator/launcher.js';
import { benchMain, jsonText, writeResultFiles } from './lib/bench-main.js';
import { repoRoot } from './lib/paths.js';
import { argFlag, argNumber, commitLine, loadPerCpu, machineLine, markdownTable, median, table } from './lib/report.js';

export interface SnapshotBenchResult {
  benchmark: 'snapshot';
  machine: string;
  commit: string;
  date: string;
  params: { cores: number; memMiB: number; reps: number };
  bootMs: number[];
  restoreMs: number[];
  /** the emulator's own restore time (its "restored ... in N ms" line) */
  restoreInnerMs: number[];
  /** of that, the wait for every core worker to be built and parked (grows with cores / host CPUs) */
  workerStartMs: number[];
  nodeFloorMs: number[];
  saveMs: number;
  fileMiB: number;
  frames: number;
  hostLoadPerCpu: { before: number; after: number };
  errors: string[];
}

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

export async function runSnapshotBench(o: { cores: number; memMiB: number; reps: number }): Promise<SnapshotBenchResult> {
  const errors: string[] = [];
  const before = loadPerCpu();
  const dir = mkdtempSync(join(tmpdir(), 'px-bench-snap-'));
  const file = join(dir, 'booted.pxsnap');
  const [, base] = machineCommand({ kind: 'emu', cores: o.cores, memMiB: o.memMiB, net: 'none' });
  const r: SnapshotBenchResult = {
    benchmark: 'snapshot', machine: machineLine(), commit: commitLine(repoRoot), date: new Date().toISOString(),
    params: o, bootMs: [], restoreMs: [], restoreInnerMs: [], workerStartMs: [], nodeFloorMs: [], saveMs: NaN, fileMiB: NaN, frames: NaN,
    hostLoadPerCpu: { before, after: NaN }, errors,
  };
  try {
    log(`snapshot bench: booting ${o.cores} cores and saving (${EMULATOR_CLI})`);
    const saved = await timed([...base, '--snapshot-out', file], /saved the machine to .* \(([\d.]+) MiB, (\d+) RAM frames\) in (\d+) ms/, 'save');
    const m = /saved the machine to .* \(([\d.]+) MiB, (\d+) RAM frames\) in (\d+) ms/.exec(saved.out)!;
    r.fileMiB = statSync(file).size / 2 ** 20;
    r.frames = Number(m[2]);
    r.saveMs = Number(m[3]);
    for (let i = 0; i < o.reps; i++) {
      log(`snapshot bench: rep ${i + 1}/${o.reps}: boot, restore, node floor`);
      r.bootMs.push((await timed(base, new RegExp(`DIME ready: ${o.cores} cores`), 'boot')).ms);
      const line = /restored .* in (\d+) ms \((\d+) ms of it waiting for the core workers/;
      const rest = await timed([...base, '-incoming', `file:${file}`], line, 'restore');
      const m2 = line.exec(rest.out)!;
      r.restoreMs.push(rest.ms);
      r.restoreInnerMs.push(Number(m2[1]));
      r.workerStartMs.push(Number(m2[2]));
      const t0 = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      r.nodeFloorMs.push(performance.now() - t0);
    }
  } catch (e) {
    errors.push((e as Error).message.split('\n')[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  r.hostLoadPerCpu.after = loadPerCpu();
  return r;
}

function rows(r: SnapshotBenchResult): (string | number)[][] {
  const ms = (xs: number[]) => (xs.length ? median(xs).toFixed(0) : '-');
  return [
    ['boot to "DIME ready"', ms(r.bootMs), '1.00'],
    ['start from snapshot', ms(r.restoreMs), r.bootMs.length ? (median(r.restoreMs) / median(r.bootMs)).toFixed(2) : '-'],
    ['  core workers start', ms(r.workerStartMs), r.bootMs.length ? (median(r.workerStartMs) / median(r.bootMs)).toFixed(2) : '-'],
    ['  restore proper', ms(r.restoreInnerMs.map((x, i) => x - r.workerStartMs[i])), r.bootMs.length ? (median(r.restoreInnerMs.map((x, i) => x - r.workerStartMs[i])) / median(r.bootMs)).toFixed(2) : '-'],
    ['node -e 0 (floor)', ms(r.nodeFloorMs), r.bootMs.length ? (median(r.nodeFloorMs) / median(r.bootMs)).toFixed(2) : '-'],
  ];
}

function print(r: SnapshotBenchResult): void {
  console.log(`start from a snapshot, ${r.params.cores} cores, ${r.params.memMiB} MiB, median of ${r.params.reps} (${r.machine}; ${r.commit})`);
  console.log(`host load per CPU: ${r.hostLoadPerCpu.before.toFixed(2)} before, ${r.hostLoadPerCpu.after.toFixed(2)} after`);
  console.log(table(['what', 'ms', 'x boot'], rows(r)));
  console.log(`save: ${r.saveMs} ms, file ${r.fileMiB.toFixed(1)} MiB, ${r.frames} RAM frames of 2 MiB stored`);
  for (const e of r.errors) console.log(`error: ${e}`);
}

function write(r: SnapshotBenchResult, dir: string): string[] {
  const md = [`# Start from a snapshot (${r.params.cores} cores)`, '', `${r.machine}; ${r.commit}; ${r.date}`,
    `host load per CPU ${r.hostLoadPerCpu.before.toFixed(2)} before, ${r.hostLoadPerCpu.after.toFixed(2)} after`, '',
    markdownTable(['what', 'ms (median)', 'x boot'], rows(r)), '',
    `save ${r.saveMs} ms; file ${r.fileMiB.toFixed(1)} MiB; ${r.frames} frames`, ''].join('\n');
  return writeResultFiles(dir, { 'snapshot.json': jsonText(r), 'snapshot.md': md });
}

benchMain({
  script: 'snapshot',
  short: () => argFlag('short'),
  run: () => runSnapshotBench({ cores: argNumber('cores', 64), memMiB: argNumber('mem', 512), reps: argNumber('reps', argFlag('short') ? 1 : 3) }),
  print,
  write,
});
