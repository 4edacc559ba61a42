// The DIMEs a command names: SERVER/CORE as given, SERVER as every DIME it answers for.
import type { CliContext } from '../cli-context.js';
import type { Orchestrator } from '../orchestrator.js';
import { UsageError } from '../errors.js';
import { parseDime, parseTarget, type DimeAddress } from '../targets.js';
import type { CommandModule } from 'yargs';
import { str, verb, type Args, type VerbSpec } from './verb.js';

/** SERVER/CORE (one DIME) or SERVER (core null: the whole server). */
export type Target = ReturnType<typeof parseTarget>;

/** The orchestrator, and the target a verb's argument names (SERVER/CORE or SERVER). */
export async function targetNamed(c: CliContext, text: unknown): Promise<{ o: Orchestrator; t: Target }> {
  const o = await c.orchestrator();
  return { o, t: parseTarget(str(text), o.names) };
}

/** The orchestrator, and the one DIME a verb's argument names (SERVER/CORE). */
export async function dimeNamed(c: CliContext, text: unknown): Promise<{ o: Orchestrator; d: DimeAddress }> {
  const o = await c.orchestrator();
  return { o, d: parseDime(str(text), o.names) };
}

/** A verb that needs the orchestrator from its first step: its run gets it (joined to the LAN). */
export function orchestratorVerb<R>(ctx: CliContext, spec: Omit<VerbSpec<R>, 'run'> & { run: (o: Orchestrator, argv: Args, c: CliContext) => Promise<R> }): CommandModule {
  return verb(ctx, { ...spec, run: async (c, argv) => spec.run(await c.orchestrator(), argv, c) });
}

/** A verb on one named target: its run gets the orchestrator and the target, already parsed. */
type OnTargetSpec<T, R> = Omit<VerbSpec<R>, 'run'> & { run: (o: Orchestrator, target: T, argv: Args, c: CliContext) => Promise<R> };

/** A verb whose `<target>` is SERVER/CORE, or SERVER for every DIME of that server. */
export function targetVerb<R>(ctx: CliContext, spec: OnTargetSpec<Target, R>): CommandModule {
  return verb(ctx, { ...spec, run: async (c, argv) => { const { o, t } = await targetNamed(c, argv.target); return spec.run(o, t, argv, c); } });
}

/** A verb whose `<dime>` is one DIME, SERVER/CORE. */
export function dimeVerb<R>(ctx: CliContext, spec: OnTargetSpec<DimeAddress, R>): CommandModule {
  return verb(ctx, { ...spec, run: async (c, argv) => { const { o, d } = await dimeNamed(c, argv.dime); return spec.run(o, d, argv, c); } });
}

/** A target as printed: the server's name, or the DIME's label. */
export function targetLabel(o: Orchestrator, t: Target): string {
  return t.core === null ? o.names.label(t.server) : o.label(t as DimeAddress);
}

export async function dimesNamed(o: Orchestrator, texts: readonly string[]): Promise<DimeAddress[]> {
  const out: DimeAddress[] = [];
  for (const text of texts) {
    const t = parseTarget(text, o.names);
    if (t.core !== null) { out.push(t as DimeAddress); continue; }
    await o.discover(t.server, 400);
    const dimes = o.model.dimesOf(t.server);
    if (!dimes.length) throw new UsageError(`server ${text} did not answer`);
    out.push(...dimes);
  }
  return out;
}
