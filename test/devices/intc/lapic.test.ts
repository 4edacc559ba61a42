import { describe, expect, it } from 'vitest';
import {
  C_APIC_ENABLED, C_IRR, C_PENDING, C_SIPI_VECTOR, C_WAKE, P_INIT, P_IRR, P_NMI, P_SIPI, coreBase, createControlBuffer,
} from '../../../src/abi/control-block.js';
import { DM_FIXED, postToCore } from '../../../src/abi/interrupt-delivery.js';
import {
  ESR_ILLEGAL_REGISTER, ESR_SEND_ILLEGAL_VECTOR, LAPIC_DFR, LAPIC_EOI, LAPIC_ESR, LAPIC_ICR_HI, LAPIC_ICR_LO, LAPIC_ID,
  LAPIC_IRR, LAPIC_ISR, LAPIC_LDR, LAPIC_LVT_ERROR, LAPIC_LVT_LINT0, LAPIC_LVT_TIMER, LAPIC_PPR, LAPIC_SVR,
  LAPIC_TIMER_CURRENT, LAPIC_TIMER_DIVIDE, LAPIC_TIMER_INITIAL, LAPIC_TPR, LAPIC_VERSION, Lapic,
} from '../../../src/devices/lapic.js';

class FakeClock {
  t = 1_000_000;
  nowNs(): number {
    return this.t;
  }
}

function machine(n = 2) {
  const ctl = createControlBuffer(n, 64 * 1024 * 1024);
  const clock = new FakeClock();
  const eois: number[][] = [];
  const apics = Array.from({ length: n }, (_, i) => {
    eois.push([]);
    const a = new Lapic(ctl, i, clock, { onLevelEoi: (v) => eois[i].push(v) });
    a.mmioWrite(LAPIC_SVR, 4, 0x1ff); // software-enable, as every OS does first
    return a;
  });
  const pending = (i: number) => Atomics.load(ctl, coreBase(i) + C_PENDING);
  return { ctl, clock, apics, eois, pending };
}

describe('Lapic registers', () => {
  it('reports ID, version and power-on values', () => {
    const { apics } = machine();
    expect(apics[1].mmioRead(LAPIC_ID, 4)).toBe(1 << 24);
    expect(apics[0].mmioRead(LAPIC_VERSION, 4)).toBe(0x50014);
    expect(apics[0].mmioRead(LAPIC_DFR, 4)).toBe(0xffffffff);
    expect(apics[0].mmioRead(LAPIC_LVT_TIMER, 4)).toBe(0x10000);
    expect(apics[0].readApicBase()).toBe(0xfee00900);
    expect(apics[1].readApicBase()).toBe(0xfee00800);
  });

  it('reads byte slices of a register and flags reserved registers in ESR', () => {
    const { apics } = machine();
    expect(apics[0].mmioRead(LAPIC_VERSION + 2, 1)).toBe(0x05);
    apics[0].mmioRead(0x3f0, 4); // reserved
    apics[0].mmioWrite(LAPIC_ESR, 4, 0);
    expect(apics[0].mmioRead(LAPIC_ESR, 4)).toBe(ESR_ILLEGAL_REGISTER);
    apics[0].mmioWrite(LAPIC_ESR, 4, 0);
    expect(apics[0].mmioRead(LAPIC_ESR, 4)).toBe(0);
  });

  it('masks DFR/LDR/SVR writes and mirrors them into the control block', () => {
    const { apics, ctl } = machine();
    apics[0].mmioWrite(LAPIC_DFR, 4, 0);
    expect(apics[0].mmioRead(LAPIC_DFR, 4)).toBe(0x0fffffff);
    apics[0].mmioWrite(LAPIC_LDR, 4, 0xffffffff);
    expect(apics[0].mmioRead(LAPIC_LDR, 4)).toBe(0xff000000);
    apics[0].mmioWrite(LAPIC_SVR, 4, 0xffffffff);
    expect(apics[0].mmioRead(LAPIC_SVR, 4)).toBe(0x1ff);
    expect(ctl[coreBase(0) + C_APIC_ENABLED]).toBe(1);
    apics[0].mmioWrite(LAPIC_SVR, 4, 0xff);
    expect(ctl[coreBase(0) + C_APIC_ENABLED]).toBe(0);
  });

  it('keeps LVTs masked while software-disabled', () => {
    const { apics } = machine();
    apics[0].mmioWrite(LAPIC_SVR, 4, 0xff);
    apics[0].mmioWrite(LAPIC_LVT_TIMER, 4, 0x40);
    expect(apics[0].mmioRead(LAPIC_LVT_TIMER, 4)).toBe(0x10040);
  });
});

