import { describe, expect, it } from 'vitest';
import { RtcCmos } from '../../../src/devices/rtc-cmos.js';
import { ManualTimerService } from '../../../src/devices/timer-service.js';
import { RecordingLine } from './helpers.js';

const GiB = 1024 ** 3;

function setup(startTimeMs = Date.UTC(2024, 1, 29, 13, 45, 59, 500), ramBytes = 512 * 1024 * 1024, cpus = 2) {
  const timers = new ManualTimerService(0);
  const line = new RecordingLine(timers);
  const rtc = new RtcCmos(timers, line, { ramBytes, cpus, startTimeMs });
  const rd = (i: number) => {
    rtc.ioWrite(0x70, 1, i);
    return rtc.ioRead(0x71, 1);
  };
  const wr = (i: number, v: number) => {
    rtc.ioWrite(0x70, 1, i);
    rtc.ioWrite(0x71, 1, v);
  };
  return { timers, line, rtc, rd, wr };
}

describe('RtcCmos', () => {
  it('fills the memory-size and CPU bytes as QEMU does for -m 512 -smp 2', () => {
    const { rd } = setup();
    const bytes = [0x14, 0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x5b, 0x5c, 0x5d, 0x5f, 0x32, 0x37].map(rd);
    expect(bytes).toEqual([0x06, 0x80, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0x1f, 0, 0, 0, 1, 0x20, 0x20]);
    expect([0x0a, 0x0b, 0x0c, 0x0d].map(rd)).toEqual([0x26, 0x02, 0x00, 0x80]);
  });

  it('reports RAM above 4 GiB in 64 KiB blocks', () => {
    const { rd } = setup(undefined, 5 * GiB, 8);
    expect([0x34, 0x35, 0x5b, 0x5c, 0x5d, 0x5f].map(rd)).toEqual([0x00, 0xbf, 0x00, 0x80, 0x00, 7]);
  });

  it('reads the time in BCD, 24-hour by default, and it advances with the clock', () => {
    const { timers, rd } = setup();
    expect([0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32].map(rd)).toEqual([0x59, 0x45, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20]);
    timers.advanceBy(500e6);
    expect([0x00, 0x02].map(rd)).toEqual([0x00, 0x46]);
  });

  it('binary and 12-hour formats', () => {
    const { rd, wr } = setup();
    wr(0x0b, 0x04); // binary, 12-hour
    expect(rd(0x04)).toBe(0x81); // 1 PM
    expect(rd(0x00)).toBe(59);
    expect(rd(0x09)).toBe(24);
    wr(0x0b, 0x00); // BCD, 12-hour
    expect(rd(0x04)).toBe(0x81);
    wr(0x04, 0x12); // 12 AM = midnight
    wr(0x0b, 0x06);
    expect(rd(0x04)).toBe(0);
  });

  it('SET freezes the clock for writes and restarts the second when cleared', () => {
    const { timers, rd, wr } = setup();
    wr(0x0b, 0x82);
    wr(0x04, 0x08);
    wr(0x02, 0x30);
    wr(0x00, 0x00);
    timers.advanceBy(5e9);
    expect([0x04, 0x02, 0x00].map(rd)).toEqual([0x08, 0x30, 0x00]);
    expect(rd(0x0a) & 0x80).toBe(0); // no update in progress while SET
    wr(0x0b, 0x02);
    timers.advanceBy(999.9e6);
    expect(rd(0x00)).toBe(0x00);
    expect(rd(0x0a) & 0x80).toBe(0x80); // within 244 us of the update
    timers.advanceBy(0.1e6);
    expect(rd(0x00)).toBe(0x01);
    expect(rd(0x0a) & 0x80).toBe(0);
  });

  it('register write masks: A has read-only UIP, B SET clears UIE, C and D are read-only', () => {
    const { rd, wr } = setup();
    wr(0x0b, 0xff);
    expect(rd(0x0b)).toBe(0xef);
    wr(0x0b, 0x02);
    wr(0x0a, 0xff);
    expect(rd(0x0a) & 0x7f).toBe(0x7f);
    wr(0x0d, 0x00);
    expect(rd(0x0d)).toBe(0x80);
  });

  it('periodic interrupt on IRQ8 at the programmed rate, held until register C is read', () => {
    const { timers, line, rd, wr } = setup();
    wr(0x0a, 0x26); // 1024 Hz
    wr(0x0b, 0x42); // PIE
    timers.advanceBy(5e6);
    expect(line.rises.length).toBe(1);
    expect(line.rises[0]).toBe(Math.ceil(1e9 / 1024));
    expect(rd(0x0c)).toBe(0xc0);
    expect(line.level).toBe(false);
    timers.advanceBy(1e9 / 1024 + 1);
    expect(line.rises.length).toBe(2);
    // a guest that never reads C gets no more interrupts, and costs no callbacks
    const before = timers.fired;
    timers.advanceBy(1e9);
    expect(timers.fired).toBe(before);
    expect(line.rises.length).toBe(2);
    expect(rd(0x0c)).toBe(0xc0 | 0x10); // UF is flagged too (not enabled)
  });

  it('update-ended and alarm interrupts', () => {
    const { timers, line, rd, wr } = setup();
    wr(0x0b, 0x12); // UIE
    timers.advanceBy(500e6);
    expect(line.rises).toEqual([500e6]);
    expect(rd(0x0c) & 0x90).toBe(0x90); // PF is flagged as well: the 1024 Hz rate runs regardless of PIE
    wr(0x0b, 0x22); // AIE only
    wr(0x01, 0x03); // alarm at second 03 of any minute/hour
    wr(0x03, 0xff);
    wr(0x05, 0xc0);
    timers.advanceBy(2.5e9);
    expect(line.rises.length).toBe(1);
    timers.advanceBy(1e9);
    expect(line.rises.length).toBe(2);
    expect(rd(0x0c) & 0xa0).toBe(0xa0);
  });

  it('stays idle with no interrupt enabled; index port is write-only; NMI mask bit', () => {
    const { timers, rtc, rd } = setup();
    expect(timers.size).toBe(0);
    rtc.ioWrite(0x70, 1, 0x8f);
    expect(rtc.nmiMasked()).toBe(true);
    expect(rtc.ioRead(0x70, 1)).toBe(0xff);
    expect(rd(0x40)).toBe(0);
    rtc.ioWrite(0x70, 1, 0x40);
    rtc.ioWrite(0x71, 1, 0x5a);
    expect(rtc.ioRead(0x71, 1)).toBe(0x5a);
  });

  it('snapshots round-trip', () => {
    const { rtc, timers, rd } = setup();
    timers.advanceBy(3e9);
    const snap = JSON.parse(JSON.stringify(rtc.saveState()));
    const other = new RtcCmos(timers, null, { ramBytes: 1 << 20, cpus: 1, startTimeMs: 0 });
    other.restoreState(snap);
    other.ioWrite(0x70, 1, 0);
    expect(other.ioRead(0x71, 1)).toBe(rd(0));
    expect(() => other.restoreState({ cmos: [] })).toThrow(/snapshot/);
  });
});
