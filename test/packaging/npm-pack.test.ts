// The package as a user gets it: `npm pack`, installed from the tarball into an empty folder;
// `npx parallax-emu --cores 8` boots the DIME kernel from the package's images/, and the
// orchestrator runs as `npx parallax-orch` and as `npx parallax-emu orch`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'parallax-pack-'));
const app = join(work, 'app');

function run(cmd: string, args: string[], cwd: string, timeout = 300_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('npm pack, installed in an empty folder', () => {
  beforeAll(() => {
    // dist/ is built by `npm test`'s pretest; packing skips the prepare build
    const pack = run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], root);
    expect(pack.status, pack.out).toBe(0);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tgz, pack.out).toBeDefined();
    spawnSync('mkdir', ['-p', app]);
    expect(run('npm', ['init', '-y'], app).status).toBe(0);
    const inst = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tgz!)], app);
    expect(inst.status, inst.out).toBe(0);
  }, 600_000);

  it('`npx parallax-emu --cores 8` boots the packaged DIME image', async () => {
    // its own process group: npx runs the emulator as a child, and the whole group must end
    const p = spawn('npx', ['--no-install', 'parallax-emu', '--cores', '8'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killGroup = (sig: NodeJS.Signals) => { try { process.kill(-p.pid!, sig); } catch { /* already gone */ } };
    let out = '';
    const ready = await new Promise<boolean>((res) => {
      const t = setTimeout(() => res(false), 240_000);
      const on = (d: Buffer) => { out += d.toString(); if (/DIME ready: 8 cores/.test(out)) { clearTimeout(t); res(true); } };
      p.stdout!.on('data', on);
      p.stderr!.on('data', on);
      p.on('exit', () => { clearTimeout(t); res(/DIME ready: 8 cores/.test(out)); });
    });
    killGroup('SIGTERM');
    setTimeout(() => killGroup('SIGKILL'), 3000).unref();
    expect(ready, out.slice(-2000)).toBe(true);
  }, 300_000);

  it('runs the orchestrator as parallax-orch and as parallax-emu orch', () => {
    const a = run('npx', ['--no-install', 'parallax-orch', '--help'], app);
    expect(a.status, a.out).toBe(0);
    expect(a.out).toMatch(/parallax-orch/);
    const b = run('npx', ['--no-install', 'parallax-emu', 'orch', '--help'], app);
    expect(b.status, b.out).toBe(0);
    expect(b.out).toMatch(/\bps\b/);
  });
});
