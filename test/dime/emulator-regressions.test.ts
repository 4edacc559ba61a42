// Emulator bugs the DIME kernel exposed, pinned at the level where they lived.
import { describe, it, expect } from 'vitest';
import { Machine } from '../../src/machine/machine.js';
import { resolveDestination } from '../../src/abi/interrupt-delivery.js';

describe('parallax-emu regressions found by the DIME kernel', () => {
  // Under host load an AP's worker could still be starting when the BSP sent INIT-SIPI-SIPI;
  // its APIC ID was not yet in the control block, so the IPIs went nowhere and the DIME kernel
  // reported "DIME n (APIC n) did not start" (core n: 0 instructions retired).
  // Guest-level check: test/guest/kernels/smp-early.c.
  it('every core answers to its APIC ID from power-on, before its worker runs', () => {
    const m = new Machine({ cores: 4, memoryBytes: 32 * 1024 * 1024 });
    for (let apic = 0; apic < 4; apic++) expect(resolveDestination(m.ctl, apic, false)).toEqual([apic]);
  });
});