describe('Lapic priority, PPR and EOI ordering', () => {
  it('delivers the highest class first and blocks lower classes while one is in service', () => {
    const { ctl, apics, pending } = machine();
    const a = apics[0];
    postToCore(ctl, 0, DM_FIXED, 0x31);
    postToCore(ctl, 0, DM_FIXED, 0x51);
    expect(a.pollInterrupt()).toBe(0x51);
    expect(pending(0) & P_IRR).toBe(P_IRR);
    a.acknowledge(0x51);
    expect(a.mmioRead(LAPIC_PPR, 4)).toBe(0x50);
    expect(a.mmioRead(LAPIC_ISR + 0x20, 4)).toBe(1 << 0x11);
    expect(a.pollInterrupt()).toBe(-1);
    expect(pending(0) & P_IRR).toBe(0); // nothing deliverable: the CPU may stop polling
    postToCore(ctl, 0, DM_FIXED, 0x52); // same class as the one in service: must wait
    expect(a.pollInterrupt()).toBe(-1);
    postToCore(ctl, 0, DM_FIXED, 0x61); // higher class nests
    expect(a.pollInterrupt()).toBe(0x61);
    a.acknowledge(0x61);
    a.mmioWrite(LAPIC_EOI, 4, 0); // ends 0x61 (highest in service)
    expect(a.mmioRead(LAPIC_ISR + 0x30, 4)).toBe(0);
    expect(a.pollInterrupt()).toBe(-1);
    a.mmioWrite(LAPIC_EOI, 4, 0); // ends 0x51
    expect(pending(0) & P_IRR).toBe(P_IRR); // EOI made something deliverable
    expect(a.pollInterrupt()).toBe(0x52);
    a.acknowledge(0x52);
    a.mmioWrite(LAPIC_EOI, 4, 0);
    expect(a.pollInterrupt()).toBe(0x31);
  });

  it('holds interrupts at or below the TPR class; CR8 is TPR >> 4', () => {
    const { ctl, apics, pending } = machine();
    const a = apics[0];
    a.writeCr8(4);
    expect(a.mmioRead(LAPIC_TPR, 4)).toBe(0x40);
    postToCore(ctl, 0, DM_FIXED, 0x45);
    expect(a.pollInterrupt()).toBe(-1);
    expect(a.mmioRead(LAPIC_IRR + 0x20, 4)).toBe(1 << 5);
    a.mmioWrite(LAPIC_TPR, 4, 0x30);
    expect(a.readCr8()).toBe(3);
    expect(pending(0) & P_IRR).toBe(P_IRR);
    expect(a.pollInterrupt()).toBe(0x45);
  });

  it('calls onLevelEoi only for level-triggered vectors', () => {
    const { ctl, apics, eois } = machine();
    const a = apics[0];
    postToCore(ctl, 0, DM_FIXED, 0x80, true);
    postToCore(ctl, 0, DM_FIXED, 0x70, false);
    a.acknowledge(a.pollInterrupt());
    a.mmioWrite(LAPIC_EOI, 4, 0);
    a.acknowledge(a.pollInterrupt());
    a.mmioWrite(LAPIC_EOI, 4, 0);
    expect(eois[0]).toEqual([0x80]);
    a.mmioWrite(LAPIC_EOI, 4, 0); // EOI with nothing in service is harmless
    expect(eois[0]).toEqual([0x80]);
  });

  it('refuses vectors 0-15 and reports them in ESR', () => {
    const { ctl, apics } = machine();
    postToCore(ctl, 0, DM_FIXED, 5);
    expect(apics[0].pollInterrupt()).toBe(-1);
    apics[0].mmioWrite(LAPIC_ESR, 4, 0);
    expect(apics[0].mmioRead(LAPIC_ESR, 4)).toBe(0x40);
  });

  it('raises the error LVT vector on an error', () => {
    const { apics } = machine();
    const a = apics[0];
    a.mmioWrite(LAPIC_LVT_ERROR, 4, 0xfe);
    a.mmioWrite(LAPIC_ICR_LO, 4, 0x00004003); // fixed IPI with illegal vector 3
    expect(a.pollInterrupt()).toBe(0xfe);
    a.mmioWrite(LAPIC_ESR, 4, 0);
    expect(a.mmioRead(LAPIC_ESR, 4)).toBe(ESR_SEND_ILLEGAL_VECTOR);
  });

  it('accepts nothing while software-disabled but keeps the request', () => {
    const { ctl, apics } = machine();
    const a = apics[0];
    a.mmioWrite(LAPIC_SVR, 4, 0xff);
    postToCore(ctl, 0, DM_FIXED, 0x40);
    expect(a.pollInterrupt()).toBe(-1);
    a.mmioWrite(LAPIC_SVR, 4, 0x1ff);
    expect(a.pollInterrupt()).toBe(0x40);
  });
});

