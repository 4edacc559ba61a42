// The parallax-emu command starts its machine's first core worker before it loads its own code
// (src/machine/standby-worker.ts); the machine then hands that worker core 0's data instead of
// starting one. A DIME server booted that way, with one worker per core and with every core in
// the standby worker, comes up like one started without it (PARALLAX_STANDBY_WORKER=0); help and
// version start no worker; the slot hands a worker out once, and only for the file it runs.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EMULATOR_CLI, MachineProcess, machineCommand } from '../../src/orchestrator/launcher.js';
import { coreWorkerPath } from '../../src/machine/worker-path.js';
import { dropStandbyCoreWorker, startStandbyCoreWorker, takeStandbyCoreWorker } from '../../src/machine/standby-worker.js';

const STANDBY = /core worker on standby: code loaded/;

async function boot(env: Record<string, string>, coresPerWorker?: number): Promise<string> {
  const [cmd, args] = machineCommand({ kind: 'emu', cores: 2, memMiB: 64, append: 'hb=0 perf=0', coresPerWorker });
  const p = new MachineProcess(cmd, args, `standby ${JSON.stringify(env)}`, { env: { ...process.env, PARALLAX_START_TRACE: '1', ...env } });
  try {
    await p.waitFor(/DIME ready: 2 cores/, 120_000);
    return p.output;
  } finally {
    await p.stop();
  }
}

describe.skipIf(!existsSync(EMULATOR_CLI))('standby core worker', () => {
  it.each([[undefined], [2]])('a DIME server boots on it (cores per worker: %s), and without it', async (per) => {
    const on = await boot({}, per);
    expect(on).toMatch(STANDBY);
    // the machine's core 0 ran in it: its data arrived after the standby had loaded its code
    expect(on.indexOf('worker of core 0: code loaded')).toBeGreaterThan(on.search(STANDBY));
    const off = await boot({ PARALLAX_STANDBY_WORKER: '0' }, per);
    expect(off).not.toMatch(STANDBY);
    expect(off).toMatch(/worker of core 0: code loaded/);
  }, 300_000);

  it('help and version start none', () => {
    for (const flag of ['--version', '--help']) {
      const r = spawnSync(process.execPath, [resolve(EMULATOR_CLI), flag], { env: { ...process.env, PARALLAX_START_TRACE: '1' }, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(STANDBY);
    }
  }, 120_000);

  it('the slot hands its worker out once, and only for the file it was started from', async () => {
    const file = coreWorkerPath();
    startStandbyCoreWorker(file);
    expect(takeStandbyCoreWorker(`${file}.other`)).toBeNull();
    const w = takeStandbyCoreWorker(file);
    expect(w).not.toBeNull();
    expect(takeStandbyCoreWorker(file)).toBeNull();
    await w!.terminate();
    startStandbyCoreWorker(file);
    dropStandbyCoreWorker(); // nobody took it: stopped
    expect(takeStandbyCoreWorker(file)).toBeNull();
  }, 60_000);
});
