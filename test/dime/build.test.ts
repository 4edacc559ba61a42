// The kernel build is deterministic: rebuilding from the sources with the toolchain recorded
// in images/dime.toolchain gives the committed bytes. With another toolchain the bytes may
// differ, so the test then checks that two builds agree with each other instead.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const haveGcc = spawnSync('gcc', ['--version']).status === 0 && spawnSync('ld', ['--version']).status === 0;

function build(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dime-build-'));
  const out = path.join(dir, 'img', 'dime.elf');
  const r = spawnSync('bash', ['src/dime/build.sh', out], { env: { ...process.env, DIME_BUILD_DIR: path.join(dir, 'obj') }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return path.join(dir, 'img');
}

function sameImages(a: string, b: string): void {
  expect(readFileSync(path.join(a, 'dime.elf')).equals(readFileSync(path.join(b, 'dime.elf')))).toBe(true);
  expect(readFileSync(path.join(a, 'netboot.elf')).equals(readFileSync(path.join(b, 'netboot.elf'))), 'netboot.elf').toBe(true);
  for (const f of readdirSync(path.join(b, 'services'))) {
    expect(readFileSync(path.join(a, 'services', f)).equals(readFileSync(path.join(b, 'services', f))), f).toBe(true);
  }
}

describe.skipIf(!haveGcc)('DIME build', () => {
  it('rebuilds images/dime.elf, images/netboot.elf and the service images byte for byte', () => {
    const fresh = build();
    const sameToolchain = readFileSync(path.join(fresh, 'dime.toolchain'), 'utf8') === readFileSync('images/dime.toolchain', 'utf8');
    if (sameToolchain) sameImages(fresh, 'images');
    else sameImages(fresh, build());
  }, 120_000);
});
