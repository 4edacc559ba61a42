#!/usr/bin/env node
// `npm run bench:*` builds first, but only when a TypeScript source (or the tsconfig) is newer
// than the last build, and says so: an up-to-date tree starts at once, a rebuild is announced
// (it takes ~10 s idle, about a minute on a loaded host) instead of a silent pause.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'dist', '.build-stamp');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const sources = Math.max(statSync(join(root, 'tsconfig.json')).mtimeMs, ...['src', 'bench', 'test', 'tools'].map((d) => newest(join(root, d))));
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (built >= sources) {
  process.stderr.write('build: dist/ is up to date with the sources (no rebuild)\n');
} else {
  process.stderr.write(`build: ${built ? 'sources changed since the last build' : 'no build yet'}: compiling with tsc (about 10 s on an idle host, longer on a busy one)...\n`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const b = spawnSync(process.execPath, [join(root, 'tools/bundle.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.stderr.write(`build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
