// The interrupt controllers and timers wired together as the machine's I/O thread should wire
// them (this file doubles as the reference for that wiring), driven like a kernel would.
import { describe, expect, it } from 'vitest';
import { createControlBuffer } from '../../../src/abi/control-block.js';
import { Hpet } from '../../../src/devices/hpet.js';
import { Ioapic } from '../../../src/devices/ioapic.js';
import { IrqRouter } from '../../../src/devices/irq-router.js';
import { LAPIC_EOI, LAPIC_SVR, Lapic } from '../../../src/devices/lapic.js';
import { Pic8259 } from '../../../src/devices/pic8259.js';
import { Pit8254 } from '../../../src/devices/pit8254.js';
import { RtcCmos } from '../../../src/devices/rtc-cmos.js';
import { ManualTimerService } from '../../../src/devices/timer-service.js';
import { takeExtInt } from './helpers.js';

function platform() {
  const ctl = createControlBuffer(2, 64 << 20);
  const timers = new ManualTimerService(0);
  const pic = new Pic8259(ctl, { timers });
  const ioapic = new Ioapic(ctl, 0);
  const router = new IrqRouter(pic, ioapic);
  const pitLine = router.line(0);
  const rtcLine = router.line(8);
  const pit = new Pit8254(timers, pitLine);
  const rtc = new RtcCmos(timers, rtcLine, { ramBytes: 64 << 20, cpus: 2, startTimeMs: 0 });
  const hpet = new Hpet(timers, router, {
    onLegacyReplacement: (on) => {
      pitLine.setEnabled(!on);
      rtcLine.setEnabled(!on);
    },
  });
  // core-side (in the workers in the real machine); level EOIs reach the IOAPIC via MB_EOI
  const apics = [0, 1].map((i) => new Lapic(ctl, i, timers, { onLevelEoi: (v) => ioapic.eoi(v) }));
  pic.firmwareState();
  pit.firmwareState();
  apics[0].applyFirmwareState();
  return { ctl, timers, pic, ioapic, router, pit, rtc, hpet, apics };
}

describe('interrupt platform wiring', () => {
  it('a kernel that enables interrupts without remapping sees the PIT on vector 8 via ExtINT', () => {
    const { ctl, timers, apics } = platform();
    expect(apics[0].lint0ExtIntAccepted()).toBe(true);
    timers.advanceBy(60e6);
    expect(takeExtInt(ctl)).toBe(0x08);
  });

  it('IOAPIC + HPET legacy replacement: timer 0 reaches pin 2, the PIT is disconnected', () => {
    const { ctl, timers, pic, ioapic, hpet, apics, pit } = platform();
    pic.ioWrite(0x21, 1, 0xff); // mask the 8259s as an APIC kernel does
    pic.ioWrite(0xa1, 1, 0xff);
    takeExtInt(ctl);
    apics.forEach((a) => a.mmioWrite(LAPIC_SVR, 4, 0x1ff));
    ioapic.mmioWrite(0, 1, 0x10 + 2 * 2 + 1);
    ioapic.mmioWrite(0x10, 4, 1 << 24); // to APIC 1
    ioapic.mmioWrite(0, 1, 0x10 + 2 * 2);
    ioapic.mmioWrite(0x10, 4, 0x30); // edge, fixed, vector 0x30
    hpet.mmioWrite(0x010, 4, 3); // enable + legacy replacement
    const cnt = hpet.mmioRead(0x0f0, 4);
    hpet.mmioWrite(0x100, 4, 0x4 | 0x8 | 0x40 | 0x100);
    hpet.mmioWrite(0x108, 4, cnt + 100_000); // 1 ms
    hpet.mmioWrite(0x108, 4, 100_000);
    let taken = 0;
    for (let ms = 0; ms < 200; ms++) {
      timers.advanceBy(1e6);
      const v = apics[1].pollInterrupt();
      if (v >= 0) {
        expect(v).toBe(0x30);
        apics[1].acknowledge(v);
        apics[1].mmioWrite(LAPIC_EOI, 4, 0);
        taken++;
      }
      expect(apics[0].pollInterrupt()).toBe(-1);
    }
    expect(taken).toBe(200); // exactly the HPET's 1 kHz: no PIT edges mixed in on pin 2
    expect(pit.isSleeping()).toBe(true);
  });

  it('a level-triggered GSI completes the EOI loop through the LAPIC hook', () => {
    const { ioapic, router, apics } = platform();
    apics[0].mmioWrite(LAPIC_SVR, 4, 0x1ff);
    ioapic.mmioWrite(0, 1, 0x10 + 2 * 11);
    ioapic.mmioWrite(0x10, 4, 0x8000 | 0x4b);
    const nic = router.line(11);
    nic.setLevel(true);
    expect(apics[0].pollInterrupt()).toBe(0x4b);
    apics[0].acknowledge(0x4b);
    apics[0].mmioWrite(LAPIC_EOI, 4, 0);
    expect(apics[0].pollInterrupt()).toBe(0x4b); // still asserted: delivered again
    apics[0].acknowledge(0x4b);
    nic.setLevel(false);
    apics[0].mmioWrite(LAPIC_EOI, 4, 0);
    expect(apics[0].pollInterrupt()).toBe(-1);
  });

  it('the RTC periodic interrupt reaches the 8259 as IRQ8 (vector 0x70 under firmware state)', () => {
    const { ctl, timers, pic, rtc } = platform();
    pic.ioWrite(0x21, 1, 0xfb); // master: only the cascade open (the slave keeps IRQ8 open)
    takeExtInt(ctl);
    pic.ioWrite(0x20, 1, 0x20);
    rtc.ioWrite(0x70, 1, 0x0b);
    rtc.ioWrite(0x71, 1, 0x42);
    timers.advanceBy(2e6);
    expect(takeExtInt(ctl)).toBe(0x70);
  });
});
