import { describe, expect, it } from 'vitest';
import { createControlBuffer } from '../../../src/abi/control-block.js';
import { Pic8259 } from '../../../src/devices/pic8259.js';
import { ManualTimerService } from '../../../src/devices/timer-service.js';
import { extIntPosted, takeExtInt } from './helpers.js';

function setup(opts: { aeoi?: boolean; timers?: ManualTimerService } = {}) {
  const ctl = createControlBuffer(1, 16 << 20);
  const pic = new Pic8259(ctl, { timers: opts.timers });
  // Linux-style remap: master 0x20, slave 0x28
  const icw4 = opts.aeoi ? 0x03 : 0x01;
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, icw4], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, icw4], [0x21, 0x00], [0xa1, 0x00]]) {
    pic.ioWrite(p, 1, v);
  }
  const pulse = (irq: number) => {
    pic.setIrq(irq, true);
    pic.setIrq(irq, false);
  };
  const isr = (port = 0x20) => {
    pic.ioWrite(port, 1, 0x0b);
    return pic.ioRead(port, 1);
  };
  const irr = (port = 0x20) => {
    pic.ioWrite(port, 1, 0x0a);
    return pic.ioRead(port, 1);
  };
  /** non-specific EOI: to the slave first with `slave` (a slave input), then to the master */
  const eoi = (slave = false) => {
    if (slave) pic.ioWrite(0xa0, 1, 0x20);
    pic.ioWrite(0x20, 1, 0x20);
  };
  return { ctl, pic, pulse, isr, irr, eoi };
}

