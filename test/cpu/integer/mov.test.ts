import { describe, expect, it } from 'vitest';
import { asm, DATA, makeCore, reg, rflags, runToEnd, setReg } from './core.js';

describe('MOV family', () => {
  it('MOV r64, imm64 and MOV r/m64, imm32 (sign-extended)', () => {
    const core = makeCore(64);
    runToEnd(core, asm(64, 'movabs rax, 0x123456789abcdef0\nmov rcx, -2\nmov edx, -2'));
    expect(reg(core, 0)).toBe(0x123456789abcdef0n);
    expect(reg(core, 1)).toBe(0xfffffffffffffffen);
    expect(reg(core, 2)).toBe(0xfffffffen);
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
    const core = makeCore(64);
    setReg(core, 1, 0xf0f0_8081n);
    runToEnd(core, asm(64, 'movzx eax, cl\nmovsx rbx, cl\nmovsx edx, cx\nmovsxd rsi, ecx\nmovzx edi, ch'));
    expect(reg(core, 0)).toBe(0x81n);
    expect(reg(core, 3)).toBe(0xffffffffffffff81n);
    expect(reg(core, 2)).toBe(0xffff8081n);
    expect(reg(core, 6)).toBe(0xfffffffff0f08081n);
    expect(reg(core, 7)).toBe(0x80n);
  });

  it('LEA: 64-bit, 32-bit (67) and RIP-relative forms; no memory access', () => {
    const core = makeCore(64);
    setReg(core, 3, 0xffff_ffff_0000_0010n);
    setReg(core, 6, 3n);
    runToEnd(core, asm(64, 'lea rax, [rbx + rsi*8 - 0x20]\nlea ecx, [ebx + esi*4]\nlea rdx, [rip + 0x100]\nlea di, [rbx + 0x7fff]'));
    expect(reg(core, 0)).toBe(0xffff_ffff_0000_0008n);
    expect(reg(core, 1)).toBe(0x1cn);
    expect(reg(core, 2)).toBe(BigInt(0x10000 + 16 + 0x100));
    expect(reg(core, 7) & 0xffffn).toBe(0x800fn);
  });

  it('LEA in 16-bit mode wraps at 64 KiB', () => {
    const core = makeCore(16);
    setReg(core, 3, 0xfff0n); setReg(core, 6, 0x20n);
    runToEnd(core, asm(16, 'lea ax, [bx + si + 1]'));
    expect(reg(core, 0)).toBe(0x11n);
  });

  it('XCHG with the accumulator; 0x90 is NOP; 41 90 exchanges with r8d', () => {
    const core = makeCore(64);
    setReg(core, 0, 0xffffffff00000001n); setReg(core, 8, 2n);
    runToEnd(core, [0x90, 0x41, 0x90]);
    expect(reg(core, 0)).toBe(2n);
    expect(reg(core, 8)).toBe(1n);
  });

  it('CBW/CWDE/CDQE and CWD/CDQ/CQO', () => {
    const core = makeCore(64);
    setReg(core, 0, 0x80n);
    runToEnd(core, asm(64, 'cbw\nmov ebx, eax\ncwde\nmov ecx, eax\ncdqe\ncqo'));
    expect(reg(core, 3)).toBe(0xff80n);
    expect(reg(core, 1)).toBe(0xffffff80n);
    expect(reg(core, 0)).toBe(0xffffffffffffff80n);
    expect(reg(core, 2)).toBe(0xffffffffffffffffn);
  });

  it('LAHF/SAHF move SF ZF AF PF CF through AH', () => {
    const core = makeCore(64);
    runToEnd(core, asm(64, 'xor eax, eax\nlahf\nmov bl, ah\nmov ah, 0xd5\nsahf\nsetc cl\nsets dl'));
    expect(reg(core, 3) & 0xffn).toBe(0x46n); // ZF PF and the fixed bit 1
    expect(reg(core, 1) & 0xffn).toBe(1n);
    expect(reg(core, 2) & 0xffn).toBe(1n);
  });

  it('CMOVcc: a false 32-bit condition still zero-extends; the memory source is always read', () => {
    const core = makeCore(64);
    setReg(core, 0, 0xffffffff_00000005n);
    setReg(core, 1, 7n);
    runToEnd(core, asm(64, 'cmp ecx, ecx\ncmovne eax, ecx'));
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
    expect(reg(core, 0)).toBe(0x8877665544332299n);
    expect(reg(core, 1)).toBe(0x44332211n);
  });

  it('multi-byte NOPs, hint NOPs and ENDBR64 do nothing', () => {
    const core = makeCore(64);
    setReg(core, 3, 0x7fff_0000_0000n);
    runToEnd(core, [0x0f, 0x1f, 0x44, 0x00, 0x00, 0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0, 0x0f, 0x18, 0x0b, 0xf3, 0x0f, 0x1e, 0xfa, 0xf3, 0x90]);
    expect(rflags(core) & 0x8d5).toBe(0);
  });
});
