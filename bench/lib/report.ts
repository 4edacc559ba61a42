// Shared pieces of the benchmarks: machine description, robust statistics, table printing.

import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

export function machineLine(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** spread as (max - min) / median, in percent */
export function spreadPct(xs: number[]): number {
  const m = median(xs);
  return m === 0 ? 0 : ((Math.max(...xs) - Math.min(...xs)) / m) * 100;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((v) => (typeof v === 'number' ? fmt(v) : v)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (r: (string | number)[]) => r.map((v, i) => String(v).padEnd(widths[i])).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Latency summary of pooled samples, plus the spread of the per-repetition medians. */
export interface Summary {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
  /** median of each repetition */
  repMedians: number[];
  /** (max - min) / median of repMedians, percent */
  spreadPct: number;
}

export function summarize(reps: number[][]): Summary {
  const all = reps.flat();
  if (all.length === 0) return { n: 0, median: NaN, p99: NaN, min: NaN, max: NaN, mean: NaN, repMedians: [], spreadPct: NaN };
  const repMedians = reps.filter((r) => r.length).map(median);
  return {
    n: all.length,
    median: median(all),
    p99: percentile(all, 99),
    min: Math.min(...all),
    max: Math.max(...all),
    mean: all.reduce((a, b) => a + b, 0) / all.length,
    repMedians,
    spreadPct: repMedians.length > 1 ? spreadPct(repMedians) : 0,
  };
}

/** Ordinary least squares y = a + b x; b is the growth per unit of x. */
export function linearFit(xs: number[], ys: number[]): { a: number; b: number } {
  const n = xs.length;
  const mx = xs.reduce((s, v) => s + v, 0) / n, my = ys.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
  const b = sxx ? sxy / sxx : 0;
  return { a: my - b * mx, b };
}

/**
 * How a cost grows with n, judged from the ratios between the first and last points: the
 * exponent k in t ~ n^k (0 = flat, 1 = linear) and whether it is logarithmic or better, i.e.
 * t(n_last) / t(n_first) is at most 1 + log2(n_last / n_first) (with a 25 % allowance for noise).
 */
export function growth(ns: number[], ts: number[]): { exponent: number; logOrBetter: boolean } {
  const i = 0, j = ns.length - 1;
  if (j <= i || !(ts[i] > 0)) return { exponent: NaN, logOrBetter: false };
  const exponent = Math.log(ts[j] / ts[i]) / Math.log(ns[j] / ns[i]);
  return { exponent, logOrBetter: ts[j] / ts[i] <= 1.25 * (1 + Math.log2(ns[j] / ns[i])) };
}

/** The same table as `table()`, as GitHub markdown. */
export function markdownTable(headers: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => (typeof v === 'number' ? fmt(v) : v).toString().replace(/\|/g, '\\|');
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

/** Commit the numbers were taken at (with "+dirty" when the tree has changes), or "unknown". */
export function commitLine(cwd: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    // bench/results is this run's own output (`npm run bench` writes mips.json before it measures
    // signaling): a change there does not make the measured code differ from HEAD
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Host load average over the last minute divided by the CPU count (a noise indicator). */
export function loadPerCpu(): number {
  return loadavg()[0] / Math.max(1, cpus().length);
}

export function argNumber(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a non-negative number, got '${process.argv[i + 1]}'`);
  return v;
}

export function argFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

export function argString(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
