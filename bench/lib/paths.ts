// Where the repository is, from bench/ (tsx, vitest) or dist/bench/ (built).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(resolve(dir, 'package.json')) && existsSync(resolve(dir, 'images'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}

export const repoRoot = findRoot();