describe('Pic8259', () => {
  it('initialises with ICW1-4, presents an edge as an ExtINT and commits IRR->ISR at INTA', () => {
    const { ctl, pic, pulse, isr, irr, eoi } = setup();
    pulse(1);
    expect(extIntPosted(ctl)).toBe(0x21);
    expect(isr()).toBe(0); // not acknowledged yet
    expect(irr()).toBe(0x02);
    expect(takeExtInt(ctl)).toBe(0x21);
    expect(isr()).toBe(0x02);
    expect(irr()).toBe(0x00);
    eoi();
    expect(isr()).toBe(0);
    expect(pic.ioRead(0x21, 1)).toBe(0);
  });

  it('orders by priority, lets a higher request displace an unconsumed one, and nests', () => {
    const { ctl, pic, pulse, isr, eoi } = setup();
    pulse(3);
    pulse(1);
    expect(extIntPosted(ctl)).toBe(0x21);
    pulse(0);
    expect(extIntPosted(ctl)).toBe(0x20); // the posted IRQ1 was withdrawn for IRQ0
    expect(pic.withdrawn).toBe(2); // IRQ3 gave way to IRQ1, IRQ1 to IRQ0
    expect(takeExtInt(ctl)).toBe(0x20);
    pic.intaDone();
    expect(extIntPosted(ctl)).toBe(-1); // IRQ1 and IRQ3 wait behind IRQ0 in service
    eoi();
    expect(takeExtInt(ctl)).toBe(0x21);
    pulse(0); // a higher request nests inside IRQ1's handler
    expect(takeExtInt(ctl)).toBe(0x20);
    expect(isr()).toBe(0x03);
    eoi(); // ends IRQ0 (highest in service)
    expect(isr()).toBe(0x02);
    eoi();
    expect(takeExtInt(ctl)).toBe(0x23);
  });

  it('cascades the slave through IRQ2', () => {
    const { ctl, pic, pulse, isr, eoi } = setup();
    pulse(12);
    expect(takeExtInt(ctl)).toBe(0x2c);
    expect(isr(0x20)).toBe(0x04);
    expect(isr(0xa0)).toBe(0x10);
    eoi(true);
    expect(isr(0x20)).toBe(0);
    expect(isr(0xa0)).toBe(0);
    pulse(8);
    pulse(15);
    expect(takeExtInt(ctl)).toBe(0x28);
    eoi(true);
    expect(takeExtInt(ctl)).toBe(0x2f);
  });

  it('withdraws a posted request when the guest masks it, and re-posts on unmask', () => {
    const { ctl, pic, pulse, isr } = setup();
    pulse(4);
    expect(extIntPosted(ctl)).toBe(0x24);
    pic.ioWrite(0x21, 1, 0x10);
    expect(extIntPosted(ctl)).toBe(-1);
    expect(isr()).toBe(0);
    expect(pic.isLatchedAndMasked(4)).toBe(true);
    pic.ioWrite(0x21, 1, 0x00);
    expect(takeExtInt(ctl)).toBe(0x24);
  });

  it('treats ELCR inputs as level-triggered: re-requests after EOI while high, withdraws on drop', () => {
    const { ctl, pic, eoi } = setup();
    pic.ioWrite(0x4d1, 1, 0xff);
    expect(pic.ioRead(0x4d1, 1)).toBe(0xde); // IRQ8 and IRQ13 are edge-only
    pic.ioWrite(0x4d0, 1, 0xff);
    expect(pic.ioRead(0x4d0, 1)).toBe(0xf8);
    pic.setIrq(10, true);
    expect(takeExtInt(ctl)).toBe(0x2a);
    eoi(true);
    expect(extIntPosted(ctl)).toBe(0x2a); // still high: requested again
    pic.setIrq(10, false);
    expect(extIntPosted(ctl)).toBe(-1);
  });

  it('specific EOI, rotation and set-priority change the order', () => {
    const { ctl, pic, pulse, isr } = setup();
    pulse(5);
    expect(takeExtInt(ctl)).toBe(0x25);
    pic.ioWrite(0x20, 1, 0x60 | 5); // specific EOI for IR5
    expect(isr()).toBe(0);
    pic.ioWrite(0x20, 1, 0xc0 | 4); // set priority: IR4 lowest, IR5 highest
    pulse(0);
    pulse(6);
    expect(takeExtInt(ctl)).toBe(0x26);
    pic.ioWrite(0x20, 1, 0xa0); // rotate on non-specific EOI: IR6 becomes lowest
    expect(takeExtInt(ctl)).toBe(0x20);
  });

  it('auto-EOI leaves ISR clear and a re-check timer posts the next request', () => {
    const timers = new ManualTimerService();
    const { ctl, pulse, isr } = setup({ aeoi: true, timers });
    pulse(1);
    pulse(3);
    expect(takeExtInt(ctl)).toBe(0x21);
    timers.advanceBy(1_000_000);
    expect(isr()).toBe(0);
    expect(takeExtInt(ctl)).toBe(0x23);
    timers.advanceBy(10_000_000);
    expect(extIntPosted(ctl)).toBe(-1);
    expect(timers.size).toBe(0);
  });

  it('poll command acknowledges without INTA', () => {
    const { ctl, pic, pulse, isr } = setup();
    pulse(6);
    pic.ioWrite(0x20, 1, 0x0c); // OCW3 poll
    expect(pic.ioRead(0x20, 1)).toBe(0x86);
    expect(extIntPosted(ctl)).toBe(-1);
    expect(isr()).toBe(0x40);
    pic.ioWrite(0x20, 1, 0x0c);
    expect(pic.ioRead(0x20, 1)).toBe(0x00);
  });

  it('special mask mode lets lower-priority requests in while a masked level is in service', () => {
    const { ctl, pic, pulse } = setup();
    pulse(1);
    expect(takeExtInt(ctl)).toBe(0x21);
    pulse(5);
    expect(extIntPosted(ctl)).toBe(-1);
    pic.ioWrite(0x21, 1, 0x02); // mask IR1 (in service)
    pic.ioWrite(0x20, 1, 0x68); // OCW3: set special mask mode
    expect(takeExtInt(ctl)).toBe(0x25);
  });

  it('firmware state matches what SeaBIOS leaves', () => {
    const ctl = createControlBuffer(1, 16 << 20);
    const pic = new Pic8259(ctl);
    pic.firmwareState();
    expect(pic.ioRead(0x21, 1)).toBe(0xb8);
    expect(pic.ioRead(0xa1, 1)).toBe(0x8e);
    expect(pic.ioRead(0x4d1, 1)).toBe(0x0c);
    pic.setIrq(0, true);
    expect(takeExtInt(ctl)).toBe(0x08); // the PIT on vector 8, as QEMU guests see it
    pic.setIrq(8, true);
    pic.ioWrite(0x20, 1, 0x20);
    expect(takeExtInt(ctl)).toBe(0x70);
  });

  it('saves and restores', () => {
    const { pic, pulse, ctl } = setup();
    pulse(3);
    const snap = JSON.parse(JSON.stringify(pic.saveState()));
    const other = new Pic8259(ctl);
    other.restoreState(snap);
    expect(other.debugState()).toEqual(pic.debugState());
    expect(() => other.restoreState({ master: { irr: 'x' }, slave: {} })).toThrow(/bad saved state \(irr\)/);
  });

  it('ignores bad inputs with a count', () => {
    const { pic } = setup();
    pic.setIrq(2, true);
    pic.setIrq(99, true);
    expect(pic.dropped).toBe(2);
  });
});
