import { describe, expect, it } from 'vitest';
import { RUN_HALTED } from '../../../src/cpu/cpu.js';
import { writeMsr } from '../../../src/cpu/msr.js';
import { BP, CS, GP, GS, MSR_FMASK, MSR_KERNEL_GS_BASE, MSR_LSTAR, MSR_STAR, R11, RCX, RDX, RSP, SS } from '../../../src/cpu/regs.js';
import {
  assemble, enterLongMode, dropToUser, haltedVector, HANDLER_BASE, KSTACK_TOP, load, makeCore, readU64, reg64,
  SEL_KCODE, SEL_UCODE, SEL_UDATA, setGate, u64, USTACK_TOP,
} from './harness.js';

const USER = 0x10000, KERNEL = 0x11000;

describe('SYSCALL / SYSRET with SWAPGS', () => {
  it('round-trips between ring 3 and ring 0', () => {
    const t = makeCore();
    const { cpu } = t;
    enterLongMode(t, USER);
    // STAR: SYSCALL CS = 0x08 (SS 0x10); SYSRET base 0x18 -> CS 0x28|3 (64-bit), SS 0x20|3
    expect(writeMsr(cpu, MSR_STAR, 0, (0x18 << 16) | 0x08)).toBe(true);
    expect(writeMsr(cpu, MSR_LSTAR, KERNEL, 0)).toBe(true);
    expect(writeMsr(cpu, MSR_FMASK, 0x200, 0)).toBe(true);
    expect(writeMsr(cpu, MSR_KERNEL_GS_BASE, 0x7000, 0)).toBe(true);
    u64(t, 0x7000, 0xcafe0001, 0x1234);
    cpu.segBase[GS] = 0x5000;
    load(t, USER, assemble('.code64\nsyscall\nint3', USER));
    load(t, KERNEL, assemble('.code64\nswapgs\nmov %gs:0, %rdx\nmov %rsp, %rbx\nswapgs\nsysretq', KERNEL));
    setGate(t, BP, HANDLER_BASE + BP * 16, { dpl: 3 });
    dropToUser(t, USER);
    cpu.flags |= 0x200 | 0x1; // IF, CF
    expect(cpu.run(100)).toBe(RUN_HALTED);
    expect(haltedVector(cpu)).toBe(BP);
    expect(reg64(cpu, RDX)).toBe(0x1234 * 2 ** 32 + 0xcafe0001);
    expect(reg64(cpu, RCX)).toBe(USER + 2);
    expect(cpu.lo[R11] & 0x201).toBe(0x201);
    expect(cpu.lo[3] >>> 0).toBe(USTACK_TOP); // SYSCALL does not switch stacks
    expect(cpu.segBase[GS]).toBe(0x5000);
    expect(cpu.kernelGsBase).toBe(0x7000);
    // the INT3 frame shows ring 3 after SYSRETQ
    const sp = cpu.lo[RSP] >>> 0;
    expect(readU64(t, sp)).toBe(USER + 3);
    expect(readU64(t, sp + 8)).toBe(SEL_UCODE);
    expect(readU64(t, sp + 32)).toBe(SEL_UDATA);
    expect(readU64(t, sp + 16) & 0x201).toBe(0x201);
  });

  it('SYSRET at CPL 3 and SWAPGS at CPL 3 raise #GP(0)', () => {
    for (const src of ['sysretq', 'swapgs']) {
      const t = makeCore();
      enterLongMode(t, USER);
      load(t, USER, assemble('.code64\n' + src, USER));
      dropToUser(t, USER);
      expect(t.cpu.run(10)).toBe(RUN_HALTED);
      expect(haltedVector(t.cpu)).toBe(GP);
    }
  });

  it('SYSRET without REX.W returns to 32-bit compatibility mode', () => {
    const t = makeCore();
    const { cpu } = t;
    enterLongMode(t, KERNEL);
    writeMsr(cpu, MSR_STAR, 0, (0x18 << 16) | 0x08);
    load(t, KERNEL, assemble('.code64\nmov $0x12000, %ecx\nsysretl', KERNEL));
    load(t, 0x12000, [0x0f, 0x0b]); // ud2 in compatibility mode
    expect(cpu.run(10)).toBe(RUN_HALTED);
    expect(haltedVector(cpu)).toBe(6);
    const sp = cpu.lo[RSP] >>> 0;
    expect(readU64(t, sp)).toBe(0x12000);
    expect(readU64(t, sp + 8)).toBe(0x1b);
  });
});

