// How bus 0's PCI interrupt pins reach the interrupt controllers, as SeaBIOS programs QEMU's
// PIIX3: PIRQA..D -> ISA IRQ 10, 10, 11, 11, and a device's INTx pin reaches PIRQ (pin - 1 +
// slot) mod 4 (the standard swizzle). One table for the PCI host's PIRQ registers, the slots'
// interrupt-line registers and the DSDT's _PRT, so the three never disagree.

/** PIRQA..D -> ISA IRQ. */
export const PIRQ_TO_IRQ = [10, 10, 11, 11];

/** The ISA IRQ a bus-0 device's INTx pin (1..4) reaches; 0xff for no pin. */
export function legacyIrqFor(dev: number, pin: number): number {
  if (pin < 1 || pin > 4) return 0xff;
  return PIRQ_TO_IRQ[(pin - 1 + dev) & 3];
}
