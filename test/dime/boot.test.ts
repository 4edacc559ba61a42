// Boot: the kernel brings up every core the ACPI MADT lists and announces them in order.
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { availableRunners } from './runner.js';

const IMAGE = path.resolve('images/dime.elf');
const cases = availableRunners().flatMap((mk) =>
  ([
    [1, true],
    [4, true],
    [8, true],
    [64, true],
    [2, false],
  ] as const).filter(([, hpet]) => hpet || mk().name === 'qemu').map(([cores, hpet]) => [mk().name, cores as number, hpet ? 'HPET' : 'PIT', mk] as const),
);

describe.skipIf(cases.length === 0 || !existsSync(IMAGE))('DIME boot', () => {
  it.each(cases)('on %s with %i cores, timer calibrated on the %s', async (_name, cores, clock, mk) => {
    const r = mk();
    await r.start(IMAGE, { cores, append: 'exit=boot', hpet: clock === 'HPET' });
    try {
      await r.waitForOutput(new RegExp(`DIME ready: ${cores} cores`), 60_000);
      const code = await r.exited;
      expect(code).toBe(1); // debug-exit with 0
      const ups = [...r.output.matchAll(/DIME (\d+) up/g)].map((m) => Number(m[1]));
      expect(ups).toEqual([...Array(cores).keys()]);
      expect(r.output).toMatch(new RegExp(`ACPI: ${cores} cores`));
      expect(r.output).toMatch(new RegExp(`time: TSC \\d+ kHz, LAPIC timer \\d+ kHz \\(calibrated on ${clock}\\)`));
      expect(r.output).not.toMatch(/PANIC|did not start/);
    } finally {
      await r.stop();
    }
  });
});
