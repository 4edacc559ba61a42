// Fault policy: a DIME whose heartbeat has been missing for k intervals has its service
// re-instantiated on a free DIME (same or other server, by preference) with the same
// parameters and routes, and every neighbour that sent to it or read from it is rewired to
// the new DIME, as in the papers' recovery scenario. Numbered pipeline lines the dead stage had
// not passed on are still held by the stage before it (or by this orchestrator as the source),
// which sends them to the new DIME when its route changes (docs/PROTOCOL.md). The silent DIME is then reset if it
// still answers, so it can rejoin the pool once it beats again.
import type { DimeView } from '../model.js';
import type { Orchestrator } from '../orchestrator.js';
import { dimeKey, endpointLabel, sameDime, type DimeAddress, type Endpoint } from '../targets.js';
import type { FaultPolicy, Preference } from './policy-file.js';

/**
 * A DIME that beats but has not been heard for more than this many intervals is suspect: when
 * a whole server dies its DIMEs go silent together, yet the health check finds them one at a
 * time, so a neighbour of the first one found is not yet 'missing' but already stale.
 */
const STALE_INTERVALS = 1.5;

export function stale(d: DimeView, now: number): boolean {
  return d.heartbeatMs > 0 && d.lastBeatAt !== undefined && now - d.lastBeatAt > STALE_INTERVALS * d.heartbeatMs;
}

/**
 * Free DIMEs to move a service of `near` to, best first: fresh before stale, then by preference.
 * A stale one on `near`'s own server is left out: that server has most likely died with `near`,
 * and deploying to it costs a deployment's command timeouts (seconds, with the policy blocked)
 * before the next is tried; the policy looks again every check, so one that is only slow is
 * taken once it beats. A stale one elsewhere is most likely slow (a loaded host: heartbeats
 * 300 ms late are common): commands to it are answered once it runs, so it is still a target.
 */
export function rankDimes(o: Orchestrator, near: DimeAddress, prefer: Preference, avoid: DimeAddress[], now = Date.now()): DimeView[] {
  const free = o.freeDimes({ avoid: [near, ...avoid] }).filter((d) => d.server !== near.server || !stale(d, now));
  const rank = (d: DimeView) => {
    const same = d.server === near.server;
    const side = prefer === 'same-server' ? (same ? 0 : 1) : prefer === 'other-server' ? (same ? 1 : 0) : 0;
    return (stale(d, now) ? 4 : 0) + side * 2 + (d.core === 0 ? 1 : 0); // the boot core also serves the NIC: use it last
  };
  return [...free].sort((a, b) => rank(a) - rank(b));
}

export function pickDime(o: Orchestrator, near: DimeAddress, prefer: Preference, avoid: DimeAddress[]): DimeView | undefined {
  return rankDimes(o, near, prefer, avoid)[0];
}

export function matches(services: string[] | undefined, role: string, service: string): boolean {
  return !services || services.includes(role) || services.includes(service);
}

export interface Recovery {
  from: DimeAddress;
  to: DimeAddress;
  role: string;
  rewired: string[];
  /** the old DIME was reset (or need not be) */
  cleaned: boolean;
}

/** A recovery that could not be done now (no free DIME, or none of the targets answered): worth trying again. */
export class RecoveryFailed extends Error {
  /** true: no free DIME to try (looking again costs nothing); false: the targets tried did not answer */
  constructor(message: string, readonly noTarget: boolean) {
    super(message);
  }
}

/**
 * Move the service of `dead` to a free DIME. Null when there is nothing of ours to move; throws
 * RecoveryFailed (after logging; `quiet`: a retry logs only a failed deployment) when it cannot.
 */
