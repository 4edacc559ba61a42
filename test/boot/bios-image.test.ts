// -bios images: size rules, placement at the top of the legacy BIOS area, the window below
// 4 GiB reading the same RAM, and the e820 file QEMU gives SeaBIOS.

import { describe, expect, it } from 'vitest';
import { biosE820, checkBiosImage, placeBiosImage } from '../../src/boot/bios-image.js';
import { BootError } from '../../src/boot/boot-error.js';
import { HIGH_RAM_BASE, ramLayout, ramOffset } from '../../src/abi/memory-map.js';

describe('-bios image', () => {
  it('accepts 64 and 128 KiB, refuses other sizes with the reason', () => {
    expect(checkBiosImage(new Uint8Array(65536), 'a').length).toBe(65536);
    expect(checkBiosImage(new Uint8Array(131072), 'b').length).toBe(131072);
    expect(() => checkBiosImage(new Uint8Array(1000), 'c')).toThrow(/64 KiB blocks/);
    expect(() => checkBiosImage(new Uint8Array(0), 'd')).toThrow(BootError);
    expect(() => checkBiosImage(new Uint8Array(262144), 'e')).toThrow(/at most 128 KiB/);
  });

  it('the reset vector and the F-segment read the same bytes; without -bios the window is not RAM', () => {
    const l = ramLayout(64 << 20, 128 << 10);
    expect(ramOffset(l, 0xfffffff0)).toBe(0xffff0);
    expect(ramOffset(l, 0xfffe0000)).toBe(0xe0000);
    expect(ramOffset(l, 0xfffdffff)).toBe(-1);
    expect(ramOffset(ramLayout(64 << 20), 0xfffffff0)).toBe(-1);
    const small = ramLayout(64 << 20, 64 << 10);
    expect(ramOffset(small, 0xffff0000)).toBe(0xf0000);
    expect(ramOffset(small, 0xfffeffff)).toBe(-1);
    const ram = new Uint8Array(1 << 20);
    const img = new Uint8Array(131072);
    img[img.length - 16] = 0xea; // the far jump at the reset vector
    placeBiosImage(ram, img);
    expect(ram[ramOffset(l, 0xfffffff0)]).toBe(0xea);
  });

  it('e820 for the firmware: all low RAM from 0, and RAM above 4 GiB', () => {
    expect(biosE820(ramLayout(64 << 20))).toEqual([{ base: 0, length: 64 << 20, type: 1 }]);
    const big = ramLayout(3.5 * 2 ** 30);
    expect(biosE820(big)).toEqual([{ base: 0, length: 3 * 2 ** 30, type: 1 }, { base: HIGH_RAM_BASE, length: 0.5 * 2 ** 30, type: 1 }]);
  });
});
