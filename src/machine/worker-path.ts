// Where the compiled core-worker lives. Workers always run compiled JavaScript from dist/,
// also when the machine itself was imported from TypeScript sources (vitest). The one-file
// bundle (tools/bundle.mjs, run by `npm run build`) starts faster and holds less per
// core than the ~110 modules it is made of; it is used only when it is not older than the
// tsc output it was made from (a later plain `tsc` makes it stale). PARALLAX_UNBUNDLED_WORKER=1
// loads the modules one by one (for a debugger or profiler).

import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled worker script at `fromSrc` (a path below src/, as .js): beside this module when it
 * runs compiled, else (running from src/machine as TypeScript) in the build output.
 */
function compiledWorker(fromSrc: string, what: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = resolve(here, '..', fromSrc);
  const built = resolve(here, '../../dist/src', fromSrc);
  const file = existsSync(sibling) ? sibling : existsSync(built) ? built : null;
  if (!file) throw new Error(`${what} not built: run "npm run build" (looked for ${sibling} and ${built})`);
  return file;
}

export function coreWorkerPath(): string {
  const file = compiledWorker('machine/core-worker.js', 'core worker');
  return process.env.PARALLAX_UNBUNDLED_WORKER === '1' ? file : freshBundle(file) ?? file;
}

/** The bundle beside `workerJs`, if there is one made from this build of it. */
function freshBundle(workerJs: string): string | null {
  const bundle = workerJs.replace(/\.js$/, '.bundle.cjs');
  try {
    return statSync(bundle).mtimeMs >= statSync(workerJs).mtimeMs ? bundle : null;
  } catch {
    return null;
  }
}

/** The compiled compile worker (src/cpu/wasm/compile-worker.ts; not bundled: one per machine). */
export function compileWorkerPath(): string {
  return compiledWorker('cpu/wasm/compile-worker.js', 'compile worker');
}
