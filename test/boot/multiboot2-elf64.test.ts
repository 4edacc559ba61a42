import { describe, expect, it } from 'vitest';
import { checksumByte } from '../../src/boot/acpi-tables.js';
import { loadKernel } from '../../src/boot/loader.js';
import { ramLayout } from '../../src/abi/memory-map.js';
import { buildElf, concat, cstr, mb2Header, u32s } from './image-builder.js';

const MiB = 2 ** 20;
const text = (s: string) => new TextEncoder().encode(s);

/** walk the info block: [type, offset of tag] */
function tags(ram: Uint8Array, addr: number): { type: number; at: number; size: number }[] {
  const dv = new DataView(ram.buffer);
  const total = dv.getUint32(addr, true);
  const out = [];
  let p = addr + 8;
  while (p < addr + total) {
    const type = dv.getUint32(p, true);
    const size = dv.getUint32(p + 4, true);
    out.push({ type, at: p, size });
    if (type === 0) break;
    p += (size + 7) & ~7;
  }
  return out;
}

describe('Multiboot 2 loader', () => {
  it('loads an ELF32 kernel and builds the information tags', () => {
    const hdr = mb2Header([[1, 0, u32s(1, 3, 6, 14, 15)], [4, 0, u32s(0)], [5, 1, u32s(0, 0, 0)], [6, 0, new Uint8Array(0)]]);
    const k = buildElf(32, 0x100000 + hdr.length, [{ paddr: 0x100000, data: concat(hdr, new Uint8Array(64)), memSize: 0x3000 }]);
    const layout = ramLayout(256 * MiB);
    const ram = new Uint8Array(layout.ramBytes);
    const modules = [{ text: 'initrd.img root=x', path: 'initrd.img', args: 'root=x', data: new Uint8Array(100).fill(3) }];
    const plan = loadKernel({ kernel: k, kernelPath: 'kern', append: 'console=ttyS0', modules, ram, layout, ncores: 4 });
    expect(plan.protocol).toBe('multiboot2');
    expect(plan.regs.eax).toBe(0x36d76289);
    expect(plan.regs.ebx).toBe(plan.infoAddress);
    expect(plan.infoAddress % 8).toBe(0);
    expect(plan.mode).toBe('protected32');
    const dv = new DataView(ram.buffer);
    const t = tags(ram, plan.infoAddress);
    expect(t.map((x) => x.type)).toEqual([1, 2, 3, 4, 6, 21, 14, 15, 0]);
    expect(t.every((x) => x.at % 8 === 0)).toBe(true);
    expect(cstr(ram, t[0].at + 8)).toBe('kern console=ttyS0');
    expect(cstr(ram, t[1].at + 8)).toBe('qemu');
    expect(dv.getUint32(t[2].at + 8, true)).toBe(0x103000);
    expect(dv.getUint32(t[2].at + 12, true)).toBe(0x103000 + 100);
    expect(cstr(ram, t[2].at + 16)).toBe('root=x');
    expect([dv.getUint32(t[3].at + 8, true), dv.getUint32(t[3].at + 12, true)]).toEqual([639, (256 * MiB - MiB - 128 * 1024) / 1024]);
    expect([dv.getUint32(t[4].at + 8, true), dv.getUint32(t[4].at + 12, true)]).toEqual([24, 0]);
    expect((t[4].size - 16) / 24).toBe(plan.memoryMap.length);
    expect(Number(dv.getBigUint64(t[4].at + 16 + 24 * 3, true))).toBe(0x100000);
    const rsdpOld = ram.subarray(t[6].at + 8, t[6].at + 28);
    expect(String.fromCharCode(...rsdpOld.subarray(0, 8))).toBe('RSD PTR ');
    expect(checksumByte(rsdpOld)).toBe(0);
    const rsdpNew = ram.subarray(t[7].at + 8, t[7].at + 44);
    expect(rsdpNew[15]).toBe(2);
    expect(checksumByte(rsdpNew)).toBe(0);
    expect(t[8].size).toBe(8);
  });

  it('honours the address and entry tags', () => {
    const pre = new Uint8Array(0x20).fill(0x90);
    // header at file offset 0x20 = physical 0x300020, whole file loaded, bss to 0x302000
    let hdr = mb2Header([[2, 0, u32s(0x300020, 0x300000, 0, 0x302000)], [3, 0, u32s(0x300100)]]);
    const file = concat(pre, hdr, new Uint8Array(0x100 - 0x20 - hdr.length + 16).fill(0xf4));
    const layout = ramLayout(64 * MiB);
    const ram = new Uint8Array(layout.ramBytes);
    const plan = loadKernel({ kernel: file, kernelPath: 'k', ram, layout, ncores: 1 });
    expect(plan.entry).toBe(0x300100);
    expect(plan.kernel).toEqual({ low: 0x300000, high: 0x302000 });
    expect(new DataView(ram.buffer).getUint32(0x300020, true)).toBe(0xe85250d6);
    hdr = mb2Header([[2, 0, u32s(0x300020, 0x300000, 0, 0x302000)]]);
    expect(() => loadKernel({ kernel: concat(pre, hdr), kernelPath: 'k', ram, layout, ncores: 1 }))
      .toThrow('multiboot2: address tag without an entry address tag');
  });

  it('rejects unknown required tags and unknown required information requests', () => {
    const layout = ramLayout(64 * MiB);
    const ram = new Uint8Array(layout.ramBytes);
    const mk = (hdr: Uint8Array) => buildElf(32, 0x100000, [{ paddr: 0x100000, data: concat(hdr, new Uint8Array(16)) }]);
    expect(() => loadKernel({ kernel: mk(mb2Header([[77, 0, u32s(1)]])), kernelPath: 'k', ram, layout, ncores: 1 }))
      .toThrow('multiboot2: unsupported header tag type 77');
    expect(() => loadKernel({ kernel: mk(mb2Header([[1, 0, u32s(99)]])), kernelPath: 'k', ram, layout, ncores: 1 }))
      .toThrow('multiboot2: information request for unknown tag type 99');
    const plan = loadKernel({ kernel: mk(mb2Header([[77, 1, u32s(1)], [1, 0, u32s(8)]])), kernelPath: 'k', ram, layout, ncores: 1 });
    expect(plan.warnings).toEqual(['multiboot2: optional header tag 77 ignored', 'multiboot2: requested information tag 8 is not available on this machine']);
  });
});

