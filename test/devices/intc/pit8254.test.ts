import { describe, expect, it } from 'vitest';
import { createControlBuffer } from '../../../src/abi/control-block.js';
import { Ioapic } from '../../../src/devices/ioapic.js';
import { IrqRouter } from '../../../src/devices/irq-router.js';
import { Pic8259 } from '../../../src/devices/pic8259.js';
import { Pit8254, pitTicks, pitTicksToNs } from '../../../src/devices/pit8254.js';
import { ManualTimerService } from '../../../src/devices/timer-service.js';
import { RecordingLine, takeExtInt } from './helpers.js';

function setup() {
  const timers = new ManualTimerService(1_000_000_000);
  const line = new RecordingLine(timers);
  const pit = new Pit8254(timers, line);
  const at = (ticks: number, origin: number) => origin + pitTicksToNs(ticks);
  const latch = (ch: number) => {
    pit.ioWrite(0x43, 1, ch << 6);
    const lo = pit.ioRead(0x40 + ch, 1);
    return lo | (pit.ioRead(0x40 + ch, 1) << 8);
  };
  /** mode word `mode` (lobyte/hibyte access) and then `count` to its channel; returns when the count was written */
  const program = (mode: number, count: number) => {
    const port = 0x40 + (mode >>> 6);
    pit.ioWrite(0x43, 1, mode);
    pit.ioWrite(port, 1, count & 0xff);
    pit.ioWrite(port, 1, count >>> 8);
    return timers.nowNs();
  };
  return { timers, line, pit, at, latch, program };
}

describe('PIT tick arithmetic', () => {
  it('converts between nanoseconds and 1.193182 MHz ticks exactly', () => {
    expect(pitTicks(1e9)).toBe(1_193_182);
    expect(pitTicks(838)).toBe(0);
    expect(pitTicks(839)).toBe(1);
    for (const t of [1, 2, 1000, 65536, 1_193_181, 1_193_182, 5_000_000_123]) {
      const ns = pitTicksToNs(t);
      expect(pitTicks(ns)).toBe(t);
      expect(pitTicks(ns - 1)).toBe(t - 1);
    }
  });
});

