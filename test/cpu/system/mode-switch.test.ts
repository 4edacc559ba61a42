import { describe, expect, it } from 'vitest';
import { RUN_HALTED, RUN_WAIT_SIPI } from '../../../src/cpu/cpu.js';
import { CS, EFER_LMA, RAX } from '../../../src/cpu/regs.js';
import { resetCore, startFromSipi } from '../../../src/cpu/reset.js';
import { assemble, load, makeCore, readU64 } from './harness.js';

// Real mode (entered by a SIPI at 0x8000) -> 32-bit protected mode -> 4-level paging ->
// 64-bit long mode, the way an AP trampoline or a boot loader does it.
const CLIMB = `
.code16
start:
  cli
  lgdtl gdtr
  mov %cr0, %eax
  or $1, %eax
  mov %eax, %cr0
  ljmpl $0x08, $pm32
.code32
pm32:
  mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov $0x9000, %esp
  movl $0x11003, 0x10000
  movl $0x12003, 0x11000
  movl $0x83, 0x12000
  mov %cr4, %eax
  or $0x20, %eax
  mov %eax, %cr4
  mov $0x10000, %eax
  mov %eax, %cr3
  mov $0xc0000080, %ecx
  rdmsr
  or $0x900, %eax
  wrmsr
  mov %cr0, %eax
  or $0x80010000, %eax
  mov %eax, %cr0
  ljmp $0x18, $lm64
.code64
lm64:
  movabs $0x123456789abcdef0, %rax
  mov %rax, 0x7000
  push %rax
  hlt
.align 8
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff
  .quad 0x00cf92000000ffff
  .quad 0x00209a0000000000
gdtr:
  .word gdtr - gdt - 1
  .long gdt
`;

describe('mode switching', () => {
  it('climbs from real mode through protected mode to 64-bit long mode', () => {
    const t = makeCore();
    const { cpu } = t;
    resetCore(cpu, { bsp: false });
    expect(cpu.run(10)).toBe(RUN_WAIT_SIPI);
    load(t, 0x8000, assemble(CLIMB, 0x8000));
    startFromSipi(cpu, 0x08);
    expect(cpu.segSel[CS]).toBe(0x0800);
    expect(cpu.protectedMode).toBe(false);
    expect(cpu.run(1000)).toBe(RUN_HALTED);
    expect(cpu.deadReason).toBe('');
    expect(cpu.mode64).toBe(true);
    expect(cpu.protectedMode).toBe(true);
    expect(cpu.pagingMode).toBe(4);
    expect(cpu.efer & EFER_LMA).toBe(EFER_LMA);
    expect(cpu.cpl).toBe(0);
    expect(cpu.segSel[CS]).toBe(0x18);
    expect(readU64(t, 0x7000)).toBe(0x123456789abcdef0);
    expect(readU64(t, 0x9000 - 8)).toBe(0x123456789abcdef0);
    expect(cpu.lo[RAX] >>> 0).toBe(0x9abcdef0);
  });
});
