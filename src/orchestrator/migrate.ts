// Live migration of a running service (docs/MIGRATION.md, after paper 003): freeze it on its
// DIME, move it, rewire its peers to the new place, resume it there. The kernel does the
// freeze and the hand-over (src/dime/kernel/migrate.c); this is the orchestrator's half.
import * as W from '../protocol/wire.js';
import { describeStatus } from './link.js';
import { RefusedError, UsageError } from './errors.js';
import type { Orchestrator } from './orchestrator.js';
import { dimeKey, sameDime, type DimeAddress, type Endpoint } from './targets.js';

export interface MigrationReport {
  from: string;
  to: string;
  service: string;
  /** memory chunks (2 MiB) that moved */
  chunks: number;
  /** frozen inside a blocking system call that the target re-issues */
  restarted: boolean;
  /** request to freeze, as the source DIME measured it (µs) */
  freezeUs: number;
  /** MIGRATE_OUT sent to RESUME answered: how long the service did not run, seen from here (ms) */
  downtimeMs: number;
  rewired: string[];
}

const STATE_NAME: Record<number, string> = Object.fromEntries(Object.entries(W.STATE).map(([k, v]) => [v, k.toLowerCase()]));

/** A DIME's state as it answers now (the model may be a heartbeat old). */
async function fresh(o: Orchestrator, d: DimeAddress) {
  await o.ensureDime(d);
  const r = await o.call(d, 'DISCOVER');
  return { state: r.fields.state as number, service: String(r.fields.service ?? '') };
}

export async function migrateService(o: Orchestrator, from: DimeAddress, to: DimeAddress): Promise<MigrationReport> {
  if (sameDime(from, to)) throw new UsageError(`migrate: ${o.label(from)} is already where the service runs`);
  const src = await fresh(o, from);
  if (src.state !== W.STATE.RUNNING && src.state !== W.STATE.SUSPENDED) {
    throw new RefusedError(`migrate: ${o.label(from)} runs nothing (it is ${STATE_NAME[src.state] ?? src.state}): nothing moved`, W.STATUS.BAD_STATE);
  }
  const dst = await fresh(o, to);
  if (dst.state !== W.STATE.IDLE) {
    throw new RefusedError(`migrate: ${o.label(to)} is busy (${STATE_NAME[dst.state] ?? dst.state}${dst.service ? ` '${dst.service}'` : ''}): nothing moved`, W.STATUS.BAD_STATE);
  }
  if (from.server !== to.server) {
    throw new UsageError(`migrate ${o.label(from)} ${o.label(to)}: across servers is not implemented yet (docs/MIGRATION.md); nothing moved`);
  }
  const view = o.model.get(from)!;
  const input = view.input, output = view.output;
  const { feeders, readers } = o.neighbours(from);
  const t0 = performance.now();
  const [r] = await o.link.request(from.server, from.core, 'MIGRATE_OUT', { server: to.server, core: to.core }, { label: o.label(from), timeoutMs: 5000 });
  if (r.frame.status !== W.STATUS.OK) {
    const why = r.frame.status === W.STATUS.BAD_STATE ? ` (${o.label(from)} runs nothing, or ${o.label(to)} is busy)` : '';
    throw new RefusedError(`${o.label(from)} refused MIGRATE_OUT to ${o.label(to)}: ${describeStatus(r.frame.status)}${why}; nothing moved`, r.frame.status);
  }
  // the service now waits, SUSPENDED, on `to`; its old DIME forwards what still reaches it.
  // Readers first, so nothing the resumed service writes is refused; then the feeders.
  const rewired: string[] = [];
  const fix = (e: Endpoint): Endpoint => (e.kind === 'dime' && sameDime(e.dime, from) ? { kind: 'dime', dime: to } : e);
  o.model.setRoute(to, 'input', fix(input));
  o.model.setRoute(to, 'output', fix(output));
  o.model.resetRoutes(from);
  for (const x of readers) {
    await o.setRoute(x, 'input', { kind: 'dime', dime: to });
    rewired.push(`${o.label(x)} reads ${o.label(to)}`);
  }
  for (const x of feeders) {
    await o.setRoute(x, 'output', { kind: 'dime', dime: to });
    rewired.push(`${o.label(x)} -> ${o.label(to)}`);
  }
  for (const s of o.lineSources) {
    if (!sameDime(s.target, from)) continue;
    s.retarget(to);
    rewired.push(`numbered lines -> ${o.label(to)}`);
  }
  const a = o.assignments.get(dimeKey(from));
  o.assignments.delete(dimeKey(from));
  o.model.setRole(from, undefined);
  o.model.noteState(from, W.STATE.IDLE, '');
  if (a) { o.assignments.set(dimeKey(to), a); o.model.setRole(to, a.role); }
  o.model.noteState(to, W.STATE.SUSPENDED, src.service);
  if (src.state === W.STATE.RUNNING) await o.resume(to);
  const downtimeMs = performance.now() - t0;
  return {
    from: o.label(from), to: o.label(to), service: src.service, chunks: r.fields.chunks as number, restarted: r.fields.restarted === 1,
    freezeUs: r.fields.freezeUs as number, downtimeMs, rewired,
  };
}
