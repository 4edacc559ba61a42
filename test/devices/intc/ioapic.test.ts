import { describe, expect, it } from 'vitest';
import { C_APIC_ID, coreBase, createControlBuffer as makeCtl } from '../../../src/abi/control-block.js';
import { IOAPIC_REG_REDIR, Ioapic } from '../../../src/devices/ioapic.js';
import { LAPIC_EOI, LAPIC_LDR, LAPIC_SVR, Lapic } from '../../../src/devices/lapic.js';
import { drainIrr } from './helpers.js';

/** a control block whose cores have APIC IDs 0..n-1, as the LAPICs set them */
function createControlBuffer(n: number, ram: number): Int32Array {
  const ctl = makeCtl(n, ram);
  for (let i = 0; i < n; i++) ctl[coreBase(i) + C_APIC_ID] = i;
  return ctl;
}

function reg(io: Ioapic, r: number, v?: number): number {
  io.mmioWrite(0x00, 1, r);
  if (v !== undefined) io.mmioWrite(0x10, 4, v);
  return io.mmioRead(0x10, 4);
}

function program(io: Ioapic, pin: number, lo: number, dest = 0) {
  reg(io, IOAPIC_REG_REDIR + 2 * pin + 1, dest << 24);
  reg(io, IOAPIC_REG_REDIR + 2 * pin, lo);
}

/** an IOAPIC in a machine with two cores (APIC IDs 0 and 1) and 16 MiB of RAM */
function ioapicWithTwoCores(): { ctl: Int32Array; io: Ioapic } {
  const ctl = createControlBuffer(2, 16 << 20);
  return { ctl, io: new Ioapic(ctl) };
}

describe('Ioapic', () => {
  it('identifies itself as QEMU 7.2\'s version-0x20 IOAPIC with 24 pins, all masked at reset', () => {
    const io = new Ioapic(createControlBuffer(2, 16 << 20));
    expect(reg(io, 1)).toBe(0x00170020);
    expect(reg(io, 0)).toBe(0);
    expect(reg(io, 0, 0xffffffff)).toBe(0x0f000000);
    expect(reg(io, 2)).toBe(0x0f000000);
    for (let p = 0; p < 24; p++) expect(reg(io, 0x10 + 2 * p)).toBe(0x10000);
    expect(reg(io, 0x10, 0xffffffff)).toBe(0x1afff); // delivery status and remote IRR read-only
    expect(reg(io, 0x11, 0xffffffff)).toBe(0xff000000);
    expect(io.mmioRead(0x00, 4)).toBe(0x11);
  });

  it('edge pins deliver on rising edges; an edge on a masked pin is dropped', () => {
    const { ctl, io } = ioapicWithTwoCores();
    program(io, 4, 0x10000 | 0x34, 1);
    io.setPin(4, true);
    io.setPin(4, false);
    expect(drainIrr(ctl, 1)).toEqual([]);
    expect(io.dropped).toBe(1);
    program(io, 4, 0x34, 1); // unmask: the lost edge stays lost
    expect(drainIrr(ctl, 1)).toEqual([]);
    io.setPin(4, true);
    io.setPin(4, true); // no new edge
    expect(drainIrr(ctl, 1)).toEqual([{ vector: 0x34, level: false }]);
    io.setPin(4, false);
    io.setPin(4, true);
    expect(drainIrr(ctl, 1)).toEqual([{ vector: 0x34, level: false }]);
  });

  it('level pins set remote IRR, wait for EOI and re-deliver while still asserted', () => {
    const { ctl, io } = ioapicWithTwoCores();
    program(io, 11, 0x8000 | 0x4b, 1);
    io.setPin(11, true);
    expect(drainIrr(ctl, 1)).toEqual([{ vector: 0x4b, level: true }]);
    expect(reg(io, 0x10 + 22) & 0x4000).toBe(0x4000);
    io.setPin(11, true);
    expect(drainIrr(ctl, 1)).toEqual([]); // remote IRR holds it
    io.eoi(0x4b);
    expect(drainIrr(ctl, 1)).toEqual([{ vector: 0x4b, level: true }]);
    io.setPin(11, false);
    io.eoi(0x4b);
    expect(drainIrr(ctl, 1)).toEqual([]);
    expect(reg(io, 0x10 + 22) & 0x4000).toBe(0);
    io.eoi(0x99); // unrelated vector: nothing
  });

  it('the EOI register (offset 0x40) clears remote IRR of the entries with that vector', () => {
    const { ctl, io } = ioapicWithTwoCores();
    program(io, 10, 0x8000 | 0x4a, 1);
    io.setPin(10, true);
    expect(drainIrr(ctl, 1)).toEqual([{ vector: 0x4a, level: true }]);
    io.mmioWrite(0x40, 4, 0x99); // another vector: remote IRR stays
    expect(reg(io, 0x10 + 20) & 0x4000).toBe(0x4000);
    io.mmioWrite(0x40, 4, 0x4a); // still asserted: delivered again
    expect(drainIrr(ctl, 1)).toEqual([{ vector: 0x4a, level: true }]);
    io.setPin(10, false);
    io.mmioWrite(0x40, 4, 0x4a);
    expect(reg(io, 0x10 + 20) & 0x4000).toBe(0);
    expect(drainIrr(ctl, 1)).toEqual([]);
  });

  it('unmasking an asserted level pin delivers it', () => {
    const { ctl, io } = ioapicWithTwoCores();
    program(io, 9, 0x18000 | 0x49, 0);
    io.setPin(9, true);
    expect(drainIrr(ctl, 0)).toEqual([]);
    program(io, 9, 0x8000 | 0x49, 0);
    expect(drainIrr(ctl, 0)).toEqual([{ vector: 0x49, level: true }]);
  });

  it('delivers to logical destinations through the LAPICs and completes the EOI loop', () => {
    const { ctl, io } = ioapicWithTwoCores();
    const clock = { nowNs: () => 0 };
    const apics = [0, 1].map((i) => new Lapic(ctl, i, clock, { onLevelEoi: (v) => io.eoi(v) }));
    apics.forEach((a, i) => {
      a.mmioWrite(LAPIC_SVR, 4, 0x1ff);
      a.mmioWrite(LAPIC_LDR, 4, (1 << i) << 24);
    });
    program(io, 16, 0x8800 | 0x60, 0x02); // level, logical, to core 1
    io.setPin(16, true);
    expect(apics[0].pollInterrupt()).toBe(-1);
    expect(apics[1].pollInterrupt()).toBe(0x60);
    apics[1].acknowledge(0x60);
    apics[1].mmioWrite(LAPIC_EOI, 4, 0); // still asserted: comes back
    expect(apics[1].pollInterrupt()).toBe(0x60);
    apics[1].acknowledge(0x60);
    io.setPin(16, false);
    apics[1].mmioWrite(LAPIC_EOI, 4, 0);
    expect(apics[1].pollInterrupt()).toBe(-1);
  });

  it('drops ExtINT entries and bad pins with a count; snapshots round-trip', () => {
    const ctl = createControlBuffer(1, 16 << 20);
    const io = new Ioapic(ctl);
    program(io, 0, 0x700);
    io.setPin(0, true);
    io.setPin(40, true);
    expect(io.dropped).toBe(2);
    const snap = JSON.parse(JSON.stringify(io.saveState()));
    const io2 = new Ioapic(ctl);
    io2.restoreState(snap);
    expect(reg(io2, 0x10)).toBe(0x700);
    expect(() => io2.restoreState({ lo: [] })).toThrow(/snapshot/);
  });
});
