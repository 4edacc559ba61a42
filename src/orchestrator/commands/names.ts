// The name service (docs/NAMES.md): `name fleet` chooses the fleet (one DIME per server),
// `name register/resolve/list/status`; and `nameOrEndpoint`, which lets route and feed take a
// registered name where they take SERVER/CORE.
import type { CliContext } from '../cli-context.js';
import { table } from '../cli-context.js';
import { UsageError } from '../errors.js';
import type { Orchestrator } from '../orchestrator.js';
import * as W from '../../protocol/wire.js';
import { configureFleet, listNames, nameStatus, registerName, resolveName, type FleetMember } from '../names.js';
import { parseDime, parseEndpoint, parseTarget, type DimeAddress, type Endpoint } from '../targets.js';
import { orchestratorVerb } from './dime-list.js';
import { str } from './verb.js';

/** The fleet: --fleet if given, else the one this orchestrator set up (state file). */
function fleetOf(o: Orchestrator, given: unknown): FleetMember[] {
  const words = (Array.isArray(given) ? given : given ? [given] : []).flatMap((w) => String(w).split(',')).filter(Boolean);
  if (words.length) return words.map((w) => parseDime(w, o.names));
  if (o.nameFleet.length) return o.nameFleet;
  throw new UsageError('no name fleet known: run `name fleet SERVER...` first, or give --fleet SERVER/CORE,...');
}

/** A member per word: SERVER/CORE as given; SERVER: its highest-numbered idle DIME. */
async function chooseMembers(o: Orchestrator, words: string[]): Promise<DimeAddress[]> {
  const out: DimeAddress[] = [];
  for (const w of words) {
    const t = parseTarget(w, o.names);
    if (t.core !== null) { out.push(t as DimeAddress); continue; }
    await o.discover(t.server, 400);
    const dimes = o.model.dimesOf(t.server).filter((d) => d.state === W.STATE.IDLE && d.health !== 'missing');
    if (!dimes.length) throw new UsageError(`server ${w} has no idle DIME answering`);
    const d = dimes.reduce((a, b) => (b.core > a.core ? b : a));
    out.push({ server: d.server, core: d.core });
  }
  if (new Set(out.map((d) => d.server)).size !== out.length) throw new UsageError('one fleet member per server');
  return out;
}

/** An endpoint as route/feed take it, or a registered name resolved through the fleet. */
export async function nameOrEndpoint(o: Orchestrator, text: string): Promise<Endpoint> {
  try {
    return parseEndpoint(text, o.names);
  } catch (e) {
    if (!(e instanceof UsageError) || text.includes('/') || !o.nameFleet.length) throw e;
    const r = await resolveName(o.link, o.nameFleet, text);
    if (!r) throw new UsageError(`'${text}' is neither a DIME nor a registered name`);
    return { kind: 'dime', dime: { server: r.server, core: r.core } };
  }
}

type NameResult =
  | { ok: true; action: 'fleet'; view: number; members: string[]; unreachable: string[] }
  | { ok: true; action: 'register'; name: string; dime: string; seq: number; acked: number; live: number; primary: string; view: number | null }
  | { action: 'resolve'; name: string; dime: string | null; seq: number | null; source: string | null; via: string | null }
  | { action: 'list'; from: string; bindings: Array<{ name: string; dime: string; seq: number }> }
  | { action: 'status'; members: Array<{ dime: string; answered: boolean; view: number; self: number | null; applied: number; head: number; names: number; live: number; deaths: number; refused: number; cacheHits: number; cacheMisses: number }> };

