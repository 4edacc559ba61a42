/* PCI configuration space access (mechanism #1). */
#ifndef DIME_PCI_H
#define DIME_PCI_H
#include "kernel.h"
struct pci_addr { uint32_t bus, dev, fn; uint16_t device; };
uint32_t pci_read32(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off);
void pci_write32(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t off, uint32_t v);
bool pci_find(uint16_t vendor, const uint16_t *devices, size_t ndev, struct pci_addr *out);
#endif
