/* PCI configuration access, mechanism #1 (ports 0xCF8/0xCFC). */
#include "kernel.h"
#include "pci.h"

static spinlock_t pci_lock;

uint32_t pci_read32(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off) {
  uint64_t f = spin_lock_irqsave(&pci_lock);
  outl(0xCF8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (off & 0xFC));
  uint32_t v = inl(0xCFC);
  spin_unlock_irqrestore(&pci_lock, f);
  return v;
}

void pci_write32(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off, uint32_t v) {
  uint64_t f = spin_lock_irqsave(&pci_lock);
  outl(0xCF8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (off & 0xFC));
  outl(0xCFC, v);
  spin_unlock_irqrestore(&pci_lock, f);
}

/* First function with this vendor/device id, scanning every bus; false when absent. */
bool pci_find(uint16_t vendor, const uint16_t *devices, size_t ndev, struct pci_addr *out) {
  for (uint32_t bus = 0; bus < 256; bus++) {
    for (uint32_t dev = 0; dev < 32; dev++) {
      uint32_t id0 = pci_read32(bus, dev, 0, 0);
      if ((id0 & 0xFFFF) == 0xFFFF) continue;
      bool multi = (pci_read32(bus, dev, 0, 0x0C) >> 16) & 0x80;
      for (uint32_t fn = 0; fn < (multi ? 8u : 1u); fn++) {
        uint32_t id = fn ? pci_read32(bus, dev, fn, 0) : id0;
        if ((id & 0xFFFF) != vendor) continue;
        for (size_t i = 0; i < ndev; i++) {
          if ((id >> 16) == devices[i]) {
            out->bus = bus; out->dev = dev; out->fn = fn; out->device = (uint16_t)(id >> 16);
            return true;
          }
        }
      }
    }
  }
  return false;
}
