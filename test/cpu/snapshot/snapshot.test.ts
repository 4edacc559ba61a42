import { describe, expect, it } from 'vitest';
import { createSharedMemory } from '../../../src/abi/shared-memory.js';
import { Cpu } from '../../../src/cpu/cpu.js';
import { restoreCpuState, saveCpuState } from '../../../src/cpu/cpu-snapshot.js';
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
    a.xmm[5] = 0x3ff00000; a.mxcsr = 0x1fa0; a.fpr[2] = Math.PI; a.fpTop = 5;
    a.halted = true; a.retired = 123456789012;
    a.fpr[3] = -0;
    new Int32Array(a.fpr.buffer, 32, 2).set([0x1234, 0x7ff80abc]); // a NaN with a payload (MMX bits)
    const json = JSON.parse(JSON.stringify(saveCpuState(a)));
    const b = makeCpu();
    restoreCpuState(b, json);
    expect(saveCpuState(b)).toEqual(saveCpuState(a));
    expect(b.hi[3]).toBe(-1);
    expect(b.segBase[4]).toBe(0x7fff_0000_1000);
    expect(b.msrs.get(0x277)).toEqual([1, 2]);
    expect(b.fpr[2]).toBe(Math.PI);
    expect(Object.is(b.fpr[3], -0)).toBe(true);
    expect(Array.from(new Int32Array(b.fpr.buffer, 32, 2))).toEqual([0x1234, 0x7ff80abc]);
  });

  it('rejects an unknown format', () => {
    expect(() => restoreCpuState(makeCpu(), { version: 9 } as never)).toThrow(/unknown format/);
  });
});
