// Device accesses that a core completes without the I/O thread (src/machine/mailbox-bus.ts):
// the posted-write queue's order and pending counts, the reads that bypass the I/O thread only
// when no queued write could change them, and the e1000's ICR taken from shared registers.
import { describe, expect, it } from 'vitest';
import {
  DS_NIC_BAR, DS_PENDING_NIC, DS_PENDING_UART, DS_PW_HEAD, DS_PW_TAIL, DS_UART_LSR, PW_CAPACITY, PW_EOI, PW_IO_WRITE,
  PW_MMIO_WRITE, PW_NIC_ICR_READ, createDeviceShared, nicRegisters,
} from '../../src/abi/device-shared.js';
import { C_STAT_DEVICE_EXITS, C_STAT_DEVICE_SLOW, coreBase, createControlBuffer } from '../../src/abi/control-block.js';
import { MailboxBus } from '../../src/machine/mailbox-bus.js';
import { MiB } from '../../src/abi/memory-map.js';
import { applyPosted, postWrite } from '../../src/abi/posted-writes.js';
import * as R from '../../src/devices/e1000/regs.js';
import { Harness } from '../devices/e1000/e1000-harness.js';

const BAR0 = 0xfeb80000;

function setup() {
  const devices = createDeviceShared();
  const dw = new Int32Array(devices);
  const ctl = createControlBuffer(1, 64 * MiB);
  dw[DS_NIC_BAR] = BAR0 | 0;
  dw[DS_NIC_BAR + 1] = 1;
  dw[DS_UART_LSR] = 0x60;
  const bus = new MailboxBus(ctl, 0, devices);
  const drain = () => {
    const got: number[][] = [];
    applyPosted(dw, (k, a, s, v) => got.push([k, a, s, v]));
    return got;
  };
  return { devices, dw, ctl, bus, drain };
}

describe('posted writes', () => {
  it('are applied in the order they were queued, and release their pending counts', () => {
    const { dw, drain } = setup();
    expect(postWrite(dw, PW_IO_WRITE, 0x3f8, 1, 65)).toBe(true);
    expect(postWrite(dw, PW_IO_WRITE, 0x3fc, 1, 3, DS_PENDING_UART)).toBe(true);
    expect(postWrite(dw, PW_EOI, 0x2b, 0, 0)).toBe(true);
    expect(dw[DS_PENDING_UART]).toBe(1);
    expect(drain()).toEqual([[PW_IO_WRITE, 0x3f8, 1, 65], [PW_IO_WRITE, 0x3fc, 1, 3], [PW_EOI, 0x2b, 0, 0]]);
    expect(dw[DS_PENDING_UART]).toBe(0);
    expect(dw[DS_PW_HEAD]).toBe(dw[DS_PW_TAIL]);
  });

  it('refuse a write when the queue is full (the core then goes to the I/O thread) and wrap around', () => {
    const { dw, drain } = setup();
    for (let i = 0; i < PW_CAPACITY; i++) expect(postWrite(dw, PW_MMIO_WRITE, BAR0, 4, i)).toBe(true);
    expect(postWrite(dw, PW_MMIO_WRITE, BAR0, 4, -1)).toBe(false);
    const got = drain();
    expect(got.length).toBe(PW_CAPACITY);
    expect(got.every((r, i) => r[3] === i)).toBe(true);
    expect(postWrite(dw, PW_MMIO_WRITE, BAR0 + 4, 4, 7)).toBe(true);
    expect(drain()).toEqual([[PW_MMIO_WRITE, BAR0 + 4, 4, 7]]);
  });
});

describe('core-side device accesses', () => {
  it('read COM1 LSR from shared state and post COM1 writes; only non-THR writes hold reads back', () => {
    const { dw, ctl, bus, drain } = setup();
    expect(bus.ioRead(0x3fd, 1)).toBe(0x60);
    bus.ioWrite(0x3f8, 1, 0x41); // THR: never changes LSR
    expect(dw[DS_PENDING_UART]).toBe(0);
    bus.ioWrite(0x3fc, 1, 0x10); // MCR (loopback): an LSR read must now wait for it
    expect(dw[DS_PENDING_UART]).toBe(1);
    expect(drain()).toEqual([[PW_IO_WRITE, 0x3f8, 1, 0x41], [PW_IO_WRITE, 0x3fc, 1, 0x10]]);
    const b = coreBase(0);
    expect(ctl[b + C_STAT_DEVICE_EXITS]).toBe(3);
    expect(ctl[b + C_STAT_DEVICE_SLOW]).toBe(0);
  });

  it('post e1000 register writes, counting those an ICR read must see', () => {
    const { dw, bus, drain } = setup();
    bus.mmioWrite(BAR0 + R.TDT, 4, 5);
    expect(dw[DS_PENDING_NIC]).toBe(0);
    bus.mmioWrite(BAR0 + R.ICS, 4, R.ICR_RXT0);
    expect(dw[DS_PENDING_NIC]).toBe(1);
    bus.levelEoi(0x2b);
    expect(drain()).toEqual([[PW_MMIO_WRITE, BAR0 + R.TDT, 4, 5], [PW_MMIO_WRITE, BAR0 + R.ICS, 4, R.ICR_RXT0], [PW_EOI, 0x2b, 0, 0]]);
    expect(dw[DS_PENDING_NIC]).toBe(0);
  });

  it('take ICR from the shared register file of the same model, which then lowers INTA#', () => {
    const { devices, bus, drain } = setup();
    const h = new Harness({ registers: nicRegisters(devices, 0) });
    h.nic.writeRegister(R.IMS, R.ICR_RXT0);
    h.nic.writeRegister(R.ICS, R.ICR_RXT0);
    expect(h.irq.level).toBe(true);
    const causes = h.nic.peek(R.ICR); // RXT0, and LSC from the cable plugged in at attach
    expect(causes & R.ICR_RXT0).toBe(R.ICR_RXT0);
    expect(bus.mmioRead(BAR0 + R.ICR, 4)).toBe(causes);
    const posted = drain();
    expect(posted).toEqual([[PW_NIC_ICR_READ, 0, 0, 0]]);
    expect(h.irq.level).toBe(true); // the I/O thread has not seen it yet
    h.nic.icrReadElsewhere();
    expect(h.irq.level).toBe(false);
    expect(h.nic.peek(R.ICR)).toBe(0);
    // a clear ICR read changes nothing: nothing is posted
    expect(bus.mmioRead(BAR0 + R.ICR, 4)).toBe(0);
    expect(drain()).toEqual([]);
  });
});
