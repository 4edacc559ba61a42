/* Legacy PCI configuration mechanism #1: an address at 0xCF8, the dword at 0xCFC. */
#include "pci.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

static u32 cfg_address(int bus, int dev, int fn, int off) {
  return 0x80000000u | ((u32)bus << 16) | ((u32)dev << 11) | ((u32)fn << 8) | ((u32)off & 0xfc);
}

u32 pci_read32(int bus, int dev, int fn, int off) {
  outl(PCI_ADDR, cfg_address(bus, dev, fn, off));
  return inl(PCI_DATA);
}

void pci_write32(int bus, int dev, int fn, int off, u32 v) {
  outl(PCI_ADDR, cfg_address(bus, dev, fn, off));
  outl(PCI_DATA, v);
}

int pci_find(u16 vendor, u16 device, int *dev_out, int *fn_out) {
  for (int dev = 0; dev < 32; dev++) {
    for (int fn = 0; fn < 8; fn++) {
      u32 id = pci_read32(0, dev, fn, 0);
      if ((id & 0xffff) == 0xffff) {
        if (fn == 0) break; /* no device in this slot */
        continue;
      }
      if ((id & 0xffff) == vendor && (id >> 16) == device) {
        *dev_out = dev;
        *fn_out = fn;
        return 0;
      }
      /* single-function devices answer only function 0 */
      if (fn == 0 && !(pci_read32(0, dev, 0, 0x0c) & 0x00800000u)) break;
    }
  }
  return -1;
}
