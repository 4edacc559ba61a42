// Where the compiled core-worker lives. Workers always run compiled JavaScript from dist/,
// also when the machine itself was imported from TypeScript sources (vitest).

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function coreWorkerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, 'core-worker.js');
  if (existsSync(sibling)) return sibling;
  // running from src/machine (TypeScript): use the build output
  const built = resolve(here, '../../dist/src/machine/core-worker.js');
  if (existsSync(built)) return built;
  throw new Error(`core worker not built: run "npm run build" (looked for ${sibling} and ${built})`);
}
