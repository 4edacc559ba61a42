import { describe, expect, it } from 'vitest';
import { BootError } from '../../src/boot/boot-error.js';
import { loadKernel } from '../../src/boot/loader.js';
import { ramLayout } from '../../src/abi/memory-map.js';
import { buildElf, concat, mb1Header } from './image-builder.js';

const MiB = 2 ** 20;
const layout = ramLayout(16 * MiB);
const ram = new Uint8Array(layout.ramBytes);
const load = (kernel: Uint8Array, extra: Partial<Parameters<typeof loadKernel>[0]> = {}) =>
  () => loadKernel({ kernel, kernelPath: 'k', ram, layout, ncores: 1, ...extra });
const mbElf = (paddr: number, memSize?: number) => buildElf(32, paddr, [{ paddr, data: concat(mb1Header(), new Uint8Array(20)), memSize }]);

describe('loader rejects bad input with one-line BootErrors', () => {
  it('garbage and empty files', () => {
    expect(load(new Uint8Array(10000).fill(0x41))).toThrow(BootError);
    expect(load(new Uint8Array(10000).fill(0x41))).toThrow('not a kernel: no multiboot header in the first 8192 bytes and not an ELF64 image');
    expect(load(new Uint8Array(0))).toThrow('not a kernel: the file is empty');
    expect(load(buildElf(32, 0x100000, [{ paddr: 0x100000, data: new Uint8Array(8) }])))
      .toThrow('not a kernel: 32-bit ELF without a multiboot header (QEMU -kernel needs one too)');
  });

  it('a multiboot header beyond the first 8192 bytes is not found', () => {
    expect(load(concat(new Uint8Array(8192), mb1Header()))).toThrow(/^not a kernel/);
  });

  it('truncated ELF64 header, program headers and segment data', () => {
    const k = buildElf(64, 0x200000, [{ paddr: 0x200000, data: new Uint8Array(0x40).fill(1) }]);
    expect(load(k.slice(0, 40))).toThrow('truncated ELF: file is 40 bytes, the ELF64 header needs 64');
    expect(load(k.slice(0, 100))).toThrow('truncated ELF: program headers end at 0x78 past end of file (0x64)');
    expect(load(k.slice(0, 0x120))).toThrow('truncated ELF: segment 0 data ends at 0x140 past end of file (0x120)');
  });

  it('truncated multiboot ELF32 segment data', () => {
    const k = mbElf(0x100000);
    expect(load(k.slice(0, 0x110))).toThrow('truncated ELF: segment 0 data ends at 0x120 past end of file (0x110)');
  });

  it('truncated a.out kludge image', () => {
    const hdr = mb1Header(0x10000, { header: 0x100000, load: 0x100000, loadEnd: 0x101000, bssEnd: 0, entry: 0x100020 });
    expect(load(concat(hdr, new Uint8Array(100)))).toThrow('truncated kernel: load range ends at file offset 0x1000 past end of file (0x84)');
  });

  it('segments outside RAM or over firmware areas', () => {
    expect(load(mbElf(0x2000000))).toThrow('kernel segment 0 at 0x2000000-0x2000020 is outside RAM');
    expect(load(mbElf(0xfe0000))).toThrow('kernel segment 0 at 0xfe0000-0xfe0020 overlaps ACPI tables at 0xfe0000-0x1000000');
    expect(load(mbElf(0x9400))).toThrow('kernel segment 0 at 0x9400-0x9420 overlaps multiboot info at 0x9000-0x9558');
    expect(load(mbElf(0xb8000))).toThrow('kernel segment 0 at 0xb8000-0xb8020 overlaps EBDA, VGA hole and BIOS area at 0x9fc00-0x100000');
  });

  it('modules that do not fit below the firmware area', () => {
    const big = { text: 'big.img', path: 'big.img', args: '', data: new Uint8Array(15 * MiB) };
    expect(load(mbElf(0x100000), { modules: [big] }))
      .toThrow("module 'big.img' (15728640 bytes) at 0x102000-0x1002000 is outside RAM");
    const tooBig = { text: 'm', path: 'm', args: '', data: new Uint8Array(0xef0000) };
    expect(load(mbElf(0x100000), { modules: [tooBig] }))
      .toThrow("module 'm' (15663104 bytes) at 0x102000-0xff2000 overlaps ACPI tables at 0xfe0000-0x1000000");
  });

  it('bad ELF fields and machine', () => {
    const k = buildElf(64, 0x200000, [{ paddr: 0x200000, data: new Uint8Array(8) }], 40);
    expect(load(k)).toThrow('bad ELF: machine 40 is not x86');
    const k2 = buildElf(64, 0x200000, [{ paddr: 0x200000, data: new Uint8Array(8), memSize: 4 }]);
    expect(load(k2)).toThrow('bad ELF: segment 0 file size 0x8 exceeds its memory size 0x4');
    const k3 = buildElf(64, 0x123456789n, [{ paddr: 0x200000, data: new Uint8Array(8) }]);
    expect(load(k3)).toThrow('ELF64 entry 0x123456789 is above the 4 GiB identity map');
  });

  it('bad core counts and tiny RAM', () => {
    expect(load(mbElf(0x100000), { ncores: 0 })).toThrow('core count 0 out of range 1..255');
    const tiny = ramLayout(MiB);
    expect(() => loadKernel({ kernel: mbElf(0x100000), kernelPath: 'k', ram: new Uint8Array(MiB), layout: tiny, ncores: 1 }))
      .toThrow(/is outside RAM|RAM too small/);
  });

  it('messages are one line', () => {
    try {
      load(new Uint8Array(3))();
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
      expect((e as Error).name).toBe('BootError');
    }
  });
});

describe('mutated kernels never escape as anything but a BootError', () => {
  it('500 random corruptions of valid MB1, MB2-ish and ELF64 images', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    const bases = [
      mbElf(0x100000, 0x3000),
      buildElf(64, 0x200000, [{ paddr: 0x200000, data: new Uint8Array(0x40) }, { paddr: 0x300000, data: new Uint8Array(0x40), memSize: 0x5000 }]),
      concat(mb1Header(0x10000, { header: 0x100000, load: 0x100000, loadEnd: 0, bssEnd: 0, entry: 0x100020 }), new Uint8Array(64)),
    ];
    let ok = 0;
    let rejected = 0;
    for (let i = 0; i < 500; i++) {
      const k = bases[i % bases.length].slice();
      const n = 1 + Math.floor(rnd() * 6);
      for (let j = 0; j < n; j++) {
        const at = Math.floor(rnd() * Math.min(k.length, 0x140));
        k[at] = rnd() < 0.3 ? 0xff : Math.floor(rnd() * 256);
      }
      const cut = rnd() < 0.2 ? k.slice(0, Math.floor(rnd() * k.length)) : k;
      try {
        loadKernel({ kernel: cut, kernelPath: 'k', ram, layout, ncores: 1 });
        ok++;
      } catch (e) {
        if (!(e instanceof BootError)) throw new Error(`mutation ${i} escaped as ${(e as Error).name}: ${(e as Error).message}`);
        rejected++;
      }
    }
    expect(ok + rejected).toBe(500);
    expect(rejected).toBeGreaterThan(0);
  });
});
