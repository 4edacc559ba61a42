import { describe, expect, it } from 'vitest';
import { RUN_FAULT, RUN_HALTED } from '../../../src/cpu/cpu.js';
import { CR0_ET, CR0_PE, CS, DS, ES, FS, GP, GS, IF, NP, RSP, SS, SS_VEC, TR } from '../../../src/cpu/regs.js';
import { ATTR_CODE32, ATTR_DATA32, setSegCache, updateMode } from '../../../src/cpu/segmentation.js';
import { assemble, load, makeCore, u64, type TestCore } from './harness.js';

// 32-bit protected mode without paging. GDT: 0x08 code0, 0x10 data0, 0x18 code3, 0x20 data3,
// 0x28 TSS (32-bit), 0x30 data DPL0 not present, 0x38 LDT (one data segment at 0x100000).
const GDT = 0x500, TSS = 0x600, IDT = 0x3000, LDT = 0x2800, HANDLERS = 0x20000;
const KSTACK = 0x9000, USTACK = 0xc000, CODE = 0x10000;

function enterProtected32(t: TestCore, user: boolean): void {
  const { cpu } = t;
  const d: [number, number][] = [
    [0, 0], [0x0000ffff, 0x00cf9a00], [0x0000ffff, 0x00cf9200], [0x0000ffff, 0x00cffa00], [0x0000ffff, 0x00cff200],
    [((TSS & 0xffff) << 16) | 0x2067, 0x00008900], [0x0000ffff, 0x00cf1200],
    [((LDT & 0xffff) << 16) | 0x7, 0x00008200],
  ];
  d.forEach(([lo, hi], i) => u64(t, GDT + i * 8, lo, hi));
  u64(t, LDT, 0x0000ffff, 0x00cff210); // LDT[0]: data DPL3, base 0x100000
  t.dv.setUint32(TSS + 4, KSTACK, true);
  t.dv.setUint32(TSS + 8, 0x10, true);
  t.dv.setUint16(TSS + 0x66, 0x68, true); // I/O bitmap right after the TSS
  t.ram.fill(0xff, TSS + 0x68, TSS + 0x68 + 0x2000);
  t.ram[TSS + 0x68 + (0x80 >> 3)] = 0xfe; // port 0x80 allowed
  for (let v = 0; v < 256; v++) {
    const h = HANDLERS + v * 16;
    t.ram[h] = 0xf4;
    t.dv.setUint32(IDT + v * 8, (0x08 << 16) | (h & 0xffff), true);
    t.dv.setUint32(IDT + v * 8 + 4, ((h & 0xffff0000) | 0x8e00 | (v === 0x80 ? 0x6000 : 0)) >>> 0, true);
  }
  cpu.gdtBase = GDT; cpu.gdtLimit = d.length * 8 - 1;
  cpu.idtBase = IDT; cpu.idtLimit = 0x7ff;
  cpu.cr0 = CR0_PE | CR0_ET;
  setSegCache(cpu, TR, 0x28, TSS, 0x2067, 0x8b);
  if (user) {
    setSegCache(cpu, CS, 0x1b, 0, 0xffffffff, ATTR_CODE32 | 0x60);
    for (const s of [DS, ES, SS, FS, GS]) setSegCache(cpu, s, 0x23, 0, 0xffffffff, ATTR_DATA32 | 0x60);
    cpu.lo[RSP] = USTACK;
  } else {
    setSegCache(cpu, CS, 0x08, 0, 0xffffffff, ATTR_CODE32);
    for (const s of [DS, ES, SS, FS, GS]) setSegCache(cpu, s, 0x10, 0, 0xffffffff, ATTR_DATA32);
    cpu.lo[RSP] = KSTACK;
  }
  updateMode(cpu);
  cpu.rip = CODE;
}

function run32(t: TestCore, src: string, user = false): number {
  enterProtected32(t, user);
  load(t, CODE, assemble('.code32\n' + src, CODE));
  return t.cpu.run(200);
}

const u32 = (t: TestCore, a: number): number => t.dv.getUint32(a, true);
const vectorOf = (t: TestCore): number => (t.cpu.rip - 1 - HANDLERS) / 16;

