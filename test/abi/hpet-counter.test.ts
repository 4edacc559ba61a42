// The HPET main counter as a core computes it (src/abi/device-shared.ts) against the model's
// own counter (src/devices/hpet.ts): same values while enabled, frozen, rewritten, across 2^32.
import { describe, expect, it } from 'vitest';
import { createDeviceShared, hpetSinceView, publishHpetCounter, readHpetCounter } from '../../src/abi/device-shared.js';
import { HPET_COUNTER, Hpet, NS_PER_TICK } from '../../src/devices/hpet.js';
import type { IrqController, TimerService } from '../../src/devices/types.js';

function setup(): { hpet: Hpet; clock: { ns: number }; core: () => bigint } {
  const clock = { ns: 0 };
  const timers: TimerService = { nowNs: () => clock.ns, schedule: () => {}, cancel: () => {} };
  const irq = { setIrq: () => {}, pulseIrq: () => {} } as unknown as IrqController;
  const buf = createDeviceShared();
  const dw = new Int32Array(buf);
  const since = hpetSinceView(buf);
  const hpet = new Hpet(timers, irq, { onCounterChange: (on, base, s) => publishHpetCounter(dw, on, base, s) });
  const out = [0, 0];
  const core = (): bigint => {
    expect(readHpetCounter(dw, since, clock.ns, NS_PER_TICK, out)).toBe(true);
    return (BigInt(out[1]) << 32n) | BigInt(out[0]);
  };
  return { hpet, clock, core };
}

describe('HPET counter read in the core', () => {
  it('follows the model while enabled, disabled and after a counter write near 2^32', () => {
    const { hpet, clock, core } = setup();
    hpet.reset();
    expect(core()).toBe(hpet.counter());
    hpet.mmioWrite(0x10, 4, 1); // enable
    for (const ns of [5, 10, 12_345, 1e9 + 7]) { clock.ns = ns; expect(core()).toBe(hpet.counter()); }
    hpet.mmioWrite(0x10, 4, 0); // halt: frozen
    const frozen = hpet.counter();
    clock.ns += 1e6;
    expect(core()).toBe(frozen);
    hpet.mmioWrite(HPET_COUNTER, 4, 0xffff_fff0); // low half just below the carry
    hpet.mmioWrite(HPET_COUNTER + 4, 4, 0x1234);
    hpet.mmioWrite(0x10, 4, 1);
    for (const step of [0, 100, 170, 171, 5e9]) {
      clock.ns += step;
      expect(core()).toBe(hpet.counter());
    }
    expect(hpet.counter() >> 32n).toBeGreaterThan(0x1234n); // the low half carried
  });

  it('a reader that meets a publication in progress asks the model instead', () => {
    const buf = createDeviceShared();
    const dw = new Int32Array(buf);
    dw[32] = 1; // odd sequence: being written
    expect(readHpetCounter(dw, hpetSinceView(buf), 0, NS_PER_TICK, [0, 0])).toBe(false);
  });
});
