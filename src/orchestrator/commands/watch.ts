// watch: live heartbeats, performance reports and alarms as they arrive (one JSON object per
// line with --json), optionally with policies acting on them.
import type { CliContext } from '../cli-context.js';
import { UsageError } from '../errors.js';
import { describeEvent, type OrchestratorEvent } from '../events.js';
import { loadPolicyFile } from '../policy/policy-file.js';
import { PolicyEngine } from '../policy/engine.js';
import { verb } from './verb.js';

const TYPES = ['discovered', 'heartbeat', 'perf', 'alarm', 'exit', 'missing', 'back', 'output', 'command', 'policy'];

/** --for, the option of every verb that runs until stopped (its value goes to untilStopped) */
export const FOR_OPTION = { type: 'number', default: 0, describe: 'stop after this many ms (0: until interrupted)' } as const;

/** Resolves after `ms` (0: never), on SIGINT/SIGTERM, or when `also` resolves. */
export function untilStopped(ms: number, also?: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    const t = ms > 0 ? setTimeout(done, ms) : undefined;
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    void also?.then(done);
  });
}

export function colourFor(ctx: CliContext, e: OrchestratorEvent, line: string): string {
  if (e.type === 'alarm' || e.type === 'missing' || (e.type === 'command' && !e.ok) || (e.type === 'policy' && !e.ok)) return ctx.paint('red', line);
  if (e.type === 'policy') return ctx.paint('yellow', line);
  if (e.type === 'back' || e.type === 'discovered') return ctx.paint('green', line);
  if (e.type === 'heartbeat' || e.type === 'perf') return ctx.paint('dim', line);
  return line;
}

export function printEvent(ctx: CliContext, e: OrchestratorEvent): void {
  if (ctx.json) ctx.emitJson(e);
  else ctx.out(colourFor(ctx, e, `${new Date(e.at).toISOString().slice(11, 23)} ${describeEvent(e)}`));
}

export function watchVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'watch',
      describe: 'stream heartbeats, performance reports, alarms and policy actions (--json: one object per line)',
      builder: (y) => y.option('for', FOR_OPTION)
        .option('type', { type: 'string', array: true, describe: `only these event types (${TYPES.join(', ')})` })
        .option('policy', { type: 'string', describe: 'apply the policies in this file while watching' })
        .option('missing-after', { type: 'number', default: 3, describe: 'report a heartbeat missing after this many intervals' }),
      run: async (c, argv) => {
        const types = (argv.type as string[] | undefined)?.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
        for (const t of types ?? []) if (!TYPES.includes(t)) throw new UsageError(`--type ${t}: unknown event type (known: ${TYPES.join(', ')})`);
        const policy = argv.policy ? loadPolicyFile(String(argv.policy)) : null;
        c.longRunning = true; // runs beside the user's CLI commands: a MAC of its own
        const o = await c.orchestrator();
        const show = (e: OrchestratorEvent) => { if (!types || types.includes(e.type)) printEvent(c, e); };
        o.on('event', show);
        await o.discover().catch(() => []);
        const engine = policy ? new PolicyEngine(o, policy) : null;
        const k = policy?.fault?.missedIntervals ?? (argv['missing-after'] as number);
        const health = setInterval(() => { if (!engine) o.model.checkHealth(k); }, 100);
        engine?.start();
        try {
          await untilStopped(argv.for as number);
        } finally {
          clearInterval(health);
          engine?.stop();
          o.off('event', show);
        }
        return undefined;
      },
    }),
  ];
}
