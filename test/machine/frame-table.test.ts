import { describe, expect, it } from 'vitest';
import { FF_KERNEL_IMAGE, FF_MODULE, FF_RESERVED, FRAME_FREE, FRAME_SHARED, createControlBuffer } from '../../src/abi/control-block.js';
import { FrameTable } from '../../src/machine/frame-table.js';
import { MiB, ramLayout } from '../../src/abi/memory-map.js';
import { loadKernel } from '../../src/boot/loader.js';
import { code, multiboot1 } from '../emulator/mini-kernels.js';

describe('frame table', () => {
  it('starts free and records owners per 2 MiB frame', () => {
    const ctl = createControlBuffer(4, 64 * MiB);
    const t = new FrameTable(ctl, ramLayout(64 * MiB));
    expect(t.frames).toBe(32);
    expect(t.get(5)).toEqual({ frame: 5, owner: FRAME_FREE, flags: 0 });
    t.markPhysical(10 * MiB + 123, 3 * MiB, 2, 0);
    expect([4, 5, 6, 7].map((f) => t.get(f).owner)).toEqual([FRAME_FREE, 2, 2, FRAME_FREE]);
    expect(t.summary().perCore.get(2)).toBe(2);
    expect(() => t.get(32)).toThrow(RangeError);
  });

  it('is filled from the loader plan: firmware, kernel image and modules form the kernel partition', () => {
    const bytes = 64 * MiB;
    const layout = ramLayout(bytes);
    const ram = new Uint8Array(bytes);
    const ctl = createControlBuffer(2, bytes);
    const plan = loadKernel({
      kernel: multiboot1(code.spin), kernelPath: 'k', ram, layout, ncores: 2,
      modules: [{ path: 'm', text: 'm', args: '', data: new Uint8Array(3 * MiB) }],
    });
    const t = new FrameTable(ctl, layout);
    t.fillFromPlan(plan);
    const first = t.get(0);
    expect(first.owner).toBe(FRAME_SHARED);
    expect(first.flags & FF_RESERVED).not.toBe(0);
    expect(first.flags & FF_KERNEL_IMAGE).not.toBe(0); // the kernel sits at 1 MiB
    const mod = plan.modules[0];
    expect(t.get(Math.floor(mod.start / (2 * MiB))).flags & FF_MODULE).not.toBe(0);
    expect(t.get(Math.floor((bytes - 1) / (2 * MiB))).owner).toBe(FRAME_SHARED); // firmware top of low RAM
    expect(t.summary().free).toBeGreaterThan(20);
  });
});
