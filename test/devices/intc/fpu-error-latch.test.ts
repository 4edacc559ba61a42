// The PC's FERR#/IGNNE# glue (figure D-1 of SDM vol. 1 appendix D): FERR# raises IRQ 13, a port
// 0xF0 write lowers it and asserts IGNNE# while FERR# is active, FERR# inactive drops IGNNE#.
import { describe, expect, it } from 'vitest';
import { FpuErrorLatch } from '../../../src/devices/fpu-error-latch.js';

function latch() {
  const levels: boolean[] = [];
  const l = new FpuErrorLatch({ setLevel: (v) => levels.push(v) });
  return { l, levels };
}

describe('FPU error latch (FERR# -> IRQ 13, port 0xF0, IGNNE#)', () => {
  it('raises IRQ 13 once per FERR# assertion; 0xF0 lowers it and turns IGNNE# on', () => {
    const { l, levels } = latch();
    expect(l.ferr(0, true)).toBe(false);
    expect(l.ferr(0, true)).toBe(false); // still asserted: no second edge
    expect(levels).toEqual([true]);
    l.ioWrite();
    expect(levels).toEqual([true, false]);
    expect(l.ferr(0, true)).toBe(true); // the handler may run x87 code now
  });

  it('FERR# going inactive turns IGNNE# off, so the next error interrupts again', () => {
    const { l, levels } = latch();
    l.ferr(0, true);
    l.ioWrite();
    expect(l.ferr(0, false)).toBe(false);
    expect(l.ferr(0, true)).toBe(false);
    expect(levels).toEqual([true, false, true]);
  });

  it('clearing the error before the 0xF0 write leaves IGNNE# off', () => {
    const { l } = latch();
    l.ferr(0, true);
    l.ferr(0, false);
    l.ioWrite();
    expect(l.ferr(0, true)).toBe(false);
  });

  it('FERR# is the OR of the cores; port 0xF0 reads as open bus; state survives a snapshot', () => {
    const { l, levels } = latch();
    l.ferr(0, true);
    l.ferr(1, true);
    l.ferr(0, false);
    l.ioWrite();
    expect(l.ferr(1, true)).toBe(true); // core 1 still drives FERR#
    expect(levels).toEqual([true, false]);
    expect(l.ioRead(0xf0, 1)).toBe(0xff);
    const copy = latch();
    copy.l.restoreState(l.saveState());
    expect(copy.l.ferr(1, true)).toBe(true);
  });
});
