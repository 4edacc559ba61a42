// Firmware-like BAR placement: what SeaBIOS does before QEMU jumps to a -kernel, so devices
// never carry BAR address literals. Memory BARs are handed out downwards, each aligned to its
// size; I/O BARs upwards from 0xC000, each aligned to its size.
//
// The first memory BAR's top is chosen so a 128 KiB BAR lands at 0xFEB80000, where SeaBIOS puts
// the first e1000's registers in QEMU 7.2's `pc` machine (guests print it; transcripts compare).

export const PCI_MMIO_TOP = 0xfeba_0000;
export const PCI_IO_FIRST = 0xc000;

export class PciBarAllocator {
  private mmioTop = PCI_MMIO_TOP;
  private ioNext = PCI_IO_FIRST;

  /** base of a new memory BAR of `size` bytes (a power of two) */
  mmio(size: number): number {
    const base = Math.floor((this.mmioTop - size) / size) * size;
    if (base < 0xc000_0000) throw new Error(`PCI: no room for a ${size}-byte memory BAR`);
    this.mmioTop = base;
    return base;
  }

  /** base of a new I/O BAR of `size` ports (a power of two) */
  io(size: number): number {
    const base = Math.ceil(this.ioNext / size) * size;
    if (base + size > 0x10000) throw new Error(`PCI: no room for a ${size}-port I/O BAR`);
    this.ioNext = base + size;
    return base;
  }
}