export async function recover(o: Orchestrator, dead: DimeView, policy: FaultPolicy, why: string, opts: { quiet?: boolean } = {}): Promise<Recovery | null> {
  const a = o.assignments.get(dimeKey(dead));
  if (!a || !matches(policy.services, a.role, a.source.name)) return null;
  const log = (action: string, ok: boolean, error?: string) => o.report({ type: 'policy', at: Date.now(), policy: 'fault', action, reason: why, ok, error });
  // a target that does not answer (its server died too) is skipped for the next one
  const tried: DimeAddress[] = [];
  for (let attempt = 0; attempt < MAX_TARGETS; attempt++) {
    const target = pickDime(o, dead, policy.prefer, tried);
    if (!target) {
      const now = Date.now();
      const silent = o.freeDimes({ avoid: [dead, ...tried] }).filter((d) => stale(d, now)).map((d) => `${d.label} silent for ${now - d.lastBeatAt!} ms`);
      const action = `cannot re-instantiate '${a.role}' (${a.source.name}) from ${o.label(dead)}: no free DIME` +
        (silent.length ? ` that beats (${silent.join(', ')})` : '') + (tried.length ? ` (tried ${tried.map((t) => o.label(t)).join(', ')})` : '');
      if (!opts.quiet || tried.length) log(`${action}; trying again while it stays silent`, false, 'no free DIME');
      throw new RecoveryFailed(action, tried.length === 0);
    }
    const to = { server: target.server, core: target.core };
    try {
      return await moveTo(o, dead, a, to, policy, log);
    } catch (e) {
      tried.push(to);
      if (attempt === MAX_TARGETS - 1) throw new RecoveryFailed((e as Error).message, false);
    }
  }
  return null;
}

/** Targets tried before the recovery is given up (each failure costs a command timeout). */
const MAX_TARGETS = 3;

type Assignment = NonNullable<ReturnType<Orchestrator['assignments']['get']>>;

async function moveTo(o: Orchestrator, dead: DimeView, a: Assignment, to: DimeAddress, policy: FaultPolicy, log: (action: string, ok: boolean, error?: string) => void): Promise<Recovery> {
  const fix = (e: Endpoint): Endpoint => (e.kind === 'dime' && sameDime(e.dime, dead) ? { kind: 'dime', dime: to } : e);
  const input = dead.input;
  const output = fix(dead.output);
  const { feeders, readers } = o.neighbours(dead);
  const rewired: string[] = [];
  try {
    o.assignments.delete(dimeKey(dead));
    await o.deploy(to, { role: a.role, source: a.source, params: a.params, input, output, replicaOf: a.replicaOf });
    for (const f of feeders) {
      await o.setRoute(f, 'output', { kind: 'dime', dime: to });
      rewired.push(`${o.label(f)} -> ${o.label(to)}`);
    }
    for (const r of readers) {
      await o.setRoute(r, 'input', { kind: 'dime', dime: to });
      rewired.push(`${o.label(r)} reads ${o.label(to)}`);
    }
    for (const s of o.lineSources) {
      if (!sameDime(s.target, dead)) continue;
      s.retarget(to); // the numbered lines it had not acknowledged go to the new DIME
      rewired.push(`numbered lines -> ${o.label(to)}`);
    }
  } catch (e) {
    o.assignments.set(dimeKey(dead), a);
    log(`re-instantiating '${a.role}' (${a.source.name}) from ${o.label(dead)} on ${o.label(to)}`, false, (e as Error).message);
    throw e;
  }
  log(`re-instantiated '${a.role}' (${a.source.name}) from ${o.label(dead)} on ${o.label(to)}; input ${endpointLabel(input, o.names)}, output ${endpointLabel(output, o.names)}` +
    (rewired.length ? `; rewired ${rewired.join(', ')}` : ''), true);
  const recovery: Recovery = { from: dead, to, role: a.role, rewired, cleaned: !policy.resetFailed };
  if (policy.resetFailed) {
    // best effort: a DIME that is alive but silent (muted, hung service) is cleaned up now;
    // one that does not answer is reset when its heartbeat comes back (see PolicyEngine)
    o.reset(dead, 500).then(
      () => { recovery.cleaned = true; log(`reset silent ${o.label(dead)} so it can rejoin the pool`, true); },
      () => log(`silent ${o.label(dead)} did not answer RESET; it will be reset if it comes back`, true),
    );
  }
  return recovery;
}
