import { describe, expect, it } from 'vitest';
import { HIGH_RAM_BASE, MiB, ramLayout } from '../../src/abi/memory-map.js';
import { RamDma } from '../../src/devices/ram-dma.js';

describe('RamDma', () => {
  it('translates low RAM, reads zeros and counts faults outside RAM, never writes there', () => {
    const ram = new SharedArrayBuffer(8 * MiB);
    const dma = new RamDma(ram, ramLayout(8 * MiB));
    dma.write(0x1000, Uint8Array.of(1, 2, 3));
    expect(Array.from(new Uint8Array(ram, 0x1000, 3))).toEqual([1, 2, 3]);
    // a buffer running off the end of RAM: the RAM part is written, the rest dropped
    dma.write(8 * MiB - 2, Uint8Array.of(9, 9, 9, 9));
    expect(Array.from(new Uint8Array(ram, 8 * MiB - 2, 2))).toEqual([9, 9]);
    expect(dma.faults).toBe(1);
    const out = new Uint8Array(6).fill(0xee);
    dma.read(8 * MiB - 2, out);
    expect(Array.from(out)).toEqual([9, 9, 0, 0, 0, 0]);
    dma.read(0xfeb80000, out);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(dma.faults).toBe(3);
  });

  it('follows the split between RAM below 3 GiB and RAM above 4 GiB', () => {
    // a layout larger than the buffer we can afford in a test is refused
    expect(() => new RamDma(new SharedArrayBuffer(MiB), ramLayout(2 * MiB))).toThrow(/smaller than the layout/);
    // use a sparse layout: pretend "low" RAM is 1 MiB and high RAM 1 MiB, in a 2 MiB buffer
    const ram = new SharedArrayBuffer(2 * MiB);
    const layout = { ramBytes: 2 * MiB, lowBytes: MiB, highBytes: MiB };
    const dma = new RamDma(ram, layout);
    dma.write(HIGH_RAM_BASE + 16, Uint8Array.of(7, 7));
    expect(new Uint8Array(ram)[MiB + 16]).toBe(7);
    dma.write(MiB - 1, Uint8Array.of(5, 6)); // the second byte falls in the hole
    expect(new Uint8Array(ram)[MiB - 1]).toBe(5);
    expect(new Uint8Array(ram)[MiB]).toBe(0);
    expect(dma.faults).toBe(1);
  });
});
