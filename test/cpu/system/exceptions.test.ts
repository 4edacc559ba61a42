import { describe, expect, it } from 'vitest';
import { RUN_DEAD, RUN_FAULT, RUN_HALTED } from '../../../src/cpu/cpu.js';
import { CS, GP, PF_VEC, RSP, SS } from '../../../src/cpu/regs.js';
import {
  assemble, dropToUser, enterLongMode, haltedVector, IST1_TOP, IST2_TOP, KSTACK_TOP, load, makeCore, readU64,
  SEL_KCODE, SEL_UCODE, SEL_UDATA, setGate, setPte, USTACK_TOP, HANDLER_BASE, type TestCore,
} from './harness.js';

const CODE = 0x10000;

function run(t: TestCore, src: string, user = false): number {
  load(t, CODE, assemble('.code64\n' + src, CODE));
  if (user) dropToUser(t, CODE);
  return t.cpu.run(1000);
}

/** The 64-bit frame at RSP after an exception with an error code. */
function frame(t: TestCore): { code: number; rip: number; cs: number; rflags: number; rsp: number; ss: number } {
  const sp = t.cpu.lo[RSP] >>> 0;
  return {
    code: readU64(t, sp), rip: readU64(t, sp + 8), cs: readU64(t, sp + 16), rflags: readU64(t, sp + 24),
    rsp: readU64(t, sp + 32), ss: readU64(t, sp + 40),
  };
}

describe('#PF error codes and CR2', () => {
  it('not-present read: code 0, CR2 = address, RIP = faulting instruction', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    expect(run(t, 'nop\nmov 0x400010, %rax\nhlt')).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(PF_VEC);
    expect(t.cpu.cr2).toBe(0x400010);
    const f = frame(t);
    expect(f.code).toBe(0);
    expect(f.rip).toBe(CODE + 1);
    expect(f.cs).toBe(SEL_KCODE);
    expect(f.rsp).toBe(KSTACK_TOP);
  });

  it('write to a read-only page with CR0.WP: code P|W', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    setPte(t, 0x7000, 0x5); // present, user, read-only
    expect(run(t, 'movq $1, 0x7008\nhlt')).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(PF_VEC);
    expect(frame(t).code).toBe(0x3);
    expect(t.cpu.cr2).toBe(0x7008);
  });

  it('user read of a supervisor page: code P|U, delivered on RSP0 with SS:RSP pushed', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    setPte(t, 0x7000, 0x3); // present, writable, supervisor
    expect(run(t, 'mov 0x7000, %rax\nud2', true)).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(PF_VEC);
    const f = frame(t);
    expect(f.code).toBe(0x5);
    expect(f.cs).toBe(SEL_UCODE);
    expect(f.ss).toBe(SEL_UDATA);
    expect(f.rsp).toBe(USTACK_TOP);
    expect(t.cpu.lo[RSP] >>> 0).toBe(KSTACK_TOP - 48);
    expect(t.cpu.cpl).toBe(0);
    expect(t.cpu.segSel[SS]).toBe(0); // null SS with RPL 0
  });

  it('fetch from an NX page: code P|I', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    setPte(t, 0x15000, 0x7, true);
    t.ram[0x15000] = 0x90;
    expect(run(t, 'mov $0x15000, %eax\njmp *%rax')).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(PF_VEC);
    expect(frame(t).code).toBe(0x11);
    expect(frame(t).rip).toBe(0x15000);
    expect(t.cpu.cr2).toBe(0x15000);
  });

  it('keeps CR2 exact for higher-half addresses (MOV from CR2)', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    load(t, HANDLER_BASE + PF_VEC * 16, assemble('.code64\nmov %cr2, %rbx\nhlt', HANDLER_BASE + PF_VEC * 16));
    expect(run(t, 'movabs $0xffff800000001234, %rax\nmov (%rax), %rcx')).toBe(RUN_HALTED);
    expect(t.cpu.cr2).toBe(-(2 ** 47) + 0x1234);
    expect(t.cpu.hi[3] >>> 0).toBe(0xffff8000);
    expect(t.cpu.lo[3]).toBe(0x1234);
  });

  it('stopOnFault reports the fault without delivering it', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    t.cpu.stopOnFault = true;
    expect(run(t, 'movq $1, 0x400000')).toBe(RUN_FAULT);
    expect(t.cpu.faultVector).toBe(PF_VEC);
    expect(t.cpu.faultCode).toBe(0x2);
    expect(t.cpu.rip).toBe(CODE);
  });
});

