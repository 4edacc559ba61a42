// The machine a guest sees must not depend on how busy the host is (docs/ARCHITECTURE.md,
// "Time"): the timing windows guests measure (timer ticks against the TSC, AP start after
// SIPI, HPET level-triggered one-shots, AP start-up order) give QEMU's quiet-host transcript
// while busy-loop processes keep every host CPU busy. QEMU 7.2 itself fails `timing` under such
// load (its guest time is host time); its golden transcript was recorded on a quiet host.
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startHostLoad, type HostLoad } from '../lib/host-load.js';
import { expectGoldenRun } from './golden.js';
import { buildGuestKernels, guestImage, runParallax } from './harness.js';

const CASES = [
  { kernel: 'timing', cores: 2 },
  { kernel: 'ioapic-hpet', cores: 1 },
  { kernel: 'smp', cores: 4 },
];
/** runs of each case; every one must pass */
const RUNS = 3;

describe('guest timing with every host CPU busy', () => {
  let load: HostLoad | null = null;
  beforeAll(() => {
    buildGuestKernels();
    load = startHostLoad(availableParallelism() * 2);
  });
  afterAll(() => load?.stop());

  for (const c of CASES) {
    it(`${c.kernel} --cores ${c.cores}, ${RUNS} runs`, async () => {
      for (let i = 0; i < RUNS; i++) {
        const r = await runParallax(guestImage(c.kernel), { cores: c.cores, timeoutMs: 120_000 });
        expectGoldenRun(c, r, `run ${i + 1}`, 120_000);
      }
    }, RUNS * 130_000);
  }
});
