import { describe, expect, it } from 'vitest';
import { asm, DATA, expectRegs, makeCore, reg, rflags, runToEnd, runWith, setReg } from './core.js';

const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ST = CF | PF | AF | ZF | SF | OF;

describe('ALU: ADD/ADC/SUB/SBB/CMP/logic flags', () => {
  it('8-bit add overflow into the sign bit sets OF SF AF', () => {
    const core = runWith(64, {}, asm(64, 'mov al, 0x7f\nadd al, 1'));
    expect(reg(core, 0) & 0xffn).toBe(0x80n);
    expect(rflags(core) & ST).toBe(OF | SF | AF);
  });

  it('64-bit add carries out of bit 63 (CF ZF PF AF)', () => {
    const core = runWith(64, {}, asm(64, 'mov rax, -1\nadd rax, 1'));
    expect(reg(core, 0)).toBe(0n);
    expect(rflags(core) & ST).toBe(CF | ZF | PF | AF);
  });

  it('a 128-bit add and subtract chain through ADC/SBB', () => {
    const core = makeCore(64);
    setReg(core, 0, 0xffffffffffffffffn); setReg(core, 2, 0x1n); // rdx:rax
    setReg(core, 3, 0x1n); setReg(core, 1, 0x0n); // rcx:rbx
    runToEnd(core, asm(64, 'add rax, rbx\nadc rdx, rcx\nmov r8, rax\nmov r9, rdx\nsub r8, 1\nsbb r9, 0'));
    expectRegs(core, { 0: 0n, 2: 2n, 8: 0xffffffffffffffffn, 9: 1n });
    expect(rflags(core) & CF).toBe(0);
  });

  it('CMP sets flags like SUB and writes nothing; Jcc follows signed and unsigned orders', () => {
    const core = makeCore(64);
    runToEnd(core, asm(64, `
      mov eax, 5
      cmp eax, -3
      setb bl       # unsigned 5 < 0xfffffffd
      setl cl       # signed 5 < -3? no
      setg dl
      seta sil`));
    expect(reg(core, 0)).toBe(5n);
    expect(reg(core, 3) & 0xffn).toBe(1n);
    expect(reg(core, 1) & 0xffn).toBe(0n);
    expect(reg(core, 2) & 0xffn).toBe(1n);
    expect(reg(core, 6) & 0xffn).toBe(0n);
  });

  it('logic ops clear CF and OF; 32-bit results zero the upper half', () => {
    const core = runWith(64, { 0: 0xffffffff_ffffffffn }, asm(64, 'stc\nxor eax, 0x0f0f0f0f'));
    expect(reg(core, 0)).toBe(0xf0f0f0f0n);
    expect(rflags(core) & (CF | OF | ZF | SF)).toBe(SF);
  });

  it('INC/DEC keep CF; NEG sets CF unless the operand is 0', () => {
    const core = runWith(64, {}, asm(64, 'stc\nmov eax, -1\ninc eax\nsetc bl\nsetz bh\nxor ecx, ecx\nneg ecx\nsetc dl\nmov esi, 4\nneg esi'));
    expect(reg(core, 0)).toBe(0n);
    expect(reg(core, 3) & 0xffffn).toBe(0x0101n);
    expect(reg(core, 2) & 0xffn).toBe(0n);
    expect(reg(core, 6)).toBe(0xfffffffcn);
    expect(rflags(core) & (CF | SF)).toBe(CF | SF);
  });

  it('group 0x83 sign-extends its imm8; 0x81 with REX.W sign-extends imm32', () => {
    const core = runWith(64, { 0: 0x100n, 1: 0n }, asm(64, 'add rax, -1\nadd rcx, -0x80000000'));
    expectRegs(core, { 0: 0xffn, 1: 0xffffffff80000000n });
  });

  it('memory destinations: ADD [mem], reg and CMP [mem], imm', () => {
    const core = makeCore(64);
    core.dv.setUint32(DATA, 40, true);
    setReg(core, 3, BigInt(DATA));
    runToEnd(core, asm(64, 'mov ecx, 2\nadd dword ptr [rbx], ecx\ncmp dword ptr [rbx], 42\nsete al\nsub byte ptr [rbx+1], 1'));
    expect(core.dv.getUint32(DATA, true)).toBe(0xff2a);
    expect(reg(core, 0) & 0xffn).toBe(1n);
  });

  it('TEST ANDs without writing', () => {
    const core = runWith(64, { 0: 0x8000000000000000n }, asm(64, 'test rax, rax'));
    expect(reg(core, 0)).toBe(0x8000000000000000n);
    expect(rflags(core) & ST).toBe(SF | PF);
  });
});