describe('IDT delivery in long mode', () => {
  it('uses the IST stack named by the gate, aligned to 16', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    setGate(t, 6, HANDLER_BASE + 6 * 16, { ist: 1 });
    expect(run(t, 'mov $0x8ff8, %esp\nud2')).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(6);
    const sp = t.cpu.lo[RSP] >>> 0;
    expect(sp).toBe(IST1_TOP - 40); // no error code for #UD
    expect(readU64(t, sp)).toBe(CODE + 5);
    expect(readU64(t, sp + 24)).toBe(0x8ff8);
  });

  it('clears IF through an interrupt gate and keeps it through a trap gate', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    t.cpu.flags |= 0x200;
    setGate(t, 0x40, HANDLER_BASE + 0x40 * 16, { trap: true });
    expect(run(t, 'int $0x40')).toBe(RUN_HALTED);
    expect(t.cpu.flags & 0x200).toBe(0x200);
    const t2 = makeCore();
    enterLongMode(t2, CODE);
    t2.cpu.flags |= 0x200;
    expect(run(t2, 'int $0x40')).toBe(RUN_HALTED);
    expect(t2.cpu.flags & 0x200).toBe(0);
    expect(readU64(t2, (t2.cpu.lo[RSP] >>> 0) + 16) & 0x200).toBe(0x200); // saved RFLAGS
  });

  it('INT n from ring 3 through a DPL-0 gate raises #GP((n<<3)|2)', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    expect(run(t, 'int $0x41', true)).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(GP);
    expect(frame(t).code).toBe((0x41 << 3) | 2);
    expect(frame(t).rip).toBe(CODE);
  });

  it('a #PF whose IST stack is not present becomes #DF', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    setGate(t, PF_VEC, HANDLER_BASE + PF_VEC * 16, { ist: 1 });
    setGate(t, 8, HANDLER_BASE + 8 * 16, { ist: 2 });
    setPte(t, IST1_TOP - 0x1000, 0); // the IST1 stack page is not present
    expect(run(t, 'mov 0x400000, %rax')).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(8);
    const sp = t.cpu.lo[RSP] >>> 0;
    expect(sp).toBe(IST2_TOP - 48);
    expect(readU64(t, sp)).toBe(0); // #DF error code
    expect(readU64(t, sp + 8)).toBe(CODE);
    expect(t.cpu.cr2).toBe(IST1_TOP - 8); // the last #PF was the frame push
  });

  it('a fault while delivering #DF is a triple fault', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    setGate(t, PF_VEC, HANDLER_BASE + PF_VEC * 16, { ist: 1 });
    setGate(t, 8, HANDLER_BASE + 8 * 16, { present: false });
    setPte(t, IST1_TOP - 0x1000, 0);
    expect(run(t, 'mov 0x400000, %rax')).toBe(RUN_DEAD);
    expect(t.cpu.deadReason).toMatch(/^triple fault/);
  });

  it('#GP from a non-canonical access', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    expect(run(t, 'movabs $0x0000800000000000, %rbx\nmov (%rbx), %rax')).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(GP);
    expect(frame(t).code).toBe(0);
  });

  it('#NP for a gate that is not present, with the IDT error code', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    setGate(t, 0x50, HANDLER_BASE + 0x50 * 16, { present: false });
    expect(run(t, 'int $0x50')).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(11);
    expect(frame(t).code).toBe(0x50 * 8 + 2);
    expect(t.cpu.segSel[CS]).toBe(SEL_KCODE);
  });

  it('EFLAGS.TF set by IRETQ traps (#DB, DR6.BS) after the next instruction', () => {
    const t = makeCore();
    enterLongMode(t, CODE);
    const src = `
      mov %rsp, %rbx
      pushq $0x10
      pushq %rbx
      pushq $0x102
      pushq $0x08
      lea target(%rip), %rax
      pushq %rax
      iretq
    target:
      nop
      nop`;
    expect(run(t, src)).toBe(RUN_HALTED);
    expect(haltedVector(t.cpu)).toBe(1);
    const sp = t.cpu.lo[RSP] >>> 0;
    const target = readU64(t, sp) - 1;
    expect(t.ram[target]).toBe(0x90);
    expect(t.ram[target - 1]).toBe(0xcf); // the trap follows the first NOP after IRETQ
    expect(readU64(t, sp + 16) & 0x100).toBe(0x100); // saved RFLAGS still has TF
    expect(t.cpu.flags & 0x100).toBe(0); // the handler runs with TF clear
    expect(t.cpu.dr[6] & 0x4000).toBe(0x4000);
  });
});
