// Tests that need a tool the CI installs (.ci/run: QEMU, gdb, tshark, Chromium, iasl): where the
// tool is missing they are skipped with the reason printed, unless CI is set, where the
// missing tool is a failing test of its own (an oracle that silently does not run is a defect).
import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

export function haveCommand(cmd: string, args = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

export interface ToolGate {
  /** the tool is here: run the tests */
  run: boolean;
  /** the tool is missing and CI is set: the caller's tests fail */
  missingInCi: boolean;
}

/** Probe `cmd`; print why its tests are skipped when it is missing outside CI. */
export function toolGate(cmd: string, installHint: string, args = ['--version']): ToolGate {
  if (haveCommand(cmd, args)) return { run: true, missingInCi: false };
  if (process.env.CI) return { run: false, missingInCi: true };
  console.warn(`${cmd} not found: its tests are SKIPPED (${installHint}; with CI=1 this is a failure)`);
  return { run: false, missingInCi: false };
}

/** In CI, a missing tool becomes one failing test named after what it would have checked. */
export function failWhenMissingInCi(gate: ToolGate, cmd: string, what: string): void {
  if (!gate.missingInCi) return;
  describe(what, () => {
    it(`needs ${cmd} (CI is set, so its absence is a failure)`, () => {
      throw new Error(`${cmd} not found on PATH: .ci/run installs it`);
    });
  });
}

export const QEMU_HINT = 'Debian: apt-get install qemu-system-x86';
