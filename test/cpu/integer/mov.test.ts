import { describe, expect, it } from 'vitest';
import { asm, DATA, expectRegs, makeCore, reg, rflags, runToEnd, runWith, setReg } from './core.js';

describe('MOV family', () => {
  it('MOV r64, imm64 and MOV r/m64, imm32 (sign-extended)', () => {
    const core = runWith(64, {}, asm(64, 'movabs rax, 0x123456789abcdef0\nmov rcx, -2\nmov edx, -2'));
    expectRegs(core, { 0: 0x123456789abcdef0n, 1: 0xfffffffffffffffen, 2: 0xfffffffen });
  });

  it('moffs forms read and write an absolute address', () => {
    const core = makeCore(64);
    core.dv.setUint32(DATA, 0xdeadbeef, true);
    setReg(core, 0, 0n);
    runToEnd(core, asm(64, `movabs eax, [${DATA}]\nadd eax, 1\nmovabs [${DATA + 8}], eax`));
    expect(reg(core, 0)).toBe(0xdeadbef0n);
    expect(core.dv.getUint32(DATA + 8, true)).toBe(0xdeadbef0);
  });

  it('MOVZX / MOVSX / MOVSXD', () => {
    const core = runWith(64, { 1: 0xf0f0_8081n }, asm(64, 'movzx eax, cl\nmovsx rbx, cl\nmovsx edx, cx\nmovsxd rsi, ecx\nmovzx edi, ch'));
    expectRegs(core, { 0: 0x81n, 3: 0xffffffffffffff81n, 2: 0xffff8081n, 6: 0xfffffffff0f08081n, 7: 0x80n });
  });

  it('LEA: 64-bit, 32-bit (67) and RIP-relative forms; no memory access', () => {
    const core = runWith(64, { 3: 0xffff_ffff_0000_0010n, 6: 3n }, asm(64, 'lea rax, [rbx + rsi*8 - 0x20]\nlea ecx, [ebx + esi*4]\nlea rdx, [rip + 0x100]\nlea di, [rbx + 0x7fff]'));
    expectRegs(core, { 0: 0xffff_ffff_0000_0008n, 1: 0x1cn, 2: BigInt(0x10000 + 16 + 0x100) });
    expect(reg(core, 7) & 0xffffn).toBe(0x800fn);
  });

  it('LEA in 16-bit mode wraps at 64 KiB', () => {
    const core = runWith(16, { 3: 0xfff0n, 6: 0x20n }, asm(16, 'lea ax, [bx + si + 1]'));
    expect(reg(core, 0)).toBe(0x11n);
  });

  it('XCHG with the accumulator; 0x90 is NOP; 41 90 exchanges with r8d', () => {
    const core = runWith(64, { 0: 0xffffffff00000001n, 8: 2n }, [0x90, 0x41, 0x90]);
    expectRegs(core, { 0: 2n, 8: 1n });
  });

  it('CBW/CWDE/CDQE and CWD/CDQ/CQO', () => {
    const core = runWith(64, { 0: 0x80n }, asm(64, 'cbw\nmov ebx, eax\ncwde\nmov ecx, eax\ncdqe\ncqo'));
    expectRegs(core, { 3: 0xff80n, 1: 0xffffff80n, 0: 0xffffffffffffff80n, 2: 0xffffffffffffffffn });
  });

  it('LAHF/SAHF move SF ZF AF PF CF through AH', () => {
    const core = runWith(64, {}, asm(64, 'xor eax, eax\nlahf\nmov bl, ah\nmov ah, 0xd5\nsahf\nsetc cl\nsets dl'));
    expect(reg(core, 3) & 0xffn).toBe(0x46n); // ZF PF and the fixed bit 1
    expect(reg(core, 1) & 0xffn).toBe(1n);
    expect(reg(core, 2) & 0xffn).toBe(1n);
  });

  it('CMOVcc: a false 32-bit condition still zero-extends; the memory source is always read', () => {
    const core = runWith(64, { 0: 0xffffffff_00000005n, 1: 7n }, asm(64, 'cmp ecx, ecx\ncmovne eax, ecx'));
    expect(reg(core, 0)).toBe(5n);
    setReg(core, 3, 0x7fff_0000_0000n); // unmapped
    expect(() => runToEnd(core, asm(64, 'cmp ecx, ecx\ncmovne eax, [rbx]'))).toThrow(/vector 14/);
  });

  it('BSWAP 32 and 64; XLAT', () => {
    const core = makeCore(64);
    setReg(core, 0, 0x1122334455667788n); setReg(core, 1, 0x11223344n);
    core.ram[DATA + 0x33] = 0x99;
    setReg(core, 3, BigInt(DATA)); setReg(core, 2, 0x33n);
    runToEnd(core, asm(64, 'bswap rax\nbswap ecx\nmov al, dl\nxlatb'));
    expectRegs(core, { 0: 0x8877665544332299n, 1: 0x44332211n });
  });

  it('multi-byte NOPs, hint NOPs and ENDBR64 do nothing', () => {
    const core = runWith(64, { 3: 0x7fff_0000_0000n }, [0x0f, 0x1f, 0x44, 0x00, 0x00, 0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0, 0x0f, 0x18, 0x0b, 0xf3, 0x0f, 0x1e, 0xfa, 0xf3, 0x90]);
    expect(rflags(core) & 0x8d5).toBe(0);
  });
});
