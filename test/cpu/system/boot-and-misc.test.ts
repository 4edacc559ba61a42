import { describe, expect, it } from 'vitest';
import { RUN_FAULT, RUN_HALTED } from '../../../src/cpu/cpu.js';
import { writeMsr } from '../../../src/cpu/msr.js';
import {
  CR0_TS, CS, DS, GP, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, RAX, RBX, RSP, SS, UD,
} from '../../../src/cpu/regs.js';
import { setBootState, type BootEntry, type PowerOnEntry } from '../../../src/cpu/reset.js';
import { ATTR_CODE32, ATTR_DATA32, setSegCache, updateMode } from '../../../src/cpu/segmentation.js';
import { assemble, load, makeCore, u64, type TestCore } from './harness.js';

function flat(selector: number, attributes: number) {
  return { selector, base: 0, limit: 0xffffffff, attributes };
}

/** a loader's entry state (not a power-on reset): its fields can be changed before setBootState */
function protected32Plan(rip: number): Exclude<BootEntry, PowerOnEntry> {
  const d = flat(0x10, 0xc093);
  return {
    mode: 'protected32',
    regs: { eax: 0x2badb002, ebx: 0x9500, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0, esp: 0, rdi: 0, rsi: 0, rsp: 0, rip, rflags: 2 },
    segments: { cs: flat(0x08, 0xc09b), ds: d, es: d, fs: d, gs: d, ss: d },
    gdt: { base: 0xe0000, limit: 0x2f },
    idt: { base: 0, limit: 0 },
    control: { cr0: 0x11, cr3: 0, cr4: 0, efer: 0 },
  };
}

describe('boot entry states', () => {
  it('enters 32-bit protected mode flat with the Multiboot registers', () => {
    const t = makeCore();
    setBootState(t.cpu, protected32Plan(0x100000));
    load(t, 0x100000, assemble('.code32\nmov %eax, %ecx\nhlt', 0x100000));
    expect(t.cpu.run(10)).toBe(RUN_HALTED);
    expect(t.cpu.protectedMode).toBe(true);
    expect(t.cpu.def32).toBe(true);
    expect(t.cpu.pagingMode).toBe(0);
    expect(t.cpu.lo[1] >>> 0).toBe(0x2badb002);
    expect(t.cpu.lo[RBX]).toBe(0x9500);
    expect(t.cpu.segSel[CS]).toBe(0x08);
    expect(t.cpu.flags & 0x200).toBe(0);
  });

  it('enters 64-bit long mode on the plan\'s page tables', () => {
    const t = makeCore();
    u64(t, 0x1000, 0x2003); // PML4 -> PDPT
    u64(t, 0x2000, 0x3003); // PDPT -> PD
    u64(t, 0x3000, 0x83); // 2 MiB identity
    u64(t, 0x3008, 0x200083);
    const plan = protected32Plan(0x100000);
    plan.mode = 'long64';
    plan.segments.cs = flat(0x28, 0xa09b);
    plan.control = { cr0: 0x80010033, cr3: 0x1000, cr4: 0x20, efer: 0xd00 };
    plan.regs.rsp = 0x90000;
    plan.regs.rdi = 0x1234;
    setBootState(t.cpu, plan);
    load(t, 0x100000, assemble('.code64\npush %rdi\nhlt', 0x100000));
    expect(t.cpu.run(10)).toBe(RUN_HALTED);
    expect(t.cpu.mode64).toBe(true);
    expect(t.cpu.pagingMode).toBe(4);
    expect(t.dv.getUint32(0x90000 - 8, true)).toBe(0x1234);
  });
});

function pm32(t: TestCore): void {
  const { cpu } = t;
  u64(t, 0x500, 0, 0);
  u64(t, 0x508, 0x0000ffff, 0x00cf9a00); // 0x08 code0
  u64(t, 0x510, 0x0000ffff, 0x00cf9200); // 0x10 data0
  u64(t, 0x518, 0x0000ffff, 0x00cffa00); // 0x18 code3
  u64(t, 0x520, 0x0000ffff, 0x00cff200); // 0x20 data3
  cpu.gdtBase = 0x500; cpu.gdtLimit = 0x27;
  cpu.cr0 = 0x11;
  setSegCache(cpu, CS, 0x08, 0, 0xffffffff, ATTR_CODE32);
  for (const s of [0, 2, 3, 4, 5]) setSegCache(cpu, s, 0x10, 0, 0xffffffff, ATTR_DATA32);
  cpu.lo[RSP] = 0x9000;
  updateMode(cpu);
}

