import { describe, expect, it } from 'vitest';
import { createSharedMemory } from '../../../src/abi/shared-memory.js';
import { Cpu } from '../../../src/cpu/cpu.js';
import { restoreCpuState, saveCpuState } from '../../../src/cpu/cpu-snapshot.js';
import { getReg, setReg } from '../../../src/cpu/ops/x87/fpu-state.js';
import { createControlBuffer } from '../../../src/abi/control-block.js';
import { ramLayout } from '../../../src/abi/memory-map.js';

const bus = { ioRead: () => 0xff, ioWrite: () => {}, mmioRead: () => -1, mmioWrite: () => {} };

function makeCpu(): Cpu {
  const bytes = 4 << 20;
  const ctl = createControlBuffer(1, bytes);
  return new Cpu(createSharedMemory(bytes, ramLayout(bytes), ctl), bus, 0);
}

describe('cpu state save/restore', () => {
  it('round-trips registers, segments, control registers, MSRs, SSE/x87 and run state through JSON', () => {
    const a = makeCpu();
    a.lo.set([1, 2, 3, -4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    a.hi[3] = -1;
    a.rip = -0x80000000 + 0x1234;
    a.flags = 0x246;
    a.lfOp = 3; a.lfA = 7; a.lfB = 9; a.lfR = -2; a.lfSize = 8;
    a.segSel[1] = 0x08; a.segBase[4] = 0x7fff_0000_1000; a.segAttr[1] = 0xa09b;
    a.cr0 = 0x80050033 | 0; a.cr3 = 0x1000; a.cr4 = 0x6a0; a.efer = 0xd01; a.cpl = 3; a.mode64 = true;
    a.msrs.set(0x277, [1, 2]);
    a.xmm[5] = 0x3ff00000; a.mxcsr = 0x1fa0; a.fpTop = 5;
    a.halted = true; a.retired = 123456789012;
    setReg(a, 2, { se: 0x4000, sig: 0xc90fdaa22168c235n }); // pi in 80 bits
    setReg(a, 3, { se: 0x8000, sig: 0n }); // -0
    setReg(a, 4, { se: 0xffff, sig: 0xfedcba9876543210n }); // MMX data
    const json = JSON.parse(JSON.stringify(saveCpuState(a)));
    const b = makeCpu();
    restoreCpuState(b, json);
    expect(saveCpuState(b)).toEqual(saveCpuState(a));
    expect(b.hi[3]).toBe(-1);
    expect(b.segBase[4]).toBe(0x7fff_0000_1000);
    expect(b.msrs.get(0x277)).toEqual([1, 2]);
    expect(getReg(b, 2)).toEqual({ se: 0x4000, sig: 0xc90fdaa22168c235n });
    expect(getReg(b, 3)).toEqual({ se: 0x8000, sig: 0n });
    expect(getReg(b, 4)).toEqual({ se: 0xffff, sig: 0xfedcba9876543210n });
  });

  it('restores a version-1 image, whose x87 registers were binary64 (MMX data raw under tag 2)', () => {
    const a = makeCpu();
    const snap = JSON.parse(JSON.stringify(saveCpuState(a)));
    const f = new Float64Array(8);
    const bits = new Int32Array(f.buffer);
    f[0] = 1.5; f[1] = -0; f[2] = 5e-324;
    bits.set([0x76543210, 0xfedcba98 | 0], 6); // physical 3: MMX data
    snap.version = 1;
    snap.state.fpr = { f64bits: Array.from(bits) };
    snap.state.fpTag = 0xff00 | (2 << 6) | 0; // 0-2 in use, 3 MMX (tag 2), 4-7 empty
    const b = makeCpu();
    restoreCpuState(b, snap);
    expect(getReg(b, 0)).toEqual({ se: 0x3fff, sig: 0xc000000000000000n });
    expect(getReg(b, 1)).toEqual({ se: 0x8000, sig: 0n });
    expect(getReg(b, 2)).toEqual({ se: 16383 - 1074, sig: 0x8000000000000000n }); // exact, normal in 80 bits
    expect(getReg(b, 3)).toEqual({ se: 0xffff, sig: 0xfedcba9876543210n });
    expect((b.fpTag >> 6) & 3).toBe(0);
    expect(saveCpuState(b).version).toBe(2);
  });

  it('rejects an unknown format', () => {
    expect(() => restoreCpuState(makeCpu(), { version: 9 } as never)).toThrow(/unknown format/);
  });
});
