/* The 82540EM's programming sequence (8254x SDM chapter 14): reset, link, address filter,
 * legacy receive and transmit rings. Polled; the rings live in identity-mapped bss, so their
 * virtual addresses are the physical ones the NIC needs. */
#include "e1000.h"
#include "pci.h"
/* the register map is the DIME kernel's (hardware facts); the driver is kept apart from the DIME
 * kernel's on purpose, as a test fixture of the NIC model (e1000.h says why) */
#include "../../../src/dime/kernel/e1000-regs.h"

#define E1000_VENDOR 0x8086
#define E1000_82540EM 0x100e

#define TCTL_CT (0x10u << 4)
#define TCTL_COLD (0x40u << 12)
#define TIPG_COPPER 0x0060200au /* IPGT 10, IPGR1 8, IPGR2 6 */

#define RX_COUNT 32
#define TX_COUNT 8

/* rings must be 16-byte aligned and a multiple of 128 bytes long */
static struct rx_desc rx_ring[RX_COUNT] __attribute__((aligned(128)));
static struct tx_desc tx_ring[TX_COUNT] __attribute__((aligned(128)));
static u8 rx_bufs[RX_COUNT][BUF_SIZE] __attribute__((aligned(16)));
static u8 tx_bufs[TX_COUNT][BUF_SIZE] __attribute__((aligned(16)));

static u32 rd(struct nic *n, u32 reg) { return *(volatile u32 *)(n->mmio + reg); }
static void wr(struct nic *n, u32 reg, u32 v) { *(volatile u32 *)(n->mmio + reg) = v; }

static int eeprom_word(struct nic *n, u32 addr, u16 *out) {
  wr(n, REG_EERD, (addr << 8) | EERD_START);
  for (int i = 0; i < 100000; i++) {
    u32 v = rd(n, REG_EERD);
    if (v & EERD_DONE) {
      *out = (u16)(v >> 16);
      return 0;
    }
  }
  return -1;
}

int nic_init(struct nic *n) {
  int dev, fn;
  if (pci_find(E1000_VENDOR, E1000_82540EM, &dev, &fn) != 0) return -1;
  u32 bar0 = pci_read32(0, dev, fn, PCI_BAR0);
  if (bar0 & 1) return -2; /* BAR0 must be memory */
  u32 cmd = pci_read32(0, dev, fn, PCI_COMMAND) & 0xffff;
  pci_write32(0, dev, fn, PCI_COMMAND, cmd | PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER);
  n->mmio = (volatile u8 *)(u64)(bar0 & ~0xfu);

  wr(n, REG_IMC, 0xffffffffu);
  wr(n, REG_CTRL, rd(n, REG_CTRL) | CTRL_RST);
  udelay(1000); /* the manual asks for at least 1 us before touching the NIC again */
  for (int i = 0; (rd(n, REG_CTRL) & CTRL_RST) && i < 1000; i++) udelay(10);
  wr(n, REG_IMC, 0xffffffffu);
  wr(n, REG_CTRL, rd(n, REG_CTRL) | CTRL_SLU | CTRL_ASDE);

  for (u32 w = 0; w < 3; w++) {
    u16 v;
    if (eeprom_word(n, w, &v) != 0) return -3;
    n->mac[2 * w] = (u8)v;
    n->mac[2 * w + 1] = (u8)(v >> 8);
  }
  wr(n, REG_RAL0, n->mac[0] | (n->mac[1] << 8) | (n->mac[2] << 16) | ((u32)n->mac[3] << 24));
  wr(n, REG_RAH0, n->mac[4] | (n->mac[5] << 8) | RAH_AV);
  for (u32 i = 0; i < 128; i++) wr(n, REG_MTA + 4 * i, 0);

  for (u32 i = 0; i < RX_COUNT; i++) {
    rx_ring[i].addr = (u64)rx_bufs[i];
    rx_ring[i].status = 0;
  }
  wr(n, REG_RDBAL, (u32)(u64)rx_ring);
  wr(n, REG_RDBAH, (u32)((u64)rx_ring >> 32));
  wr(n, REG_RDLEN, sizeof(rx_ring));
  wr(n, REG_RDH, 0);
  wr(n, REG_RDT, RX_COUNT - 1);
  n->rx_next = 0;
  wr(n, REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);

  for (u32 i = 0; i < TX_COUNT; i++) {
    tx_ring[i].addr = (u64)tx_bufs[i];
    tx_ring[i].status = DESC_DD; /* free */
  }
  wr(n, REG_TDBAL, (u32)(u64)tx_ring);
  wr(n, REG_TDBAH, (u32)((u64)tx_ring >> 32));
  wr(n, REG_TDLEN, sizeof(tx_ring));
  wr(n, REG_TDH, 0);
  wr(n, REG_TDT, 0);
  n->tx_next = 0;
  wr(n, REG_TIPG, TIPG_COPPER);
  wr(n, REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
  return 0;
}

int nic_link_up(struct nic *n) { return (rd(n, REG_STATUS) & STATUS_LU) != 0; }

int nic_send(struct nic *n, const void *frame, u32 len) {
  if (len > ETH_MAX_FRAME) len = ETH_MAX_FRAME;
  u32 i = n->tx_next;
  struct tx_desc *d = &tx_ring[i];
  memcpy(tx_bufs[i], frame, len);
  d->len = (u16)len;
  d->cso = 0;
  d->css = 0;
  d->special = 0;
  d->status = 0;
  d->cmd = TX_CMD_EOP | TX_CMD_IFCS | TX_CMD_RS;
  barrier();
  n->tx_next = (i + 1) % TX_COUNT;
  wr(n, REG_TDT, n->tx_next);
  for (int t = 0; t < 1000; t++) {
    if (*(volatile u8 *)&d->status & DESC_DD) return 0;
    udelay(10);
  }
  return -1;
}

u32 nic_poll(struct nic *n, u8 *buf, u32 cap) {
  for (;;) {
    struct rx_desc *d = &rx_ring[n->rx_next];
    u8 status = *(volatile u8 *)&d->status;
    if (!(status & DESC_DD)) return 0;
    barrier();
    u32 len = d->len;
    /* frames that span descriptors never happen with 2 KiB buffers and 1514-byte frames:
       drop any such piece rather than hand over half a frame */
    int whole = (status & RX_EOP) && len <= cap;
    if (whole) memcpy(buf, rx_bufs[n->rx_next], len);
    d->status = 0;
    barrier();
    wr(n, REG_RDT, n->rx_next);
    n->rx_next = (n->rx_next + 1) % RX_COUNT;
    if (whole) return len;
  }
}

void format_mac(char *out, const u8 *m) {
  snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int nic_bring_up(struct nic *n, int link_wait_ms) {
  char mac[18];
  int err = nic_init(n);
  if (err) {
    printf("e1000: init failed (%d)\n", err);
    return 2;
  }
  format_mac(mac, n->mac);
  printf("e1000: mac %s (EEPROM)\n", mac);
  for (int ms = 0; !nic_link_up(n); ms++) {
    if (ms >= link_wait_ms) {
      printf("e1000: no link\n");
      return 3;
    }
    udelay(1000);
  }
  printf("e1000: link up\n");
  return 0;
}
