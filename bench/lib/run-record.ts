// What every benchmark result records about its own run, beside its figures: which benchmark,
// on which machine and commit, when, the host load before and after (figures measured on a
// loaded host say so), how long it took and what could not be measured.
import { repoRoot } from './paths.js';
import { commitLine, loadPerCpu, machineLine } from './report.js';

export interface RunRecord<B extends string = string> {
  benchmark: B;
  machine: string;
  commit: string;
  date: string;
  hostLoadPerCpu: { before: number; after: number };
  elapsedS: number;
  errors: string[];
}

/** The record at the start of a run; `finishRun` completes it. */
export function startRun<B extends string>(benchmark: B): RunRecord<B> {
  return {
    benchmark, machine: machineLine(), commit: commitLine(repoRoot), date: new Date().toISOString(),
    hostLoadPerCpu: { before: loadPerCpu(), after: NaN }, elapsedS: NaN, errors: [],
  };
}

/** Host load after the run and the time it took since `startedMs` (performance.now()). */
export function finishRun(r: RunRecord, startedMs: number): void {
  r.hostLoadPerCpu.after = loadPerCpu();
  r.elapsedS = (performance.now() - startedMs) / 1000;
}

/** The line under a report: machine, commit, host load before -> after, duration. */
export function runLine(r: RunRecord): string {
  return `machine: ${r.machine}; commit ${r.commit}; host load per CPU ${r.hostLoadPerCpu.before.toFixed(2)} -> ${r.hostLoadPerCpu.after.toFixed(2)}; ${r.elapsedS.toFixed(1)} s`;
}
