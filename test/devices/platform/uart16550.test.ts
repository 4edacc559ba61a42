import { describe, expect, it } from 'vitest';
import { Uart16550 } from '../../../src/devices/uart16550.js';

function mk(limit?: number) {
  const out: number[] = [];
  const levels: boolean[] = [];
  const u = new Uart16550((b) => out.push(...b), { setLevel: (l) => levels.push(l) }, 0x3f8, limit);
  const r = (o: number) => u.ioRead(0x3f8 + o, 1);
  const w = (o: number, v: number) => u.ioWrite(0x3f8 + o, 1, v);
  return { u, out, levels, r, w };
}

describe('Uart16550', () => {
  it('transmits at once; LSR shows THRE|TEMT', () => {
    const { out, r, w } = mk();
    expect(r(5) & 0x60).toBe(0x60);
    w(0, 0x48); w(0, 0x69);
    expect(out).toEqual([0x48, 0x69]);
    expect(r(5) & 0x61).toBe(0x60);
  });

  it('DLAB selects the divisor latch', () => {
    const { r, w } = mk();
    w(3, 0x83); w(0, 0x0c); w(1, 0x00);
    expect(r(0)).toBe(0x0c);
    w(3, 0x03);
    expect(r(1)).toBe(0);
  });

  it('receive FIFO with trigger level, RDA vs timeout in IIR, and refill from the host queue', () => {
    const { u, r, w, levels } = mk();
    w(2, 0xc7); // FIFO on, clear, trigger 14
    w(1, 0x01); // RDA interrupt
    expect(r(2)).toBe(0xc1);
    u.feedInput(new Uint8Array(20).map((_, i) => 0x30 + i));
    expect(r(5) & 1).toBe(1);
    expect(r(2)).toBe(0xc4); // 16 >= 14: data available
    expect(levels.at(-1)).toBe(true);
    const got: number[] = [];
    for (let i = 0; i < 10; i++) got.push(r(0));
    expect(u.pendingInput()).toBe(0); // host queue drained into the FIFO
    expect(r(2)).toBe(0xcc); // 10 left < 14: timeout indication
    while (r(5) & 1) got.push(r(0));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => 0x30 + i));
    expect(r(2)).toBe(0xc1);
    expect(levels.at(-1)).toBe(false);
  });

  it('THRE interrupt: raised on enable, cleared by reading IIR, raised again after a write', () => {
    const { r, w, levels } = mk();
    w(1, 0x02);
    expect(levels).toEqual([true]);
    expect(r(2) & 0x0f).toBe(0x02);
    expect(r(2) & 0x0f).toBe(0x01);
    expect(levels).toEqual([true, false]);
    w(0, 0x41);
    expect(r(2) & 0x0f).toBe(0x02);
  });

  it('loopback returns written bytes and mirrors modem lines', () => {
    const { out, r, w } = mk();
    w(4, 0x10 | 0x03);
    w(0, 0xae);
    expect(out).toEqual([]);
    expect(r(5) & 1).toBe(1);
    expect(r(0)).toBe(0xae);
    expect(r(6) & 0xf0).toBe(0x30);
    w(4, 0x1c);
    expect(r(6) & 0xf0).toBe(0xc0);
    w(4, 0x00);
    expect(r(6) & 0xf0).toBe(0xb0);
    w(7, 0x5a);
    expect(r(7)).toBe(0x5a);
  });

  it('bounded input queue counts drops', () => {
    const { u } = mk(8);
    expect(u.feedInput(new Uint8Array(30))).toBe(9); // 1 in the holding register + 8 queued
    expect(u.stats.inputDrops).toBe(21);
  });

  it('saves and restores', () => {
    const { u, w } = mk();
    w(2, 0x01); w(7, 0x77);
    u.feedInput(Uint8Array.of(1, 2, 3));
    const s = JSON.parse(JSON.stringify(u.saveState()));
    const b = mk();
    b.u.restoreState(s);
    expect(b.r(7)).toBe(0x77);
    expect([b.r(0), b.r(0), b.r(0)]).toEqual([1, 2, 3]);
    expect(() => b.u.restoreState({})).toThrow(/bad saved state/);
  });
});
