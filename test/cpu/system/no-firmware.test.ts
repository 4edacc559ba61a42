// This machine has no BIOS: a real-mode guest that calls one (INT through an empty IVT entry)
// or jumps into zeroed memory stops with the cause instead of spinning; real-mode code that
// brings its own vectors runs as usual.
import { describe, expect, it } from 'vitest';
import { RUN_DEAD, RUN_HALTED } from '../../../src/cpu/cpu.js';
import { makeFlatCpu } from '../flat-core.js';

function realModeCore(code: number[], at = 0x7c00) {
  const cpu = makeFlatCpu(16, 2 * 2 ** 20);
  cpu.idtBase = 0;
  cpu.idtLimit = 0x3ff; // the real-mode IVT at 0, all zeros
  cpu.stopOnFault = false;
  cpu.lo[4] = 0x7000; // SP
  new Uint8Array(cpu.shared.ram).set(code, at);
  cpu.rip = at;
  return cpu;
}

describe('no BIOS: empty IVT and zeroed low memory', () => {
  it('INT 10h through an all-zero IVT stops the core with the vector and place', () => {
    const cpu = realModeCore([0xb4, 0x0e, 0xb0, 0x41, 0xcd, 0x10, 0xf4]); // mov ah,0Eh; mov al,'A'; int 10h; hlt
    expect(cpu.run(100_000)).toBe(RUN_DEAD);
    expect(cpu.deadReason).toMatch(/^no BIOS: real-mode vector 0x10 through an empty IVT entry \(0000:0000\) interrupting 0000:7c06/);
    expect(cpu.retired).toBeLessThan(10);
  });

  it('a hardware-style exception through an empty entry stops too (#DE from DIV by zero)', () => {
    const cpu = realModeCore([0x31, 0xc9, 0xf7, 0xf1, 0xf4]); // xor cx,cx; div cx
    expect(cpu.run(100_000)).toBe(RUN_DEAD);
    expect(cpu.deadReason).toMatch(/real-mode vector 0x0 through an empty IVT entry/);
  });

  it('a far jump into zeroed BIOS space stops at the first zero run', () => {
    const cpu = realModeCore([0xea, 0x5b, 0xe0, 0x00, 0xf0]); // jmp f000:e05b (a BIOS entry point)
    expect(cpu.run(100_000)).toBe(RUN_DEAD);
    expect(cpu.deadReason).toMatch(/^no BIOS: real-mode execution of zeroed memory .* at f000:e05b \(rip 0xfe05b\)/);
  });

  it('real-mode code with its own vectors, data-looking zeros and a lone `add [bx+si],al` is not flagged', () => {
    // IVT[0x20] -> 0000:7d00: inc ax; iret
    const cpu = realModeCore([
      0x31, 0xc0, // xor ax, ax
      0xbb, 0x00, 0x7e, // mov bx, 7e00h
      0x31, 0xf6, // xor si, si
      0xcd, 0x20, // int 20h
      0xcd, 0x20, // int 20h
      0x00, 0x00, // add [bx+si], al (a real instruction, once)
      0xeb, 0x02, // jmp over two zero bytes
      0x00, 0x00,
      0xf4, // hlt
    ]);
    const ram = new Uint8Array(cpu.shared.ram);
    ram.set([0x40, 0xcf], 0x7d00);
    new DataView(cpu.shared.ram).setUint16(0x20 * 4, 0x7d00, true);
    expect(cpu.run(100_000)).toBe(RUN_HALTED);
    expect(cpu.lo[0] & 0xffff).toBe(2);
    expect(ram[0x7e00]).toBe(2);
    expect(cpu.deadReason).toBe('');
  });

  it('protected-mode code is never judged by these rules', () => {
    const cpu = makeFlatCpu(32, 2 * 2 ** 20);
    cpu.rip = 0x10000; // zeroed memory: add [eax], al over and over, as on hardware
    cpu.lo[0] = 0x8000;
    cpu.run(1000);
    expect(cpu.deadReason).toBe('');
    expect(cpu.retired).toBeGreaterThan(500);
  });

  it('with -bios (Cpu.firmware) neither stop applies: an empty vector is taken to 0000:0000, as on the hardware', () => {
    const cpu = realModeCore([0xcd, 0x10]); // int 10h with IVT[0x10] = 0000:0000
    cpu.firmware = true;
    const ram = new Uint8Array(cpu.shared.ram);
    ram.set([0xf4], 0); // a hlt where the vector leads
    expect(cpu.run(100_000)).toBe(RUN_HALTED);
    expect(cpu.deadReason).toBe('');
    expect(cpu.rip).toBe(1);
    const zeros = realModeCore([0xea, 0x00, 0x00, 0x00, 0x80]); // jmp 8000:0000, into zeroed memory
    zeros.firmware = true;
    zeros.run(200);
    expect(zeros.deadReason).toBe('');
    expect(zeros.retired).toBeGreaterThan(50); // it ran the zeros as `add [bx+si], al`
  });
});
