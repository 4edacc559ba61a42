// The differential run: generate cases, run them natively and through a RunSnippets
// implementation (the emulator, or the native harness itself for the determinism check),
// compare, and tally mismatches per opcode group.

import { compareCase, formatMismatch } from './compare.js';
import { cpuidCases, featuresFromCpuid } from './features.js';
import type { Feature, Form } from './form.js';
import { generateCases, toSnippetCases, type IsaCase } from './generate.js';
import { runNative, runNativeAsync, segmentsOf, type NativeCase } from './native-harness.js';
import type { RunSnippets, SnippetResult } from './snippet-api.js';
import { TABLE } from './table.js';

export interface DifferentialOptions {
  seed: number | string;
  cases: number;
  /** keep these groups (exact group names), or forms whose group or name starts with one of these */
  groups?: string[];
  runner: RunSnippets;
  /** cases per batch handed to the native harness and the runner */
  batch?: number;
  /** full mismatch reports kept per group */
  examplesPerGroup?: number;
  singleRatio?: number;
  disassemble?: boolean;
}

export interface GroupTally {
  cases: number;
  mismatches: number;
  examples: string[];
}

export interface DifferentialReport {
  features: { native: Feature[]; runner: Feature[]; compared: Feature[] };
  skippedForms: string[];
  /** groups of the selection none of whose forms could run (a feature missing on one side), with the features */
  vanishedGroups: Map<string, Feature[]>;
  /** single-instruction cases by group, sequences under "sequence" */
  groups: Map<string, GroupTally>;
  totalCases: number;
  totalMismatches: number;
  oracleErrors: number;
  /** wall-clock milliseconds spent in each phase (native: waiting for the host after the runner finished) */
  timing: { generate: number; native: number; runner: number; compare: number };
}

/**
 * The native harness wearing the emulator's interface (for self-checks). Like a real runner it
 * leaves the cases alone; the result windows are copies.
 */
export const nativeRunner: RunSnippets = (cases) => {
  const nc: NativeCase[] = cases.map((c) => ({ code: c.code, init: c.init, segments: segmentsOf(c.data), mxcsr: c.mxcsr }));
  return runNative(nc).map((r, i) => {
    const data = cases[i].data.slice();
    for (const d of r.diffs) data.set(d.bytes, d.offset);
    const out: SnippetResult = { final: r.final, data };
    if (r.fault) out.fault = r.fault;
    return out;
  });
};

/** Every x86-64 CPU has these (AMD64/Intel 64 long mode requires them). */
export const BASELINE_FEATURES: readonly Feature[] = ['cx8', 'cmov', 'sse2', 'fpu', 'mmx', 'fxsr', 'clflush'];

export function probeFeatures(runner: RunSnippets): Set<Feature> {
  return featuresFromCpuid(runner(cpuidCases()).map((r) => (r.fault ? undefined : r.final)));
}

export function selectForms(compared: Set<Feature>, groups?: string[]): { forms: Form[]; skipped: string[]; vanished: Map<string, Feature[]> } {
  const forms: Form[] = [], skipped: string[] = [];
  const missing = new Map<string, Set<Feature>>();
  // a name that is exactly a group selects that group; anything else is a prefix of groups or form names
  const exact = new Set(TABLE.map((f) => f.group));
  const wanted = (f: Form, g: string) => (exact.has(g) ? f.group === g : f.group.startsWith(g) || f.name.startsWith(g));
  for (const f of TABLE) {
    if (groups && groups.length && !groups.some((g) => wanted(f, g))) continue;
    if (f.feature && !compared.has(f.feature)) {
      skipped.push(`${f.name} (${f.feature})`);
      missing.set(f.group, (missing.get(f.group) ?? new Set()).add(f.feature));
    } else forms.push(f);
  }
  // a group is gone when every one of its selected forms was skipped
  const kept = new Set(forms.map((f) => f.group));
  const vanished = new Map<string, Feature[]>();
  for (const [g, fs] of missing) if (!kept.has(g)) vanished.set(g, [...fs].sort());
  return { forms, skipped, vanished };
}

export function tallyKey(c: IsaCase): string {
  return c.groups.length === 1 ? c.groups[0] : 'sequence';
}

