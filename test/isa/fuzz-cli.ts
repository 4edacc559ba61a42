// Fuzz CLI for the ISA oracle: npm run fuzz:isa -- --cases N --seed S [--group NAME]...
// Runs the differential comparison (emulator vs host CPU) and prints per-group mismatches.
//   --cases N        number of cases (default 10000)
//   --seed S         PRNG seed (default "fuzz-1"; "random" picks one and prints it)
//   --group NAME     only that group (exact group name) or forms whose group or name starts with NAME
//                    (repeatable, or comma-separated; --list-groups shows them)
//   --examples K     full mismatch reports per group (default 3)
//   --single-ratio P share of single-instruction cases (default 0.5)
//   --self           compare the native harness with itself (checks the oracle, needs no emulator)
//   --replay FILE    rerun one saved mismatch (test/isa/build/mismatches/*.json) and print the comparison
//   --list-groups    print the table's groups and forms and exit

import { readFileSync } from 'node:fs';
import { compareCase, formatMismatch, parseReproduction } from './compare.js';
import { formatReport, nativeRunner, runDifferential } from './differential.js';
import { JIT_TIER } from '../../src/cpu/block-compiler.js';
import { wasmStats } from '../../src/cpu/wasm/wasm-tier.js';
import { loadEmulatorRunner, MissingRunnerError } from './emulator.js';
import { failingGroups, toleratedLines } from './excluded.js';
import { groupForms, toSnippetCase } from './generate.js';
import { runNative } from './native-harness.js';
import type { RunSnippets } from './snippet-api.js';
import { TABLE } from './table.js';

interface Args {
  cases: number;
  seed: string;
  groups: string[];
  examples: number;
  singleRatio?: number;
  self: boolean;
  replay?: string;
  listGroups: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { cases: 10_000, seed: 'fuzz-1', groups: [], examples: 3, self: false, listGroups: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--cases': a.cases = Number(value()); break;
      case '--seed': a.seed = value(); break;
      case '--group': a.groups.push(...value().split(',').filter((g) => g)); break;
      case '--examples': a.examples = Number(value()); break;
      case '--single-ratio': a.singleRatio = Number(value()); break;
      case '--self': a.self = true; break;
      case '--replay': a.replay = value(); break;
      case '--list-groups': a.listGroups = true; break;
      case '--help': case '-h':
        console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
        process.exit(0);
        break;
      default: throw new Error(`unknown option ${flag} (see --help)`);
    }
  }
  if (!Number.isInteger(a.cases) || a.cases <= 0) throw new Error('--cases must be a positive integer');
  if (a.seed === 'random') a.seed = String(Date.now() % 1_000_000_000);
  return a;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.listGroups) {
    for (const [g, forms] of groupForms(TABLE)) console.log(`${g}: ${forms.map((f) => f.name + (f.feature ? ` [${f.feature}]` : '')).join(' | ')}`);
    return 0;
  }
  let runner: RunSnippets;
  try {
    runner = args.self ? nativeRunner : await loadEmulatorRunner();
  } catch (e) {
    if (e instanceof MissingRunnerError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  if (args.replay) {
    const c = parseReproduction(readFileSync(args.replay, 'utf8'));
    const [native] = runNative([c]);
    const [emu] = runner([toSnippetCase(c)]);
    const diffs = compareCase(c, native, emu);
    console.log(diffs.length ? formatMismatch(c, diffs) : `case ${c.id}: results agree\n  ${c.text.join('\n  ')}`);
    return diffs.length ? 1 : 0;
  }
  console.log(`isa fuzz: seed ${args.seed}, ${args.cases} cases${args.groups.length ? `, groups ${args.groups.join(',')}` : ''}${args.self ? ' (native vs native)' : ''}`);
  const report = await runDifferential({
    seed: args.seed, cases: args.cases, groups: args.groups, runner, examplesPerGroup: args.examples, singleRatio: args.singleRatio,
  });
  console.log(formatReport(report));
  if (JIT_TIER >= 3) {
    // with tier 3 forced, say how much of the run it really covered (a block it declines runs on tier 2)
    console.log(`tier 3: ${wasmStats.translated} blocks translated, ${wasmStats.declined} declined (top: ` +
      [...wasmStats.reasons].sort((x, y) => y[1] - x[1]).slice(0, 5).map(([r, n]) => `${n} ${r}`).join(', ') + ')');
  }
  for (const line of toleratedLines(report.groups)) console.log(line);
  return failingGroups(report.groups).length || report.oracleErrors ? 1 : 0;
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(`isa fuzz: ${e.stack ?? e}`);
  process.exit(2);
});
