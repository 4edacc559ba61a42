// The same guest kernels under parallax-emu, held to QEMU's golden transcripts. These fail
// until the emulator boots Multiboot kernels; they pass on an emulator that behaves like QEMU.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectGoldenRun } from './golden.js';
import { GUEST_CASES, buildGuestKernels, guestImage, parallaxCli, runParallax } from './harness.js';

/** An interpreter is slower than QEMU's JIT; give it generous but finite time. */
function emulatorTimeoutMs(qemuTimeoutMs: number): number {
  return Math.min(90_000, Math.max(30_000, qemuTimeoutMs * 4));
}

describe('guest kernels under parallax-emu', () => {
  const cli = parallaxCli();

  beforeAll(() => buildGuestKernels());

  for (const c of GUEST_CASES) {
    const limit = emulatorTimeoutMs(c.timeoutMs);
    it(
      `${c.kernel} --cores ${c.cores}${c.icount ? ` --icount ${c.icount}` : ''}`,
      async () => {
        expect(existsSync(cli), `${cli} is missing: run "npm run build" (or the CLI is not written yet)`).toBe(true);
        const r = await runParallax(guestImage(c.kernel), {
          cores: c.cores,
          append: c.emulatorAppend ?? c.append,
          icount: c.icount,
          timeoutMs: limit,
        });
        expectGoldenRun(c, r, 'parallax-emu', limit);
      },
      limit + 10_000,
    );
  }
});
