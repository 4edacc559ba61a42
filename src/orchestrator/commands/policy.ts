// policy FILE: keep the orchestrator running and let the policies act (fault recovery,
// replication); every action is printed with its reason (--json: one object per line).
import type { CliContext } from '../cli-context.js';
import { loadPolicyFile } from '../policy/policy-file.js';
import { PolicyEngine } from '../policy/engine.js';
import { FOR_OPTION, printEvent, untilStopped } from './watch.js';
import { verb, str } from './verb.js';

export function policyVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'policy <file>',
      describe: 'apply a policy file (fault recovery, replication) until interrupted; actions are logged with their reasons',
      builder: (y) => y.positional('file', { type: 'string' })
        .option('for', FOR_OPTION)
        .option('check', { type: 'boolean', default: false, describe: 'only check the file and print it' }),
      run: async (c, argv) => {
        const cfg = loadPolicyFile(str(argv.file));
        if (argv.check) return { ok: true, policy: cfg };
        c.longRunning = true; // runs beside the user's CLI commands: a MAC of its own
        const o = await c.orchestrator();
        const show = (e: Parameters<typeof printEvent>[1]) => {
          if (['policy', 'missing', 'back', 'alarm', 'exit'].includes(e.type)) printEvent(c, e);
        };
        o.on('event', show);
        await o.discover().catch(() => []);
        const engine = new PolicyEngine(o, cfg);
        engine.start();
        try {
          await untilStopped(argv.for as number);
        } finally {
          engine.stop();
          o.off('event', show);
        }
        return undefined;
      },
      human: (_c, r) => (r ? `policy file ok:\n${JSON.stringify(r.policy, null, 2)}` : undefined),
    }),
  ];
}
