import { describe, expect, it } from 'vitest';
import { parseInitrdSpec } from '../../src/boot/initrd-spec.js';
import { loadKernel } from '../../src/boot/loader.js';
import { ramLayout } from '../../src/abi/memory-map.js';
import { buildElf, concat, cstr, mb1Header } from './image-builder.js';

const MiB = 2 ** 20;
const text = (s: string) => new TextEncoder().encode(s);

function kernelElf(): Uint8Array {
  // multiboot header at the start of the text segment, a 0x2000-byte bss after 0x40 bytes of data
  const code = concat(mb1Header(0x3), new Uint8Array(0x34).fill(0x90));
  return buildElf(32, 0x10000c, [{ paddr: 0x100000, data: code, memSize: 0x2040 }]);
}

describe('Multiboot 1 loader', () => {
  it('writes the information structure field by field as QEMU -m 512 does', () => {
    const layout = ramLayout(512 * MiB);
    const ram = new Uint8Array(layout.ramBytes);
    ram.fill(0xcc, 0x100040, 0x102040); // bss must be zeroed
    const modules = parseInitrdSpec('mod1 arg,,x,mod2').map((m, i) => ({ ...m, data: i === 0 ? text('hello module!') : new Uint8Array(5000).fill(7) }));
    const plan = loadKernel({ kernel: kernelElf(), kernelPath: 'k.elf', append: 'arg1 arg2', modules, ram, layout, ncores: 2 });
    const dv = new DataView(ram.buffer);
    const f = (o: number) => dv.getUint32(0x9500 + o, true);
    expect(plan.protocol).toBe('multiboot1');
    expect(plan.regs.eax).toBe(0x2badb002);
    expect(plan.regs.ebx).toBe(0x9500);
    expect(plan.entry).toBe(0x10000c);
    expect(plan.mode).toBe('protected32');
    expect(f(0)).toBe(0x24f); // memory, boot device, cmdline, mods, mmap, loader name
    expect(f(4)).toBe(639);
    expect(f(8)).toBe(523136);
    expect(f(12)).toBe(0x8000ffff);
    // kernel ends at 0x102040 -> module list at the next page, as QEMU
    expect(f(24)).toBe(0x103000);
    expect(f(20)).toBe(2);
    // strings follow the 2 module entries: module strings, then the kernel command line
    expect(cstr(ram, 0x103020)).toBe('mod1 arg,x');
    expect(f(16)).toBe(0x103020 + 11 + 5);
    expect(cstr(ram, f(16))).toBe('k.elf arg1 arg2');
    // QEMU puts the loader name after a string area sized from the raw -initrd text
    expect(f(64)).toBe(0x103020 + (6 + 10 + 'mod1 arg,,x,mod2'.length + 1));
    expect(cstr(ram, f(64))).toBe('qemu');
    for (const o of [28, 32, 36, 40, 52, 56, 60, 68, 72, 76, 80, 84]) expect(f(o)).toBe(0);
    // module entries: page aligned, end exclusive, string pointer
    const mod = (k: number, o: number) => dv.getUint32(0x103000 + 16 * k + o, true);
    expect([mod(0, 0), mod(0, 4)]).toEqual([0x104000, 0x104000 + 13]);
    expect([mod(1, 0), mod(1, 4)]).toEqual([0x105000, 0x105000 + 5000]);
    expect(cstr(ram, mod(1, 8))).toBe('mod2');
    expect(mod(0, 12)).toBe(0);
    expect(cstr(ram, 0x104000)).toBe('hello module!');
    // memory map at 0x9000: 24-byte entries with size 20
    expect(f(48)).toBe(0x9000);
    expect(f(44)).toBe(6 * 24);
    const mm = [];
    for (let a = 0x9000; a < 0x9000 + f(44); a += 24) {
      expect(dv.getUint32(a, true)).toBe(20);
      mm.push([Number(dv.getBigUint64(a + 4, true)), Number(dv.getBigUint64(a + 12, true)), dv.getUint32(a + 20, true)]);
    }
    expect(mm).toEqual([
      [0, 0x9fc00, 1], [0x9fc00, 0x400, 2], [0xf0000, 0x10000, 2],
      [0x100000, 0x1fee0000, 1], [0x1ffe0000, 0x20000, 2], [0xfffc0000, 0x40000, 2],
    ]);
    // kernel bytes and zeroed bss
    expect(dv.getUint32(0x100000, true)).toBe(0x1badb002);
    expect(ram.subarray(0x100040, 0x102040).every((b) => b === 0)).toBe(true);
    expect(plan.modules.map((m) => m.string)).toEqual(['mod1 arg,x', 'mod2']);
  });

  it('enters with QEMU selectors and leaves the GDT in memory', () => {
    const layout = ramLayout(64 * MiB);
    const ram = new Uint8Array(layout.ramBytes);
    const plan = loadKernel({ kernel: kernelElf(), kernelPath: 'k', ram, layout, ncores: 1 });
    expect(plan.segments.cs).toEqual({ selector: 0x08, base: 0, limit: 0xffffffff, attributes: 0xc09a });
    expect(plan.segments.ss.selector).toBe(0x10);
    expect(plan.control.cr0 & 0x80000001).toBe(1);
    expect(plan.regs.rflags).toBe(2);
    expect(plan.a20).toBe(true);
    const dv = new DataView(ram.buffer);
    expect(dv.getUint32(plan.gdt.base + 8 + 4, true)).toBe(0x00cf9a00);
    expect(dv.getUint32(plan.gdt.base + 16 + 4, true)).toBe(0x00cf9300);
    expect(cstr(ram, dv.getUint32(0x9500 + 16, true))).toBe('k ');
    expect(dv.getUint32(0x9500 + 8, true)).toBe((64 * MiB - MiB - 128 * 1024) / 1024);
    // BIOS data area: COM1, EBDA segment, base memory
    expect(dv.getUint16(0x400, true)).toBe(0x3f8);
    expect(dv.getUint16(0x40e, true)).toBe(0x9fc0);
    expect(dv.getUint16(0x413, true)).toBe(639);
  });

  it('loads with the a.out kludge address fields (flag 16)', () => {
    // file: 0x40 bytes of padding, header at file offset 0x40 = physical 0x200040
    const hdr = mb1Header(0x10003, { header: 0x200040, load: 0x200000, loadEnd: 0x200080, bssEnd: 0x201000, entry: 0x200060 });
    const file = concat(new Uint8Array(0x40).fill(0xab), hdr, new Uint8Array(0x20).fill(0xf4), new Uint8Array(0x40).fill(0x55));
    const layout = ramLayout(64 * MiB);
    const ram = new Uint8Array(layout.ramBytes);
    ram.fill(0xcc, 0x200080, 0x201000);
    const plan = loadKernel({ kernel: file, kernelPath: 'aout', ram, layout, ncores: 1 });
    expect(plan.entry).toBe(0x200060);
    expect(plan.kernel).toEqual({ low: 0x200000, high: 0x201000 });
    expect(ram[0x200000]).toBe(0xab);
    expect(new DataView(ram.buffer).getUint32(0x200040, true)).toBe(0x1badb002);
    expect(ram[0x20007f]).toBe(0xf4); // load_end_addr stops before the 0x55 tail of the file
    expect(ram.subarray(0x200080, 0x201000).every((b) => b === 0)).toBe(true);
  });

  it('translates a higher-half ELF entry to its physical address', () => {
    const code = concat(mb1Header(0x3), new Uint8Array(0x40));
    const k = buildElf(32, 0xc0100010, [{ paddr: 0x100000, vaddr: 0xc0100000, data: code }]);
    const layout = ramLayout(64 * MiB);
    const plan = loadKernel({ kernel: k, kernelPath: 'hh', ram: new Uint8Array(layout.ramBytes), layout, ncores: 1 });
    expect(plan.entry).toBe(0x100010);
  });
});

describe('--initrd syntax', () => {
  it('splits on commas, ",," is a literal comma, args follow the first space', () => {
    expect(parseInitrdSpec('a.bin x y,,z,b.bin,c.bin q')).toEqual([
      { text: 'a.bin x y,z', path: 'a.bin', args: 'x y,z' },
      { text: 'b.bin', path: 'b.bin', args: '' },
      { text: 'c.bin q', path: 'c.bin', args: 'q' },
    ]);
    expect(() => parseInitrdSpec('a,,,')).toThrow("--initrd: empty module name in 'a,,,'");
  });
});
