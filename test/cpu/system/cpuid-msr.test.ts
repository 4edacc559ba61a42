import { describe, expect, it } from 'vitest';
import { RUN_FAULT, RUN_HALTED } from '../../../src/cpu/cpu.js';
import { advertisedFeatures, cpuidLeaf, cpuidOut } from '../../../src/cpu/cpuid.js';
import { msrValue, readMsr, setTimeSource, writeMsr } from '../../../src/cpu/msr.js';
import {
  GP, MSR_APIC_BASE, MSR_EFER, MSR_FS_BASE, MSR_MTRRCAP, MSR_PAT, MSR_TSC, MSR_TSC_AUX, MSR_TSC_DEADLINE, RAX, RCX, RDX,
  FS,
} from '../../../src/cpu/regs.js';
import { assemble, enterLongMode, FakeLapic, load, makeCore } from './harness.js';

function leaf(l: number, s = 0, core = 0, n = 2): [number, number, number, number] {
  cpuidLeaf(l, s, core, n);
  return [cpuidOut.eax >>> 0, cpuidOut.ebx >>> 0, cpuidOut.ecx >>> 0, cpuidOut.edx >>> 0];
}

function str(...regs: number[]): string {
  let s = '';
  for (const r of regs) for (let i = 0; i < 4; i++) s += String.fromCharCode((r >>> (8 * i)) & 0xff);
  return s.replace(/\0+$/, '');
}

describe('CPUID', () => {
  it('identifies a GenuineIntel family-6 processor with consistent limits', () => {
    const [max, b, c, d] = leaf(0);
    expect(str(b, d, c)).toBe('GenuineIntel');
    expect(max).toBeGreaterThanOrEqual(0xb);
    const [sig] = leaf(1);
    expect((sig >>> 8) & 0xf).toBe(6);
    expect(leaf(0x80000000)[0]).toBe(0x80000008);
    const brand = [0x80000002, 0x80000003, 0x80000004].flatMap((l) => leaf(l));
    expect(str(...brand)).toBe('parallax-emu x86-64 CPU');
    const [addr] = leaf(0x80000008);
    expect(addr & 0xff).toBe(40);
    expect((addr >>> 8) & 0xff).toBe(48);
    // beyond the maximum: the highest basic leaf
    expect(leaf(0x40000000)).toEqual(leaf(max));
  });

  it('reports the core index as the initial APIC ID and the topology', () => {
    expect(leaf(1, 0, 3, 4)[1] >>> 24).toBe(3);
    expect((leaf(1, 0, 3, 4)[1] >>> 16) & 0xff).toBe(4);
    const [, ebx1, ecx1, edx1] = leaf(0xb, 1, 3, 4);
    expect(ebx1).toBe(4);
    expect((ecx1 >>> 8) & 0xff).toBe(2); // core level
    expect(edx1).toBe(3);
    expect(leaf(0xb, 0, 3, 4)[1]).toBe(1); // one thread per core
  });

  it('advertises the system features this core implements and no hypervisor', () => {
    const [, , ecx, edx] = leaf(1);
    const ext = leaf(0x80000001);
    for (const bit of [4, 5, 6, 9, 11, 12, 13, 16]) expect((edx >>> bit) & 1).toBe(1); // TSC MSR PAE APIC SEP MTRR PGE PAT
    expect((ecx >>> 31) & 1).toBe(0);
    expect((ecx >>> 21) & 1).toBe(0); // no x2APIC
    expect((ecx >>> 26) & 1).toBe(0); // no XSAVE
    expect((ecx >>> 24) & 1).toBe(1); // TSC deadline
    expect((ext[3] >>> 29) & 1).toBe(1); // LM
    expect((ext[3] >>> 20) & 1).toBe(1); // NX
    expect((ext[3] >>> 11) & 1).toBe(1); // SYSCALL
    expect((ext[3] >>> 27) & 1).toBe(1); // RDTSCP
    const f = advertisedFeatures();
    expect(f.leaf1Edx).toBe(edx);
    expect(f.names).toContain('lm');
    const [a15, b15, c15] = leaf(0x15);
    expect((c15 * b15) / a15).toBe(1e9);
  });

  it('runs as an instruction', () => {
    const t = makeCore();
    enterLongMode(t, 0x10000);
    load(t, 0x10000, assemble('.code64\nxor %eax, %eax\ncpuid\nhlt', 0x10000));
    expect(t.cpu.run(10)).toBe(RUN_HALTED);
    expect(str(t.cpu.lo[3], t.cpu.lo[RDX], t.cpu.lo[RCX])).toBe('GenuineIntel');
  });
});

