// Loads the emulator's snippet runner (src/cpu/snippet.ts, compiled to dist/src/cpu/snippet.js)
// at run time, so the oracle builds and runs before that file exists and says clearly when it is missing.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunSnippets } from './snippet-api.js';

export class MissingRunnerError extends Error {}

export async function loadEmulatorRunner(): Promise<RunSnippets> {
  // from test/isa/*.ts this is src/cpu/; from dist/test/isa/*.js it is dist/src/cpu/
  const here = import.meta.url;
  const candidates = here.endsWith('.ts')
    ? [new URL('../../src/cpu/snippet.ts', here), new URL('../../src/cpu/snippet.js', here)]
    : [new URL('../../src/cpu/snippet.js', here)];
  const found = candidates.find((u) => existsSync(fileURLToPath(u)));
  if (!found) {
    throw new MissingRunnerError(`emulator snippet runner missing: ${candidates.map((u) => fileURLToPath(u)).join(' or ')} does not exist`);
  }
  const mod = (await import(found.href)) as { runSnippets?: unknown };
  if (typeof mod.runSnippets !== 'function') {
    throw new MissingRunnerError(`emulator snippet runner missing: ${fileURLToPath(found)} does not export runSnippets()`);
  }
  return mod.runSnippets as RunSnippets;
}
