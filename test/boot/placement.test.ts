// Images where the loader's usual addresses are taken load anyway, as on QEMU: the loader moves
// its own structures. Images that truly cannot fit are refused with both parties named.
import { describe, expect, it } from 'vitest';
import { loadKernel } from '../../src/boot/loader.js';
import { ramLayout } from '../../src/abi/memory-map.js';
import { buildElf, concat, cstr, mb1Header } from './image-builder.js';

const MiB = 2 ** 20;
function load(kernel: Uint8Array, append = 'x') {
  const layout = ramLayout(32 * MiB);
  const ram = new Uint8Array(layout.ramBytes);
  const plan = loadKernel({ kernel, kernelPath: 'k', append, ram, layout, ncores: 1 });
  return { plan, ram, dv: new DataView(ram.buffer) };
}
const overlaps = (a: number, al: number, b: number, bl: number) => a < b + bl && b < a + al;

describe('loader placement', () => {
  it('a Multiboot 1 kernel at 0x8000 over QEMU\'s info address: the info moves, the kernel stays intact', () => {
    const code = concat(mb1Header(0x3), new Uint8Array(0x3000 - 12).fill(0x90));
    const { plan, ram, dv } = load(buildElf(32, 0x800c, [{ paddr: 0x8000, data: code }]));
    expect(plan.entry).toBe(0x800c);
    expect(ram.subarray(0x800c, 0xb000).every((b) => b === 0x90)).toBe(true);
    const info = plan.regs.ebx;
    expect(overlaps(info, 88, 0x8000, 0x3000)).toBe(false);
    expect(dv.getUint32(info, true)).toBe(0x24f);
    const mmap = dv.getUint32(info + 48, true);
    expect(overlaps(mmap, dv.getUint32(info + 44, true), 0x8000, 0x3000)).toBe(false);
    expect(dv.getUint32(mmap, true)).toBe(20);
    expect(cstr(ram, dv.getUint32(info + 16, true))).toBe('k x');
  });

  it('a kernel linked with ld -Ttext 0x100000 (first segment at 0xff000) loads', () => {
    const code = concat(new Uint8Array(0x1000), mb1Header(0x3), new Uint8Array(0x100));
    const { plan, ram } = load(buildElf(32, 0x10000c, [{ paddr: 0xff000, data: code }]));
    expect(plan.entry).toBe(0x10000c);
    expect(ram[0x100000]).toBe(0x02); // the multiboot magic's low byte, where the kernel put it
  });

  it('a kernel over 0xE0000-0xF8000 pushes the GDT, stack, page tables and RSDP elsewhere; all stay usable', () => {
    const code = new Uint8Array(0x18000).fill(0xcc);
    const { plan, ram, dv } = load(buildElf(64, 0xe0000, [{ paddr: 0xe0000, data: code }]));
    expect(plan.protocol).toBe('elf64');
    expect(ram.subarray(0xe0000, 0xf8000).every((b) => b === 0xcc)).toBe(true);
    const rsdp = plan.acpi.rsdpAddress;
    expect(rsdp % 16).toBe(0);
    expect(rsdp >= 0xf8000 && rsdp < 0x100000).toBe(true); // still where the ACPI scan looks
    expect(String.fromCharCode(...ram.subarray(rsdp, rsdp + 8))).toBe('RSD PTR ');
    for (const [base, len] of [[plan.gdt.base, plan.gdt.limit + 1], [plan.control.cr3, 0x6000], [plan.regs.rsp - 0x8000, 0x8000]]) {
      expect(overlaps(base, len, 0xe0000, 0x18000)).toBe(false);
    }
    expect(dv.getUint32(plan.gdt.base + 0x2c, true)).toBe(0x00af9b00); // the 64-bit code descriptor at 0x28
    // relocated structures in usable RAM are reported reserved
    const inMap = (a: number) => plan.memoryMap.find((e) => a >= e.base && a < e.base + e.length);
    expect(inMap(plan.control.cr3)?.type ?? 2).not.toBe(1);
  });

  it('refuses only what truly cannot fit, naming both parties', () => {
    // the BIOS area taken: no room for the RSDP where the ACPI scan looks
    const bios = buildElf(32, 0xc0000, [{ paddr: 0xc0000, data: concat(mb1Header(0x3), new Uint8Array(0x40000 - 12)) }]);
    expect(() => load(bios)).toThrow(/^no room for ACPI RSDP in 0xe0000-0x100000/);
    // conventional memory and the BIOS area but for the RSDP taken: no room for the boot GDT
    const low = buildElf(32, 0x1000, [
      { paddr: 0x500, data: concat(mb1Header(0x3), new Uint8Array(0x9f700 - 12)) },
      { paddr: 0xc0000, data: new Uint8Array(0x3ffd0) }, // leaves 48 bytes: the RSDP's
    ]);
    expect(() => load(low)).toThrow(/^no room for boot GDT in 0x1000-0x9fc00, 0xc0000-0x100000/);
    expect(() => load(buildElf(32, 0xa0000, [{ paddr: 0xa0000, data: concat(mb1Header(0x3), new Uint8Array(8)) }])))
      .toThrow('kernel segment 0 at 0xa0000-0xa0014 overlaps VGA hole at 0xa0000-0xc0000');
  });
});
