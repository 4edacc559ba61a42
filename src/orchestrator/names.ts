// The orchestrator's side of the name service fleet (docs/NAMES.md, after fos's naming fleet,
// paper 004). The fleet's DIMEs replicate the name table themselves (src/dime/kernel/names.c):
// the primary orders bindings and pushes them to every member. The orchestrator decides the
// membership (the view): it makes the most up-to-date reachable member the primary, and when
// the primary stops answering a register it installs a new view without it and tries again.
import * as W from '../protocol/wire.js';
import { RefusedError, TimeoutError, UsageError } from './errors.js';
import { describeStatus, type OrchestratorLink } from './link.js';
import { encodeMembers, type CollMember } from './collectives.js';

export type FleetMember = CollMember;

export interface NameStatus {
  member: FleetMember;
  view: number;
  /** member index (0 = primary), null: not a member */
  self: number | null;
  count: number;
  applied: number;
  head: number;
  names: number;
  live: number;
  deaths: number;
  refused: number;
  cacheHits: number;
  cacheMisses: number;
}

export interface Binding { name: string; server: string; core: number; seq: number }

export interface Resolution extends Binding {
  /** who answered: a member's replica, a DIME's kernel cache, or a member its kernel asked */
  source: 'replica' | 'cache' | 'fleet';
  /** the DIME that answered */
  via: FleetMember;
}

const SOURCE = { [W.NAME_SOURCE.REPLICA]: 'replica', [W.NAME_SOURCE.CACHE]: 'cache', [W.NAME_SOURCE.FLEET]: 'fleet' } as const;
const label = (m: FleetMember) => `${m.server}/${m.core}`;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function checkName(name: string): string {
  const n = Buffer.byteLength(name);
  if (n < 1 || n > W.NAME_LIMITS.nameBytes || name.includes('\0')) throw new UsageError(`a name is 1..${W.NAME_LIMITS.nameBytes} bytes, got ${JSON.stringify(name)}`);
  if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}(\/\d+)?$/i.test(name)) throw new UsageError(`${name} looks like an address, not a name`);
  return name;
}

/** One DIME's view of the fleet (null: it did not answer). */
export async function nameStatus(link: OrchestratorLink, m: FleetMember, timeoutMs = 1000): Promise<NameStatus | null> {
  try {
    const r = await link.call(m.server, m.core, 'NAME_STATUS', { first: 0 }, { timeoutMs, retries: 3 });   // a lost frame must not look like a dead member
    const f = r.fields;
    const self = f.self as number;
    return {
      member: m, view: f.view as number, self: self === 0xffff ? null : self, count: f.count as number, applied: f.applied as number,
      head: f.head as number, names: f.names as number, live: f.live as number, deaths: f.deaths as number, refused: f.refused as number,
      cacheHits: f.cacheHits as number, cacheMisses: f.cacheMisses as number,
    };
  } catch (e) {
    if (e instanceof TimeoutError) return null;
    throw e;
  }
}

export interface FleetView { view: number; members: FleetMember[]; unreachable: FleetMember[] }

/**
 * Install a view of `members` (one per server, in the caller's order): the reachable members
 * only, the one with the most bindings applied first (primary), so that every binding a member
 * holds is also the primary's. `clients`: other DIMEs told the fleet (they resolve through it).
 */
export async function configureFleet(link: OrchestratorLink, members: FleetMember[], clients: FleetMember[] = []): Promise<FleetView> {
  if (members.length < 1 || members.length > W.NAME_LIMITS.maxMembers) throw new UsageError(`a name fleet has 1..${W.NAME_LIMITS.maxMembers} members, got ${members.length}`);
  const seen = await Promise.all([...members, ...clients].map((m) => nameStatus(link, m)));
  const reach = members.map((m, i) => ({ m, s: seen[i] })).filter((x) => x.s);
  if (!reach.length) throw new TimeoutError(`no member of the name fleet answers (${members.map(label).join(' ')})`);
  const best = reach.reduce((a, b) => (b.s!.applied > a.s!.applied ? b : a));
  const ordered = [best.m, ...reach.filter((x) => x !== best).map((x) => x.m)];
  const view = Math.max(...seen.map((s) => s?.view ?? 0)) + 1;
  const fields = { view, count: ordered.length, members: encodeMembers(ordered) };
  // backups first: the primary starts pushing as soon as it learns the view
  for (const m of [...ordered.slice(1), ordered[0], ...clients]) await link.call(m.server, m.core, 'NAME_FLEET', fields, { timeoutMs: 1000, retries: 5 });
  return { view, members: ordered, unreachable: members.filter((m) => !ordered.includes(m)) };
}

