// `parallax storage export|list|watch`: central storage (docs/STORAGE.md, "Central storage").
// An export runs as long as its command: it serves the file, grants the DIMEs named with
// --grant (CSTORE_GRANT tells each where the export is), alarms refusals, and publishes its
// counters to a small status file per export, which `storage list` and `storage watch` read.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import * as W from '../../protocol/wire.js';
import type { CliContext } from '../cli-context.js';
import { table } from '../cli-context.js';
import { CentralStore, type CentralAlarm, type CentralStatus, type DimeCounters, type ExportStatus } from '../central-store.js';
import { UsageError } from '../errors.js';
import type { DimeAddress } from '../targets.js';
import { dimesNamed } from './dime-list.js';
import type { Args } from './verb.js';
import { untilStopped } from './watch.js';

export interface ExportsReport {
  exports: Array<ExportStatus & { server: string }>;
  /** per DIME that asked */
  clients?: DimeCounters[];
  drops?: CentralStatus['drops'];
}

export function exportsDir(c: CliContext, given: string | undefined): string {
  return given ?? c.io.env.PARALLAX_EXPORTS ?? path.join(homedir(), '.parallax', 'exports');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The status files of running exports (files of exports that died are skipped). */
function readStatuses(dir: string): CentralStatus[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const out: CentralStatus[] = [];
  for (const n of names) {
    try {
      const s = JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as CentralStatus;
      if (alive(s.pid)) out.push(s);
    } catch {
      /* being replaced, or not ours */
    }
  }
  return out;
}

export function listExports(dir: string): ExportsReport['exports'] {
  return readStatuses(dir).flatMap((s) => s.exports.map((e) => ({ ...e, server: s.server })));
}

export function exportsTable(exports: ExportsReport['exports'], dimes?: DimeCounters[]): string {
  if (!exports.length) return 'no exports running';
  const counters = (x: DimeCounters | ExportStatus) => [String(x.opens), String(x.reads), String(x.writes), String(x.bytesRead), String(x.bytesWritten),
    String(x.repeats), String(x.refused), String(x.errors)];
  const head = ['OPENS', 'READS', 'WRITES', 'READ B', 'WRITTEN B', 'REPEATS', 'REFUSED', 'ERRORS'];
  const t = table(['EXPORT', 'SERVER', 'SIZE', 'GRANTS', ...head], exports.map((e) => [`@${e.name}${e.readonly ? ' (ro)' : ''}`, e.server, String(e.size),
    e.grants.map((g) => `${g.dime}:${g.write ? 'rw' : 'r'}`).join(',') || '-', ...counters(e)]));
  return dimes?.length ? `${t}\n\n${table(['DIME', ...head], dimes.map((d) => [d.dime, ...counters(d)]))}` : t;
}

/** `storage watch`: every export's and every DIME's counters, every `intervalMs`. */
export async function watchExports(c: CliContext, dir: string, intervalMs: number, forMs: number): Promise<undefined> {
  if (!(intervalMs >= 50)) throw new UsageError('--interval: at least 50 ms');
  const show = () => {
    const all = readStatuses(dir);
    const report: ExportsReport = { exports: all.flatMap((s) => s.exports.map((e) => ({ ...e, server: s.server }))), clients: all.flatMap((s) => s.dimes) };
    if (c.json) c.emitJson({ at: Date.now(), ...report, drops: all.map((s) => ({ server: s.server, ...s.drops })) });
    else c.out(`${new Date().toISOString().slice(11, 23)}\n${exportsTable(report.exports, report.clients)}\n`);
  };
  show();
  const t = setInterval(show, intervalMs);
  try {
    await untilStopped(forMs);
  } finally {
    clearInterval(t);
  }
  return undefined;
}

/** "S1/2", "S1/2:r", "S1:rw" -> target and STORE_RIGHT bits */
function parseGrant(text: string): { target: string; rights: number } {
  const m = /^(.*?)(?::(r|rw))?$/.exec(text)!;
  if (!m[1]) throw new UsageError(`--grant '${text}': expected SERVER/CORE[:r|:rw] or SERVER[:r|:rw]`);
  return { target: m[1], rights: m[2] === 'r' ? W.STORE_RIGHT.READ : W.STORE_RIGHT.READ | W.STORE_RIGHT.WRITE };
}

/** `storage export PATH`: serve until interrupted (or --for ms); returns the final counters. */
export async function exportFile(c: CliContext, words: string[], dir: string, argv: Args): Promise<ExportsReport> {
  if (words.length !== 1) throw new UsageError('storage export PATH [--name N] [--readonly] [--grant DIME[:r]]...');
  const file = path.resolve(words[0]);
  const name = (argv.name as string | undefined) ?? path.basename(file);
  const grants = ((argv.grant as string[] | undefined) ?? []).map(parseGrant);
  c.longRunning = true; // serves beside the user's CLI commands: a MAC of its own
  const o = await c.orchestrator();
  const store = new CentralStore(o.link, (d) => o.label(d));
  try {
    store.addExport({ name, path: file, readonly: !!argv.readonly, maxBytes: argv['max-size'] as number });
  } catch (e) {
    throw new UsageError(`storage export: ${(e as Error).message}`);
  }
  const granted: DimeAddress[] = [];
  const statusFile = path.join(dir, `${name}.${o.mac.replace(/:/g, '')}.json`);
  const publish = () => {
    const tmp = `${statusFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(store.status()));
    renameSync(tmp, statusFile);
  };
  store.on('alarm', (a: CentralAlarm) => {
    const what = { type: 'alarm', kind: 'storage', dime: o.label(a.dime), export: a.export, access: a.what, count: a.count, at: Date.now() };
    if (c.json) c.emitJson(what);
    else c.out(c.paint('red', `ALARM storage: ${what.dime} refused ${a.what} of @${a.export} (no grant; ${a.count} refusal${a.count === 1 ? '' : 's'})`));
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    for (const g of grants) {
      for (const d of await dimesNamed(o, [g.target])) {
        const rights = store.grant(name, d, g.rights);
        await o.ensureDime(d);
        await o.call(d, 'CSTORE_GRANT', { rights, server: o.mac, name });
        granted.push(d);
      }
    }
    mkdirSync(dir, { recursive: true });
    publish();
    timer = setInterval(publish, 1000);
    const ready = { type: 'export', export: name, path: file, server: o.mac, readonly: !!argv.readonly, grants: granted.map((d) => o.label(d)) };
    if (c.json) c.emitJson(ready);
    else c.out(`exporting @${name} (${file}) from ${o.mac}${argv.readonly ? ', read-only' : ''} to ${ready.grants.join(', ') || 'nobody yet'}`);
    await untilStopped(argv.for as number);
    // the DIMEs forget the export: their next open of it is refused at home
    for (const d of granted) await o.call(d, 'CSTORE_GRANT', { rights: 0, server: o.mac, name }).catch(() => undefined);
    const s = store.status();
    return { exports: s.exports.map((e) => ({ ...e, server: s.server })), clients: s.dimes, drops: s.drops };
  } finally {
    if (timer) clearInterval(timer);
    rmSync(statusFile, { force: true });
    store.close();
  }
}