describe('plain ELF64 long-mode entry', () => {
  it('loads by p_paddr, builds identity page tables, passes the info block in RDI', () => {
    const code = new Uint8Array(0x80).fill(0x90);
    const k = buildElf(64, 0xffffffff80200040n, [{ paddr: 0x200000, vaddr: 0xffffffff80200000n, data: code, memSize: 0x1000 }]);
    const layout = ramLayout(128 * MiB);
    const ram = new Uint8Array(layout.ramBytes);
    const plan = loadKernel({ kernel: k, kernelPath: 'k64', append: 'x=1', ram, layout, ncores: 2 });
    expect(plan.protocol).toBe('elf64');
    expect(plan.mode).toBe('long64');
    expect(plan.entry).toBe(0x200040);
    expect(plan.regs.rip).toBe(0x200040);
    expect(plan.regs.rdi).toBe(plan.infoAddress);
    expect(plan.regs.rsp).toBe(0xf0000);
    expect(plan.segments.cs.selector).toBe(0x28);
    expect(plan.segments.cs.attributes & 0x2000).toBe(0x2000); // L bit
    expect(plan.control).toEqual({ cr0: 0x80000011, cr3: 0xe1000, cr4: 0x20, efer: 0x500 });
    const dv = new DataView(ram.buffer);
    const pml4 = Number(dv.getBigUint64(0xe1000, true));
    expect(pml4).toBe(0xe2000 | 3);
    for (let g = 0; g < 4; g++) expect(Number(dv.getBigUint64(0xe2000 + 8 * g, true))).toBe((0xe3000 + 0x1000 * g) | 3);
    // 2 MiB page for 0x200000, and the last one (0xFFE00000) is uncached
    expect(Number(dv.getBigUint64(0xe3000 + 8, true))).toBe(0x200000 | 0x83);
    expect(Number(dv.getBigUint64(0xe6000 + 511 * 8, true))).toBe(0xffe00000 + 0x9b);
    // the page-table/GDT/stack area is reported reserved
    expect(plan.memoryMap.slice(0, 3)).toEqual([
      { base: 0, length: 0x9fc00, type: 1 }, { base: 0x9fc00, length: 0x400, type: 2 }, { base: 0xe0000, length: 0x20000, type: 2 },
    ]);
    const t = tags(ram, plan.infoAddress);
    expect(t[0].type).toBe(1);
    expect(cstr(ram, t[0].at + 8)).toBe('k64 x=1');
  });
});