/** The primary of the newest view the members report (null: none answers). */
export async function findPrimary(link: OrchestratorLink, members: FleetMember[]): Promise<NameStatus | null> {
  const seen = (await Promise.all(members.map((m) => nameStatus(link, m)))).filter((s): s is NameStatus => !!s);
  const newest = Math.max(0, ...seen.map((s) => s.view));
  return seen.find((s) => s.view === newest && s.self === 0) ?? null;
}

export interface RegisterResult {
  seq: number; acked: number; live: number; primary: FleetMember;
  /** the view installed on the way (the primary did not answer), else the primary's */
  view: number | null;
  /** the fleet afterwards (without a primary that was left out) */
  members: FleetMember[];
  attempts: number;
}

/**
 * Bind `name` to `target`, through the fleet's primary. A primary that does not answer is
 * replaced: a new view of the members that still answer, and the register again (it is
 * idempotent). Answered when every member the primary counts alive holds the binding.
 */
export async function registerName(link: OrchestratorLink, members: FleetMember[], name: string, target: FleetMember,
  o: { attemptMs?: number; deadlineMs?: number } = {}): Promise<RegisterResult> {
  checkName(name);
  const deadline = Date.now() + (o.deadlineMs ?? 30_000);
  let attempts = 0;
  let view: number | null = null;
  let fleet = members;
  for (;;) {
    if (Date.now() > deadline) throw new TimeoutError(`the name fleet did not register ${name} in time`);
    attempts++;
    const p = await findPrimary(link, fleet);
    if (!p) {
      const v = await configureFleet(link, fleet);   // nobody is primary of the newest view: make one
      view = v.view;
      fleet = v.members;
      continue;
    }
    let r;
    try {
      [r] = await link.request(p.member.server, p.member.core, 'NAME_REGISTER', { name, server: target.server, core: target.core },
        { timeoutMs: o.attemptMs ?? 2000, retries: 2 });
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      if (await nameStatus(link, p.member)) continue;   // alive: the frames were lost, or it waits out a dead member
      const v = await configureFleet(link, fleet.filter((m) => m !== p.member && !(m.server === p.member.server && m.core === p.member.core)));
      view = v.view;
      fleet = v.members;
      continue;
    }
    if (r.frame.status === W.STATUS.BAD_STATE) { await pause(10 + Math.random() * 40); continue; }   // busy, or the view just changed
    if (r.frame.status !== W.STATUS.OK) throw new RefusedError(`${label(p.member)} refused to register ${name}: ${describeStatus(r.frame.status)}`, r.frame.status);
    return { seq: r.fields.seq as number, acked: r.fields.acked as number, live: r.fields.live as number, primary: p.member, view: view ?? p.view, members: fleet, attempts };
  }
}

/**
 * What `name` is bound to: asked of `via` (any DIME: a member answers from its replica, another
 * DIME from its kernel cache or through the fleet), else of each member in turn until one that
 * has caught up answers.
 */
export async function resolveName(link: OrchestratorLink, members: FleetMember[], name: string, via?: FleetMember): Promise<Resolution | null> {
  checkName(name);
  const order = via ? [via] : members;
  let last = 'no member answered';
  for (const m of order) {
    let r;
    try {
      [r] = await link.request(m.server, m.core, 'NAME_RESOLVE', { name }, { timeoutMs: via ? 3000 : 1000, retries: 1 });
    } catch (e) {
      if (e instanceof TimeoutError) { last = `${label(m)} did not answer`; continue; }
      throw e;
    }
    if (r.frame.status === W.STATUS.NOT_FOUND) return null;
    if (r.frame.status !== W.STATUS.OK) { last = `${label(m)}: ${describeStatus(r.frame.status)}`; continue; }
    const f = r.fields;
    return { name, server: f.server as string, core: f.core as number, seq: f.seq as number, source: SOURCE[f.source as 1 | 2 | 3] ?? 'replica', via: m };
  }
  throw new TimeoutError(`cannot resolve ${name}: ${last}`);
}

/** Every binding, as the primary (else the first caught-up member) holds them. */
export async function listNames(link: OrchestratorLink, members: FleetMember[]): Promise<{ from: FleetMember; bindings: Binding[] }> {
  const p = await findPrimary(link, members);
  const from = p ? [p.member] : members;
  for (const m of from) {
    const out: Binding[] = [];
    try {
      for (;;) {
        const r = await link.call(m.server, m.core, 'NAME_STATUS', { first: out.length }, { retries: 1 });
        const recs = (r.fields.records ?? []) as Array<Record<string, unknown>>;
        for (const x of recs) out.push({ name: x.name as string, server: x.server as string, core: x.core as number, seq: x.seq as number });
        if (!recs.length || out.length >= (r.fields.names as number)) break;
      }
    } catch (e) {
      if (e instanceof TimeoutError) continue;
      throw e;
    }
    return { from: m, bindings: out.sort((a, b) => a.seq - b.seq) };
  }
  throw new TimeoutError('no member of the name fleet answers');
}
