// Configuration verbs on one DIME (SERVER/CORE) or a whole server (SERVER): load, start,
// stop, suspend, resume, reset, param, interval, memlimit.
import { UsageError } from '../errors.js';
import type { CliContext } from '../cli-context.js';
import { resolveService } from '../service-source.js';
import type { DimeAddress } from '../targets.js';
import { dimeNamed, dimeVerb, targetLabel, targetVerb } from './dime-list.js';
import { verb, str } from './verb.js';

/** KEY=VALUE pairs from a repeatable option. */
export function parseParams(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (Array.isArray(list) ? list : list === undefined ? [] : [list]).map(String)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param '${item}': expected KEY=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** start/stop/suspend/resume: one DIME, or every DIME of a server (system scope). */
function simple(ctx: CliContext, name: 'start' | 'stop' | 'suspend' | 'resume', describe: string, wire: string) {
  return targetVerb(ctx, {
    command: `${name} <target>`,
    describe,
    builder: (y) => y.positional('target', { type: 'string', describe: 'SERVER/CORE, or SERVER for all its DIMEs' }),
    run: async (o, t) => {
      if (t.core === null) await o.callServer(t.server, wire);
      else await o[name](t as DimeAddress);
      return { ok: true, verb: name, target: targetLabel(o, t) };
    },
    human: (_c, r) => `${r.target}: ${r.verb} ok`,
  });
}

export function lifecycleVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'load <service>',
      describe: 'load a service (built-in name or image file) onto a DIME',
      builder: (y) => y.positional('service', { type: 'string', describe: 'built-in service name, or path to a DSV1 image' })
        .option('on', { type: 'string', demandOption: true, describe: 'SERVER/CORE' })
        .option('param', { type: 'string', array: true, describe: 'KEY=VALUE parameter (repeatable)' })
        .option('start', { type: 'boolean', default: false, describe: 'start it once loaded' })
        .option('role', { type: 'string', describe: 'name to remember it by (policies, ps)' }),
      run: async (c, argv) => {
        const source = resolveService(str(argv.service)); // checked before anything is sent
        const params = parseParams(argv.param);
        const { o, d } = await dimeNamed(c, argv.on);
        for (const [k, v] of Object.entries(params)) await o.param(d, k, v);
        await o.load(d, source, argv.role as string | undefined);
        const a = o.assignments.get(`${d.server}/${d.core}`);
        if (a) a.params = { ...a.params, ...params };
        if (argv.start) await o.start(d);
        return { ok: true, dime: o.label(d), service: source.name, source: source.kind, bytes: source.kind === 'file' ? source.image.length : null, started: !!argv.start };
      },
      human: (_c, r) => `${r.dime}: loaded ${r.service}${r.source === 'file' ? ` (${r.bytes} bytes)` : ' (built-in)'}${r.started ? ', started' : ''}`,
    }),
    simple(ctx, 'start', 'start the loaded service (EXECUTE)', 'EXECUTE'),
    simple(ctx, 'stop', 'stop the service; its memory returns to the pool', 'STOP'),
    simple(ctx, 'suspend', 'suspend the running service', 'SUSPEND'),
    simple(ctx, 'resume', 'resume a suspended service', 'RESUME'),
    targetVerb(ctx, {
      command: 'reset <target>',
      describe: 'stop and restore defaults (routes, parameters, limits, owner); SERVER resets every DIME',
      builder: (y) => y.positional('target', { type: 'string' }),
      run: async (o, t) => {
        await o.reset(t);
        return { ok: true, target: targetLabel(o, t) };
      },
      human: (_c, r) => `${r.target}: reset`,
    }),
    targetVerb(ctx, {
      // the parameter's positional is not called "key": that would be read as the refused global --key
      command: 'param <target> <name> [value]',
      describe: 'set a service parameter (no value: delete it; NAME=VALUE also works)',
      builder: (y) => y.positional('target', { type: 'string' }).positional('name', { type: 'string' }).positional('value', { type: 'string' }),
      run: async (o, t, argv) => {
        let key = str(argv.name);
        let value = str(argv.value);
        if (argv.value === undefined && key.includes('=')) [key, value] = [key.slice(0, key.indexOf('=')), key.slice(key.indexOf('=') + 1)];
        await o.param(t, key, value);
        return { ok: true, target: str(argv.target), key, value };
      },
      human: (_c, r) => `${r.target}: ${r.key}=${r.value === '' ? '(deleted)' : r.value}`,
    }),
    targetVerb(ctx, {
      command: 'interval <target>',
      describe: 'set heartbeat and/or performance broadcast intervals (ms, 0 = off)',
      builder: (y) => y.positional('target', { type: 'string' }).option('heartbeat', { type: 'number' }).option('perf', { type: 'number' }),
      run: async (o, t, argv) => {
        if (argv.heartbeat === undefined && argv.perf === undefined) throw new UsageError('interval: give --heartbeat MS and/or --perf MS');
        for (const k of ['heartbeat', 'perf'] as const) {
          const v = argv[k] as number | undefined;
          if (v !== undefined && (!Number.isInteger(v) || (v !== 0 && (v < 10 || v > 3_600_000)))) throw new UsageError(`--${k} must be 0 (off) or 10..3600000 ms`);
        }
        await o.intervals(t, { heartbeatMs: argv.heartbeat as number | undefined, perfMs: argv.perf as number | undefined });
        return { ok: true, target: str(argv.target), heartbeatMs: argv.heartbeat ?? null, perfMs: argv.perf ?? null };
      },
      human: (_c, r) => `${r.target}: heartbeat ${r.heartbeatMs ?? 'unchanged'}, perf ${r.perfMs ?? 'unchanged'}`,
    }),
    dimeVerb(ctx, {
      command: 'memlimit <dime> <chunks>',
      describe: 'set a DIME\'s memory limit in 2 MiB chunks (1..512)',
      builder: (y) => y.positional('dime', { type: 'string' }).positional('chunks', { type: 'number' }),
      run: async (o, d, argv) => {
        await o.memLimit(d, argv.chunks as number);
        return { ok: true, dime: o.label(d), chunks: argv.chunks };
      },
      human: (_c, r) => `${r.dime}: memory limit ${r.chunks} chunks`,
    }),
  ];
}
