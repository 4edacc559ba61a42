// -icount replay: two runs of the same image and arguments print the same console, retire the
// same instructions and end at the same guest time (the `--stats` replay digest), also when the
// host is busy. Guest kernels are held to their QEMU transcripts as well; the DIME kernel is
// booted on 1, 4 and 8 cores and stopped at a fixed guest time.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GUEST_SUCCESS_STATUS, buildGuestKernels, expectedTranscriptPath, guestImage, parallaxCli, repoRoot, runProcess,
} from '../guest/harness.js';
import { withHostLoad } from '../lib/host-load.js';

const DIME_IMAGE = join(repoRoot(), 'images', 'dime.elf');

interface Replay { transcript: string; digest: string; exitCode: number | null; stderr: string }

async function runIcount(args: string[], timeoutMs: number): Promise<Replay> {
  const r = await runProcess(process.execPath, [parallaxCli(), ...args, '--stats'], timeoutMs);
  const digest = /replay digest .*/.exec(r.stderr)?.[0] ?? '';
  expect(r.timedOut, `ran past ${timeoutMs} ms; stderr:\n${r.stderr}`).toBe(false);
  expect(digest, `no replay digest in --stats; stderr:\n${r.stderr}`).not.toBe('');
  return { transcript: r.transcript, digest, exitCode: r.exitCode, stderr: r.stderr };
}

describe('-icount replay', () => {
  beforeAll(() => buildGuestKernels());

  const guestCases: Array<{ kernel: string; cores: number; loaded: boolean }> = [
    { kernel: 'smp', cores: 8, loaded: false },
    { kernel: 'atomics', cores: 4, loaded: true },
    { kernel: 'ipi', cores: 4, loaded: false },
  ];
  for (const c of guestCases) {
    it(`${c.kernel} on ${c.cores} cores: QEMU's transcript, the same digest twice${c.loaded ? ' (second run with the host busy)' : ''}`, async () => {
      const args = ['--kernel', guestImage(c.kernel), '--cores', String(c.cores), '--memory', '128', '--icount', 'shift=6'];
      const expected = readFileSync(expectedTranscriptPath(c.kernel, c.cores), 'latin1');
      const a = await runIcount(args, 120_000);
      const b = c.loaded ? await withHostLoad(() => runIcount(args, 240_000)) : await runIcount(args, 120_000);
      expect(a.transcript).toBe(expected);
      expect(a.exitCode, a.stderr).toBe(GUEST_SUCCESS_STATUS);
      expect(b.transcript).toBe(a.transcript);
      expect(b.digest).toBe(a.digest);
    }, 400_000);
  }

  for (const cores of [1, 4, 8]) {
    it(`DIME kernel on ${cores} core(s), stopped at 200 ms guest time: the same digest twice${cores === 8 ? ' (second run with the host busy)' : ''}`, async () => {
      expect(existsSync(DIME_IMAGE), `${DIME_IMAGE} missing: build the DIME image`).toBe(true);
      const args = ['--kernel', DIME_IMAGE, '--cores', String(cores), '--append', 'hb=0 perf=0', '--icount', 'shift=7,stop=200'];
      const a = await runIcount(args, 180_000);
      const b = cores === 8 ? await withHostLoad(() => runIcount(args, 300_000)) : await runIcount(args, 180_000);
      expect(a.transcript).toContain(`DIME ready: ${cores} cores`);
      expect(a.exitCode, a.stderr).toBe(0);
      expect(b.transcript).toBe(a.transcript);
      expect(b.digest).toBe(a.digest);
    }, 500_000);
  }

  // --cores-per-worker hosts consecutive cores, so the turn order (core order, then the I/O
  // thread) is the same however cores are grouped: the digest must not change
  it('ipi on 4 cores, 2 per worker: QEMU\'s transcript and the digest of one core per worker', async () => {
    const args = ['--kernel', guestImage('ipi'), '--cores', '4', '--memory', '128', '--icount', 'shift=6'];
    const alone = await runIcount(args, 120_000);
    const grouped = await runIcount([...args, '--cores-per-worker', '2'], 120_000);
    expect(grouped.transcript).toBe(readFileSync(expectedTranscriptPath('ipi', 4), 'latin1'));
    expect(grouped.exitCode, grouped.stderr).toBe(GUEST_SUCCESS_STATUS);
    expect(grouped.digest).toBe(alone.digest);
  }, 400_000);

  it('DIME kernel on 8 cores, 4 per worker, stopped at 200 ms guest time: the digest of one core per worker', async () => {
    const args = ['--kernel', DIME_IMAGE, '--cores', '8', '--append', 'hb=0 perf=0', '--icount', 'shift=7,stop=200'];
    const alone = await runIcount(args, 180_000);
    const grouped = await runIcount([...args, '--cores-per-worker', '4'], 180_000);
    expect(grouped.transcript).toContain('DIME ready: 8 cores');
    expect(grouped.exitCode, grouped.stderr).toBe(0);
    expect(grouped.transcript).toBe(alone.transcript);
    expect(grouped.digest).toBe(alone.digest);
  }, 500_000);
});