describe('Lapic IPIs', () => {
  it('delivers a fixed IPI into another core\'s shared IRR and wakes it', () => {
    const { ctl, apics, pending } = machine();
    const wake0 = ctl[coreBase(1) + C_WAKE];
    apics[0].mmioWrite(LAPIC_ICR_HI, 4, 1 << 24);
    apics[0].mmioWrite(LAPIC_ICR_LO, 4, 0x4041);
    expect(apics[0].mmioRead(LAPIC_ICR_LO, 4) & (1 << 12)).toBe(0); // delivery status idle
    expect(ctl[coreBase(1) + C_IRR + 2]).toBe(1 << 1);
    expect(pending(1) & P_IRR).toBe(P_IRR);
    expect(ctl[coreBase(1) + C_WAKE]).toBe(wake0 + 1);
    expect(pending(0)).toBe(0);
    expect(apics[1].pollInterrupt()).toBe(0x41);
    expect(ctl[coreBase(1) + C_IRR + 2]).toBe(0); // folded into the private IRR
  });

  it('implements the shorthands self, all-including-self and all-excluding-self', () => {
    const { apics } = machine(3);
    apics[1].mmioWrite(LAPIC_ICR_LO, 4, (1 << 18) | 0x50);
    expect(apics.map((a) => a.pollInterrupt())).toEqual([-1, 0x50, -1]);
    apics[1].acknowledge(0x50);
    apics[1].mmioWrite(LAPIC_EOI, 4, 0);
    apics[1].mmioWrite(LAPIC_ICR_LO, 4, (2 << 18) | 0x60);
    expect(apics.map((a) => a.pollInterrupt())).toEqual([0x60, 0x60, 0x60]);
    for (const a of apics) {
      a.acknowledge(0x60);
      a.mmioWrite(LAPIC_EOI, 4, 0);
    }
    apics[1].mmioWrite(LAPIC_ICR_LO, 4, (3 << 18) | 0x70);
    expect(apics.map((a) => a.pollInterrupt())).toEqual([0x70, -1, 0x70]);
  });

  it('resolves flat and cluster logical destinations', () => {
    const { apics } = machine(4);
    apics.forEach((a, i) => a.mmioWrite(LAPIC_LDR, 4, (1 << i) << 24));
    apics[0].mmioWrite(LAPIC_ICR_HI, 4, 0x0a << 24); // cores 1 and 3
    apics[0].mmioWrite(LAPIC_ICR_LO, 4, (1 << 11) | 0x90);
    expect(apics.map((a) => a.pollInterrupt())).toEqual([-1, 0x90, -1, 0x90]);
    // cluster model: cluster 1 members 1 and 2 -> LDR 0x11, 0x12
    const m = machine(3);
    m.apics.forEach((a) => a.mmioWrite(LAPIC_DFR, 4, 0x0fffffff));
    m.apics[0].mmioWrite(LAPIC_LDR, 4, 0x01 << 24);
    m.apics[1].mmioWrite(LAPIC_LDR, 4, 0x11 << 24);
    m.apics[2].mmioWrite(LAPIC_LDR, 4, 0x12 << 24);
    m.apics[0].mmioWrite(LAPIC_ICR_HI, 4, 0x13 << 24);
    m.apics[0].mmioWrite(LAPIC_ICR_LO, 4, (1 << 11) | 0xa0);
    expect(m.apics.map((a) => a.pollInterrupt())).toEqual([-1, 0xa0, 0xa0]);
  });

  it('sends INIT and SIPI as pending bits, and ignores INIT level de-assert', () => {
    const { apics, pending, ctl } = machine();
    apics[0].mmioWrite(LAPIC_ICR_HI, 4, 1 << 24);
    apics[0].mmioWrite(LAPIC_ICR_LO, 4, 0x8500); // INIT de-assert (level trigger, deassert)
    expect(pending(1)).toBe(0);
    apics[0].mmioWrite(LAPIC_ICR_LO, 4, 0x4500); // INIT assert
    expect(pending(1) & P_INIT).toBe(P_INIT);
    apics[0].mmioWrite(LAPIC_ICR_LO, 4, 0x4608); // SIPI vector 8
    expect(pending(1) & P_SIPI).toBe(P_SIPI);
    expect(ctl[coreBase(1) + C_SIPI_VECTOR]).toBe(8);
    apics[0].mmioWrite(LAPIC_ICR_LO, 4, (3 << 18) | 0x400); // NMI to all others
    expect(pending(1) & P_NMI).toBe(P_NMI);
    expect(pending(0) & P_NMI).toBe(0);
  });
});

