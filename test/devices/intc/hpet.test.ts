import { describe, expect, it } from 'vitest';
import { Hpet } from '../../../src/devices/hpet.js';
import { ManualTimerService } from '../../../src/devices/timer-service.js';
import type { TimerService } from '../../../src/devices/types.js';

class RecordingIrqs {
  levels = new Map<number, boolean>();
  rises: [number, number][] = [];
  constructor(private readonly timers: { nowNs(): number }) {}
  setIrq(irq: number, level: boolean): void {
    if (level && !this.levels.get(irq)) this.rises.push([irq, this.timers.nowNs()]);
    this.levels.set(irq, level);
  }
}

function setup(legacy?: (on: boolean) => void) {
  const timers = new ManualTimerService(5_000_000);
  const irqs = new RecordingIrqs(timers);
  const hpet = new Hpet(timers, irqs, { onLegacyReplacement: legacy });
  const r = (off: number) => hpet.mmioRead(off, 4);
  const w = (off: number, v: number) => hpet.mmioWrite(off, 4, v);
  return { timers, irqs, hpet, r, w };
}

describe('Hpet', () => {
  it('advertises what QEMU 7.2 pc advertises', () => {
    const { r } = setup();
    expect(r(0x000)).toBe(0x8086a201);
    expect(r(0x004)).toBe(10_000_000);
    expect(r(0x010)).toBe(0);
    for (let t = 0; t < 3; t++) {
      expect(r(0x100 + 0x20 * t)).toBe(0x30);
      expect(r(0x104 + 0x20 * t)).toBe(0x4);
      expect(r(0x108 + 0x20 * t)).toBe(0xffffffff);
      expect(r(0x10c + 0x20 * t)).toBe(0xffffffff);
    }
  });

  it('main counter: frozen and writable while disabled, 100 MHz while enabled', () => {
    const { timers, r, w } = setup();
    timers.advanceBy(1000);
    expect(r(0x0f0)).toBe(0);
    w(0x0f0, 1000);
    w(0x0f4, 2);
    w(0x010, 1);
    timers.advanceBy(1000); // 1 us = 100 ticks
    expect(r(0x0f0)).toBe(1100);
    expect(r(0x0f4)).toBe(2);
    w(0x010, 0);
    timers.advanceBy(1e6);
    expect(r(0x0f0)).toBe(1100);
  });

  it('one-shot edge comparator routed to GSI 2 fires when the counter passes it', () => {
    const { timers, irqs, r, w } = setup();
    w(0x010, 1);
    const t0 = timers.nowNs();
    w(0x100, 0x4 | (2 << 9)); // enable, edge, route GSI 2
    expect(r(0x100)).toBe(0x34 | (2 << 9));
    w(0x108, r(0x0f0) + 500); // a 64-bit comparator written as two halves, low first
    w(0x10c, 0);
    timers.advanceBy(10_000);
    expect(irqs.rises).toEqual([[2, t0 + 5000]]);
    expect(irqs.levels.get(2)).toBe(false);
    timers.advanceBy(1e9); // 64-bit one-shot: no more
    expect(irqs.rises.length).toBe(1);
  });

  it('refuses routes outside the capability mask', () => {
    const { r, w } = setup();
    w(0x100, 5 << 9);
    expect(r(0x100)).toBe(0x30);
    w(0x100, 0xffffffff);
    expect(r(0x100)).toBe(0x30 | 0x14e | (0 << 9)); // route unchanged, VAL_SET reads as written until a comparator write
  });

  it('periodic mode as Linux programs it: VAL_SET then period, accumulating without drift', () => {
    const { timers, irqs, r, w } = setup();
    w(0x010, 1 | 2); // enable + legacy replacement: timer 0 drives IRQ0
    const now = r(0x0f0);
    const t0 = timers.nowNs();
    w(0x100, 0x4 | 0x8 | 0x40 | 0x100); // ENB | PERIODIC | VAL_SET | 32BIT
    w(0x108, now + 1000);
    w(0x108, 1000); // the period
    timers.advanceTo(t0 + 10_000 * 5 + 1);
    expect(irqs.rises.map((x) => x[0])).toEqual([0, 0, 0, 0, 0]);
    expect(irqs.rises.map((x) => x[1] - t0)).toEqual([10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(r(0x108)).toBe(now + 6000);
  });

  it('a late look skips missed periods and fires once', () => {
    let now = 0;
    const stub: TimerService = { nowNs: () => now, schedule: () => {}, cancel: () => {} };
    const irqs = new RecordingIrqs(stub);
    const hpet = new Hpet(stub, irqs);
    hpet.mmioWrite(0x010, 4, 1);
    hpet.mmioWrite(0x100, 4, 0x4 | 0x8 | 0x40 | (2 << 9));
    hpet.mmioWrite(0x108, 4, 100); // 64-bit write with VAL_SET: comparator ...
    hpet.mmioWrite(0x10c, 4, 0);
    hpet.mmioWrite(0x108, 4, 100); // ... then the period
    hpet.mmioWrite(0x10c, 4, 0);
    now = 10 * 1050; // counter 1050: matches at 100..1000 were missed
    expect(hpet.mmioRead(0x108, 4)).toBe(1100);
    expect(irqs.rises.length).toBe(1);
  });

  it('level mode holds the line and sets ISR until the guest clears it', () => {
    const { timers, irqs, r, w } = setup();
    w(0x010, 1);
    w(0x100, 0x2 | 0x4 | 0x100 | (2 << 9)); // level, 32-bit
    w(0x108, r(0x0f0) + 10);
    timers.advanceBy(1000);
    expect(r(0x020)).toBe(1);
    expect(irqs.levels.get(2)).toBe(true);
    w(0x020, 0);
    expect(irqs.levels.get(2)).toBe(true);
    w(0x020, 1);
    expect(r(0x020)).toBe(0);
    expect(irqs.levels.get(2)).toBe(false);
  });

  it('legacy replacement routes timer 1 to IRQ8 and tells the machine', () => {
    const calls: boolean[] = [];
    const { timers, irqs, r, w } = setup((on) => calls.push(on));
    w(0x010, 3);
    w(0x120, 0x4 | 0x100);
    w(0x128, r(0x0f0) + 10);
    timers.advanceBy(1000);
    expect(irqs.rises.map((x) => x[0])).toEqual([8]);
    w(0x010, 1);
    expect(calls).toEqual([true, false]);
  });

  it('a 32-bit one-shot comparator matches again after the counter wraps', () => {
    const { timers, irqs, w } = setup();
    w(0x0f0, 0xffffff00);
    w(0x100, 0x4 | 0x100 | (2 << 9));
    w(0x108, 0x10);
    w(0x010, 1);
    const t0 = timers.nowNs();
    timers.advanceBy(0x110 * 10);
    expect(irqs.rises).toEqual([[2, t0 + 0x110 * 10]]);
    timers.advanceBy(2 ** 32 * 10);
    expect(irqs.rises.length).toBe(2);
  });

  it('snapshots round-trip; bad sizes are counted', () => {
    const { hpet, w, timers, irqs } = setup();
    w(0x010, 1);
    w(0x100, 0x4 | 0x8 | 0x40 | 0x100 | (2 << 9));
    w(0x108, 500);
    timers.advanceBy(2000);
    const snap = JSON.parse(JSON.stringify(hpet.saveState()));
    const other = new Hpet(timers, irqs);
    other.restoreState(snap);
    expect(other.mmioRead(0x0f0, 4)).toBe(hpet.mmioRead(0x0f0, 4));
    expect(other.mmioRead(0x108, 4)).toBe(hpet.mmioRead(0x108, 4));
    hpet.mmioWrite(0x010, 1, 0);
    expect(hpet.badAccesses).toBe(1);
    expect(() => other.restoreState({ timers: [] })).toThrow(/snapshot/);
  });
});

describe('Hpet 64-bit accesses', () => {
  it('reads the running main counter whole at one instant, and writes a comparator with TN_VAL_SET whole', () => {
    const { timers, hpet, r, w } = setup();
    hpet.mmioWrite64(0x0f0, 0xffff_fff0n); // 16 ticks below the carry out of the low half
    w(0x010, 1);
    timers.advanceBy(1000); // 100 ticks: past the carry
    expect(hpet.mmioRead64(0x0f0)).toBe(0x1_0000_0054n);
    expect(hpet.mmioRead64(0x000)).toBe(0x0098_9680_8086_a201n); // capabilities and period together
    hpet.mmioWrite64(0x100, BigInt(0x4 | 0x8 | 0x40 | (2 << 9))); // enable, periodic, VAL_SET, GSI 2
    hpet.mmioWrite64(0x108, 0x2_0000_0000n);
    expect(hpet.mmioRead64(0x108)).toBe(0x2_0000_0000n);
    expect(r(0x100) & 0x40).toBe(0); // VAL_SET is cleared by the comparator write
  });

  it('counts a misaligned 64-bit access as bad and leaves the registers alone', () => {
    const { hpet, r } = setup();
    const before = hpet.badAccesses;
    hpet.mmioWrite64(0x0f4, 5n);
    expect(hpet.mmioRead64(0x0f4)).toBe(0n);
    expect(hpet.badAccesses - before).toBe(2);
    expect(r(0x0f0)).toBe(0);
  });
});
