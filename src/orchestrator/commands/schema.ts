// schema: print the JSON Schema of a command's --json output (or list the names), so scripts
// can check what they parse (src/orchestrator/json-schemas.ts).
import { UsageError } from '../errors.js';
import { JSON_SCHEMAS, schemaDocument } from '../json-schemas.js';
import { verb, str } from './verb.js';
import type { CliContext } from '../cli-context.js';

export function schemaVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'schema [name]',
      describe: 'the JSON Schema of a command\'s --json output (discover, ps, load, ..., watch, error, api-state); no name: the list',
      builder: (y) => y.positional('name', { type: 'string' }),
      run: async (_c, argv) => {
        const name = str(argv.name);
        if (!name) return { schemas: Object.keys(JSON_SCHEMAS) };
        const doc = schemaDocument(name);
        if (!doc) throw new UsageError(`no schema named '${name}' (${Object.keys(JSON_SCHEMAS).join(', ')})`);
        return doc;
      },
      human: (_c, r) => ('schemas' in r && Array.isArray(r.schemas) ? `${(r.schemas as string[]).join('\n')}\n` : `${JSON.stringify(r, null, 2)}\n`),
    }),
  ];
}
