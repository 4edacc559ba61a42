// `npm run bench:throughput`: aggregate compute throughput of a server with 1 and 2 cores
// (scaling), parallax-emu beside QEMU TCG. Every DIME runs the built-in cpuburn service for
// number of rounds (one round = 100,000 xorshift steps), all launched together with
// system-scope frames (SET_PARAM, LOAD_BUILTIN, EXECUTE); the host times EXECUTE to the last
// DIME's report. Warm-up runs size R so that 2R rounds take about --ms; the rate is from the
// runs of R and 2R rounds (their difference: no launch or report cost). Beside it, the host CPUs
// the machine's process used (/proc) and rounds per CPU-second, which host load does not move.
//   --threads   also print each thread's CPU seconds per run The ideal
// scaling from 1 to 2 cores is 2.00x (the host has 2 cores, shared with the I/O thread).
//
//   --cores 1,2   --reps R   --ms MS (run time)   --peers parallax-emu,qemu   --out DIR
import { readdirSync, readFileSync } from 'node:fs';
import { BENCH_KEY, runOnEachPeer, type PeerBenchOptions } from './lib/dime-paths.js';
import { DimeServer, type MachineKind } from './lib/machines.js';
import { benchWithReport } from './lib/bench-main.js';
import { runLine, type RunRecord } from './lib/run-record.js';
import { argFlag, argNumber, argString, loadPerCpu, markdownTable, median, spreadPct, table } from './lib/report.js';
import type { Orchestrator } from '../src/orchestrator/orchestrator.js';
import * as W from '../src/protocol/wire.js';

export interface ThroughputResult extends RunRecord<'throughput'> {
  params: { cores: number[]; reps: number; ms: number };
  /** per peer, per core count: aggregate rounds per second of each repetition */
  roundsPerS: Partial<Record<MachineKind, Record<string, number[]>>>;
  /**
   * per peer, per core count: host CPUs the machine's process used during the run (CPU seconds /
   * wall seconds). Rounds per CPU-second that stay flat while cores are added mean nothing in
   * the emulator serializes; throughput that does not scale then means the host ran out of CPUs.
   */
  cpusUsed: Partial<Record<MachineKind, Record<string, number[]>>>;
}

export interface ThroughputOptions extends PeerBenchOptions {
  cores: number[];
  reps: number;
  ms: number;
}

const PEER: Record<MachineKind, string> = { 'parallax-emu': 'parallax-emu', qemu: 'QEMU TCG' };

export function throughputOptionsFromArgs(): ThroughputOptions {
  const short = argFlag('short');
  const cores = (argString('cores') ?? '1,2').split(',').map(Number);
  for (const c of cores) if (!Number.isInteger(c) || c < 1 || c > 64) throw new Error(`--cores: '${c}' is not a core count`);
  const peers = (argString('peers') ?? 'parallax-emu,qemu').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of peers) if (p !== 'parallax-emu' && p !== 'qemu') throw new Error(`--peers: unknown peer '${p}'`);
  return { cores, reps: Math.max(1, Math.round(argNumber('reps', short ? 1 : 3))), ms: Math.max(100, Math.round(argNumber('ms', short ? 1000 : 3000))), peers: peers as MachineKind[] };
}

/** CPU seconds per thread (tid -> seconds) of a process, from /proc; empty elsewhere. */
export function threadCpuSeconds(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) / 100);
    }
  } catch { /* process gone, or not Linux */ }
  return out;
}

/** CPU time (user + system, every thread) a process has used so far, from /proc; NaN elsewhere. */
export function processCpuSeconds(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return NaN;
  }
}

/**
 * Every DIME of the server runs cpuburn for a fixed number of rounds, launched together;
 * returns the host wall seconds from the EXECUTE to the last DIME's report.
 */
async function burn(orch: Orchestrator, s: DimeServer, mac: string, cores: number, rounds: number, cpu?: { seconds: number }): Promise<number> {
  const sys = async (name: string, values: Record<string, string | number>) => {
    const replies = await orch.link.request(mac, null, name, values, { expect: cores, timeoutMs: 10_000 });
    const bad = replies.find((x) => x.frame.status !== W.STATUS.OK);
    if (replies.length < cores || bad) throw new Error(`${name}: ${replies.length}/${cores} answers${bad ? `, status ${bad.frame.status}` : ''}`);
  };
  await sys('SET_PARAM', { key: 'rounds', value: String(rounds) });
  await sys('LOAD_BUILTIN', { name: 'cpuburn' });
  const from = s.w.output.length;
  const t0 = performance.now();
  const cpu0 = processCpuSeconds(s.w.proc.pid);
  const threads0 = threadCpuSeconds(s.w.proc.pid);
  await sys('EXECUTE', {});
  await s.w.waitFor(new RegExp(`(cpuburn DIME \\d+: ${rounds} rounds[^]*){${cores}}`), 600_000, from);
  const seconds = (performance.now() - t0) / 1000;
  if (cpu) cpu.seconds = processCpuSeconds(s.w.proc.pid) - cpu0;
  if (cpu && argFlag('threads')) {
    const after = threadCpuSeconds(s.w.proc.pid);
    const busy = [...after].map(([tid, t]) => [tid, t - (threads0.get(tid) ?? 0)] as const).filter(([, t]) => t >= 0.01).sort((a, b) => b[1] - a[1]);
    console.log(`  ${cores} cores, ${seconds.toFixed(2)} s wall: CPU s by thread ${busy.map(([tid, t]) => `${tid === String(s.w.proc.pid) ? 'main' : tid}:${t.toFixed(2)}`).join(' ')}`);
  }
  // the DIMEs go back to the pool just after reporting: wait, or the next LOAD is refused
  await s.w.waitFor(new RegExp(`(DIME \\d+: 'cpuburn' exited[^]*){${cores}}`), 30_000, from);
  return seconds;
}

