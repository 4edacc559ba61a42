import { describe, expect, it } from 'vitest';
import { RUN_BUDGET, RUN_HALTED, RUN_STOPPED, RUN_WAIT_SIPI } from '../../../src/cpu/cpu.js';
import { setTimeSource } from '../../../src/cpu/msr.js';
import { CS, IF, RSP } from '../../../src/cpu/regs.js';
import { resetCore } from '../../../src/cpu/reset.js';
import { C_PENDING, coreBase, P_STOP } from '../../../src/abi/control-block.js';
import { DM_EXTINT, DM_FIXED, DM_INIT, DM_NMI, DM_SIPI, postToCore } from '../../../src/abi/interrupt-delivery.js';
import {
  assemble, enterLongMode, FakeLapic, haltedVector, HANDLER_BASE, KSTACK_TOP, load, makeCore, readU64,
} from './harness.js';

const CODE = 0x10000;

describe('INIT / SIPI through C_PENDING', () => {
  it('an AP waits for SIPI, starts at vector<<12 in real mode, and INIT sends it back', () => {
    const t = makeCore({ ncores: 2, core: 1 });
    const { cpu, ctl } = t;
    resetCore(cpu, { bsp: false });
    expect(cpu.run(100)).toBe(RUN_WAIT_SIPI);
    load(t, 0x9000, [0xfa, 0xf4]); // cli; hlt
    postToCore(ctl, 1, DM_SIPI, 0x09);
    expect(cpu.run(100)).toBe(RUN_HALTED);
    expect(cpu.segSel[CS]).toBe(0x0900);
    expect(cpu.rip).toBe(0x9002);
    expect(cpu.protectedMode).toBe(false);
    // a second SIPI is ignored by a running core
    postToCore(ctl, 1, DM_SIPI, 0x0a);
    expect(cpu.run(100)).toBe(RUN_HALTED);
    expect(cpu.rip).toBe(0x9002);
    expect(Atomics.load(ctl, coreBase(1) + C_PENDING)).toBe(0);
    postToCore(ctl, 1, DM_INIT, 0);
    expect(cpu.run(100)).toBe(RUN_WAIT_SIPI);
    expect(cpu.waitingForSipi).toBe(true);
    postToCore(ctl, 1, DM_SIPI, 0x09);
    expect(cpu.run(100)).toBe(RUN_HALTED);
  });

  it('P_STOP leaves the run loop', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    load(t, CODE, [0xeb, 0xfe]); // jmp $
    expect(t.cpu.run(1000)).toBe(RUN_BUDGET);
    Atomics.or(t.ctl, coreBase(0) + C_PENDING, P_STOP);
    expect(t.cpu.run(1000)).toBe(RUN_STOPPED);
  });
});

