// The kernel build is deterministic: rebuilding from the sources gives the committed bytes.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const haveGcc = spawnSync('gcc', ['--version']).status === 0 && spawnSync('ld', ['--version']).status === 0;

describe.skipIf(!haveGcc)('DIME build', () => {
  it('rebuilds images/dime.elf and the service images byte for byte', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dime-build-'));
    const out = path.join(dir, 'img', 'dime.elf');
    const r = spawnSync('bash', ['src/dime/build.sh', out], { env: { ...process.env, DIME_BUILD_DIR: path.join(dir, 'obj') }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out).equals(readFileSync('images/dime.elf'))).toBe(true);
    for (const f of readdirSync('images/services')) {
      expect(readFileSync(path.join(dir, 'img', 'services', f)).equals(readFileSync(path.join('images/services', f))), f).toBe(true);
    }
  }, 120_000);
});