describe('SYSENTER / SYSEXIT', () => {
  it('enters ring 0 at SYSENTER_EIP and SYSEXIT returns to ring 3 at EDX/ECX', () => {
    const t = makeCore();
    const { cpu } = t;
    pm32(t);
    writeMsr(cpu, MSR_SYSENTER_CS, 0x08, 0);
    writeMsr(cpu, MSR_SYSENTER_ESP, 0x8800, 0);
    writeMsr(cpu, MSR_SYSENTER_EIP, 0x11000, 0);
    load(t, 0x11000, assemble('.code32\nmov %esp, %ebx\nmov $0x10100, %edx\nmov $0xbf00, %ecx\nsysexit', 0x11000));
    load(t, 0x10000, assemble('.code32\nsysenter', 0x10000));
    load(t, 0x10100, assemble('.code32\nmov %cs, %eax\nhlt', 0x10100));
    cpu.rip = 0x10000;
    cpu.stopOnFault = true;
    expect(cpu.run(20)).toBe(RUN_FAULT); // HLT at CPL 3
    expect(cpu.faultVector).toBe(GP);
    expect(cpu.lo[RBX]).toBe(0x8800);
    expect(cpu.lo[RAX]).toBe(0x1b);
    expect(cpu.segSel[SS]).toBe(0x23);
    expect(cpu.lo[RSP]).toBe(0xbf00);
    expect(cpu.cpl).toBe(3);
  });
});

describe('control registers', () => {
  it('CLTS, LMSW, SMSW and MOV DR behave', () => {
    const t = makeCore();
    const { cpu } = t;
    pm32(t);
    cpu.cr0 |= CR0_TS;
    load(t, 0x10000, assemble(`.code32
      clts
      smsw %eax
      mov $0xe, %ecx
      lmsw %cx
      smsw %edx
      mov $0x1234, %esi
      mov %esi, %dr0
      mov %dr0, %edi
      mov %dr6, %ebx
      mov %dr7, %ebp
      hlt`, 0x10000));
    cpu.rip = 0x10000;
    expect(cpu.run(30)).toBe(RUN_HALTED);
    expect(cpu.lo[RAX] & 8).toBe(0);
    expect(cpu.lo[2] & 0xf).toBe(0xf); // LMSW cannot clear PE
    expect(cpu.lo[7]).toBe(0x1234);
    expect(cpu.lo[RBX] >>> 0).toBe(0xffff0ff0);
    expect(cpu.lo[5]).toBe(0x400);
  });

  it('rejects reserved CR4 bits and paging without protection', () => {
    for (const src of ['mov $0x40000, %eax\nmov %eax, %cr4', 'mov $0x80000000, %eax\nmov %eax, %cr0', 'mov %cr1, %eax']) {
      const t = makeCore();
      pm32(t);
      t.cpu.stopOnFault = true;
      load(t, 0x10000, assemble('.code32\n' + src, 0x10000));
      t.cpu.rip = 0x10000;
      expect(t.cpu.run(10), src).toBe(RUN_FAULT);
      expect(t.cpu.faultVector, src).toBe(src.includes('cr1') ? UD : GP);
    }
  });
});

describe('real mode', () => {
  it('far call/return, segment loads and 16-bit push/pop of segment registers', () => {
    const t = makeCore();
    const { cpu } = t;
    load(t, 0x7c00, assemble(`.code16
      mov $0x7000, %sp
      lcall $0x1000, $0x0010
      mov $0x2000, %ax
      mov %ax, %ds
      movw $0xabcd, (0x10)
      push %ds
      pop %es
      hlt`, 0x7c00));
    load(t, 0x10010, assemble('.code16\nmov %cs, %bx\nlret', 0x10010));
    cpu.segSel[CS] = 0; cpu.segBase[CS] = 0; cpu.rip = 0x7c00;
    expect(cpu.run(50)).toBe(RUN_HALTED);
    expect(cpu.lo[RBX] & 0xffff).toBe(0x1000);
    expect(cpu.segSel[CS]).toBe(0);
    expect(cpu.segBase[DS]).toBe(0x20000);
    expect(cpu.segSel[0]).toBe(0x2000);
    expect(t.dv.getUint16(0x20010, true)).toBe(0xabcd);
    expect(cpu.lo[RSP] & 0xffff).toBe(0x7000);
  });
});
