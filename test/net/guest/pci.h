/* PCI configuration space through the legacy 0xCF8/0xCFC mechanism (bus 0 is enough here). */
#ifndef NIC_GUEST_PCI_H
#define NIC_GUEST_PCI_H

#include "guest.h"

u32 pci_read32(int bus, int dev, int fn, int off);
void pci_write32(int bus, int dev, int fn, int off, u32 v);
/* finds the first function with this vendor/device on bus 0; returns 0 and fills dev/fn, or -1 */
int pci_find(u16 vendor, u16 device, int *dev, int *fn);

#define PCI_COMMAND 0x04
#define PCI_BAR0 0x10
#define PCI_CMD_IO (1u << 0)
#define PCI_CMD_MEMORY (1u << 1)
#define PCI_CMD_BUS_MASTER (1u << 2)

#endif
