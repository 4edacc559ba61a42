// An 8-byte access to a device register (a 64-bit MOV, MOVQ, CMPXCHG8B's read and write) reaches
// the bus as one 8-byte access, as on hardware, not as two 4-byte ones (issue 13: HPET's 64-bit
// main counter read in one piece). A bus without 8-byte methods still gets two 4-byte halves.
import { describe, expect, it } from 'vitest';
import type { CpuBus } from '../../../src/cpu/bus.js';
import { RUN_HALTED } from '../../../src/cpu/cpu.js';
import { PTE_P, PTE_PS, PTE_W } from '../../../src/cpu/regs.js';
import { makeFlatCpu } from '../flat-core.js';

const DEV = 0xfed000f0;

class Bus64 implements CpuBus {
  readonly log: string[] = [];
  constructor(private readonly wide: boolean) {
    if (!wide) { this.mmioRead64 = undefined; this.mmioWrite64 = undefined; }
  }
  ioRead(): number { return -1; }
  ioWrite(): void { /* none */ }
  mmioRead(paddr: number, size: number): number {
    this.log.push(`r${size} ${paddr.toString(16)}`);
    return paddr === DEV ? 0x89abcdef | 0 : 0x01234567;
  }
  mmioWrite(paddr: number, size: number, value: number): void {
    this.log.push(`w${size} ${paddr.toString(16)} ${(value >>> 0).toString(16)}`);
  }
  mmioRead64?(paddr: number): bigint {
    this.log.push(`r8 ${paddr.toString(16)}`);
    return 0x0123456789abcdefn;
  }
  mmioWrite64?(paddr: number, value: bigint): void {
    this.log.push(`w8 ${paddr.toString(16)} ${value.toString(16)}`);
  }
}

/** a long-mode core whose 2 MiB page at 0xfec00000 maps the device window */
function core(bus: CpuBus, code: number[]) {
  const cpu = makeFlatCpu(64, 4 * 2 ** 20);
  const dv = new DataView(cpu.shared.ram);
  dv.setUint32(0x2018, 0x4000 | PTE_P | PTE_W, true); // PDPT[3] -> PD at 0x4000 (3..4 GiB)
  dv.setUint32(0x4000 + 8 * ((DEV >>> 21) & 511), 0xfec00000 | PTE_P | PTE_W | PTE_PS, true);
  cpu.bus = bus;
  new Uint8Array(cpu.shared.ram).set([...code, 0xf4], 0x10000);
  cpu.rip = 0x10000;
  cpu.lo[3] = DEV | 0; // rbx
  cpu.lo[1] = 0x44332211; cpu.hi[1] = 0x08070605; // rcx
  return cpu;
}

const MOV_LOAD_STORE = [0x48, 0x8b, 0x03, 0x48, 0x89, 0x4b, 0x18]; // mov rax,[rbx]; mov [rbx+0x18],rcx

describe('8-byte MMIO accesses', () => {
  it('a 64-bit MOV load and store are one device access each', () => {
    const bus = new Bus64(true);
    const cpu = core(bus, MOV_LOAD_STORE);
    expect(cpu.run(100)).toBe(RUN_HALTED);
    expect(bus.log).toEqual(['r8 fed000f0', 'w8 fed00108 807060544332211']);
    expect([cpu.lo[0] >>> 0, cpu.hi[0] >>> 0]).toEqual([0x89abcdef, 0x01234567]);
  });

  it('MOVQ xmm loads and stores and LOCK CMPXCHG8B are one 8-byte access each', () => {
    const bus = new Bus64(true);
    // movq xmm0,[rbx]; movq [rbx+0x18],xmm0; xor eax,eax; xor edx,edx; lock cmpxchg8b [rbx+0x18]
    const cpu = core(bus, [0xf3, 0x0f, 0x7e, 0x03, 0x66, 0x0f, 0xd6, 0x43, 0x18, 0x31, 0xc0, 0x31, 0xd2, 0xf0, 0x0f, 0xc7, 0x4b, 0x18]);
    expect(cpu.run(100)).toBe(RUN_HALTED);
    expect(bus.log).toEqual(['r8 fed000f0', 'w8 fed00108 123456789abcdef', 'r8 fed00108', 'w8 fed00108 123456789abcdef']);
  });

  it('a bus without 8-byte accesses gets two 4-byte halves, low first', () => {
    const bus = new Bus64(false);
    const cpu = core(bus, MOV_LOAD_STORE);
    expect(cpu.run(100)).toBe(RUN_HALTED);
    expect(bus.log).toEqual(['r4 fed000f0', 'r4 fed000f4', 'w4 fed00108 44332211', 'w4 fed0010c 8070605']);
    expect([cpu.lo[0] >>> 0, cpu.hi[0] >>> 0]).toEqual([0x89abcdef, 0x01234567]);
  });
});
