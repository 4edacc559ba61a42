// Data paths: route (rewire a running service's input or output) and feed (bytes into a
// DIME's input from this orchestrator).
import type { CliContext } from '../cli-context.js';
import { endpointLabel, parseDime } from '../targets.js';
import { UsageError } from '../errors.js';
import { orchestratorVerb } from './dime-list.js';
import { str } from './verb.js';
import { nameOrEndpoint } from './names.js';

export function wiringVerbs(ctx: CliContext) {
  return [
    orchestratorVerb(ctx, {
      command: 'route <from> <to>',
      describe: 'rewire live: FROM (a DIME or a registered name, or console/any/none/orchestrator as an input) to TO (a DIME or name, or console/orchestrator/none)',
      builder: (y) => y.positional('from', { type: 'string' }).positional('to', { type: 'string' })
        .option('any-input', { type: 'boolean', default: false, describe: 'let the receiving DIME accept data from anyone (several feeders)' })
        .example('$0 route S1/1 S2/1', "S1/1's output goes to S2/1, which accepts only S1/1")
        .example('$0 route console S1/1', "S1/1 reads S1's console")
        .example('$0 route S1/1 console', "S1/1's output goes to S1's console"),
      run: async (o, argv) => {
        const from = await nameOrEndpoint(o, str(argv.from));   // a registered name works where a DIME does
        const to = await nameOrEndpoint(o, str(argv.to));
        await o.route(from, to, { openInput: !!argv['any-input'] });
        return { ok: true, from: endpointLabel(from, o.names), to: endpointLabel(to, o.names) };
      },
      human: (_c, r) => `routed ${r.from} -> ${r.to}`,
    }),
    orchestratorVerb(ctx, {
      command: 'migrate <from> <to>',
      describe: 'live migration: move the service running on FROM (SERVER/CORE) to the idle DIME TO, with its memory, registers, routes and pending input; its peers are rewired (docs/MIGRATION.md)',
      builder: (y) => y.positional('from', { type: 'string' }).positional('to', { type: 'string' })
        .example('$0 migrate S1/2 S1/0', 'the service on S1/2 goes on running on S1/0'),
      run: async (o, argv) => {
        const from = parseDime(str(argv.from), o.names);
        const to = parseDime(str(argv.to), o.names);
        const r = await o.migrate(from, to);
        return { ok: true, ...r, downtimeMs: Math.round(r.downtimeMs * 10) / 10 };
      },
      human: (_c, r) => `migrated '${r.service}' ${r.from} -> ${r.to}: ${r.chunks} chunks, frozen in ${r.freezeUs} us` +
        `${r.restarted ? ' (in a system call, re-issued there)' : ''}${r.bytes ? `, ${r.bytes} bytes of state carried` : ''}, stopped for ${r.downtimeMs} ms` + (r.rewired.length ? `; rewired ${r.rewired.join(', ')}` : ''),
    }),
    orchestratorVerb(ctx, {
      command: 'feed <dime> <text>',
      describe: "send text to a DIME's input (SERVER/CORE or a registered name; its input route must allow this orchestrator)",
      builder: (y) => y.positional('dime', { type: 'string' }).positional('text', { type: 'string' })
        .option('newline', { type: 'boolean', default: true, describe: 'append a newline' }),
      run: async (o, argv) => {
        const e = await nameOrEndpoint(o, str(argv.dime));   // SERVER/CORE or a registered name
        if (e.kind !== 'dime') throw new UsageError(`'${str(argv.dime)}' is not a DIME: expected SERVER/CORE or a registered name`);
        const d = e.dime;
        await o.ensureDime(d);
        const text = str(argv.text) + (argv.newline ? '\n' : '');
        await o.feedChecked(d, text);
        return { ok: true, dime: o.label(d), bytes: Buffer.byteLength(text) };
      },
      human: (_c, r) => `${r.dime}: fed ${r.bytes} bytes`,
    }),
  ];
}
