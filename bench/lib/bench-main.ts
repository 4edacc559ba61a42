// What every benchmark script shares: writing its result files, and the command-line entry
// (clean-up of child machines, print, write under bench/results unless --short, exit status 1
// only when something could not be measured — a missing QEMU is reported, not a failure).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { installCleanup } from './machines.js';
import { repoRoot } from './paths.js';
import { argFlag, argString } from './report.js';

/** Write `files` (name -> contents) into `dir`; returns their paths. */
export function writeResultFiles(dir: string, files: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(files).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}

export function jsonText(r: unknown): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** The usual result files of benchmark `name`: name.json (the result) and name.md (its report). */
export function jsonAndMarkdown<R>(name: string, markdown: (r: R) => string): (r: R, dir: string) => string[] {
  return (r, dir) => writeResultFiles(dir, { [`${name}.json`]: jsonText(r), [`${name}.md`]: markdown(r) });
}

/** The errors that left something unmeasured: a missing QEMU is reported, not a failure. */
export function unmeasured(errors: string[]): string[] {
  return errors.filter((m) => !m.startsWith('qemu-system-x86_64 not found'));
}

export interface BenchEntry<R extends { errors: string[] }> {
  /** script name: runs only when invoked as bench/<script>.js */
  script: string;
  /** a short run writes nothing unless --out is given (default: the --short flag) */
  short?: () => boolean;
  run: () => Promise<R>;
  print: (r: R) => void;
  write: (r: R, dir: string) => string[];
}

export function benchMain<R extends { errors: string[] }>(e: BenchEntry<R>): void {
  if (!process.argv[1] || !resolve(process.argv[1]).replace(/\.ts$/, '.js').endsWith(`bench/${e.script}.js`)) return;
  const main = async (): Promise<void> => {
    installCleanup();
    const r = await e.run();
    e.print(r);
    const short = e.short ? e.short() : argFlag('short');
    const out = argString('out') ?? (short ? undefined : resolve(repoRoot, 'bench/results'));
    if (out) for (const f of e.write(r, out)) console.log(`wrote ${f}`);
    process.exitCode = unmeasured(r.errors).length ? 1 : 0;
  };
  main().catch((err) => { console.error(`${e.script} benchmark: ${(err as Error).stack ?? err}`); process.exit(1); });
}

/**
 * A benchmark whose result files are the usual two (jsonAndMarkdown(script, markdown)): its
 * command-line entry (benchMain) when run as bench/<script>.js; returns its writer (bench/all.ts
 * writes with it too).
 */
export function benchWithReport<R extends { errors: string[] }>(script: string, e: Omit<BenchEntry<R>, 'script' | 'write'> & { markdown: (r: R) => string }): (r: R, dir: string) => string[] {
  const write = jsonAndMarkdown(script, e.markdown);
  benchMain({ script, short: e.short, run: e.run, print: e.print, write });
  return write;
}
