import { describe, expect, it } from 'vitest';
import { asm, CODE, expectRegs, makeCore, reg, rflags, runToEnd, runWith, setReg, STACK_TOP } from './core.js';

describe('stack', () => {
  it('PUSH/POP in 64-bit mode: 8 bytes, 2 with 66; PUSH imm sign-extends; PUSH RSP pushes the old value', () => {
    const core = runWith(64, { 0: 0x1122334455667788n }, asm(64, 'push rax\npush -2\npush rsp\npop rbx\npop rcx\npop rdx\npush ax\npop si'));
    expectRegs(core, { 3: BigInt(STACK_TOP - 16), 1: 0xfffffffffffffffen, 2: 0x1122334455667788n });
    expect(reg(core, 6) & 0xffffn).toBe(0x7788n);
    expect(reg(core, 4)).toBe(BigInt(STACK_TOP));
  });

  it('POP [rsp+8] addresses with the incremented RSP', () => {
    const core = runWith(64, { 0: 0xabcn }, asm(64, 'push rax\nsub rsp, 16\nmov qword ptr [rsp], 7\npop qword ptr [rsp+8]\nmov rbx, [rsp+8]'));
    expect(reg(core, 3)).toBe(7n);
  });

  it('32-bit and 16-bit stacks', () => {
    const c32 = runWith(32, { 0: 0xcafef00dn }, asm(32, 'push eax\npush word ptr 0x1234\npop bx\npop ecx\npusha\npopa'));
    expect(reg(c32, 3) & 0xffffn).toBe(0x1234n);
    expectRegs(c32, { 1: 0xcafef00dn, 4: BigInt(STACK_TOP) });
    const c16 = runWith(16, { 4: 0x1000n }, asm(16, 'push 0x55aa\npop dx\npush eax\npop ebx'));
    expectRegs(c16, { 2: 0x55aan, 4: 0x1000n });
  });

  it('PUSHF/POPF at CPL 3 cannot change IF or IOPL; POPF materializes lazy flags', () => {
    const core = makeCore(64, { cpl: 3 });
    core.cpu.flags |= 0x200; // IF
    runToEnd(core, asm(64, 'xor eax, eax\npushfq\npop rbx\npush 0x3cd5\npopfq\npushfq\npop rcx'));
    expect(reg(core, 3) & 0xfffn).toBe(0x246n);
    expect(reg(core, 1)).toBe(BigInt(0x0200 | 0x0cd5 | 2));
    expect(rflags(core) & 0x3000).toBe(0);
  });

  it('ENTER with nesting level copies frame pointers; LEAVE undoes it', () => {
    const core = makeCore(64);
    setReg(core, 5, BigInt(STACK_TOP + 0x100));
    core.dv.setUint32(STACK_TOP + 0x100 - 8, 0x1111, true);
    runToEnd(core, asm(64, 'enter 0x20, 2\nmov rax, rsp\nmov rbx, rbp\nmov rcx, [rbp-8]\nmov rdx, [rbp-16]\nleave'));
    expectRegs(core, { 3: BigInt(STACK_TOP - 8), 0: BigInt(STACK_TOP - 24 - 0x20), 1: 0x1111n, 2: BigInt(STACK_TOP - 8), 4: BigInt(STACK_TOP), 5: BigInt(STACK_TOP + 0x100) });
  });

  it('a non-canonical RSP raises #SS', () => {
    const core = makeCore(64);
    setReg(core, 4, 0x8000_0000_0000_0000n);
    expect(() => runToEnd(core, asm(64, 'push rax'))).toThrow(/vector 12/);
  });
});

describe('branches', () => {
  it('Jcc rel8/rel32, JMP, CALL/RET through a loop', () => {
    const core = makeCore(64);
    runToEnd(core, asm(64, `
      xor eax, eax
      mov ecx, 10
    1:
      call 2f
      dec ecx
      jnz 1b
      jmp 3f
    2:
      add eax, 3
      ret
    3:
      nop`));
    expectRegs(core, { 0: 30n, 4: BigInt(STACK_TOP) });
  });

  it('indirect CALL/JMP through registers and memory; RET imm16 releases bytes', () => {
    const core = makeCore(64);
    runToEnd(core, asm(64, `
      lea rax, [rip + 2f]
      push 0
      push 0
      call rax
      lea rbx, [rip + 3f]
      push rbx
      jmp qword ptr [rsp]
    2:
      ret 16
    3:
      pop rcx`));
    expect(reg(core, 4)).toBe(BigInt(STACK_TOP));
  });

  it('LOOP/LOOPE/LOOPNE/JECXZ use rCX at the address size', () => {
    const core = makeCore(64);
    setReg(core, 1, 0x1_0000_0003n);
    runToEnd(core, asm(64, `
      xor eax, eax
    1:
      inc eax
      addr32 loop 1b
      mov rdx, rcx
      mov ecx, 5
    2:
      inc ebx
      cmp ebx, 2
      loopne 2b
      jecxz 4f
      mov esi, 1
    4:
      nop`));
    expect(reg(core, 0)).toBe(3n);
    expect(reg(core, 2) & 0xffffffffn).toBe(0n);
    expectRegs(core, { 3: 2n, 1: 3n, 6: 1n });
  });

  it('16-bit CALL/RET push and pop 2-byte IPs; 66 CALL in 32-bit mode truncates EIP', () => {
    const core = runWith(16, { 4: 0x2000n }, asm(16, 'call 1f\njmp 2f\n1:\nmov ax, 7\nmov bp, sp\nmov bx, [bp]\nret\n2:\nmov si, offset 3f\ncall si\njmp 4f\n3:\nret\n4:\nnop'));
    expect(reg(core, 0) & 0xffffn).toBe(7n);
    expect(reg(core, 3) & 0xffffn).toBe(3n); // the pushed IP is the offset in CS, not the linear address
    expect(reg(core, 4)).toBe(0x2000n);
  });

  it('a jump to a non-canonical address raises #GP at the jump', () => {
    const core = makeCore(64);
    setReg(core, 0, 0x0000_8000_0000_0000n);
    expect(() => runToEnd(core, asm(64, 'jmp rax'))).toThrow(/vector 13 .* at 10000,/);
    expect(core.cpu.rip).toBe(CODE);
  });

  it('flags helpers: CLC STC CMC CLD STD', () => {
    const core = runWith(64, {}, asm(64, 'stc\ncmc\nsetc al\nstd\ncld\nstd'));
    expect(reg(core, 0) & 0xffn).toBe(0n);
    expect(rflags(core) & 0x400).toBe(0x400);
  });
});