describe('32-bit protected mode', () => {
  it('a ring-3 fault switches to SS0:ESP0 from the TSS and pushes SS:ESP', () => {
    const t = makeCore();
    expect(run32(t, 'mov $0x41, %al\nout %al, $0x80\nout %al, $0x81', true)).toBe(RUN_HALTED);
    expect(vectorOf(t)).toBe(GP);
    expect(t.bus.writes).toEqual([[0x80, 1, 0x41]]);
    const sp = t.cpu.lo[RSP] >>> 0;
    expect(sp).toBe(KSTACK - 24);
    expect(u32(t, sp)).toBe(0); // error code
    expect(u32(t, sp + 4)).toBe(CODE + 4); // faulting OUT
    expect(u32(t, sp + 8)).toBe(0x1b);
    expect(u32(t, sp + 16)).toBe(USTACK);
    expect(u32(t, sp + 20)).toBe(0x23);
    expect(t.cpu.segSel[SS]).toBe(0x10);
    expect(t.cpu.cpl).toBe(0);
  });

  it('IN/OUT at CPL 0 go to the bus; INS/OUTS with REP move strings', () => {
    const t = makeCore();
    t.bus.portValues.set(0x60, 0x1c);
    t.bus.portValues.set(0x1f0, 0xbeef);
    t.dv.setUint32(0x5000, 0x64636261, true);
    const src = `
      mov $0x3f8, %dx
      mov $0x41, %al
      out %al, %dx
      in $0x60, %al
      mov %eax, %ebx
      mov $0x1f0, %dx
      mov $0x4000, %edi
      mov $3, %ecx
      cld
      rep insw
      mov $0x5000, %esi
      mov $0xe9, %dx
      mov $4, %ecx
      rep outsb
      mov $0x12345678, %eax
      out %eax, $0xf4
      hlt`;
    expect(run32(t, src)).toBe(RUN_HALTED);
    expect(t.cpu.lo[3] & 0xff).toBe(0x1c);
    expect(t.dv.getUint16(0x4000, true)).toBe(0xbeef);
    expect(t.dv.getUint16(0x4004, true)).toBe(0xbeef);
    expect(t.cpu.lo[7]).toBe(0x4006);
    expect(t.bus.writes).toEqual([
      [0x3f8, 1, 0x41], [0xe9, 1, 0x61], [0xe9, 1, 0x62], [0xe9, 1, 0x63], [0xe9, 1, 0x64], [0xf4, 4, 0x12345678],
    ]);
  });

  it('CLI at CPL 3 with IOPL 0 raises #GP; INT 0x80 (DPL 3 gate) returns with IRET', () => {
    const t = makeCore();
    enterProtected32(t, true);
    load(t, HANDLERS + 0x80 * 16, assemble('.code32\nmov $0x77, %ebx\niret', HANDLERS + 0x800));
    load(t, CODE, assemble('.code32\nint $0x80\nmov %ebx, %ecx\ncli', CODE));
    expect(t.cpu.run(100)).toBe(RUN_HALTED);
    expect(vectorOf(t)).toBe(GP);
    expect(t.cpu.lo[1]).toBe(0x77);
    expect(u32(t, (t.cpu.lo[RSP] >>> 0) + 4)).toBe(CODE + 4);
  });

  it('segment loads check type, privilege and presence', () => {
    const cases: [string, number, number][] = [
      ['mov $0x08, %ax\nmov %ax, %ss', GP, 0x08], // code segment into SS
      ['mov $0x30, %ax\nmov %ax, %ds', NP, 0x30], // not present
      ['mov $0x48, %ax\nmov %ax, %ds', GP, 0x48], // beyond the GDT limit
      ['mov $0x28, %ax\nmov %ax, %es', GP, 0x28], // system descriptor
      ['mov $0x23, %ax\nmov %ax, %ss', GP, 0x20], // RPL != CPL
      ['xor %eax, %eax\nmov %ax, %ss', GP, 0], // null SS
    ];
    for (const [src, vec, code] of cases) {
      const t = makeCore();
      enterProtected32(t, false);
      t.cpu.stopOnFault = true;
      load(t, CODE, assemble('.code32\n' + src, CODE));
      expect(t.cpu.run(20), src).toBe(RUN_FAULT);
      expect([t.cpu.faultVector, t.cpu.faultCode], src).toEqual([vec, code]);
    }
    // a not-present SS is #SS
    const t = makeCore();
    enterProtected32(t, false);
    u64(t, GDT + 0x30, 0x0000ffff, 0x00cf1200);
    t.cpu.stopOnFault = true;
    load(t, CODE, assemble('.code32\nmov $0x30, %ax\nmov %ax, %ss', CODE));
    expect(t.cpu.run(20)).toBe(RUN_FAULT);
    expect([t.cpu.faultVector, t.cpu.faultCode]).toEqual([SS_VEC, 0x30]);
  });

  it('LLDT/LTR/LAR/LSL/VERR/VERW and data loads through the LDT', () => {
    const t = makeCore();
    const src = `
      mov $0x38, %ax
      lldt %ax
      mov $0x07, %ax
      mov %ax, %fs
      movl $0x5a5a, %fs:0x10
      lar %ax, %ebx
      lsl %ax, %ecx
      mov $0x30, %ax
      verr %ax
      setz %dl
      mov $0x10, %ax
      verw %ax
      setz %dh
      hlt`;
    expect(run32(t, src)).toBe(RUN_HALTED);
    expect(u32(t, 0x100010)).toBe(0x5a5a);
    expect(t.cpu.lo[3] >>> 0).toBe(0x00cff300); // attributes (accessed bit set by the load) and limit 19:16, as processors return them
    expect(t.cpu.lo[1] >>> 0).toBe(0xffffffff);
    expect(t.cpu.lo[2] & 0xffff).toBe(0x0101); // VERR/VERW check type and privilege, not presence
  });

  it('LTR marks the TSS busy; a second LTR of it raises #GP', () => {
    const t = makeCore();
    enterProtected32(t, false);
    t.cpu.stopOnFault = true;
    load(t, CODE, assemble('.code32\nmov $0x28, %ax\nltr %ax\nltr %ax', CODE));
    expect(t.cpu.run(20)).toBe(RUN_FAULT);
    expect(t.cpu.rip).toBe(CODE + 7);
    expect([t.cpu.faultVector, t.cpu.faultCode]).toEqual([GP, 0x28]);
    expect((u32(t, GDT + 0x2c) >>> 8) & 0xf).toBe(0xb);
  });

  it('MOV SS blocks interrupts for one instruction and STI sets IF', () => {
    const t = makeCore();
    expect(run32(t, 'sti\nmov $0x10, %ax\nmov %ax, %ss\nhlt')).toBe(RUN_HALTED);
    expect(t.cpu.flags & IF).toBe(IF);
  });

  it('a far CALL through a call gate switches to ring 0, copies parameters, and RETF n returns', () => {
    const t = makeCore();
    enterProtected32(t, true);
    // GDT 0x40: 32-bit call gate DPL 3 -> 0x08:0x11000, 2 parameters
    u64(t, GDT + 0x40, (0x08 << 16) | 0x1000, 0x0001ec02);
    t.cpu.gdtLimit = 0x47;
    load(t, 0x11000, assemble('.code32\nmov 8(%esp), %ebx\nmov 12(%esp), %ecx\nmov %cs, %edx\nmov 16(%esp), %edi\nmov 20(%esp), %ebp\nlret $8', 0x11000));
    load(t, CODE, assemble('.code32\npush $0x22\npush $0x11\nlcall $0x43, $0\nmov %cs, %esi\nint3', CODE));
    expect(t.cpu.run(100)).toBe(RUN_HALTED);
    expect(vectorOf(t)).toBe(GP); // INT3 through a DPL-0 gate from ring 3
    expect(t.cpu.lo[3]).toBe(0x11);
    expect(t.cpu.lo[1]).toBe(0x22);
    expect(t.cpu.lo[2]).toBe(0x08);
    expect(t.cpu.lo[6]).toBe(0x1b);
    // the ring-0 frame: CS:EIP, the copied parameters, then the caller's SS:ESP
    expect(t.cpu.lo[7]).toBe(USTACK - 8);
    expect(t.cpu.lo[5]).toBe(0x23);
    // after RETF 8 the user stack dropped the parameters; the #GP frame records it
    expect(u32(t, (t.cpu.lo[RSP] >>> 0) + 16)).toBe(USTACK);
  });

  it('a long REP OUTSB is done in slices and completes', () => {
    const t = makeCore();
    expect(run32(t, 'mov $0x100000, %esi\nmov $0xe9, %dx\nmov $10000, %ecx\nrep outsb\nhlt')).toBe(RUN_HALTED);
    expect(t.bus.writes.length).toBe(10000);
    expect(t.cpu.lo[1]).toBe(0);
    expect(t.cpu.lo[6]).toBe(0x100000 + 10000);
  });
});
