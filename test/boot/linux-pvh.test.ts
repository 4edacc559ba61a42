import { describe, expect, it } from 'vitest';
import { loadKernel } from '../../src/boot/loader.js';
import { ramLayout } from '../../src/abi/memory-map.js';
import { E820_RAM } from '../../src/boot/e820.js';
import { buildElf, cstr } from './image-builder.js';

const MiB = 2 ** 20;
const enc = (s: string) => new TextEncoder().encode(s);

interface BzOptions { version?: number; xloadflags?: number; setupSects?: number; initSize?: number; relocatable?: boolean; prefAddress?: number; kernelBytes?: number }

/** A synthetic bzImage: setup sectors with the header at 0x1F1, then the protected-mode "kernel". */
function bzImage(o: BzOptions = {}): Uint8Array {
  const setupSects = o.setupSects ?? 2;
  const kernelBytes = o.kernelBytes ?? 0x3000;
  const img = new Uint8Array((setupSects + 1) * 512 + kernelBytes);
  const dv = new DataView(img.buffer);
  img[0x1f1] = setupSects;
  dv.setUint16(0x1fe, 0xaa55, true);
  img[0x200] = 0xeb; img[0x201] = 0x6a; // jump: header ends at 0x26c
  dv.setUint32(0x202, 0x53726448, true);
  dv.setUint16(0x206, o.version ?? 0x020f, true);
  img[0x211] = 0x01; // LOADED_HIGH
  dv.setUint32(0x214, 0x100000, true);
  dv.setUint32(0x22c, 0x7fffffff, true);
  dv.setUint32(0x230, 0x200000, true);
  img[0x234] = o.relocatable === false ? 0 : 1;
  dv.setUint16(0x236, o.xloadflags ?? 0x7f, true);
  dv.setUint32(0x238, 2047, true);
  dv.setBigUint64(0x258, BigInt(o.prefAddress ?? 0x1000000), true);
  dv.setUint32(0x260, o.initSize ?? 0x800000, true);
  // recognisable kernel bytes: the 64-bit entry at +0x200
  const k = (setupSects + 1) * 512;
  img.fill(0x90, k, k + kernelBytes);
  img[k + 0x200] = 0xf4;
  return img;
}

function load(kernel: Uint8Array, extra: Partial<Parameters<typeof loadKernel>[0]> = {}, ramMiB = 128) {
  const layout = ramLayout(ramMiB * MiB);
  const ram = new Uint8Array(layout.ramBytes);
  const plan = loadKernel({ kernel, kernelPath: 'vmlinuz', ram, layout, ncores: 2, ...extra });
  return { plan, ram, dv: new DataView(ram.buffer), layout };
}

