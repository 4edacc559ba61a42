import { describe, expect, it } from 'vitest';
import { createControlBuffer } from '../../../src/abi/control-block.js';
import { Ioapic } from '../../../src/devices/ioapic.js';
import { IrqRouter, type RoutedIrqLine } from '../../../src/devices/irq-router.js';
import { Pic8259 } from '../../../src/devices/pic8259.js';
import { drainIrr, extIntPosted, takeExtInt } from './helpers.js';

function setup() {
  const ctl = createControlBuffer(1, 16 << 20);
  const pic = new Pic8259(ctl);
  pic.firmwareState();
  const io = new Ioapic(ctl);
  const router = new IrqRouter(pic, io);
  const program = (pin: number, lo: number) => {
    io.mmioWrite(0, 1, 0x10 + 2 * pin);
    io.mmioWrite(0x10, 4, lo);
  };
  return { ctl, pic, io, router, program };
}

describe('IrqRouter', () => {
  it('sends IRQ0 to 8259 input 0 and IOAPIC pin 2 (the source override)', () => {
    const { ctl, router, io, program } = setup();
    program(2, 0x30);
    router.setIrq(0, true);
    expect(takeExtInt(ctl)).toBe(0x08);
    expect(drainIrr(ctl, 0)).toEqual([{ vector: 0x30, level: false }]);
    expect(io.pinLevel(0)).toBe(false);
  });

  it('treats input 2 as GSI 2 (IOAPIC only) and inputs >= 16 as IOAPIC-only GSIs', () => {
    const { ctl, router, pic, program } = setup();
    program(2, 0x32);
    program(20, 0x54);
    router.setIrq(2, true);
    router.setIrq(20, true);
    expect(extIntPosted(ctl)).toBe(-1);
    expect(pic.dropped).toBe(0);
    expect(drainIrr(ctl, 0).map((x) => x.vector)).toEqual([0x32, 0x54]);
  });

  it('sends other ISA IRQs to the same-numbered 8259 input and IOAPIC pin', () => {
    const { ctl, router, io } = setup();
    router.setIrq(1, true);
    expect(takeExtInt(ctl)).toBe(0x09);
    expect(io.pinLevel(1)).toBe(true);
    router.setIrq(14, true);
    expect(io.pinLevel(14)).toBe(true);
  });

  it('ORs several sources on one input and can disconnect one', () => {
    const { router, io } = setup();
    /** `first` and `second` raise their lines, `first` drops it: IOAPIC pin `pin` stays high */
    const expectOred = (pin: number, first: RoutedIrqLine, second: RoutedIrqLine) => {
      first.setLevel(true);
      second.setLevel(true);
      first.setLevel(false);
      expect(io.pinLevel(pin)).toBe(true);
    };
    const b = router.line(10);
    expectOred(10, router.line(10), b);
    b.setEnabled(false);
    expect(io.pinLevel(10)).toBe(false);
    // IRQ0 (PIT) and IRQ2 (HPET) both reach IOAPIC pin 2
    const hpet = router.line(2);
    expectOred(2, router.line(0), hpet);
    hpet.setLevel(false);
    expect(io.pinLevel(2)).toBe(false);
  });

  it('reports an input quiescent only when latched+masked at the 8259 and masked at the IOAPIC', () => {
    const { router, pic } = setup();
    const line = router.line(0);
    let changes = 0;
    line.onConfigChange(() => changes++);
    expect(line.quiescent()).toBe(false);
    pic.ioWrite(0x21, 1, 0xff);
    expect(changes).toBe(1);
    line.setLevel(true);
    line.setLevel(false);
    expect(line.quiescent()).toBe(true);
    pic.ioWrite(0x21, 1, 0xfe);
    expect(line.quiescent()).toBe(false);
    expect(changes).toBe(2);
    expect(() => router.line(24)).toThrow(/no input/);
    router.setIrq(-1, true);
    expect(router.dropped).toBe(1);
  });
});