export function nameVerbs(ctx: CliContext) {
  return [
    orchestratorVerb<NameResult>(ctx, {
      command: 'name <action> [words..]',
      describe: 'name service fleet (docs/NAMES.md): fleet SERVER|SERVER/CORE... (one member per server) | register NAME DIME | resolve NAME [--via DIME] | list | status',
      builder: (y) => y.positional('action', { type: 'string', choices: ['fleet', 'register', 'resolve', 'list', 'status'] })
        .positional('words', { type: 'string', array: true })
        .option('fleet', { type: 'string', array: true, describe: 'the fleet members SERVER/CORE,... (default: the one `name fleet` set up)' })
        .option('via', { type: 'string', describe: "resolve: ask this DIME (outside the fleet: its kernel's cache, else a member)" })
        .option('tell', { type: 'string', array: true, describe: 'fleet: DIMEs outside the fleet that resolve names through it (SERVER/CORE)' })
        .example('$0 name fleet S1 S2 S3', "a member on each server (its highest idle DIME)")
        .example('$0 name register upper S2/1', '')
        .example('$0 route S1/1 upper', "wiring by name: S1/1's output goes to the DIME named upper"),
      run: async (o, argv) => {
        const words = ((argv.words as string[] | undefined) ?? []).map(String);
        const lbl = (m: FleetMember) => o.label(m);
        switch (argv.action) {
          case 'fleet': {
            if (!words.length) throw new UsageError('name fleet SERVER|SERVER/CORE ...');
            const members = await chooseMembers(o, words);
            const tell = ((argv.tell as string[] | undefined) ?? []).flatMap((w) => w.split(',')).filter(Boolean).map((w) => parseDime(w, o.names));
            const v = await configureFleet(o.link, members, tell);
            o.nameFleet = v.members;
            return { ok: true, action: 'fleet', view: v.view, members: v.members.map(lbl), unreachable: v.unreachable.map(lbl) };
          }
          case 'register': {
            if (words.length !== 2) throw new UsageError('name register NAME SERVER/CORE');
            const target = parseDime(words[1], o.names);
            const r = await registerName(o.link, fleetOf(o, argv.fleet), words[0], target);
            if (!argv.fleet) o.nameFleet = r.members;   // a primary that did not answer was left out of a new view
            return { ok: true, action: 'register', name: words[0], dime: lbl(target), seq: r.seq, acked: r.acked, live: r.live, primary: lbl(r.primary), view: r.view };
          }
          case 'resolve': {
            if (words.length !== 1) throw new UsageError('name resolve NAME');
            const via = argv.via ? parseDime(str(argv.via), o.names) : undefined;
            const r = await resolveName(o.link, via ? [] : fleetOf(o, argv.fleet), words[0], via);
            return { action: 'resolve', name: words[0], dime: r ? lbl(r) : null, seq: r?.seq ?? null, source: r?.source ?? null, via: r ? lbl(r.via) : null };
          }
          case 'list': {
            const r = await listNames(o.link, fleetOf(o, argv.fleet));
            return { action: 'list', from: lbl(r.from), bindings: r.bindings.map((b) => ({ name: b.name, dime: lbl(b), seq: b.seq })) };
          }
          default: {
            const members = fleetOf(o, argv.fleet);
            const seen = await Promise.all(members.map((m) => nameStatus(o.link, m)));
            return {
              action: 'status',
              members: members.map((m, i) => {
                const s = seen[i];
                return { dime: lbl(m), answered: !!s, view: s?.view ?? 0, self: s?.self ?? null, applied: s?.applied ?? 0, head: s?.head ?? 0, names: s?.names ?? 0,
                  live: s?.live ?? 0, deaths: s?.deaths ?? 0, refused: s?.refused ?? 0, cacheHits: s?.cacheHits ?? 0, cacheMisses: s?.cacheMisses ?? 0 };
              }),
            };
          }
        }
      },
      human: (_c, r) => {
        switch (r.action) {
          case 'fleet': return `name fleet view ${r.view}: ${r.members.join(' ')} (primary ${r.members[0]})${r.unreachable.length ? `; not answering, left out: ${r.unreachable.join(' ')}` : ''}`;
          case 'register': return `${r.name} -> ${r.dime} (seq ${r.seq}, held by ${r.acked} of ${r.live} live members, primary ${r.primary})`;
          case 'resolve': return r.dime ? `${r.name} -> ${r.dime} (seq ${r.seq}, from ${r.source} of ${r.via})` : `${r.name}: not registered`;
          case 'list': return table(['NAME', 'DIME', 'SEQ'], r.bindings.map((b) => [b.name, b.dime, String(b.seq)]));
          default: return table(['MEMBER', 'VIEW', 'ROLE', 'APPLIED', 'HEAD', 'NAMES', 'LIVE', 'DEATHS', 'REFUSED'],
            r.members.map((m) => m.answered
              ? [m.dime, String(m.view), m.self === 0 ? 'primary' : m.self === null ? 'not a member' : `member ${m.self}`, String(m.applied),
                m.head === 0xffffffff ? '?' : String(m.head), String(m.names), m.self === 0 ? String(m.live) : '-', String(m.deaths), String(m.refused)]
              : [m.dime, '-', 'not answering', '-', '-', '-', '-', '-', '-']));
        }
      },
    }),
  ];
}