describe('Linux boot protocol (bzImage, 64-bit entry)', () => {
  it('loads the protected-mode kernel at 0x100000 and enters at +0x200 in long mode with RSI = boot_params', () => {
    const initrd = new Uint8Array(10000).fill(0x5a);
    const { plan, ram, dv } = load(bzImage(), { append: 'console=ttyS0 quiet', modules: [{ text: 'initrd.cpio', path: 'initrd.cpio', args: '', data: initrd }] });
    expect(plan.protocol).toBe('linux');
    expect(plan.mode).toBe('long64');
    expect(plan.entry).toBe(0x100200);
    expect(ram[0x100200]).toBe(0xf4);
    expect(plan.regs.rsi).toBe(0x10000);
    expect(plan.regs.rdi).toBe(0);
    expect(plan.regs.rflags & 0x200).toBe(0); // interrupts off
    // __BOOT_CS = 0x10 (64-bit code), __BOOT_DS = 0x18, flat, in the GDT the plan loads
    expect(plan.segments.cs.selector).toBe(0x10);
    expect(plan.segments.ds.selector).toBe(0x18);
    expect(plan.segments.ss.selector).toBe(0x18);
    expect(dv.getUint32(plan.gdt.base + 0x14, true)).toBe(0x00af9b00);
    expect(dv.getUint32(plan.gdt.base + 0x1c, true)).toBe(0x00cf9300);
    expect(plan.control.cr0 >>> 0).toBe(0x80000011);
    expect(plan.control.efer).toBe(0x500);
    // identity map of the first 4 GiB through CR3: PML4[0] -> PDPT -> 2 MiB pages
    const pdpt = Number(dv.getBigUint64(plan.control.cr3, true) & ~0xfffn);
    const pd0 = Number(dv.getBigUint64(pdpt, true) & ~0xfffn);
    expect(Number(dv.getBigUint64(pd0 + 8, true) & ~0xfffn)).toBe(0x200000);
    // boot_params: the image's setup header, the loader's fields
    const bp = 0x10000;
    expect(dv.getUint32(bp + 0x202, true)).toBe(0x53726448);
    expect(dv.getUint16(bp + 0x206, true)).toBe(0x020f);
    expect(ram[bp + 0x210]).toBe(0xb0); // type_of_loader: QEMU
    expect(dv.getUint32(bp + 0x228, true)).toBe(0x20000);
    expect(cstr(ram, 0x20000)).toBe('console=ttyS0 quiet'); // no kernel name, as QEMU for Linux
    const rdAddr = dv.getUint32(bp + 0x218, true);
    expect(dv.getUint32(bp + 0x21c, true)).toBe(10000);
    expect(rdAddr % 4096).toBe(0);
    expect(rdAddr + 10000).toBeLessThanOrEqual(128 * MiB - 128 * 1024); // as high as possible below the ACPI tables
    expect(rdAddr + 10000).toBeGreaterThan(128 * MiB - 128 * 1024 - 4096);
    expect(ram[rdAddr]).toBe(0x5a);
    expect(Number(dv.getBigUint64(bp + 0x70, true))).toBe(plan.acpi.rsdpAddress); // acpi_rsdp_addr (2.14+)
    // e820 in the zero page = the plan's map
    expect(ram[bp + 0x1e8]).toBe(plan.memoryMap.length);
    plan.memoryMap.forEach((e, k) => {
      expect(Number(dv.getBigUint64(bp + 0x2d0 + 20 * k, true))).toBe(e.base);
      expect(Number(dv.getBigUint64(bp + 0x2d0 + 20 * k + 8, true))).toBe(e.length);
      expect(dv.getUint32(bp + 0x2d0 + 20 * k + 16, true)).toBe(e.type);
    });
    // the decompression area (16 MiB + init_size) is the kernel's, never the initrd's
    expect(plan.reservedRegions.some((r) => r.what.includes('init_size') && r.base + r.length === 0x1000000 + 0x800000)).toBe(true);
  });

  it('a non-relocatable kernel (memtest86+) keeps init_size from its load address', () => {
    const { plan } = load(bzImage({ relocatable: false, prefAddress: 0x100000, initSize: 0x6acf8, version: 0x020c, xloadflags: 0x9 }));
    expect(plan.entry).toBe(0x100200);
    expect(plan.kernel.high).toBe(0x100000 + 0x6acf8);
  });

  it('refuses what it cannot enter, with the reason', () => {
    expect(() => load(bzImage({ version: 0x020b }))).toThrow('Linux boot protocol 2.11 has no 64-bit entry (needs 2.12+)');
    expect(() => load(bzImage({ xloadflags: 0 }))).toThrow('bzImage without a 64-bit entry point');
    expect(() => load(bzImage().subarray(0, 0x300))).toThrow('truncated bzImage');
    expect(() => load(bzImage(), { append: 'x'.repeat(2048) })).toThrow('--append is 2048 bytes; this kernel takes at most 2047');
    expect(() => load(bzImage({ initSize: 40 * MiB }), {}, 32)).toThrow(/RAM too small for this kernel: it needs 55 MiB/);
    const m = { text: 'a', path: 'a', args: '', data: new Uint8Array(4) };
    expect(() => load(bzImage(), { modules: [m, m] })).toThrow('a Linux kernel takes one --initrd file (got 2)');
  });
});

