/* The 82540EM's programming sequence (8254x SDM chapter 14): reset, link, address filter,
 * legacy receive and transmit rings. Polled; the rings live in identity-mapped bss, so their
 * virtual addresses are the physical ones the NIC needs. */
#include "e1000.h"
#include "pci.h"

#define E1000_VENDOR 0x8086
#define E1000_82540EM 0x100e

#define REG_CTRL 0x0000
#define REG_STATUS 0x0008
#define REG_EERD 0x0014
#define REG_IMC 0x00d8
#define REG_RCTL 0x0100
#define REG_TCTL 0x0400
#define REG_TIPG 0x0410
#define REG_RDBAL 0x2800
#define REG_RDBAH 0x2804
#define REG_RDLEN 0x2808
#define REG_RDH 0x2810
#define REG_RDT 0x2818
#define REG_TDBAL 0x3800
#define REG_TDBAH 0x3804
#define REG_TDLEN 0x3808
#define REG_TDH 0x3810
#define REG_TDT 0x3818
#define REG_MTA 0x5200
#define REG_RAL0 0x5400
#define REG_RAH0 0x5404

#define CTRL_ASDE (1u << 5)
#define CTRL_SLU (1u << 6)
#define CTRL_RST (1u << 26)
#define STATUS_LU (1u << 1)
#define EERD_START (1u << 0)
#define EERD_DONE (1u << 4)
#define RAH_AV (1u << 31)
#define RCTL_EN (1u << 1)
#define RCTL_BAM (1u << 15)
#define RCTL_SECRC (1u << 26) /* BSIZE 00 = 2048-byte buffers */
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define TCTL_CT (0x10u << 4)
#define TCTL_COLD (0x40u << 12)
#define TIPG_COPPER 0x0060200au /* IPGT 10, IPGR1 8, IPGR2 6 */
#define TXD_CMD_EOP 0x01
#define TXD_CMD_IFCS 0x02
#define TXD_CMD_RS 0x08
#define DESC_DD 0x01
#define RXD_EOP 0x02

#define RX_COUNT 32
#define TX_COUNT 8
#define BUF_SIZE 2048

struct rx_desc {
  u64 addr;
  u16 length, checksum;
  u8 status, errors;
  u16 special;
};
struct tx_desc {
  u64 addr;
  u16 length;
  u8 cso, cmd, status, css;
  u16 special;
};

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
  d->length = (u16)len;
  d->cso = 0;
  d->css = 0;
  d->special = 0;
  d->status = 0;
  d->cmd = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
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
    u32 len = d->length;
    /* frames that span descriptors never happen with 2 KiB buffers and 1514-byte frames:
       drop any such piece rather than hand over half a frame */
    int whole = (status & RXD_EOP) && len <= cap;
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
