// Boot: the kernel brings up every core the ACPI MADT lists and announces them in order, on
// every machine runner, and the machines' consoles agree line for line (after transcript.ts's
// normalisation). 1, 2, 4, 8 and 16 cores run by default; 64 cores too unless DIME_BOOT_64=0
// (it is the slowest case: see src/dime/README.md for the measured times).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PxCodec } from '../../src/protocol/codec.js';
import { availableRunners, missingRunners, type MachineRunner } from './runner.js';
import { StreamLan } from './lan.js';
import { TranscriptRecorder } from './transcript.js';
import { IMAGE, expectSameTranscripts } from './bench.js';

const runners = availableRunners();
const CORE_COUNTS = [1, 2, 4, 8, 16, ...(process.env.DIME_BOOT_64 === '0' ? [] : [64])];
const MAC = '52:54:00:00:b0:07';

/** Boots one machine with `exit=boot` on its own LAN; returns its transcript and exit status. */
async function bootOnce(mk: () => MachineRunner, cores: number, hpet: boolean, coresPerWorker?: number) {
  const lan = new StreamLan(path.join(mkdtempSync(path.join(tmpdir(), 'dime-boot-')), 'lan.sock'));
  await lan.listen();
  const r = mk();
  const rec = new TranscriptRecorder(new PxCodec({ key: 'boot' }), lan, [['server', r]]);
  const started = Date.now();
  try {
    await r.start(IMAGE, { cores, append: 'exit=boot labkey hb=0 perf=0', hpet, netSocket: lan.path, mac: MAC, coresPerWorker });
    await r.waitForOutput(new RegExp(`DIME ready: ${cores} cores`), 240_000);
    const code = await r.exited;
    const ms = Date.now() - started;
    await rec.settle(50, 500);
    return { name: r.name, output: r.output, code, ms, transcript: rec.take() };
  } finally {
    await r.stop();
    await lan.close();
  }
}

function checkBoot(output: string, code: number | null, cores: number, clock: string): void {
  expect(code).toBe(1); // debug-exit with 0
  const ups = [...output.matchAll(/DIME (\d+) up/g)].map((m) => Number(m[1]));
  expect(ups).toEqual([...Array(cores).keys()]);
  expect(output).toMatch(new RegExp(`ACPI: ${cores} cores`));
  expect(output).toMatch(new RegExp(`time: TSC \\d+ kHz, LAPIC timer \\d+ kHz \\(calibrated on ${clock}\\)`));
  expect(output).not.toMatch(/PANIC|did not start|warning/);
}

describe('DIME machine runners', () => {
  const missing = missingRunners();
  if (missing.length > 0 && !process.env.CI) console.warn(`DIME runners SKIPPED: ${missing.join('; ')} (with CI=1 this is a failure)`);
  it.runIf(process.env.CI || missing.length === 0)('every requested runner can run here (DIME_RUNNERS, default qemu,emu)', () => {
    expect(missing).toEqual([]);
  });
});

describe.skipIf(runners.length === 0 || !existsSync(IMAGE))('DIME boot', () => {
  it.each(CORE_COUNTS)('brings up %i cores on every machine, with the same console', async (cores) => {
    // the machines boot side by side; each one's bring-up is checked, then their transcripts compared
    const runs = await Promise.all(runners.map((mk) => bootOnce(mk, cores, true)));
    for (const run of runs) checkBoot(run.output, run.code, cores, 'HPET');
    if (process.env.DIME_BOOT_TIMES) console.log(`boot ${cores} cores: ${runs.map((r) => `${r.name} ${r.ms} ms`).join(', ')}`);
    expectSameTranscripts(`boot ${cores} cores`, runs.map((r) => r.name), runs.map((r) => r.transcript));
  }, 300_000);

  // --cores-per-worker: the cores hosted together take turns in their worker; the machine boots
  // the same (QEMU, where installed, boots beside it as the reference console)
  it.each([[8, 4], [16, 8]])('brings up %i cores hosted %i per worker, with the same console', async (cores, perWorker) => {
    const runs = await Promise.all(runners.map((mk) => bootOnce(mk, cores, true, perWorker)));
    for (const run of runs) checkBoot(run.output, run.code, cores, 'HPET');
    if (process.env.DIME_BOOT_TIMES) console.log(`boot ${cores} cores, ${perWorker} per worker: ${runs.map((r) => `${r.name} ${r.ms} ms`).join(', ')}`);
    expectSameTranscripts(`boot ${cores} cores, ${perWorker} per worker`, runs.map((r) => r.name), runs.map((r) => r.transcript));
  }, 300_000);

  it.skipIf(!runners.some((mk) => mk().name === 'qemu'))('calibrates its timer on the PIT when there is no HPET (QEMU: -machine hpet=off)', async () => {
    const run = await bootOnce(runners.find((mk) => mk().name === 'qemu')!, 2, false);
    checkBoot(run.output, run.code, 2, 'PIT');
  }, 120_000);
});

describe('parallax-emu default image', () => {
  const bin = (JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string> }).bin['parallax-emu'];
  it.skipIf(!existsSync(bin))('`parallax-emu --cores 8` (the package bin, no --kernel) boots images/dime.elf', () => {
    const r = spawnSync(process.execPath, [bin, '--cores', '8', '--append', 'exit=boot'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout).toMatch(/DIME kernel \(Parallax\) booting/);
    expect(r.stdout).toMatch(/DIME ready: 8 cores/);
    expect(r.status).toBe(1);
  }, 130_000);
});
