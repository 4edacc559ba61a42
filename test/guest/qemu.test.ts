// The guest kernels under QEMU (the oracle): each must print exactly its golden transcript and
// exit with success. Set PARALLAX_UPDATE_GUEST_EXPECTED=1 to rewrite the golden transcripts
// from QEMU (then review the diff by hand: they are the record the emulator is held to).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { beforeAll, describe, it } from 'vitest';
import { expectGoldenRun } from './golden.js';
import { GUEST_CASES, GUEST_SUCCESS_STATUS, buildGuestKernels, expectedTranscriptPath, guestImage, qemuAvailable, runQemu } from './harness.js';

const haveQemu = qemuAvailable();
const update = process.env.PARALLAX_UPDATE_GUEST_EXPECTED === '1';

if (!haveQemu && process.env.CI) {
  describe('guest kernels under QEMU', () => {
    it('needs qemu-system-x86_64 on PATH (CI is set, so this is a failure)', () => {
      throw new Error('qemu-system-x86_64 not found: install QEMU (Debian: qemu-system-x86)');
    });
  });
} else if (!haveQemu) {
  console.warn('guest kernels under QEMU: SKIPPED, qemu-system-x86_64 is not on PATH');
  describe.skip('guest kernels under QEMU (qemu-system-x86_64 missing)', () => {
    it('skipped', () => {});
  });
} else {
  describe('guest kernels under QEMU', () => {
    beforeAll(() => buildGuestKernels());

    for (const c of GUEST_CASES) {
      // a hang detector, not a time bound: on a loaded 2-core host QEMU's 4-vCPU atomics run took
      // 16.8 s of its 20 s (load 15), so the limit is 3x the quiet-host figure, at least 30 s
      const limit = Math.min(90_000, Math.max(30_000, c.timeoutMs * 3));
      it(`${c.kernel} -smp ${c.cores}${c.icount ? ` -icount ${c.icount}` : ''}`, async () => {
        const r = await runQemu(guestImage(c.kernel), { cores: c.cores, append: c.append, icount: c.icount, timeoutMs: limit });
        const where = expectedTranscriptPath(c.kernel, c.cores);
        if (update && r.exitCode === (c.exitStatus ?? GUEST_SUCCESS_STATUS)) {
          mkdirSync(dirname(where), { recursive: true });
          writeFileSync(where, r.transcript, 'latin1');
        }
        expectGoldenRun(c, r, 'QEMU', limit);
      }, limit + 10_000);
    }
  });
}
