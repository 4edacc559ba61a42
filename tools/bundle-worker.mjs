#!/usr/bin/env node
// Bundle the core worker (dist/src/machine/core-worker.js and the ~110 modules it imports)
// into one CommonJS file, dist/src/machine/core-worker.bundle.cjs, after tsc (CommonJS: a worker
// then never starts Node's ESM loader, ~5 ms and ~0.4 MiB less each). Every emulated core is a
// worker thread that loads this graph again in its own V8 isolate: one file instead of ~110
// halves the CPU a worker spends starting and saves ~4 MiB of RSS per core (module records,
// source strings, the garbage of loading them); measurements in docs/ARCHITECTURE.md,
// "Footprint". Whitespace and comments go, names stay (stack traces stay readable; a .map
// file lies beside it for `node --enable-source-maps`).
// worker-path.ts uses the bundle only when it is at least as new as core-worker.js, so a
// plain `npx tsc` (which does not run this) never runs stale code. If the bundler is missing
// this prints why and exits 0: the unbundled worker still works.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const input = join(root, 'dist/src/machine/core-worker.js');
const output = join(root, 'dist/src/machine/core-worker.bundle.cjs');

if (!existsSync(input)) {
  process.stderr.write(`bundle-worker: ${input} does not exist (run tsc first)\n`);
  process.exit(1);
}
let rolldown;
try {
  rolldown = await import('rolldown');
} catch (e) {
  process.stderr.write(`bundle-worker: rolldown is not installed (${e.message.split('\n')[0]}); cores will load the unbundled worker\n`);
  process.exit(0);
}
await rolldown.build({
  input,
  platform: 'node',
  logLevel: 'warn',
  output: {
    file: output,
    format: 'cjs',
    sourcemap: true,
    minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } },
  },
});