describe('ALU: register encodings', () => {
  it('without REX, byte registers 4-7 are AH CH DH BH; with REX they are SPL BPL SIL DIL', () => {
    const core = runWith(64, { 4: 0x1000n }, asm(64, 'mov eax, 0\nmov ah, 0x12\nmov spl, 0x34\nmov bh, ah\nadd bh, 1'));
    expectRegs(core, { 0: 0x1200n, 4: 0x1034n });
    expect(reg(core, 3) & 0xff00n).toBe(0x1300n);
  });

  it('16-bit writes keep the upper 48 bits; 8-bit writes keep the upper 56', () => {
    const core = runWith(64, { 0: 0x1122334455667788n }, asm(64, 'add ax, 1\nadd al, 0x10'));
    expect(reg(core, 0)).toBe(0x1122334455667799n);
  });

  it('16-bit mode: default 16-bit operands, 66 selects 32-bit; 40+r is INC', () => {
    const core = runWith(16, { 0: 0xffffn, 3: 0x1ffffn }, asm(16, 'add ax, 1\ninc ebx\ninc cx'));
    expectRegs(core, { 0: 0n, 3: 0x20000n, 1: 1n });
  });

  it('32-bit mode: 48+r is DEC and 0x82 is an alias of 0x80', () => {
    const core = makeCore(32);
    setReg(core, 1, 1n);
    runToEnd(core, [0x49, 0x82, 0xc2, 0x05]); // dec ecx; add dl, 5
    expect(reg(core, 1)).toBe(0n);
    expect(reg(core, 2) & 0xffn).toBe(5n);
  });

  it('0x82 is invalid in 64-bit mode', () => {
    const core = makeCore(64);
    expect(() => runToEnd(core, [0x82, 0xc2, 0x05])).toThrow(/vector 6/);
  });
});

describe('legacy-only instructions (16/32-bit modes)', () => {
  it('DAA/DAS adjust packed BCD after ADD/SUB', () => {
    const core = runWith(32, {}, asm(32, 'mov al, 0x19\nadd al, 0x28\ndaa\nmov bl, al\nmov al, 0x99\nadd al, 0x01\ndaa\nsetc bh\nmov cl, al\nmov al, 0x10\nsub al, 0x01\ndas\nmov dl, al'));
    expect(reg(core, 3) & 0xffffn).toBe(0x0147n);
    expect(reg(core, 1) & 0xffn).toBe(0x00n);
    expect(reg(core, 2) & 0xffn).toBe(0x09n);
  });

  it('AAA/AAS carry into AH; AAM/AAD convert with a base; AAM 0 is #DE', () => {
    const core = runWith(32, {}, asm(32, 'mov ax, 0x0009\nadd al, 0x05\naaa\nmov bx, ax\nmov ax, 0x0103\nsub al, 0x05\naas\nmov cx, ax\nmov al, 47\naam\nmov dx, ax\naad\nmov si, ax'));
    expect(reg(core, 3) & 0xffffn).toBe(0x0104n);
    expect(reg(core, 1) & 0xffffn).toBe(0x0008n);
    expect(reg(core, 2) & 0xffffn).toBe(0x0407n);
    expect(reg(core, 6) & 0xffffn).toBe(47n);
    expect(() => runToEnd(core, [0xd4, 0x00])).toThrow(/vector 0 /);
  });

  it('BOUND raises #BR outside the signed bounds; SALC copies CF', () => {
    const core = makeCore(32);
    core.dv.setInt32(DATA, -5, true); core.dv.setInt32(DATA + 4, 10, true);
    setReg(core, 3, BigInt(DATA)); setReg(core, 0, BigInt.asUintN(32, -5n));
    runToEnd(core, asm(32, 'bound eax, [ebx]\nstc\n.byte 0xd6'));
    expect(reg(core, 0) & 0xffn).toBe(0xffn);
    setReg(core, 0, 11n);
    expect(() => runToEnd(core, asm(32, 'bound eax, [ebx]'))).toThrow(/vector 5 /);
  });

  it('DAA, AAM and BOUND are #UD in 64-bit mode', () => {
    for (const code of [[0x27], [0xd4, 0x0a], [0x62, 0x03]]) {
      const core = makeCore(64);
      expect(() => runToEnd(core, code)).toThrow(/vector 6 /);
    }
  });
});