describe('MSRs', () => {
  it('raises #GP(0) for unknown MSRs and read-only writes', () => {
    const t = makeCore();
    enterLongMode(t, 0x10000);
    t.cpu.stopOnFault = true;
    load(t, 0x10000, assemble('.code64\nmov $0x12345, %ecx\nrdmsr', 0x10000));
    expect(t.cpu.run(10)).toBe(RUN_FAULT);
    expect(t.cpu.faultVector).toBe(GP);
    expect(t.cpu.faultCode).toBe(0);
    expect(t.cpu.rip).toBe(0x10005);
    expect(writeMsr(t.cpu, MSR_MTRRCAP, 0, 0)).toBe(false);
    expect(writeMsr(t.cpu, 0xdeadbeef, 0, 0)).toBe(false);
    expect(writeMsr(t.cpu, MSR_FS_BASE, 0, 0x8000)).toBe(false); // non-canonical
    expect(writeMsr(t.cpu, MSR_PAT, 0x02, 0)).toBe(false); // type 2 is reserved
    expect(writeMsr(t.cpu, MSR_EFER, 1 << 1, 0)).toBe(false);
  });

  it('RDMSR/WRMSR at CPL 3 raise #GP(0)', () => {
    const t = makeCore();
    enterLongMode(t, 0x10000);
    t.cpu.stopOnFault = true;
    load(t, 0x10000, assemble('.code64\nmov $0x10, %ecx\nrdmsr', 0x10000));
    t.cpu.cpl = 3; // CPL only (no segment change needed for the check)
    t.cpu.selectTlbSet();
    expect(t.cpu.run(10)).toBe(RUN_FAULT);
    expect(t.cpu.faultVector).toBe(GP);
  });

  it('keeps FS base, TSC_AUX, MTRRs, PAT; TSC writes set an offset', () => {
    const t = makeCore();
    const { cpu } = t;
    let now = 1000;
    setTimeSource(cpu, () => now);
    expect(writeMsr(cpu, MSR_FS_BASE, 0x1000, 0xffff8000)).toBe(true);
    expect(cpu.segBase[FS]).toBe(-(2 ** 47) + 0x1000);
    expect(readMsr(cpu, MSR_FS_BASE)).toBe(true);
    expect([msrValue.lo >>> 0, msrValue.hi >>> 0]).toEqual([0x1000, 0xffff8000]);
    expect(writeMsr(cpu, MSR_TSC, 5_000_000, 0)).toBe(true);
    now = 2000;
    readMsr(cpu, MSR_TSC);
    expect(msrValue.lo).toBe(5_001_000);
    expect(writeMsr(cpu, 0x200, 0x6, 0)).toBe(true);
    expect(readMsr(cpu, 0x200) && msrValue.lo).toBe(6);
    expect(writeMsr(cpu, MSR_TSC_AUX, 7, 0)).toBe(true);
    readMsr(cpu, MSR_MTRRCAP);
    expect(msrValue.lo & 0xff).toBe(8);
  });

  it('routes APIC_BASE and TSC_DEADLINE to the LAPIC and RDTSCP returns TSC_AUX', () => {
    const t = makeCore();
    const { cpu } = t;
    const lapic = new FakeLapic();
    cpu.lapic = lapic;
    setTimeSource(cpu, () => 100);
    expect(readMsr(cpu, MSR_APIC_BASE)).toBe(true);
    expect(msrValue.lo >>> 0).toBe(0xfee00900);
    writeMsr(cpu, MSR_TSC, 1100, 0); // offset +1000
    writeMsr(cpu, MSR_TSC_DEADLINE, 5000, 0);
    expect(lapic.deadline).toBe(4000);
    readMsr(cpu, MSR_TSC_DEADLINE);
    expect(msrValue.lo).toBe(5000);
    writeMsr(cpu, MSR_TSC_AUX, 3, 0);
    enterLongMode(t, 0x10000);
    load(t, 0x10000, assemble('.code64\nrdtscp\nhlt', 0x10000));
    expect(cpu.run(10)).toBe(RUN_HALTED);
    expect(cpu.lo[RCX]).toBe(3);
    expect(cpu.lo[RAX]).toBe(1100);
  });
});
