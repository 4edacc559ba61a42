// How a verb is declared: a yargs command module built around the shared CLI context. The
// handler returns a result; the context prints it as JSON (--json) or through `human`.
import type { Argv, CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';

export type Args = Record<string, unknown> & { _: (string | number)[] };

export interface VerbSpec<R> {
  command: string | string[];
  describe: string;
  builder?: (y: Argv) => Argv;
  run: (ctx: CliContext, argv: Args) => Promise<R>;
  /** text for people; absent: nothing (streaming verbs print as they go) */
  human?: (ctx: CliContext, result: R) => string | undefined;
}

export function verb<R>(ctx: CliContext, spec: VerbSpec<R>): CommandModule {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: (y: Argv) => (spec.builder ? spec.builder(y) : y),
    handler: async (argv) => {
      const result = await spec.run(ctx, argv as unknown as Args);
      if (result === undefined) return;
      if (ctx.json) ctx.emitJson(result);
      else {
        const text = spec.human?.(ctx, result);
        if (text) ctx.out(text);
      }
    },
  };
}

export const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