export function runThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  let serial = 0;
  return runOnEachPeer<ThroughputResult>('throughput', o, { params: { cores: o.cores, reps: o.reps, ms: o.ms }, roundsPerS: {}, cpusUsed: {} }, (r) => [
    `throughput benchmark: cpuburn on every DIME for ${o.ms} ms, ${o.cores.join(' and ')} cores, ${o.reps} repetition(s); ${r.machine}`,
  ], async (kind, { hubPath, orch }, r, log) => {
    const per: Record<string, number[]> = {};
    const cpus: Record<string, number[]> = {};
    for (const c of o.cores) {
      per[c] = [];
      cpus[c] = [];
      for (let rep = 0; rep < o.reps; rep++) {
        const mac = `52:54:00:be:04:${(serial++ & 0xff).toString(16).padStart(2, '0')}`;
        const s = new DimeServer({ kind, cores: c, mac, hubPath, key: BENCH_KEY });
        try {
          await s.ready();
          // warm-up run, which also sizes the measured one to about o.ms
          // Warm-up runs size the measured one to about o.ms: the first (2 rounds) is mostly
          // compilation, so a second sizes again. Then R and 2R rounds: the difference is the
          // rate, without the fixed cost of launching through the network and reporting on
          // the console (a launch of ~0.1-0.2 s once made 1 and 2 cores look alike).
          let rounds = 2;
          for (let i = 0; i < 2; i++) {
            const t = await burn(orch, s, mac, c, rounds);
            rounds = Math.max(rounds, Math.round((rounds * o.ms) / 2 / 1000 / t));
          }
          const cpuA = { seconds: NaN }, cpuB = { seconds: NaN };
          const tA = await burn(orch, s, mac, c, rounds, cpuA);
          const tB = await burn(orch, s, mac, c, 2 * rounds, cpuB);
          // on a loaded host the difference can drown in noise: then the long run alone
          per[c].push(tB > 1.5 * tA ? (c * rounds) / (tB - tA) : (2 * c * rounds) / tB);
          cpus[c].push(cpuB.seconds / tB);
        } catch (e) {
          const msg = (e as Error).message.split('\n')[0];
          r.errors.push(`${PEER[kind]} ${c} cores: ${msg}`);
          log(`${PEER[kind]} ${c} cores: FAILED: ${msg}`);
        } finally {
          await s.stop();
        }
      }
      log(`${PEER[kind]} ${c} core(s): ${per[c].length ? median(per[c]).toFixed(0) : '-'} rounds/s, ` +
        `${cpus[c].length ? median(cpus[c]).toFixed(2) : '-'} host CPUs used, load/cpu ${loadPerCpu().toFixed(1)}`);
    }
    r.roundsPerS[kind] = per;
    r.cpusUsed[kind] = cpus;
  });
}

/** A row per core count and peer (not the peers side by side), so the table fits 100 columns. */
export function throughputTable(r: ThroughputResult): { headers: string[]; rows: (string | number)[][] } {
  const kinds = Object.keys(r.roundsPerS) as MachineKind[];
  const base = r.params.cores[0];
  const rows = r.params.cores.flatMap((c) => {
    const e = r.roundsPerS['parallax-emu']?.[c] ?? [], q = r.roundsPerS.qemu?.[c] ?? [];
    const ratio = e.length && q.length ? (median(e) / median(q)).toFixed(3) : '-';
    return kinds.map((k, i) => {
      const xs = r.roundsPerS[k]![c] ?? [];
      const b = r.roundsPerS[k]![base] ?? [];
      const cpu = r.cpusUsed?.[k]?.[c] ?? [];
      const lead = [i === 0 ? String(c) : '', PEER[k]];
      const tail = [i === 0 ? `${(c / base).toFixed(2)}x` : '', k === 'parallax-emu' ? ratio : ''];
      if (!xs.length) return [...lead, '-', '-', '-', '-', '-', ...tail];
      const used = cpu.length ? median(cpu) : NaN;
      return [...lead, median(xs), xs.length > 1 ? `${spreadPct(xs).toFixed(0)}%` : '-', b.length ? `${(median(xs) / median(b)).toFixed(2)}x` : '-',
        Number.isFinite(used) ? used.toFixed(2) : '-', Number.isFinite(used) ? (median(xs) / used).toFixed(0) : '-', ...tail];
    });
  });
  return { headers: ['cores', 'peer', 'rounds/s', 'spread', 'scaling', 'CPUs used', 'rounds/CPU-s', 'ideal', 'emu/QEMU'], rows };
}

export function printThroughput(r: ThroughputResult, log: (l: string) => void = console.log): void {
  const t = throughputTable(r);
  log('');
  log('aggregate throughput: cpuburn rounds per second summed over every DIME (CPUs used: host CPUs; emu/QEMU: parallax-emu over QEMU)');
  log(table(t.headers, t.rows));
  log(runLine(r));
  for (const e of r.errors) log(`error: ${e}`);
}

export function throughputMarkdown(r: ThroughputResult): string {
  const t = throughputTable(r);
  return ['# Aggregate throughput and scaling', '',
    `cpuburn on every DIME for ${r.params.ms} ms, ${r.params.reps} repetition(s); machine ${r.machine}; commit ${r.commit}; ${r.date}.`, '',
    markdownTable(t.headers, t.rows), '', ...r.errors.map((e) => `- error: ${e}`), ''].join('\n');
}

export const writeThroughput = benchWithReport('throughput', { run: () => runThroughput(throughputOptionsFromArgs()), print: (r) => printThroughput(r), markdown: throughputMarkdown });
