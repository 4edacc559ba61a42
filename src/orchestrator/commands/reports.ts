// Reading from DIMEs: accounting (call records: who asked for what, for how long), security
// counters, ping, and shutdown of a server.
import type { CliContext } from '../cli-context.js';
import { table } from '../cli-context.js';
import { UsageError } from '../errors.js';
import { dimesNamed, dimeVerb, orchestratorVerb, targetVerb } from './dime-list.js';
import { str } from './verb.js';

const ms = (v: number | null) => (v === null ? 'running' : v < 1 ? `${(v * 1000).toFixed(0)} us` : `${v.toFixed(1)} ms`);

export function reportVerbs(ctx: CliContext) {
  return [
    orchestratorVerb(ctx, {
      command: 'accounting <dimes..>',
      describe: 'call records of one or more DIMEs: who asked for what, status, and for how long',
      builder: (y) => y.positional('dimes', { type: 'string', array: true, describe: 'SERVER/CORE, or SERVER for all its DIMEs' }),
      run: async (o, argv) => {
        const out: Array<{ dime: string; records: Awaited<ReturnType<typeof o.accounting>> }> = [];
        for (const d of await dimesNamed(o, argv.dimes as string[])) out.push({ dime: o.label(d), records: await o.accounting(d) });
        return { dimes: out };
      },
      human: (_c, r) => r.dimes.map((d) => `${d.dime}\n` + table(['#', 'WHO', 'WHAT', 'SERVICE', 'STATUS', 'DURATION', 'CPU', 'IN', 'OUT'],
        d.records.map((x) => [String(x.seq), x.who, x.what, x.service || '-', x.status, ms(x.durationMs), ms(x.cpuMs), String(x.bytesIn), String(x.bytesOut)]))).join('\n\n'),
    }),
    dimeVerb(ctx, {
      command: 'security <dime>',
      describe: 'security counters of a DIME (accepted, forged, replayed, unauthorized, malformed, alarms)',
      builder: (y) => y.positional('dime', { type: 'string' }),
      run: async (o, d) => {
        return { dime: o.label(d), ...(await o.security(d)) };
      },
      human: (_c, r) => `${r.dime}: accepted ${r.accepted}, forged ${r.forged}, replayed ${r.replayed}, unauthorized ${r.unauthorized}, malformed ${r.malformed}, alarms ${r.alarms}`,
    }),
    targetVerb(ctx, {
      command: 'ping <target>',
      describe: 'signaling round trip to a DIME or every DIME of a server',
      builder: (y) => y.positional('target', { type: 'string' }),
      run: async (o, t, argv) => {
        const rtt = await o.ping(t);
        return { target: str(argv.target), rttMs: rtt };
      },
      human: (_c, r) => `${r.target}: ${r.rttMs.toFixed(2)} ms`,
    }),
    orchestratorVerb(ctx, {
      command: 'shutdown <server>',
      describe: 'power a server off',
      builder: (y) => y.positional('server', { type: 'string' }).option('code', { type: 'number', default: 0 }),
      run: async (o, argv) => {
        const server = o.names.resolve(str(argv.server));
        await o.shutdown(server, argv.code as number);
        return { ok: true, server: o.names.label(server) };
      },
      human: (_c, r) => `${r.server}: shutting down`,
    }),
  ];
}