/** ELF64 with one PT_LOAD and one PT_NOTE holding `notes` ([name, type, desc]) */
function elfWithNotes(paddr: number, notes: [string, number, Uint8Array][]): Uint8Array {
  const base = buildElf(64, paddr, [{ paddr, data: new Uint8Array(64).fill(0x90) }]);
  const noteBytes: number[] = [];
  const push32 = (v: number) => noteBytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  for (const [name, type, desc] of notes) {
    const n = enc(name + '\0');
    push32(n.length); push32(desc.length); push32(type);
    noteBytes.push(...n); while (noteBytes.length % 4) noteBytes.push(0);
    noteBytes.push(...desc); while (noteBytes.length % 4) noteBytes.push(0);
  }
  // rebuild the program header table with a second entry (the ELF builder leaves room after it)
  const out = new Uint8Array(base.length + noteBytes.length);
  out.set(base);
  out.set(noteBytes, base.length);
  const dv = new DataView(out.buffer);
  const phoff = Number(dv.getBigUint64(32, true));
  const ph = phoff + 56;
  dv.setUint16(56, 2, true);
  dv.setUint32(ph, 4, true); // PT_NOTE
  dv.setBigUint64(ph + 8, BigInt(base.length), true);
  dv.setBigUint64(ph + 32, BigInt(noteBytes.length), true);
  dv.setBigUint64(ph + 40, BigInt(noteBytes.length), true);
  return out;
}

const u64 = (v: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v), true); return b; };

describe('PVH entry (XEN_ELFNOTE_PHYS32_ENTRY)', () => {
  it('enters the note\'s address in 32-bit protected mode with EBX = hvm_start_info v1', () => {
    const kernel = elfWithNotes(0x1000000, [['Xen', 6, enc('linux\0')], ['Xen', 18, u64(0x1000020)]]);
    const initrd = new Uint8Array(3000).fill(1);
    const { plan, ram, dv } = load(kernel, { append: 'console=ttyS0', modules: [{ text: 'rd args', path: 'rd', args: 'args', data: initrd }] });
    expect(plan.protocol).toBe('pvh');
    expect(plan.mode).toBe('protected32');
    expect(plan.entry).toBe(0x1000020);
    expect(plan.control.cr0).toBe(0x11);
    expect(plan.segments.cs.attributes & 0x4000).toBe(0x4000); // 32-bit code
    const si = plan.regs.ebx;
    expect(dv.getUint32(si, true)).toBe(0x336ec578);
    expect(dv.getUint32(si + 4, true)).toBe(1);
    expect(dv.getUint32(si + 12, true)).toBe(1); // nr_modules
    expect(cstr(ram, Number(dv.getBigUint64(si + 24, true)))).toBe('console=ttyS0');
    expect(Number(dv.getBigUint64(si + 32, true))).toBe(plan.acpi.rsdpAddress);
    const mod = Number(dv.getBigUint64(si + 16, true));
    expect(Number(dv.getBigUint64(mod, true))).toBe(plan.modules[0].start);
    expect(Number(dv.getBigUint64(mod + 8, true))).toBe(3000);
    expect(cstr(ram, Number(dv.getBigUint64(mod + 16, true)))).toBe('args');
    const map = Number(dv.getBigUint64(si + 40, true));
    expect(dv.getUint32(si + 48, true)).toBe(plan.memoryMap.length);
    plan.memoryMap.forEach((e, k) => {
      expect(Number(dv.getBigUint64(map + 24 * k, true))).toBe(e.base);
      expect(dv.getUint32(map + 24 * k + 16, true)).toBe(e.type);
    });
    expect(plan.memoryMap.some((e) => e.type === E820_RAM)).toBe(true);
  });

  it('a 4-byte note address works too; a Linux/Xen ELF64 without the PVH note is refused, not entered wrongly', () => {
    const four = new Uint8Array([0x40, 0, 0, 1]);
    expect(load(elfWithNotes(0x1000000, [['Xen', 18, four]])).plan.entry).toBe(0x1000040);
    expect(() => load(elfWithNotes(0x1000000, [['Xen', 6, enc('linux\0')]])))
      .toThrow('an ELF64 Linux/Xen kernel without a PVH entry note');
    expect(() => load(elfWithNotes(0x1000000, [['Linux', 1, u64(0)]]))).toThrow('without a PVH entry note');
    // other notes (GNU build ID) keep the documented plain-ELF64 route
    expect(load(elfWithNotes(0x1000000, [['GNU', 3, new Uint8Array(20)]])).plan.protocol).toBe('elf64');
  });
});
