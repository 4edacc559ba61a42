// The parallax-emu command runs its bundle (tools/bundle.mjs) when it is at least as new as the
// tsc output it was made from, the modules otherwise or with PARALLAX_UNBUNDLED=1; both work.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const cli = resolve(root, 'dist/src/cli/parallax-emu.js');
const main = resolve(root, 'dist/src/cli/emu-main.js');
const bundle = resolve(root, 'dist/src/cli/bundle/emu-main.mjs');

function version(env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [cli, '--version'], { env: { ...process.env, PARALLAX_START_TRACE: '1', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('parallax-emu bundle', () => {
  it('loads the bundle only when it is fresh, and the modules on request; both run', () => {
    expect(existsSync(main), 'run npm run build').toBe(true);
    const fresh = existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(main).mtimeMs;
    const a = version({});
    expect(a.status, a.err).toBe(0);
    expect(a.out).toMatch(/^parallax-emu \d+\.\d+\.\d+/);
    expect(a.err).toMatch(fresh ? /loading the bundle/ : /loading the modules/);
    expect(a.err).toMatch(/CLI modules loaded/);
    const b = version({ PARALLAX_UNBUNDLED: '1' });
    expect(b.status, b.err).toBe(0);
    expect(b.out).toBe(a.out);
    expect(b.err).toMatch(/loading the modules/);
  }, 120_000);
});
