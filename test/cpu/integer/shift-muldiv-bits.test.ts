import { describe, expect, it } from 'vitest';
import { asm, DATA, expectRegs, makeCore, reg, rflags, runToEnd, runWith, setReg } from './core.js';

const CF = 1, ZF = 0x40, SF = 0x80, OF = 0x800;

describe('shifts and rotates', () => {
  it('count 0 leaves the flags; counts are masked to 5 bits (6 with REX.W)', () => {
    const core = runWith(64, { 0: 0xffffffff_00000001n }, asm(64, 'stc\nmov cl, 32\nshl eax, cl\nsetc bl\nmov rdx, 1\nshl rdx, cl'));
    expect(reg(core, 0)).toBe(1n); // count 32 & 31 = 0: value kept, upper half cleared
    expect(reg(core, 3) & 0xffn).toBe(1n); // CF untouched
    expect(reg(core, 2)).toBe(0x100000000n);
  });

  it('SHL/SHR/SAR set CF to the last bit out; OF for count 1', () => {
    const core = runWith(64, {}, asm(64, 'mov al, 0xc0\nshl al, 1\nsetc bl\nseto bh\nmov cl, 0x81\nsar cl, 1\nsetc dl\nmov sil, 0x81\nshr sil, 1\nseto dil'));
    expect(reg(core, 0) & 0xffn).toBe(0x80n);
    expect(reg(core, 3) & 0xffffn).toBe(0x0001n); // CF=1, OF = 1 ^ 1 = 0
    expect(reg(core, 1) & 0xffn).toBe(0xc0n);
    expect(reg(core, 2) & 0xffn).toBe(1n);
    expect(reg(core, 7) & 0xffn).toBe(1n); // OF = MSB of the original operand
  });

  it('ROL/ROR change only CF and OF; RCL/RCR rotate through CF (8-bit count mod 9)', () => {
    const core = runWith(64, {}, asm(64, 'xor edx, edx\nmov al, 0x81\nrol al, 1\nsetz bl\nclc\nmov cl, 0x80\nrcl cl, 9\nmov si, 1\nstc\nrcr si, 1'));
    expect(reg(core, 0) & 0xffn).toBe(0x03n);
    expect(reg(core, 3) & 0xffn).toBe(1n); // ZF from xor survives the rotate
    expect(reg(core, 1) & 0xffn).toBe(0x80n); // a 9-bit rotate by 9 is the identity
    expect(reg(core, 6) & 0xffffn).toBe(0x8000n);
    expect(rflags(core) & CF).toBe(CF);
  });

  it('64-bit rotates and shifts across the 32-bit halves', () => {
    const core = runWith(64, { 0: 0x8000000000000001n, 1: 0x123456789abcdef0n, 2: 0x8000000000000000n }, asm(64, 'rol rax, 4\nror rcx, 36\nsar rdx, 63'));
    expectRegs(core, { 0: 0x18n, 1: 0x89abcdef01234567n, 2: 0xffffffffffffffffn });
  });

  it('SHLD/SHRD 32 and 64', () => {
    const core = runWith(64, { 0: 0x12345678n, 3: 0x9abcdef0n, 1: 0x1111111122222222n, 2: 0x3333333344444444n }, asm(64, 'shld eax, ebx, 8\nshrd rcx, rdx, 40'));
    expectRegs(core, { 0: 0x3456789an, 1: 0x3344444444111111n });
  });
});

describe('MUL / IMUL / DIV / IDIV', () => {
  it('64x64 -> 128 unsigned and signed products are exact', () => {
    const core = runWith(64, { 0: 0xfedcba9876543210n, 3: 0x0123456789abcdefn }, asm(64, 'mul rbx'));
    const p = 0xfedcba9876543210n * 0x0123456789abcdefn;
    expectRegs(core, { 0: p & 0xffffffffffffffffn, 2: p >> 64n });
    expect(rflags(core) & (CF | OF)).toBe(CF | OF);
    setReg(core, 0, 0xfffffffffffffffdn); setReg(core, 3, 5n); // -3 * 5
    runToEnd(core, asm(64, 'imul rbx'));
    expectRegs(core, { 0: BigInt.asUintN(64, -15n), 2: 0xffffffffffffffffn });
    expect(rflags(core) & (CF | OF)).toBe(0);
  });

  it('IMUL with two and three operands truncates and flags the signed overflow', () => {
    const core = runWith(64, { 0: 0x40000000n, 1: 4n }, asm(64, 'imul eax, ecx\nseto bl\nimul edx, ecx, -3\nimul si, cx, 0x7fff\nseto bh'));
    expectRegs(core, { 0: 0n, 2: 0xfffffff4n });
    expect(reg(core, 6) & 0xffffn).toBe(0xfffcn);
    expect(reg(core, 3) & 0xffffn).toBe(0x0101n);
  });

  it('128/64 DIV and IDIV are exact', () => {
    const core = makeCore(64);
    const n = (0x0123456789abcdefn << 64n) | 0xfedcba9876543210n;
    const d = 0x1fedcba987654321n;
    setReg(core, 2, n >> 64n); setReg(core, 0, n & 0xffffffffffffffffn); setReg(core, 3, d);
    runToEnd(core, asm(64, 'div rbx'));
    expectRegs(core, { 0: n / d, 2: n % d });
    setReg(core, 2, 0xffffffffffffffffn); setReg(core, 0, BigInt.asUintN(64, -100n)); setReg(core, 3, 7n);
    runToEnd(core, asm(64, 'idiv rbx'));
    expectRegs(core, { 0: BigInt.asUintN(64, -14n), 2: BigInt.asUintN(64, -2n) });
  });

  it('#DE on a zero divisor and on quotient overflow; registers unchanged', () => {
    const core = makeCore(64);
    setReg(core, 0, 0x100n); setReg(core, 3, 0n);
    expect(() => runToEnd(core, asm(64, 'div bl'))).toThrow(/vector 0 /);
    setReg(core, 3, 1n);
    expect(() => runToEnd(core, asm(64, 'div bl'))).toThrow(/vector 0 /);
    setReg(core, 0, 0x80000000n); setReg(core, 2, 0xffffffffn); setReg(core, 1, 0xffffffffn);
    expect(() => runToEnd(core, asm(64, 'idiv ecx'))).toThrow(/vector 0 /);
    expect(reg(core, 0)).toBe(0x80000000n);
  });

  it('8 and 16-bit forms use AX and DX:AX', () => {
    const core = runWith(16, { 0: 0x1234n, 2: 0x0001n, 3: 0x100n }, asm(16, 'div bx'));
    expectRegs(core, { 0: 0x112n, 2: 0x34n });
    setReg(core, 0, 0xfff6n); setReg(core, 1, 3n);
    runToEnd(core, asm(16, 'idiv cl'));
    expect(reg(core, 0) & 0xffffn).toBe(0xfffdn); // AL = -3, AH = -1
  });
});

