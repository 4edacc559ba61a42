// discover and ps: who is on the LAN, and what every DIME is doing.
import * as W from '../../protocol/wire.js';
import type { CliContext } from '../cli-context.js';
import { table } from '../cli-context.js';
import { TimeoutError } from '../errors.js';
import type { DimeView } from '../model.js';
import { memPct } from '../model.js';
import { endpointLabel } from '../targets.js';
import { verb, type Args } from './verb.js';

interface DimeRow {
  dime: string;
  server: string;
  mac: string;
  core: number;
  state: string;
  service: string;
  heartbeatMs: number;
  heartbeatAgeMs: number | null;
  health: string;
  cpuPct: number | null;
  memPct: number;
  memUsed: number;
  memLimit: number;
  input: string;
  output: string;
  /** false: the routes were set by someone else and input/output are the assumed defaults */
  routesKnown: boolean;
  role: string | null;
}

function rowOf(d: DimeView): DimeRow {
  return {
    dime: d.label, server: d.label.slice(0, d.label.lastIndexOf('/')), mac: d.server, core: d.core, state: d.stateName, service: d.service,
    heartbeatMs: d.heartbeatMs, heartbeatAgeMs: d.lastBeatAt === undefined ? null : Date.now() - d.lastBeatAt, health: d.health,
    cpuPct: d.cpuPct === undefined ? null : d.cpuPct, memPct: memPct(d), memUsed: d.memUsed, memLimit: d.memLimit,
    input: '', output: '', routesKnown: d.routesKnown, role: d.role ?? null,
  };
}

async function survey(ctx: CliContext, argv: Args, withPerf: boolean): Promise<DimeRow[]> {
  const o = await ctx.orchestrator();
  const found = await o.discover(undefined, argv.wait as number | undefined);
  if (withPerf) {
    for (const s of new Set(found.map((d) => d.server))) await o.queryPerf(s).catch(() => undefined);
    // heartbeat age needs a heartbeat: listen for up to one interval (capped)
    const listen = Math.min(3000, Math.max(0, ...found.map((d) => d.heartbeatMs)) + 100, (argv.listen as number | undefined) ?? 3000);
    const deadline = Date.now() + listen;
    while (Date.now() < deadline && found.some((d) => d.heartbeatMs > 0 && d.lastBeatAt === undefined)) await new Promise((r) => setTimeout(r, 20));
  }
  for (const d of found) if (d.state === W.STATE.IDLE) o.assignments.delete(`${d.server}/${d.core}`);
  return o.model.list().filter((d) => found.includes(d)).map((d) => {
    const r = rowOf(d);
    r.input = endpointLabel(d.input, o.names);
    r.output = endpointLabel(d.output, o.names);
    r.role = o.assignments.get(`${d.server}/${d.core}`)?.role ?? null;
    return r;
  });
}

const fmtAge = (ms: number | null) => (ms === null ? '-' : ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`);

export function discoveryVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'discover',
      describe: 'find every DIME on the LAN (broadcast DISCOVER)',
      builder: (y) => y.option('wait', { type: 'number', describe: 'ms to collect answers', default: 500 }),
      run: async (c, argv) => {
        const rows = await survey(c, argv, false);
        if (rows.length === 0) throw new TimeoutError('no DIME answered DISCOVER (check --net and the key)');
        return { dimes: rows.map(({ dime, mac, core, state, service, heartbeatMs }) => ({ dime, mac, core, state, service, heartbeatMs })) };
      },
      human: (c, r) => {
        const servers = new Set(r.dimes.map((d) => d.mac)).size;
        return `${r.dimes.length} DIMEs on ${servers} server${servers === 1 ? '' : 's'}\n` +
          table(['DIME', 'MAC', 'STATE', 'SERVICE', 'HEARTBEAT'], r.dimes.map((d) => [d.dime, d.mac, d.state, d.service || '-', d.heartbeatMs ? `${d.heartbeatMs} ms` : 'off']));
      },
    }),
    verb(ctx, {
      command: 'ps',
      describe: 'every DIME: server, core, state, service, heartbeat age, CPU %, memory %, routes',
      builder: (y) => y.option('wait', { type: 'number', describe: 'ms to collect DISCOVER answers', default: 500 })
        .option('listen', { type: 'number', describe: 'ms to wait for heartbeats (for their age)', default: 3000 }),
      run: async (c, argv) => {
        const rows = await survey(c, argv, true);
        if (rows.length === 0) throw new TimeoutError('no DIME answered DISCOVER (check --net and the key)');
        return { dimes: rows };
      },
      human: (c, r) => table(['DIME', 'STATE', 'SERVICE', 'HB AGE', 'CPU%', 'MEM%', 'INPUT', 'OUTPUT', 'ROLE'], r.dimes.map((d) => {
        const state = d.health === 'missing' ? c.paint('red', `${d.state}!`) : d.state === 'running' ? c.paint('green', d.state) : d.state;
        return [d.dime, state, d.service || '-', d.heartbeatMs ? fmtAge(d.heartbeatAgeMs) : 'off', d.cpuPct === null ? '-' : d.cpuPct.toFixed(1),
          d.memPct.toFixed(0), d.input + (d.routesKnown ? '' : '?'), d.output + (d.routesKnown ? '' : '?'), d.role ?? '-'];
      })),
    }),
  ];
}