describe('external interrupts', () => {
  function setup(src: string) {
    const t = makeCore();
    const lapic = new FakeLapic();
    t.cpu.lapic = lapic;
    enterLongMode(t, CODE);
    load(t, CODE, assemble('.code64\n' + src, CODE));
    return { t, lapic };
  }

  /** `src` runs with fixed interrupt `vector` pending at the local APIC and posted: it must end halted (in the handler) */
  function runWithFixedInterrupt(src: string, vector: number) {
    const { t, lapic } = setup(src);
    lapic.pending.add(vector);
    postToCore(t.ctl, 0, DM_FIXED, vector);
    expect(t.cpu.run(100)).toBe(RUN_HALTED);
    return { t, lapic };
  }

  it('a fixed interrupt wakes HLT; sti;hlt halts first (interrupt shadow)', () => {
    const { t, lapic } = runWithFixedInterrupt('sti\nhlt\nnop\nhlt', 0x31);
    expect(haltedVector(t.cpu)).toBe(0x31);
    expect(lapic.acked).toEqual([0x31]);
    // return address: after the first HLT
    expect(readU64(t, t.cpu.lo[RSP] >>> 0)).toBe(CODE + 2);
    expect(t.cpu.flags & IF).toBe(0);
  });

  it('IF=0 keeps the interrupt pending; TPR (CR8) masks lower classes', () => {
    const { t, lapic } = runWithFixedInterrupt('mov $3, %eax\nmov %rax, %cr8\nsti\nnop\nnop\nxor %eax, %eax\nmov %rax, %cr8\nnop\nhlt', 0x31);
    expect(haltedVector(t.cpu)).toBe(0x31);
    expect(lapic.tpr).toBe(0);
    const ret = readU64(t, t.cpu.lo[RSP] >>> 0);
    expect(ret).toBeGreaterThan(CODE + 13); // taken only after CR8 was lowered
  });

  it('NMI is taken with IF=0 and blocked until IRET', () => {
    const { t } = setup('hlt');
    load(t, HANDLER_BASE + 2 * 16, assemble('.code64\nincl 0x7000\niretq', HANDLER_BASE + 32));
    postToCore(t.ctl, 0, DM_NMI, 0);
    expect(t.cpu.run(100)).toBe(RUN_HALTED);
    expect(t.dv.getUint32(0x7000, true)).toBe(1);
    expect(t.cpu.nmiBlocked).toBe(false);
    expect(t.cpu.rip).toBe(CODE + 1);
  });

  it('ExtINT from the 8259 delivers its vector when IF=1', () => {
    const { t } = setup('sti\nnop\njmp .');
    postToCore(t.ctl, 0, DM_EXTINT, 0x20);
    expect(t.cpu.run(100)).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(0x20);
    expect(Atomics.load(t.ctl, coreBase(0) + C_PENDING)).toBe(0);
  });

  it('the local timer is ticked when its deadline passes', () => {
    const { t, lapic } = setup('jmp .');
    let now = 0;
    setTimeSource(t.cpu, () => now);
    lapic.nextNs = 5000;
    t.cpu.run(10000);
    expect(lapic.ticks).toEqual([]);
    now = 6000;
    t.cpu.run(10000);
    expect(lapic.ticks).toEqual([6000]);
  });

  it('delivers through the real-mode IVT', () => {
    const t = makeCore();
    const { cpu } = t;
    // (sti; hlt: the shadow covers the HLT, so the pending ExtINT wakes it; after "sti; nop"
    // it would be taken right after the nop, before the HLT)
    load(t, 0x7c00, assemble('.code16\nsti\nhlt\nint $0x10\nhlt', 0x7c00));
    // IVT[0x10] -> 0x0800:0x0010; IVT[0x21] -> 0x0800:0x0020
    t.dv.setUint16(0x40, 0x10, true); t.dv.setUint16(0x42, 0x0800, true);
    t.dv.setUint16(0x84, 0x20, true); t.dv.setUint16(0x86, 0x0800, true);
    load(t, 0x8010, [0xcf]); // iret
    load(t, 0x8020, [0xcf]);
    cpu.segSel[CS] = 0; cpu.segBase[CS] = 0; cpu.rip = 0x7c00;
    cpu.segBase[2] = 0; cpu.lo[RSP] = 0x7000;
    postToCore(t.ctl, 0, DM_EXTINT, 0x21);
    // the ExtINT wakes the first HLT and returns after it; INT 0x10 goes through IVT[0x10]
    expect(cpu.run(100)).toBe(RUN_HALTED);
    expect(cpu.interruptsTaken).toBe(2);
    expect(cpu.rip).toBe(0x7c05);
    expect(cpu.lo[RSP] & 0xffff).toBe(0x7000);
    expect(t.dv.getUint16(0x7000 - 6, true)).toBe(0x7c04); // INT pushed FLAGS, CS, then the IP after itself
    expect(t.dv.getUint16(0x7000 - 2, true)).toBe(0x202);
  });

  it('keeps KSTACK alignment constant for hardware interrupts from ring 0', () => {
    const { t } = runWithFixedInterrupt('mov $0x8ff8, %esp\nsti\nnop\njmp .', 0x40);
    expect(t.cpu.lo[RSP] >>> 0).toBe(KSTACK_TOP - 0x10 - 40);
  });
});
