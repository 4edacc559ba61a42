#!/usr/bin/env node
// Bundle, after tsc, the two pieces of code whose loading a start waits for:
// * the core worker (dist/src/machine/core-worker.js and the ~110 modules it imports) into one
//   CommonJS file, dist/src/machine/core-worker.bundle.cjs (CommonJS: a worker then never starts
//   Node's ESM loader, ~5 ms and ~0.4 MiB less each). Every emulated core's worker loads this
//   graph again in its own V8 isolate: one file instead of ~110 halves the CPU a worker spends
//   starting and saves ~4 MiB of RSS per core (docs/ARCHITECTURE.md, "Footprint").
// * the `parallax-emu` command (dist/src/cli/emu-main.js and its ~100 modules) into ES modules in
//   dist/src/cli/bundle/: emu-main.mjs, plus one chunk per part loaded on demand (orchestrator
//   CLI, hub, gdb stub, QMP), so those stay out of a plain start.
// Whitespace and comments go, names stay (stack traces stay readable; .map files lie beside).
// worker-path.ts and cli/parallax-emu.ts use a bundle only when it is at least as new as the tsc
// output it was made from, so a plain `npx tsc` (which does not run this) never runs stale code.
// If the bundler is missing this prints why and exits 0: the modules still work unbundled.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const worker = join(root, 'dist/src/machine/core-worker.js');
const cli = join(root, 'dist/src/cli/emu-main.js');
const cliDir = join(root, 'dist/src/cli/bundle');

for (const input of [worker, cli]) {
  if (!existsSync(input)) {
    process.stderr.write(`bundle: ${input} does not exist (run tsc first)\n`);
    process.exit(1);
  }
}
let rolldown;
try {
  rolldown = await import('rolldown');
} catch (e) {
  process.stderr.write(`bundle: rolldown is not installed (${e.message.split('\n')[0]}); the unbundled modules will run\n`);
  process.exit(0);
}
const minify = { compress: false, mangle: false, codegen: { removeWhitespace: true } };

await rolldown.build({
  input: worker,
  platform: 'node',
  logLevel: 'warn',
  output: { file: worker.replace(/\.js$/, '.bundle.cjs'), format: 'cjs', sourcemap: true, minify },
});

/**
 * A module that finds files beside itself (import.meta.url: the core worker, images/, koffi)
 * must still see its own place in dist/, not the chunk's: each `import.meta.url` becomes the
 * module's original URL, computed from the chunk's own at run time (the tree may move).
 */
const ownUrl = {
  name: 'own-import-meta-url',
  transform(code, id) {
    if (!code.includes('import.meta.url')) return null;
    const rel = relative(cliDir, id).split('\\').join('/');
    return { code: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), map: null };
  },
};
rmSync(cliDir, { recursive: true, force: true });
await rolldown.build({
  input: { 'emu-main': cli },
  platform: 'node',
  logLevel: 'warn',
  plugins: [ownUrl],
  output: { dir: cliDir, format: 'esm', sourcemap: true, minify, entryFileNames: '[name].mjs', chunkFileNames: '[name]-[hash].mjs' },
});
// the build (tsc, then this) is complete: tools/build-if-stale.mjs compares the sources with
// this stamp, so `npm run bench:*` after `npm install` or `npm run build` does not build again
writeFileSync(join(root, 'dist/.build-stamp'), `${new Date().toISOString()}\n`);
