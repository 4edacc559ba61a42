// The driver's BAR sizing probe, as a check any PCI function's test can make: each BAR reads
// `base` (with its type bits), reads `sizeMask` after all-ones is written, and takes `base` again.
import { expect } from 'vitest';

interface ConfigSpace {
  configRead(offset: number): number;
  configWrite(offset: number, value: number, mask: number): void;
}

export function expectBarSizing(fn: ConfigSpace, bars: Array<{ offset: number; base: number; sizeMask: number }>): void {
  for (const { offset, base, sizeMask } of bars) {
    expect(fn.configRead(offset), `BAR at 0x${offset.toString(16)}`).toBe(base);
    fn.configWrite(offset, 0xffffffff, 0xffffffff);
    expect(fn.configRead(offset), `BAR at 0x${offset.toString(16)} sized`).toBe(sizeMask);
  }
}