export async function runDifferential(opts: DifferentialOptions): Promise<DifferentialReport> {
  const nativeFeatures = probeFeatures(nativeRunner);
  const runnerFeatures = opts.runner === nativeRunner ? nativeFeatures : probeFeatures(opts.runner);
  // x86-64 makes some features architectural: compare them even if the runner's CPUID omits them
  const compared = new Set([...nativeFeatures].filter((f) => runnerFeatures.has(f) || BASELINE_FEATURES.includes(f)));
  const { forms, skipped, vanished } = selectForms(compared, opts.groups);
  if (forms.length === 0) throw new Error(`isa: no forms selected (groups: ${opts.groups?.join(',') ?? 'all'})`);
  // a differential run of nothing proves nothing
  if (!Number.isInteger(opts.cases) || opts.cases <= 0) throw new Error(`isa: the number of cases must be a positive integer (got ${opts.cases})`);

  const report: DifferentialReport = {
    features: { native: [...nativeFeatures].sort(), runner: [...runnerFeatures].sort(), compared: [...compared].sort() },
    skippedForms: skipped, vanishedGroups: vanished, groups: new Map(), totalCases: 0, totalMismatches: 0, oracleErrors: 0,
    timing: { generate: 0, native: 0, runner: 0, compare: 0 },
  };
  const tm = report.timing;
  let t = performance.now();
  const lap = (k: keyof typeof tm) => { const now = performance.now(); tm[k] += now - t; t = now; };
  const batch = opts.batch ?? 1000;
  const examples = opts.examplesPerGroup ?? 3;
  const genOpts = { seed: opts.seed, forms, singleRatio: opts.singleRatio };
  for (let first = 0; first < opts.cases; first += batch) {
    t = performance.now();
    const cases = generateCases(genOpts, first, Math.min(batch, opts.cases - first));
    const snippets = toSnippetCases(cases);
    lap('generate');
    // the host runs the batch in its own process while the runner works on this thread
    const nativePending = runNativeAsync(cases);
    nativePending.catch(() => { /* awaited below */ });
    let emu: SnippetResult[];
    try {
      emu = opts.runner(snippets);
    } catch (e) {
      throw new Error(`isa: the runner threw on the batch of cases ${cases[0].id}..${cases[cases.length - 1].id}: ${(e as Error).stack ?? e}`);
    }
    lap('runner');
    const native = await nativePending;
    lap('native');
    if (emu.length !== cases.length) throw new Error(`isa: runner returned ${emu.length} results for ${cases.length} cases`);
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      const key = tallyKey(c);
      const g = report.groups.get(key) ?? { cases: 0, mismatches: 0, examples: [] };
      report.groups.set(key, g);
      g.cases++;
      report.totalCases++;
      const diffs = compareCase(c, native[i], emu[i]);
      if (diffs.length === 0) continue;
      if (native[i].harnessError) report.oracleErrors++;
      g.mismatches++;
      report.totalMismatches++;
      if (g.examples.length < examples) g.examples.push(formatMismatch(c, diffs, opts.disassemble ?? true));
    }
    lap('compare');
  }
  return report;
}

export function formatReport(r: DifferentialReport): string {
  const lines: string[] = [];
  lines.push(`features compared: ${r.features.compared.join(' ') || '-'}`);
  const onlyNative = r.features.native.filter((f) => !r.features.runner.includes(f) && !BASELINE_FEATURES.includes(f));
  if (onlyNative.length) lines.push(`host-only features (their forms skipped): ${onlyNative.join(' ')}`);
  const missingBaseline = BASELINE_FEATURES.filter((f) => !r.features.runner.includes(f));
  if (missingBaseline.length) lines.push(`the runner's CPUID omits baseline x86-64 features (compared anyway): ${missingBaseline.join(' ')}`);
  for (const [g, fs] of r.vanishedGroups) lines.push(`group ${g}: not run (needs ${fs.join(' ')}, which one side does not advertise)`);
  lines.push(`cases: ${r.totalCases}, mismatches: ${r.totalMismatches}${r.oracleErrors ? `, oracle errors: ${r.oracleErrors}` : ''}`);
  const tm = r.timing;
  lines.push(`time (ms): generate ${tm.generate.toFixed(0)}, native ${tm.native.toFixed(0)}, runner ${tm.runner.toFixed(0)}, compare ${tm.compare.toFixed(0)}`);
  const keys = [...r.groups.keys()].sort();
  const bad = keys.filter((k) => r.groups.get(k)!.mismatches > 0);
  lines.push('group'.padEnd(16) + 'cases'.padStart(8) + 'mismatches'.padStart(12));
  for (const k of keys) {
    const t = r.groups.get(k)!;
    lines.push(k.padEnd(16) + String(t.cases).padStart(8) + String(t.mismatches).padStart(12) + (t.mismatches ? '  <--' : ''));
  }
  for (const k of bad) {
    lines.push('', `==== ${k}: ${r.groups.get(k)!.mismatches} mismatches; first ones:`);
    lines.push(...r.groups.get(k)!.examples);
  }
  return lines.join('\n');
}

/**
 * Groups that ran no case although selected (too few cases for the table, or a generator that
 * never places them): a group that silently drops out is a gap in the oracle.
 */
export function unexercisedGroups(r: DifferentialReport, forms: readonly Form[] = TABLE, groups?: string[]): string[] {
  const compared = new Set(r.features.compared);
  const { forms: selected } = selectForms(compared, groups);
  const want = new Set(selected.filter((f) => forms.includes(f)).map((f) => f.group));
  return [...want].filter((g) => !(r.groups.get(g)?.cases)).sort();
}
