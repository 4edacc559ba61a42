// run WORKFLOW: deploy a DAG of services (checked fully before anything is sent; rolled
// back on failure unless --keep-partial), optionally keeping policies on it afterwards.
import type { CliContext } from '../cli-context.js';
import { table } from '../cli-context.js';
import { endpointLabel } from '../targets.js';
import { deployOrder, deployWorkflow, loadWorkflow, planWorkflow } from '../workflow.js';
import { verb, str } from './verb.js';

export function workflowVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'run <workflow>',
      describe: 'deploy a workflow file: services across DIMEs and servers, data channels as edges',
      builder: (y) => y.positional('workflow', { type: 'string', describe: 'JSON workflow file' })
        .option('keep-partial', { type: 'boolean', default: false, describe: 'on failure, leave what was deployed in place' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'check and plan only; send nothing that changes a DIME' }),
      run: async (c, argv) => {
        loadWorkflow(str(argv.workflow), c.names()); // bad files fail here, before joining the LAN
        const o = await c.orchestrator();
        const wf = loadWorkflow(str(argv.workflow), o.names);
        if (argv['dry-run']) {
          const plan = await planWorkflow(o, wf);
          return { workflow: wf.name, dryRun: true, placements: deployOrder(wf).map((n) => ({ node: n.name, service: n.source.name, dime: o.label(plan.get(n.name)!) })) };
        }
        const placed = await deployWorkflow(o, wf, { keepPartial: !!argv['keep-partial'] });
        return {
          workflow: wf.name, dryRun: false,
          placements: placed.map((p) => ({ node: p.node, service: p.service, dime: p.label, input: endpointLabel(p.input, o.names), output: endpointLabel(p.output, o.names) })),
        };
      },
      human: (_c, r) => `workflow ${r.workflow}${r.dryRun ? ' (dry run: nothing deployed)' : ' deployed'}\n` +
        table(['SERVICE', 'NAME', 'DIME', 'INPUT', 'OUTPUT'], r.placements.map((p) => [p.node, p.service, p.dime, (p as { input?: string }).input ?? '-', (p as { output?: string }).output ?? '-'])),
    }),
  ];
}
