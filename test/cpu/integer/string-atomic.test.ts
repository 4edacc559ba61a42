import { describe, expect, it } from 'vitest';
import { asm, CODE, DATA, expectRegs, makeCore, reg, rflags, runToEnd, runWith, setReg } from './core.js';

const CF = 1, ZF = 0x40;

describe('string instructions', () => {
  it('REP MOVSB copies across pages; forward overlap replicates like byte-by-byte copying', () => {
    const core = makeCore(64);
    for (let i = 0; i < 10000; i++) core.ram[DATA + i] = i & 0xff;
    setReg(core, 6, BigInt(DATA)); setReg(core, 7, BigInt(DATA + 0x4000)); setReg(core, 1, 10000n);
    runToEnd(core, asm(64, 'rep movsb'));
    for (const i of [0, 1, 4095, 4096, 9999]) expect(core.ram[DATA + 0x4000 + i]).toBe(i & 0xff);
    expectRegs(core, { 1: 0n, 6: BigInt(DATA + 10000) });
    // overlap: dst = src + 3 replicates the first three bytes
    core.ram.set([1, 2, 3], DATA);
    setReg(core, 6, BigInt(DATA)); setReg(core, 7, BigInt(DATA + 3)); setReg(core, 1, 30n);
    runToEnd(core, asm(64, 'rep movsb'));
    expect(Array.from(core.ram.subarray(DATA, DATA + 12))).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it('REP STOSQ / STOSD / STOSW fill; DF=1 goes downwards', () => {
    const core = runWith(64, { 0: 0x1122334455667788n, 7: BigInt(DATA), 1: 600n }, asm(64, 'rep stosq'));
    expect(core.dv.getBigUint64(DATA + 8 * 599, true)).toBe(0x1122334455667788n);
    expect(reg(core, 7)).toBe(BigInt(DATA + 4800));
    setReg(core, 7, BigInt(DATA + 0x2000)); setReg(core, 1, 3n);
    runToEnd(core, asm(64, 'std\nrep stosw\ncld'));
    expect(core.dv.getUint16(DATA + 0x2000 - 4, true)).toBe(0x7788);
    expect(reg(core, 7)).toBe(BigInt(DATA + 0x2000 - 6));
  });

  it('REPE CMPSB stops at the first difference; REPNE SCASB finds a byte', () => {
    const core = makeCore(64);
    core.ram.set([...'hello world'].map((c) => c.charCodeAt(0)), DATA);
    core.ram.set([...'hello there'].map((c) => c.charCodeAt(0)), DATA + 0x100);
    setReg(core, 6, BigInt(DATA)); setReg(core, 7, BigInt(DATA + 0x100)); setReg(core, 1, 11n);
    runToEnd(core, asm(64, 'repe cmpsb'));
    expect(reg(core, 1)).toBe(4n); // stopped after comparing 'w' with 't'
    expect(rflags(core) & ZF).toBe(0);
    setReg(core, 7, BigInt(DATA)); setReg(core, 1, 100n); setReg(core, 0, BigInt('w'.charCodeAt(0)));
    runToEnd(core, asm(64, 'repne scasb'));
    expect(reg(core, 7)).toBe(BigInt(DATA + 7));
    expect(rflags(core) & ZF).toBe(ZF);
  });

  it('LODS and a zero count do nothing beyond their definition', () => {
    const core = makeCore(64);
    core.dv.setUint32(DATA, 0xaabbccdd, true);
    setReg(core, 6, BigInt(DATA)); setReg(core, 0, 0xffffffff_ffffffffn); setReg(core, 1, 0n); setReg(core, 7, 0x7fff_0000_0000n);
    runToEnd(core, asm(64, 'lodsd\nrep stosb'));
    expectRegs(core, { 0: 0xaabbccddn, 6: BigInt(DATA + 4) });
  });

  it('a long REP re-executes itself in slices, and a fault mid-way leaves exact progress', () => {
    const core = makeCore(64);
    setReg(core, 7, BigInt(0x3ff000)); setReg(core, 1, 0x2000n); setReg(core, 0, 0x5an);
    // DF=1 from 0x3ff000 downwards never faults; upwards it runs off the 4 MiB map at 0x400000
    expect(() => runToEnd(core, asm(64, 'rep stosb'))).toThrow(/vector 14/);
    expectRegs(core, { 7: 0x400000n, 1: 0x1000n });
    expect(core.cpu.cr2).toBe(0x400000);
    expect(core.cpu.rip).toBe(CODE);
  });

  it('16-bit addressing: SI/DI wrap at 64 KiB and segment bases apply', () => {
    const core = makeCore(16);
    core.cpu.segBase[3] = 0x20000; // DS
    core.cpu.segBase[0] = 0x30000; // ES
    core.ram.set([9, 8, 7], 0x20000 + 0xffff);
    core.ram[0x20000] = 8; core.ram[0x20001] = 7;
    setReg(core, 6, 0xffffn); setReg(core, 7, 0x10n); setReg(core, 1, 3n);
    runToEnd(core, asm(16, 'rep movsb'));
    expect(Array.from(core.ram.subarray(0x30010, 0x30013))).toEqual([9, 8, 7]);
    expect(reg(core, 6)).toBe(2n);
  });

  it('REP STOSB over the code being executed invalidates the decoded block', () => {
    const core = makeCore(64);
    // overwrite the "mov eax, 1" that follows with NOPs, then run into it
    const code = asm(64, 'lea rdi, [rip + 1f]\nmov al, 0x90\nmov ecx, 5\nrep stosb\n1:\nmov eax, 1');
    setReg(core, 0, 0n);
    runToEnd(core, code);
    expect(reg(core, 0) & 0xffffff00n).toBe(0n);
  });
});

describe('LOCK and atomics (single thread)', () => {
  it('LOCK ADD/INC/XADD/XCHG/CMPXCHG on memory', () => {
    const core = makeCore(64);
    setReg(core, 3, BigInt(DATA));
    core.dv.setBigUint64(DATA, 10n, true);
    setReg(core, 1, 5n);
    runToEnd(core, asm(64, `
      lock add qword ptr [rbx], rcx
      lock inc dword ptr [rbx]
      mov edx, 100
      lock xadd dword ptr [rbx], edx
      mov esi, 7
      xchg dword ptr [rbx+8], esi
      mov eax, 116
      mov edi, 42
      lock cmpxchg dword ptr [rbx], edi
      setz r8b
      lock cmpxchg dword ptr [rbx], edi
      setz r9b`));
    expect(core.dv.getUint32(DATA, true)).toBe(42);
    expect(reg(core, 2)).toBe(16n);
    expect(core.dv.getUint32(DATA + 8, true)).toBe(7);
    expect(reg(core, 8) & 0xffn).toBe(1n);
    expect(reg(core, 9) & 0xffn).toBe(0n);
    expect(reg(core, 0)).toBe(42n); // the failed compare loaded the current value
  });

  it('LOCK BTS/BTR/NEG/NOT/SBB on memory', () => {
    const core = makeCore(64);
    setReg(core, 3, BigInt(DATA + 0x40));
    core.dv.setUint32(DATA + 0x40, 0x0f, true);
    runToEnd(core, asm(64, 'lock bts dword ptr [rbx], 4\nsetc al\nlock btr dword ptr [rbx], 0\nsetc ah\nlock not byte ptr [rbx+1]\nstc\nlock sbb word ptr [rbx+2], 1\nlock neg qword ptr [rbx+8]'));
    expect(core.dv.getUint32(DATA + 0x40, true)).toBe(0xfffeff1e);
    expect(reg(core, 0) & 0xffffn).toBe(0x0100n);
    expect(rflags(core) & CF).toBe(0);
  });

  it('CMPXCHG8B and CMPXCHG16B (16-byte alignment required)', () => {
    const core = makeCore(64);
    setReg(core, 6, BigInt(DATA + 0x80));
    core.dv.setBigUint64(DATA + 0x80, 0x1111111122222222n, true);
    core.dv.setBigUint64(DATA + 0x88, 0x3333333344444444n, true);
    setReg(core, 0, 0x22222222n); setReg(core, 2, 0x11111111n); setReg(core, 3, 0xaaaaaaaan); setReg(core, 1, 0xbbbbbbbbn);
    runToEnd(core, asm(64, 'lock cmpxchg8b qword ptr [rsi]\nsetz r8b\nlock cmpxchg8b qword ptr [rsi]\nsetz r9b'));
    expect(core.dv.getBigUint64(DATA + 0x80, true)).toBe(0xbbbbbbbbaaaaaaaan);
    expect(reg(core, 8) & 1n).toBe(1n);
    expect(reg(core, 9) & 1n).toBe(0n);
    expect(reg(core, 0)).toBe(0xaaaaaaaan);
    setReg(core, 0, 0xbbbbbbbbaaaaaaaan); setReg(core, 2, 0x3333333344444444n);
    setReg(core, 3, 1n); setReg(core, 1, 2n);
    runToEnd(core, asm(64, 'lock cmpxchg16b xmmword ptr [rsi]'));
    expect(core.dv.getBigUint64(DATA + 0x80, true)).toBe(1n);
    expect(core.dv.getBigUint64(DATA + 0x88, true)).toBe(2n);
    setReg(core, 6, BigInt(DATA + 0x88));
    expect(() => runToEnd(core, asm(64, 'lock cmpxchg16b xmmword ptr [rsi]'))).toThrow(/vector 13/);
  });

  it('LOCK on a register destination or a non-lockable instruction is #UD', () => {
    const core = makeCore(64);
    expect(() => runToEnd(core, [0xf0, 0x01, 0xc0])).toThrow(/vector 6/); // lock add eax, eax
    expect(() => runToEnd(core, [0xf0, 0x8b, 0x03])).toThrow(/vector 6/); // lock mov eax, [rbx]
  });

  it('fences and CLFLUSH execute', () => {
    const core = runWith(64, { 3: BigInt(DATA) }, asm(64, 'mfence\nlfence\nsfence\nclflush [rbx]'));
  });
});