describe('INT 0x80 gate and IRETQ', () => {
  it('enters ring 0 on RSP0 and IRETQ returns to ring 3', () => {
    const t = makeCore();
    const { cpu } = t;
    enterLongMode(t, USER);
    setGate(t, 0x80, KERNEL, { dpl: 3 });
    setGate(t, BP, HANDLER_BASE + BP * 16, { dpl: 3 });
    load(t, USER, assemble('.code64\nmov $5, %eax\nint $0x80\nint3', USER));
    load(t, KERNEL, assemble('.code64\nmov %rsp, %rbx\nmov %cs, %ecx\nadd $10, %eax\niretq', KERNEL));
    dropToUser(t, USER);
    expect(cpu.run(100)).toBe(RUN_HALTED);
    expect(haltedVector(cpu)).toBe(BP);
    expect(cpu.lo[0]).toBe(15);
    expect(cpu.lo[3] >>> 0).toBe(KSTACK_TOP - 40); // kernel RSP inside the gate
    expect(cpu.lo[1]).toBe(SEL_KCODE);
    // INT3 (from ring 3 again) pushed its frame on RSP0 too: RIP CS RFLAGS RSP SS
    expect(readU64(t, KSTACK_TOP - 40)).toBe(USER + 8);
    expect(readU64(t, KSTACK_TOP - 32)).toBe(SEL_UCODE);
    expect(readU64(t, KSTACK_TOP - 16)).toBe(USTACK_TOP);
    expect(readU64(t, KSTACK_TOP - 8)).toBe(SEL_UDATA);
    expect(cpu.lo[RSP] >>> 0).toBe(KSTACK_TOP - 40);
  });

  it('IRETQ to ring 3 with a bad SS faults with the selector', () => {
    const t = makeCore();
    const { cpu } = t;
    enterLongMode(t, KERNEL);
    // frame: RIP, CS=user code, RFLAGS, RSP, SS=kernel data|3 (DPL 0: invalid)
    load(t, KERNEL, assemble(`.code64
      pushq $0x13
      pushq $0xc000
      pushq $2
      pushq $0x2b
      pushq $0x10000
      iretq`, KERNEL));
    expect(cpu.run(20)).toBe(RUN_HALTED);
    expect(haltedVector(cpu)).toBe(GP);
    expect(readU64(t, cpu.lo[RSP] >>> 0)).toBe(0x10);
    expect(cpu.cpl).toBe(0);
  });

  it('far return to an outer level loads SS:RSP and nulls inaccessible data segments', () => {
    const t = makeCore();
    const { cpu } = t;
    enterLongMode(t, KERNEL);
    load(t, KERNEL, assemble(`.code64
      mov $0x10, %eax
      mov %eax, %ds
      pushq $0x23
      pushq $0xbff0
      pushq $0x2b
      pushq $0x10000
      lretq`, KERNEL));
    load(t, USER, [0xcc]);
    setGate(t, BP, HANDLER_BASE + BP * 16, { dpl: 3 });
    expect(cpu.run(20)).toBe(RUN_HALTED);
    expect(haltedVector(cpu)).toBe(BP);
    const sp = cpu.lo[RSP] >>> 0;
    expect(readU64(t, sp + 8)).toBe(SEL_UCODE);
    expect(readU64(t, sp + 24)).toBe(0xbff0);
    expect(cpu.segSel[3]).toBe(0); // DS (DPL 0) became null
  });
});

describe('far jumps and calls', () => {
  it('jumps to a 32-bit compatibility-mode segment and back with a far call/return', () => {
    const t = makeCore();
    const { cpu } = t;
    enterLongMode(t, KERNEL);
    // add a 32-bit kernel code segment at 0x40
    u64(t, 0x500 + 0x40, 0x0000ffff, 0x00cf9a00);
    cpu.gdtLimit = 0x47;
    load(t, KERNEL, assemble(`.code64
      ljmpl *target(%rip)
    target:
      .long 0x12000
      .word 0x40`, KERNEL));
    load(t, 0x12000, assemble(`.code32
      mov $0x8000, %esp
      lcall $0x40, $0x12100
      hlt`, 0x12000));
    load(t, 0x12100, assemble('.code32\nmov %cs, %eax\nlret', 0x12100));
    expect(cpu.run(50)).toBe(RUN_HALTED);
    expect(cpu.mode64).toBe(false);
    expect(cpu.segSel[CS]).toBe(0x40);
    expect(cpu.lo[0]).toBe(0x40);
    expect(cpu.rip).toBe(0x12000 + 5 + 7 + 1);
    expect(cpu.segSel[SS]).toBe(0x10);
  });
});
