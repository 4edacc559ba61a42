// Snapshots and --cores-per-worker: a 4-core DIME server under -icount, booted with two cores
// per worker and saved at "DIME ready", restores with one core per worker, two, and all four in
// one worker, and every restore runs to the same guest instant with the same replay digest (the
// turn order does not depend on how cores are grouped). The save itself parks cores hosted
// together (a parked core must not hold up its siblings).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parallaxCli, repoRoot, runProcess } from '../guest/harness.js';

const DIME_IMAGE = join(repoRoot(), 'images', 'dime.elf');

describe.skipIf(!existsSync(parallaxCli()))('snapshots with several cores per worker (-icount)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'px-snap-grouped-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a save from 2 cores per worker restores with 1, 2 and 4 per worker to the same digest', async () => {
    expect(existsSync(DIME_IMAGE), `${DIME_IMAGE} missing: build the DIME image`).toBe(true);
    const file = join(dir, 'ready.pxsnap');
    const base = ['--kernel', DIME_IMAGE, '--cores', '4', '--append', 'hb=0 perf=0'];
    const saved = await runProcess(process.execPath, [parallaxCli(), ...base, '--icount', 'shift=7', '--cores-per-worker', '2', '--snapshot-out', file], 180_000);
    expect(saved.stderr, saved.transcript).toMatch(/saved the machine to .*ready\.pxsnap/);
    expect(saved.transcript).toContain('DIME ready'); // (the save cuts the console right after it)
    const digests: string[] = [];
    for (const per of ['1', '2', '4']) {
      const r = await runProcess(process.execPath, [parallaxCli(), ...base, '--icount', 'shift=7,stop=400', '--cores-per-worker', per, '--stats', '-incoming', `file:${file}`], 120_000);
      expect(r.timedOut, r.stderr).toBe(false);
      expect(r.stderr).toMatch(/restored .*ready\.pxsnap/);
      expect(r.exitCode, r.stderr).toBe(0);
      const digest = /replay digest .*/.exec(r.stderr)?.[0] ?? '';
      expect(digest, r.stderr).toMatch(/guest time 40\d+ ns/);
      digests.push(digest);
    }
    expect(digests[1]).toBe(digests[0]);
    expect(digests[2]).toBe(digests[0]);
  }, 400_000);
});
