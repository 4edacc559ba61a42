// Where the installed package lives (its images/ and package.json), found from this file's
// location so that it works from the checkout, from `npm install -g` and from `npx`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
}

export function packageVersion(): string {
  try {
    return String(JSON.parse(readFileSync(resolve(packageRoot(), 'package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
}