describe('bit instructions', () => {
  it('BT/BTS/BTR/BTC with a register offset address outside the operand (also negative)', () => {
    const core = makeCore(64);
    setReg(core, 3, BigInt(DATA + 0x100));
    setReg(core, 1, 67n); // dword +8, bit 3
    setReg(core, 2, BigInt.asUintN(64, -1n)); // dword -4, bit 31
    runToEnd(core, asm(64, 'bts dword ptr [rbx], ecx\nsetc al\nbtc qword ptr [rbx], rdx\nbt dword ptr [rbx], ecx\nsetc ah'));
    expect(core.dv.getUint32(DATA + 0x108, true)).toBe(8);
    expect(core.dv.getUint32(DATA + 0xfc, true)).toBe(0x80000000);
    expect(reg(core, 0) & 0xffffn).toBe(0x0100n);
  });

  it('BT with an immediate reduces the offset modulo the width', () => {
    const core = runWith(64, { 0: 0x8000_0000_0000_0000n }, asm(64, 'bt rax, 127\nsetc bl\nbtr rax, 63'));
    expect(reg(core, 3) & 0xffn).toBe(1n);
    expect(reg(core, 0)).toBe(0n);
  });

  it('BSF/BSR leave the destination alone for a zero source; TZCNT/LZCNT/POPCNT', () => {
    const core = runWith(64, { 0: 0x1234n, 1: 0n, 2: 0x0000_0100_0000_0000n }, asm(64, 'bsf rax, rcx\nsetz bl\nbsr rsi, rdx\ntzcnt rdi, rdx\nlzcnt r8, rdx\npopcnt r9, rdx\ntzcnt r10d, ecx\nsetc bh'));
    expectRegs(core, { 0: 0x1234n, 6: 40n, 7: 40n, 8: 23n, 9: 1n, 10: 32n });
    expect(reg(core, 3) & 0xffffn).toBe(0x0101n);
    expect(rflags(core) & (ZF | SF | OF)).toBe(0);
  });
});

describe('BMI1 / BMI2 (VEX-encoded)', () => {
  it('ANDN BEXTR BLSI BLSMSK BLSR', () => {
    const core = makeCore(64);
    setReg(core, 0, 0xff00ff00ff00ff00n); setReg(core, 1, 0x0ff0n); setReg(core, 2, 0b101000n);
    setReg(core, 3, 0x0804n); // BEXTR control: start 4, length 8
    runToEnd(core, asm(64, 'andn rsi, rcx, rax\nbextr edi, ecx, ebx\nblsi r8, rdx\nblsmsk r9, rdx\nblsr r10, rdx\nblsr r11, r12\nsetc r12b'));
    expectRegs(core, { 6: 0xff00ff00ff00f000n, 7: 0xffn, 8: 0b1000n, 9: 0b1111n, 10: 0b100000n });
    expect(reg(core, 12) & 0xffn).toBe(1n); // BLSR of 0 sets CF
  });

  it('BZHI PDEP PEXT MULX RORX SARX SHLX SHRX', () => {
    const core = runWith(64, { 0: 0xffffffffffffffffn, 1: 36n, 2: 0x100000000n, 3: 0xf0f0n, 5: 0b1011n }, asm(64, 'bzhi rsi, rax, rcx\npdep rdi, rbp, rbx\npext r8, rdi, rbx\nmulx r10, r9, rax\nrorx r11, rdx, 4\nsarx r12, rax, rcx\nshlx r13, rdx, rcx\nshrx r14d, eax, ecx'));
    expect(reg(core, 6)).toBe(0xfffffffffn);
    expect(reg(core, 7)).toBe(0xb0n); // the four source bits land on mask bits 4..7
    expectRegs(core, { 8: 0b1011n, 9: BigInt.asUintN(64, 0x100000000n * 0xffffffffffffffffn), 10: (0x100000000n * 0xffffffffffffffffn) >> 64n, 11: 0x10000000n, 12: 0xffffffffffffffffn });
    expect(reg(core, 13)).toBe(0n); // (1 << 32) << 36 leaves 64 bits
    expect(reg(core, 14)).toBe(0x0fffffffn);
  });
});