describe('Lapic timer', () => {
  it('one-shot: counts down from the initial count and fires once', () => {
    const { clock, apics } = machine();
    const a = apics[0];
    a.mmioWrite(LAPIC_TIMER_DIVIDE, 4, 0xb); // divide by 1
    a.mmioWrite(LAPIC_LVT_TIMER, 4, 0x30);
    a.mmioWrite(LAPIC_TIMER_INITIAL, 4, 1000);
    expect(a.nextDeadlineNs()).toBe(clock.t + 1000);
    clock.t += 400;
    expect(a.mmioRead(LAPIC_TIMER_CURRENT, 4)).toBe(600);
    expect(a.pollInterrupt()).toBe(-1);
    clock.t += 600;
    expect(a.pollInterrupt()).toBe(0x30);
    expect(a.mmioRead(LAPIC_TIMER_CURRENT, 4)).toBe(0);
    expect(a.nextDeadlineNs()).toBe(Infinity);
  });

  it('periodic: re-arms on whole periods without drift, firing once after a long gap', () => {
    const { clock, apics } = machine();
    const a = apics[0];
    const t0 = clock.t;
    a.mmioWrite(LAPIC_TIMER_DIVIDE, 4, 0x0); // divide by 2
    a.mmioWrite(LAPIC_LVT_TIMER, 4, (1 << 17) | 0x31);
    a.mmioWrite(LAPIC_TIMER_INITIAL, 4, 100); // period 200 ns
    clock.t = t0 + 1050;
    expect(a.pollInterrupt()).toBe(0x31);
    expect(a.nextDeadlineNs()).toBe(t0 + 1200);
    expect(a.mmioRead(LAPIC_TIMER_CURRENT, 4)).toBe(100 - 25);
    a.acknowledge(0x31);
    a.mmioWrite(LAPIC_EOI, 4, 0);
    clock.t = t0 + 1199;
    expect(a.pollInterrupt()).toBe(-1);
    clock.t = t0 + 1200;
    expect(a.pollInterrupt()).toBe(0x31);
    expect(a.nextDeadlineNs()).toBe(t0 + 1400);
  });

  it('divide register values map to the SDM divisors', () => {
    const { clock, apics } = machine();
    const a = apics[0];
    const cases: [number, number][] = [[0, 2], [1, 4], [2, 8], [3, 16], [8, 32], [9, 64], [10, 128], [11, 1]];
    for (const [dcr, div] of cases) {
      a.mmioWrite(LAPIC_TIMER_DIVIDE, 4, dcr);
      a.mmioWrite(LAPIC_TIMER_INITIAL, 4, 1000);
      clock.t += div * 10;
      expect(a.mmioRead(LAPIC_TIMER_CURRENT, 4)).toBe(990);
    }
  });

  it('TSC-deadline: fires at the deadline, then reads 0; ignored outside that mode', () => {
    const { clock, apics } = machine();
    const a = apics[0];
    a.setTscDeadline(clock.t + 10); // one-shot mode: ignored
    expect(a.getTscDeadline()).toBe(0);
    a.mmioWrite(LAPIC_LVT_TIMER, 4, (2 << 17) | 0x40);
    a.setTscDeadline(clock.t + 5000);
    expect(a.nextDeadlineNs()).toBe(clock.t + 5000);
    a.mmioWrite(LAPIC_TIMER_INITIAL, 4, 5); // ignored in TSC-deadline mode
    expect(a.mmioRead(LAPIC_TIMER_INITIAL, 4)).toBe(0);
    clock.t += 4999;
    expect(a.pollInterrupt()).toBe(-1);
    clock.t += 1;
    expect(a.pollInterrupt()).toBe(0x40);
    expect(a.getTscDeadline()).toBe(0);
    expect(a.nextDeadlineNs()).toBe(Infinity);
    a.setTscDeadline(clock.t + 100);
    a.mmioWrite(LAPIC_LVT_TIMER, 4, 0x40); // leaving TSC-deadline mode disarms
    expect(a.nextDeadlineNs()).toBe(Infinity);
  });

  it('a masked expiry is lost, not delivered on unmask', () => {
    const { clock, apics } = machine();
    const a = apics[0];
    a.mmioWrite(LAPIC_LVT_TIMER, 4, 0x10030);
    a.mmioWrite(LAPIC_TIMER_INITIAL, 4, 10);
    expect(a.nextDeadlineNs()).toBe(Infinity);
    clock.t += 1000;
    a.mmioWrite(LAPIC_LVT_TIMER, 4, 0x30);
    expect(a.pollInterrupt()).toBe(-1);
  });
});