describe('Pit8254', () => {
  it('mode 0 on channel 2: Linux-style calibration sees OUT2 rise after exactly N ticks', () => {
    const { timers, pit, at, latch, program } = setup();
    pit.ioWrite(0x61, 1, (pit.ioRead(0x61, 1) & ~0x02) | 0x01); // gate 2 high, speaker off
    const t0 = program(0xb0, 1000); // channel 2, lobyte/hibyte, mode 0, binary
    expect(pit.ioRead(0x61, 1) & 0x20).toBe(0);
    timers.advanceTo(at(400, t0));
    expect(latch(2)).toBe(600);
    timers.advanceTo(at(1000, t0) - 1);
    expect(pit.ioRead(0x61, 1) & 0x20).toBe(0);
    timers.advanceTo(at(1000, t0));
    expect(pit.ioRead(0x61, 1) & 0x20).toBe(0x20);
    expect(latch(2)).toBe(0); // and it keeps counting down through zero
    timers.advanceTo(at(1001, t0));
    expect(latch(2)).toBe(0xffff);
  });

  it('mode 0 pauses while the gate is low', () => {
    const { timers, pit, at, latch, program } = setup();
    pit.ioWrite(0x61, 1, 0x01);
    const t0 = program(0xb0, 4096);
    timers.advanceTo(at(96, t0));
    pit.ioWrite(0x61, 1, 0x00);
    timers.advanceTo(at(5000, t0));
    expect(latch(2)).toBe(4000);
    pit.ioWrite(0x61, 1, 0x01);
    const t1 = timers.nowNs();
    timers.advanceTo(at(100, t1));
    expect(latch(2)).toBe(3900);
  });

  it('mode 0 on channel 0 raises IRQ0 at terminal count and holds it', () => {
    const { timers, line, pit, at, program } = setup();
    const t0 = program(0x30, 100);
    timers.advanceTo(at(100, t0) + 10_000_000);
    expect(line.rises).toEqual([at(100, t0)]);
    expect(line.level).toBe(true);
    pit.ioWrite(0x43, 1, 0x30); // new mode word: OUT low again
    expect(line.level).toBe(false);
  });

  it('mode 2 pulses IRQ0 once per period without drift, and counts N..1', () => {
    const { timers, line, pit, at, latch, program } = setup();
    const t0 = program(0x34, 1193); // ~1 kHz
    timers.advanceTo(at(1193 * 5, t0) + 1);
    expect(line.rises).toEqual([1, 2, 3, 4, 5].map((k) => at(1193 * k, t0)));
    timers.advanceTo(at(1193 * 5 + 1192, t0));
    expect(latch(0)).toBe(1);
    expect(pit.channelOut(0)).toBe(false);
    timers.advanceTo(at(1193 * 6 + 3, t0));
    expect(latch(0)).toBe(1190);
  });

  it('mode 3 square wave: counts by two and OUT is high for the first half', () => {
    const { timers, pit, at, latch, program } = setup();
    pit.ioWrite(0x61, 1, 0x01);
    const t0 = program(0xb6, 10); // channel 2, lohi, mode 3
    const seen: [number, boolean][] = [];
    for (let k = 0; k < 12; k++) {
      timers.advanceTo(at(k, t0));
      seen.push([latch(2), (pit.ioRead(0x61, 1) & 0x20) !== 0]);
    }
    expect(seen.map((s) => s[0])).toEqual([10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10, 8]);
    expect(seen.map((s) => s[1])).toEqual([true, true, true, true, true, false, false, false, false, false, true, true]);
    // odd count: high for (N+1)/2 ticks
    const t1 = program(0xb6, 5);
    const odd: [number, boolean][] = [];
    for (let k = 0; k < 6; k++) {
      timers.advanceTo(at(k, t1));
      odd.push([latch(2), (pit.ioRead(0x61, 1) & 0x20) !== 0]);
    }
    expect(odd).toEqual([[5, true], [4, true], [2, true], [4, false], [2, false], [5, true]]);
  });

  it('read-back latches status and count; status is read first', () => {
    const { timers, pit, at, program } = setup();
    const t0 = program(0x34, 256);
    timers.advanceTo(at(6, t0));
    pit.ioWrite(0x43, 1, 0xc2); // latch count and status of channel 0
    timers.advanceTo(at(50, t0)); // the latched values do not move
    expect(pit.ioRead(0x40, 1)).toBe(0xb4); // OUT high, rw 3, mode 2, binary
    expect(pit.ioRead(0x40, 1)).toBe(250);
    expect(pit.ioRead(0x40, 1)).toBe(0);
    pit.ioWrite(0x43, 1, 0xe2); // status only
    expect(pit.ioRead(0x40, 1)).toBe(0xb4);
    pit.ioWrite(0x43, 1, 0x30); // mode 0 just written: null count set, OUT low
    pit.ioWrite(0x43, 1, 0xe2);
    expect(pit.ioRead(0x40, 1)).toBe(0x70);
  });

  it('BCD counting and single-byte access modes', () => {
    const { timers, pit, at, program } = setup();
    pit.ioWrite(0x61, 1, 0x01);
    const t0 = program(0xb1, 0x1234); // channel 2, lohi, mode 0, BCD
    timers.advanceTo(at(34, t0));
    pit.ioWrite(0x43, 1, 0x80);
    expect(pit.ioRead(0x42, 1)).toBe(0x00);
    expect(pit.ioRead(0x42, 1)).toBe(0x12);
    pit.ioWrite(0x43, 1, 0xa0); // channel 2, MSB only, mode 0
    pit.ioWrite(0x42, 1, 0x02); // count 0x200
    const t1 = timers.nowNs();
    timers.advanceTo(at(0x100, t1));
    expect(pit.ioRead(0x42, 1)).toBe(0x01);
  });

  it('firmware state: channel 0 in mode 2 at 18.2 Hz', () => {
    const { timers, pit, line } = setup();
    pit.firmwareState();
    pit.ioWrite(0x43, 1, 0xe2);
    expect(pit.ioRead(0x40, 1) & 0x3f).toBe(0x34);
    timers.advanceBy(1e9);
    expect(line.rises.length).toBe(18);
  });

  it('stops scheduling when IRQ0 is invisible and wakes on unmask', () => {
    const timers = new ManualTimerService(0);
    const ctl = createControlBuffer(1, 16 << 20);
    const pic = new Pic8259(ctl);
    pic.firmwareState();
    const router = new IrqRouter(pic, new Ioapic(ctl));
    const pit = new Pit8254(timers, router.line(0));
    pit.firmwareState();
    timers.advanceBy(1e9);
    const delivered = pic.taken + (takeExtInt(ctl) >= 0 ? 1 : 0);
    expect(delivered).toBeGreaterThan(0);
    pic.ioWrite(0x20, 1, 0x20);
    pic.ioWrite(0x21, 1, 0xff); // mask everything at the 8259; IOAPIC pins are masked at reset
    const before = timers.fired;
    timers.advanceBy(10e9);
    expect(timers.fired - before).toBeLessThanOrEqual(1); // one edge latches IRR, then it sleeps
    expect(pit.isSleeping()).toBe(true);
    pic.ioWrite(0x21, 1, 0xfe);
    expect(pit.isSleeping()).toBe(false);
    expect(takeExtInt(ctl)).toBe(0x08); // the latched edge is delivered on unmask
    pic.ioWrite(0x20, 1, 0x20);
    timers.advanceBy(60e6);
    expect(takeExtInt(ctl)).toBe(0x08);
  });

  it('snapshots round-trip', () => {
    const { timers, pit, latch, program } = setup();
    program(0x34, 0x1000);
    timers.advanceBy(100_000);
    const snap = JSON.parse(JSON.stringify(pit.saveState()));
    const other = new Pit8254(timers, null);
    other.restoreState(snap);
    other.ioWrite(0x43, 1, 0x00);
    const lo = other.ioRead(0x40, 1);
    expect(lo | (other.ioRead(0x40, 1) << 8)).toBe(latch(0));
    expect(() => other.restoreState({})).toThrow(/snapshot/);
  });
});
