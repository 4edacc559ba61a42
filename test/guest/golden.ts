// The check every guest-kernel run ends with: the run finished, printed exactly the golden
// transcript of its kernel and core count, and exited as the case says (qemu.test.ts,
// parallax.test.ts, under-load.test.ts).
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { GUEST_SUCCESS_STATUS, describeMismatch, expectedTranscriptPath, type GuestRunResult } from './harness.js';

export interface GoldenCase {
  kernel: string;
  cores: number;
  /** exit status when not GUEST_SUCCESS_STATUS */
  exitStatus?: number;
}

/** `what` names the run in messages (e.g. "QEMU", "run 2"); `limitMs` is its time limit. */
export function expectGoldenRun(c: GoldenCase, r: GuestRunResult, what: string, limitMs: number): void {
  expect(r.timedOut, `${what} ran past ${limitMs} ms; transcript so far:\n${r.transcript}\nstderr:\n${r.stderr}`).toBe(false);
  const where = expectedTranscriptPath(c.kernel, c.cores);
  expect(existsSync(where), `missing golden transcript ${where}`).toBe(true);
  const expected = readFileSync(where, 'latin1');
  expect(r.transcript, `${what}: ${describeMismatch(expected, r.transcript)}\nstderr:\n${r.stderr}`).toBe(expected);
  expect(r.exitCode, `${what}: exit status; stderr: ${r.stderr}`).toBe(c.exitStatus ?? GUEST_SUCCESS_STATUS);
}