describe('Lapic ExtINT acceptance, APIC base and reset', () => {
  it('accepts ExtINT only with LINT0 unmasked in ExtINT mode, or with the APIC disabled', () => {
    const { apics, ctl } = machine();
    expect(apics[0].lint0ExtIntAccepted()).toBe(false);
    apics[0].applyFirmwareState();
    expect(apics[0].lint0ExtIntAccepted()).toBe(true);
    expect(apics[0].mmioRead(LAPIC_LVT_LINT0, 4)).toBe(0x8700);
    apics[1].applyFirmwareState(); // not the BSP: unchanged
    expect(apics[1].lint0ExtIntAccepted()).toBe(false);
    expect(apics[1].writeApicBase(0xfee00000, 0)).toBe(true); // clear EN
    expect(apics[1].lint0ExtIntAccepted()).toBe(true);
    expect(ctl[coreBase(1) + C_APIC_ENABLED]).toBe(0);
    expect(apics[1].mmioRead(LAPIC_ID, 4)).toBe(0xffffffff);
    expect(apics[1].writeApicBase(0xfee00c00, 0)).toBe(false); // x2APIC refused
  });

  it('INIT reset keeps the ID and clears pending state', () => {
    const { ctl, apics } = machine();
    postToCore(ctl, 1, DM_FIXED, 0x40);
    apics[1].reset();
    expect(apics[1].mmioRead(LAPIC_ID, 4)).toBe(1 << 24);
    expect(apics[1].mmioRead(LAPIC_SVR, 4)).toBe(0xff);
    apics[1].mmioWrite(LAPIC_SVR, 4, 0x1ff);
    expect(apics[1].pollInterrupt()).toBe(-1);
  });

  it('saves and restores its state', () => {
    const m = machine();
    const a = m.apics[0];
    a.mmioWrite(LAPIC_LVT_TIMER, 4, (1 << 17) | 0x31);
    a.mmioWrite(LAPIC_TIMER_INITIAL, 4, 1000);
    postToCore(m.ctl, 0, DM_FIXED, 0x44);
    a.acknowledge(a.pollInterrupt());
    const snap = JSON.parse(JSON.stringify(a.saveState()));
    const m2 = machine();
    m2.clock.t = m.clock.t;
    m2.apics[0].restoreState(snap);
    expect(m2.apics[0].mmioRead(LAPIC_ISR + 0x20, 4)).toBe(1 << 4);
    expect(m2.apics[0].nextDeadlineNs()).toBe(a.nextDeadlineNs());
    expect(() => m2.apics[0].restoreState({})).toThrow(/snapshot/);
  });
});
