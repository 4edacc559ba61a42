// When SSE instructions fault: #UD without CR4.OSFXSR or with CR0.EM, #NM with CR0.TS, #GP(0)
// for misaligned 16-byte operands of the aligned forms, #XM (or #UD without CR4.OSXMMEXCPT)
// for unmasked SIMD exceptions with the destination untouched, LDMXCSR reserved bits, and
// MOVNTI needing no SSE state at all.

import { describe, expect, it } from 'vitest';
import { CR0_EM, CR0_TS, CR4_OSFXSR, CR4_OSXMMEXCPT, GP, NM, UD, XM } from '../../../src/cpu/regs.js';
import { DATA, faultOf, getX, run, setSd, setX, sseCore } from './harness.js';

describe('availability gate', () => {
  it('#UD with CR4.OSFXSR clear, before any memory access', () => {
    const t = sseCore();
    t.cpu.cr4 &= ~CR4_OSFXSR;
    expect(faultOf(t, run(t, 'xorps %xmm0, %xmm0'))).toBe(UD);
    expect(faultOf(t, run(t, 'movaps 0x7ffff000, %xmm0'))).toBe(UD); // unmapped: #UD comes first
    expect(faultOf(t, run(t, 'ldmxcsr 0x30000'))).toBe(UD);
  });
  it('#UD with CR0.EM, #NM with CR0.TS', () => {
    const t = sseCore();
    t.cpu.cr0 |= CR0_EM;
    expect(faultOf(t, run(t, 'addps %xmm1, %xmm0'))).toBe(UD);
    t.cpu.cr0 = (t.cpu.cr0 & ~CR0_EM) | CR0_TS;
    expect(faultOf(t, run(t, 'paddd %xmm1, %xmm0'))).toBe(NM);
    expect(faultOf(t, run(t, 'fxsave 0x30000'))).toBe(NM);
    expect(faultOf(t, run(t, 'fld1'))).toBe(NM);
    t.cpu.cr0 &= ~CR0_TS;
    expect(faultOf(t, run(t, 'paddd %xmm1, %xmm0'))).toBe(-1);
  });
  it('MOVNTI is a plain GPR store without SSE state', () => {
    const t = sseCore();
    t.cpu.cr4 &= ~CR4_OSFXSR;
    t.cpu.cr0 |= CR0_TS;
    expect(faultOf(t, run(t, `mov $0x12345678, %eax\nmovnti %eax, ${DATA}`))).toBe(-1);
    expect(t.dv.getUint32(DATA, true)).toBe(0x12345678);
  });
});

describe('alignment', () => {
  it('aligned forms raise #GP(0) on a misaligned operand, unaligned forms do not', () => {
    const t = sseCore();
    expect(faultOf(t, run(t, `movaps ${DATA + 8}, %xmm0`))).toBe(GP);
    expect(t.cpu.faultCode).toBe(0);
    expect(faultOf(t, run(t, `movdqa %xmm0, ${DATA + 4}`))).toBe(GP);
    expect(faultOf(t, run(t, `addpd ${DATA + 8}, %xmm0`))).toBe(GP);
    expect(faultOf(t, run(t, `pshufd $0, ${DATA + 1}, %xmm0`))).toBe(GP);
    expect(faultOf(t, run(t, `movups ${DATA + 1}, %xmm0\nmovdqu %xmm0, ${DATA + 3}`))).toBe(-1);
    expect(faultOf(t, run(t, `addsd ${DATA + 1}, %xmm0\nmovlps ${DATA + 3}, %xmm0`))).toBe(-1);
    expect(faultOf(t, run(t, `fxsave ${DATA + 8}`))).toBe(GP);
  });
  it('a 16-byte store straddling a page writes nothing when the second page faults', () => {
    const t = sseCore();
    // make page 0x31000 read-only (supervisor writes fault with CR0.WP)
    t.dv.setUint32(0x4000 + (0x31000 >> 12) * 8, 0x31000 | 5, true);
    t.cpu.flushTlb(false);
    setX(t.cpu, 0, (1n << 128n) - 1n);
    expect(faultOf(t, run(t, `movdqu %xmm0, ${0x31000 - 8}`))).toBe(14);
    expect(t.dv.getUint32(0x31000 - 8, true)).toBe(0);
  });
});

describe('SIMD floating-point exceptions', () => {
  it('unmasked ZE raises #XM and leaves the destination alone', () => {
    const t = sseCore();
    setSd(t.cpu, 0, 1, 2);
    setSd(t.cpu, 1, 0, 1);
    const before = getX(t.cpu, 0);
    t.cpu.mxcsr = 0x1f80 & ~(0x04 << 7);
    expect(faultOf(t, run(t, 'divpd %xmm1, %xmm0'))).toBe(XM);
    expect(getX(t.cpu, 0)).toBe(before);
    expect(t.cpu.mxcsr & 0x3f).toBe(0x04);
  });
  it('without CR4.OSXMMEXCPT an unmasked exception is #UD', () => {
    const t = sseCore();
    t.cpu.cr4 &= ~CR4_OSXMMEXCPT;
    setSd(t.cpu, 0, 1);
    setSd(t.cpu, 1, 3);
    t.cpu.mxcsr = 0x1f80 & ~(0x20 << 7); // precision unmasked
    expect(faultOf(t, run(t, 'divsd %xmm1, %xmm0'))).toBe(UD);
  });
  it('an unmasked pre-computation exception in one lane suppresses the other lanes\' post flags', () => {
    const t = sseCore();
    setSd(t.cpu, 0, 1, 1);
    setSd(t.cpu, 1, 0, 3); // lane 0: ZE (unmasked), lane 1: PE (masked)
    t.cpu.mxcsr = 0x1f80 & ~(0x04 << 7);
    expect(faultOf(t, run(t, 'divpd %xmm1, %xmm0'))).toBe(XM);
    expect(t.cpu.mxcsr & 0x3f).toBe(0x04);
  });
  it('LDMXCSR with reserved bits is #GP(0); STMXCSR stores MXCSR', () => {
    const t = sseCore();
    t.dv.setUint32(DATA, 0x10000 | 0x1f80, true);
    expect(faultOf(t, run(t, `ldmxcsr ${DATA}`))).toBe(GP);
    t.dv.setUint32(DATA, 0x7fc0, true);
    expect(faultOf(t, run(t, `ldmxcsr ${DATA}\nstmxcsr ${DATA + 4}`))).toBe(-1);
    expect(t.cpu.mxcsr).toBe(0x7fc0);
    expect(t.dv.getUint32(DATA + 4, true)).toBe(0x7fc0);
  });
});
