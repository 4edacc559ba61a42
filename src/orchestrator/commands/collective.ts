// Verbs built on the collectives (docs/COLLECTIVES.md): launch a service on N DIMEs at once,
// a system-wide barrier, and the global heartbeat.
import * as W from '../../protocol/wire.js';
import type { CliContext } from '../cli-context.js';
import { RefusedError, UsageError } from '../errors.js';
import { barrier, type CollMember } from '../collectives.js';
import { heartbeatRound } from '../heartbeat.js';
import { launchService } from '../launch.js';
import type { Orchestrator } from '../orchestrator.js';
import { resolveService } from '../service-source.js';
import { parseTarget } from '../targets.js';
import { orchestratorVerb } from './dime-list.js';
import { verb, str, type Args } from './verb.js';

/** Round-robin over servers (in MAC order), so every server has inner nodes of the tree. */
export function spreadAcrossServers<T extends CollMember>(dimes: T[]): T[] {
  const by = new Map<string, T[]>();
  for (const d of [...dimes].sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : a.core - b.core))) {
    if (!by.has(d.server)) by.set(d.server, []);
    by.get(d.server)!.push(d);
  }
  const lists = [...by.values()];
  const out: T[] = [];
  for (let i = 0; out.length < dimes.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

/** The DIMEs named by `targets` (SERVER or SERVER/CORE), or every DIME that answers; spread across servers. */
async function membersOf(o: Orchestrator, targets: unknown): Promise<CollMember[]> {
  const found = await o.discover();
  const list = (Array.isArray(targets) ? targets : []).map(String);
  if (!list.length) {
    if (!found.length) throw new UsageError('no DIME answered DISCOVER: nothing to run a collective on');
    return spreadAcrossServers(found.map((d) => ({ server: d.server, core: d.core })));
  }
  const out: CollMember[] = [];
  for (const text of list) {
    const t = parseTarget(text, o.names);
    if (t.core !== null) out.push({ server: t.server, core: t.core });
    else {
      const of = o.model.dimesOf(t.server);
      if (!of.length) throw new UsageError(`server ${text} did not answer DISCOVER`);
      out.push(...of.map((d) => ({ server: d.server, core: d.core })));
    }
  }
  return spreadAcrossServers(out);
}

const label = (o: Orchestrator, m: CollMember) => o.label(m);

const treeOptions = (y: import('yargs').Argv) => y
  .option('fanout', { type: 'number', default: 2, describe: 'children per node of the tree (1..8)' })
  .option('member-timeout', { type: 'number', default: 1000, describe: 'ms a member may stay silent before it counts as dead' });

export function collectiveVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'launch <service>',
      describe: 'put a service image on N free DIMEs (across servers) over the collective tree and start it on all or none',
      builder: (y) => treeOptions(y.positional('service', { type: 'string', describe: 'path to a DSV1 service image' })
        .option('on', { type: 'number', demandOption: true, describe: 'how many DIMEs (1..64)' })
        .option('role', { type: 'string', describe: 'name to remember the instances by (policies, ps)' })),
      run: async (c, argv: Args) => {
        const source = resolveService(str(argv.service));
        if (source.kind !== 'file') throw new UsageError(`'${source.name}' is a built-in service: every kernel has it already (use load); launch takes an image file`);
        const n = Number(argv.on);
        if (!Number.isInteger(n) || n < 1 || n > W.COLL_LIMITS.maxMembers) throw new UsageError(`--on ${argv.on}: give 1..${W.COLL_LIMITS.maxMembers} DIMEs`);
        const o = await c.orchestrator();
        // only DIMEs that answer now: a server that just died is still in the model of a long session
        const answering = new Set((await o.discover()).map((d) => `${d.server}/${d.core}`));
        const free = spreadAcrossServers(o.freeDimes().filter((d) => answering.has(`${d.server}/${d.core}`)).map((d) => ({ server: d.server, core: d.core })));
        if (free.length < n) throw new UsageError(`only ${free.length} free DIMEs answer; asked for ${n}`);
        const members = free.slice(0, n);
        const r = await launchService(o.link, members, source, { fanout: argv.fanout as number, memberTimeoutMs: argv['member-timeout'] as number });
        const on = members.map((m) => label(o, m));
        if (r.outcome !== 'DONE') {
          const who = r.missing === null ? 'a member refused' : `${on[r.missing]} did not answer or refused`;
          throw new RefusedError(`launch of ${source.name} on ${n} DIMEs aborted at ${r.failedAt} (${who}); started on none`, W.STATUS.BAD_STATE);
        }
        for (const m of members) {
          o.model.noteState(m, W.STATE.RUNNING, source.name);
          const role = (argv.role as string | undefined) ?? `${source.name}@${label(o, m)}`;
          o.assignments.set(`${m.server}/${m.core}`, { role, source, params: {} });
          o.model.setRole(m, role);
        }
        return { ok: true, service: source.name, bytes: source.image.length, on, started: r.started, missing: r.missing === null ? null : on[r.missing], blocks: r.blocks, ms: Math.round(r.ms) };
      },
      human: (_c, r) => `${r.service}: started on ${r.started} of ${r.on.length} DIMEs (${r.bytes} bytes in ${r.blocks} blocks, ${r.ms} ms): ${r.on.join(' ')}` +
        (r.missing ? `; ${r.missing} died after every member had the image` : ''),
    }),
    orchestratorVerb(ctx, {
      command: 'barrier [targets..]',
      describe: 'a barrier over a tree of DIMEs (default: every DIME that answers): over when all of them answered',
      builder: (y) => treeOptions(y.positional('targets', { type: 'string', array: true, describe: 'SERVER or SERVER/CORE (default: all)' })),
      run: async (o, argv: Args) => {
        const members = await membersOf(o, argv.targets);
        const t0 = performance.now();
        const r = await barrier(o.link, members, { fanout: argv.fanout as number, memberTimeoutMs: argv['member-timeout'] as number });
        const ms = performance.now() - t0;
        if (r.outcome !== 'DONE') throw new RefusedError(`barrier over ${members.length} DIMEs: ${r.answered} answered; ${r.missing === null ? 'a member' : label(o, members[r.missing])} did not`, W.STATUS.BAD_STATE);
        return { ok: true, members: members.length, answered: r.answered, ms: Math.round(ms * 10) / 10 };
      },
      human: (_c, r) => `barrier over ${r.members} DIMEs: all answered in ${r.ms} ms`,
    }),
    orchestratorVerb(ctx, {
      command: 'heartbeat [targets..]',
      describe: 'the global heartbeat: tree barriers that find every DIME that does not answer (default: every DIME that answers DISCOVER now)',
      builder: (y) => treeOptions(y.positional('targets', { type: 'string', array: true, describe: 'SERVER or SERVER/CORE (default: all)' })
        .option('rounds', { type: 'number', default: 1, describe: 'how many rounds (0: until interrupted)' })
        .option('interval', { type: 'number', default: 1000, describe: 'ms between rounds' })),
      run: async (o, argv: Args, c) => {
        const members = await membersOf(o, argv.targets);
        const rounds = Number(argv.rounds);
        for (let i = 1; rounds === 0 || i <= rounds; i++) {
          if (i > 1) await new Promise((res) => setTimeout(res, Number(argv.interval)));
          const r = await heartbeatRound(o.link, members, { fanout: argv.fanout as number, memberTimeoutMs: argv['member-timeout'] as number });
          const row = { round: i, members: members.length, alive: r.alive.length, dead: r.dead.map((m) => label(o, m)), sweeps: r.sweeps, ms: Math.round(r.ms) };
          if (c.json) c.emitJson(row);
          else c.out(`round ${i}: ${row.alive} of ${row.members} DIMEs alive${row.dead.length ? `; dead: ${row.dead.join(' ')}` : ''} (${row.sweeps} sweep${row.sweeps > 1 ? 's' : ''}, ${row.ms} ms)`);
        }
        return undefined;
      },
    }),
  ];
}
