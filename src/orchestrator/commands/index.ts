// The `parallax` command line: global options, every verb, error reporting and exit codes.
// `runCli` runs in-process (tests, script mode) and never calls process.exit.
import yargs, { type Argv } from 'yargs';
import { CliContext, type CliIO, type GlobalOptions } from '../cli-context.js';
import { EXIT, OrchestratorError } from '../errors.js';
import { discoveryVerbs } from './discovery.js';
import { lifecycleVerbs } from './lifecycle.js';
import { wiringVerbs } from './wiring.js';
import { reportVerbs } from './reports.js';
import { watchVerbs } from './watch.js';
import { workflowVerbs } from './workflow.js';
import { scriptVerbs } from './script.js';
import { policyVerbs } from './policy.js';
import { labVerbs } from './lab.js';
import { keysVerbs } from './keys.js';
import { dashboardVerbs } from './dashboard.js';
import { schemaVerbs } from './schema.js';
import { storageVerbs } from './storage.js';
import { bootVerbs } from './boot.js';
import { nameVerbs } from './names.js';
import { collectiveVerbs } from './collective.js';

class CliUsage extends OrchestratorError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
  }
}

function buildParser(ctx: CliContext, words: string[], runWords: (w: string[]) => Promise<number>): Argv {
  let y = yargs(words)
    .parserConfiguration({ 'short-option-groups': false })
    .scriptName('parallax-orch')
    .usage('$0 <command> [options]\n\nThe Parallax orchestrator: discover, deploy, rewire and heal a DIME network.')
    .option('net', { type: 'string', global: true, describe: 'LAN to join: hub,path=S | stream,... | dgram,... | tap,ifname=N | packet,ifname=N (env PARALLAX_NET)' })
    .option('key', { type: 'string', global: true, hidden: true, describe: 'refused: a key on a command line is visible to every user (ps)' })
    .option('key-file', { type: 'string', global: true, describe: 'master secret file, mode 0600 (env PARALLAX_KEY_FILE, or the secret itself in PARALLAX_KEY)' })
    .option('lab', { type: 'boolean', global: true, describe: 'lab mode: the built-in PUBLIC key (insecure; env PARALLAX_LAB=1)' })
    .option('mac', { type: 'string', global: true, describe: 'this orchestrator\'s MAC (env PARALLAX_MAC; default derived from host and user)' })
    .option('alias', { type: 'string', array: true, global: true, describe: 'server alias NAME=MAC (repeatable; env PARALLAX_ALIASES)' })
    .option('json', { type: 'boolean', global: true, default: false, describe: 'machine-readable output (streams: one object per line)' })
    .option('timeout', { type: 'number', global: true, describe: 'ms to wait for each answer (default 2000)' })
    .option('state', { type: 'string', global: true, describe: 'file remembering routes and services between runs (env PARALLAX_STATE; "none" to disable)' })
    .middleware((argv) => {
      const opts: GlobalOptions = {
        net: argv.net as string | undefined, key: argv.key as string | undefined, keyFile: argv['key-file'] as string | undefined, lab: argv.lab as boolean | undefined,
        mac: argv.mac as string | undefined, alias: argv.alias as string[] | undefined, json: !!argv.json,
        timeout: argv.timeout as number | undefined, state: argv.state as string | undefined,
      };
      // script lines inherit the session; only output style may change per line
      if (ctx.persistent) ctx.opts = { ...ctx.opts, json: opts.json || ctx.opts.json };
      else ctx.opts = opts;
    });
  const verbs = [
    ...discoveryVerbs(ctx), ...lifecycleVerbs(ctx), ...wiringVerbs(ctx), ...reportVerbs(ctx), ...watchVerbs(ctx),
    ...workflowVerbs(ctx), ...scriptVerbs(ctx, runWords), ...policyVerbs(ctx), ...labVerbs(ctx), ...keysVerbs(ctx), ...dashboardVerbs(ctx),
    ...schemaVerbs(ctx), ...storageVerbs(ctx), ...bootVerbs(ctx), ...nameVerbs(ctx), ...collectiveVerbs(ctx),
  ];
  for (const v of verbs) y = y.command(v);
  return y
    .demandCommand(1, 'give a command (parallax --help lists them)')
    .strict()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new CliUsage(msg);
    });
}

/** Run one command line in `ctx`; returns the exit code. Errors are printed, not thrown. */
export async function runWithContext(ctx: CliContext, words: string[]): Promise<number> {
  const runWords = (w: string[]) => runWithContext(ctx, w);
  let helpText = '';
  try {
    await buildParser(ctx, words, runWords).parseAsync(words, {}, (_err, _argv, output) => { helpText = output; });
    if (helpText) ctx.out(helpText);
    return EXIT.OK;
  } catch (e) {
    const err = e as Error;
    const code = err instanceof OrchestratorError ? err.exitCode : EXIT.REFUSED;
    if (ctx.json) ctx.emitJson({ error: err.message, exitCode: code });
    else {
      if (helpText && code === EXIT.USAGE) ctx.err(helpText);
      ctx.err(`parallax: ${err.message}`);
    }
    return code;
  } finally {
    await ctx.finish().catch(() => undefined);
  }
}

export async function runCli(words: string[], io: CliIO): Promise<number> {
  const ctx = new CliContext(io);
  try {
    return await runWithContext(ctx, words);
  } finally {
    await ctx.finish(true).catch(() => undefined);
  }
}
