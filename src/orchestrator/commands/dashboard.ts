// dashboard: serve the live network view on a local web page (optionally with policies on).
import type { CliContext } from '../cli-context.js';
import { UsageError } from '../errors.js';
import { DashboardServer } from '../dashboard/server.js';
import { PolicyEngine } from '../policy/engine.js';
import { loadPolicyFile } from '../policy/policy-file.js';
import { FOR_OPTION, untilStopped } from './watch.js';
import { verb } from './verb.js';

export function dashboardVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'dashboard',
      describe: 'serve a live web page of the DIME network (servers, DIMEs, gauges, routes, alarms, policy actions)',
      builder: (y) => y.option('port', { type: 'number', default: 8470 }).option('host', { type: 'string', default: '127.0.0.1' })
        .option('policy', { type: 'string', describe: 'apply the policies in this file too' })
        .option('for', FOR_OPTION),
      run: async (c, argv) => {
        const port = argv.port as number;
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
        const policy = argv.policy ? loadPolicyFile(String(argv.policy)) : null;
        c.longRunning = true; // runs beside the user's CLI commands: a MAC of its own
        const o = await c.orchestrator();
        await o.discover().catch(() => []);
        const server = new DashboardServer(o, { host: argv.host as string, port });
        let url: string;
        try {
          url = await server.listen();
        } catch (e) {
          throw new UsageError(`dashboard: cannot listen on ${String(argv.host)}:${port}: ${(e as Error).message}`);
        }
        if (c.json) c.emitJson({ url });
        else c.out(`dashboard on ${url} (Ctrl-C to stop)`);
        const engine = policy ? new PolicyEngine(o, policy) : null;
        engine?.start();
        // without policies, still notice silent DIMEs; rediscover now and then for new servers
        const health = engine ? null : setInterval(() => o.model.checkHealth(3), 250);
        const rediscover = setInterval(() => void o.discover().catch(() => []), 10_000);
        try {
          await untilStopped(argv.for as number);
        } finally {
          engine?.stop();
          if (health) clearInterval(health);
          clearInterval(rediscover);
          await server.close();
        }
        return undefined;
      },
    }),
  ];
}
