/* Intel 82540EM (e1000) driver: BAR0 MMIO, MAC from the EEPROM via EERD, legacy RX/TX
 * descriptor rings. Any core may transmit (ring guarded by a lock); the boot core drains RX
 * from the NIC interrupt and from its timer tick. */
#include "kernel.h"
#include "pci.h"
#include "e1000.h"
#include "e1000-regs.h"

#define RX_N 128
#define TX_N 64

static struct rx_desc rx_ring[RX_N] __attribute__((aligned(128)));
static struct tx_desc tx_ring[TX_N] __attribute__((aligned(128)));
static uint8_t rx_bufs[RX_N][BUF_SIZE] __attribute__((aligned(4096)));
static uint8_t tx_bufs[TX_N][BUF_SIZE] __attribute__((aligned(4096)));
static uint64_t mmio;
static uint32_t rx_next, tx_next;
static spinlock_t tx_lock, rx_lock;
struct nic_stats nic_stats;
bool nic_present;
uint8_t nic_mac[6];
uint8_t nic_irq_line = 0xFF;

static inline uint32_t rd(uint32_t r) { return mmio_read32(mmio + r); }
static inline void wr(uint32_t r, uint32_t v) { mmio_write32(mmio + r, v); }

static bool eeprom_read(uint8_t addr, uint16_t *out) {
  wr(REG_EERD, 1u | (uint32_t)addr << 8);
  for (int i = 0; i < 100000; i++) {
    uint32_t v = rd(REG_EERD);
    if (v & (1u << 4)) { *out = (uint16_t)(v >> 16); return true; }
    cpu_relax();
  }
  return false;
}

bool e1000_init(void) {
  static const uint16_t ids[] = {0x100E, 0x100F, 0x1004, 0x1015};
  struct pci_addr a;
  if (!pci_find(0x8086, ids, ARRAY_LEN(ids), &a)) return false;
  uint32_t bar0 = pci_read32(a.bus, a.dev, a.fn, 0x10);
  if (bar0 & 1) { kprintf("e1000: BAR0 is not memory\n"); return false; }
  uint64_t base = bar0 & ~0xFULL;
  if (((bar0 >> 1) & 3) == 2) base |= (uint64_t)pci_read32(a.bus, a.dev, a.fn, 0x14) << 32;
  if (!base || base >= (4ULL << 30)) { kprintf("e1000: BAR0 %lx not usable\n", base); return false; }
  mmio = base;
  uint32_t cmd = pci_read32(a.bus, a.dev, a.fn, 0x04);
  pci_write32(a.bus, a.dev, a.fn, 0x04, (cmd & 0xFFFF) | 0x6);   /* memory space + bus master */
  nic_irq_line = (uint8_t)pci_read32(a.bus, a.dev, a.fn, 0x3C);

  wr(REG_IMC, 0xFFFFFFFF);
  wr(REG_CTRL, rd(REG_CTRL) | CTRL_RST);
  delay_us(2000);
  for (int i = 0; i < 1000 && (rd(REG_CTRL) & CTRL_RST); i++) delay_us(100);
  wr(REG_IMC, 0xFFFFFFFF);
  (void)rd(REG_ICR);
  wr(REG_CTRL, (rd(REG_CTRL) | CTRL_SLU | CTRL_ASDE) & ~(1u << 31) /* PHY reset off */);

  uint16_t w[3];
  if (eeprom_read(0, &w[0]) && eeprom_read(1, &w[1]) && eeprom_read(2, &w[2])) {
    for (int i = 0; i < 3; i++) { nic_mac[2 * i] = (uint8_t)w[i]; nic_mac[2 * i + 1] = (uint8_t)(w[i] >> 8); }
  } else {
    uint32_t lo = rd(REG_RAL0), hi = rd(REG_RAH0);
    for (int i = 0; i < 4; i++) nic_mac[i] = (uint8_t)(lo >> (8 * i));
    nic_mac[4] = (uint8_t)hi; nic_mac[5] = (uint8_t)(hi >> 8);
  }
  wr(REG_RAL0, (uint32_t)nic_mac[0] | (uint32_t)nic_mac[1] << 8 | (uint32_t)nic_mac[2] << 16 | (uint32_t)nic_mac[3] << 24);
  wr(REG_RAH0, (uint32_t)nic_mac[4] | (uint32_t)nic_mac[5] << 8 | (1u << 31));
  for (int i = 0; i < 128; i++) wr(REG_MTA + 4 * i, 0);

  for (int i = 0; i < RX_N; i++) { rx_ring[i].addr = (uint64_t)rx_bufs[i]; rx_ring[i].status = 0; }
  wr(REG_RDBAL, (uint32_t)(uint64_t)rx_ring);
  wr(REG_RDBAH, (uint32_t)((uint64_t)rx_ring >> 32));
  wr(REG_RDLEN, sizeof rx_ring);
  wr(REG_RDH, 0);
  wr(REG_RDT, RX_N - 1);
  rx_next = 0;
  wr(REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);   /* 2048-byte buffers */

  for (int i = 0; i < TX_N; i++) { tx_ring[i].addr = (uint64_t)tx_bufs[i]; tx_ring[i].status = DESC_DD; tx_ring[i].cmd = 0; }
  wr(REG_TDBAL, (uint32_t)(uint64_t)tx_ring);
  wr(REG_TDBAH, (uint32_t)((uint64_t)tx_ring >> 32));
  wr(REG_TDLEN, sizeof tx_ring);
  wr(REG_TDH, 0);
  wr(REG_TDT, 0);
  tx_next = 0;
  wr(REG_TCTL, TCTL_EN | TCTL_PSP | (0x0Fu << 4) | (0x40u << 12));
  wr(REG_TIPG, 10 | (8 << 10) | (6 << 20));

  wr(REG_IMS, ICR_RXT0 | ICR_RXO | ICR_RXDMT0 | ICR_LSC);
  (void)rd(REG_ROC);   /* the statistics start from zero with this driver */
  (void)rd(REG_RUC);
  (void)rd(REG_MPC);
  nic_present = true;
  kprintf("e1000: %02x:%02x:%02x:%02x:%02x:%02x at %lx, IRQ %u, link %s\n", nic_mac[0], nic_mac[1], nic_mac[2],
          nic_mac[3], nic_mac[4], nic_mac[5], base, nic_irq_line, (rd(REG_STATUS) & 2) ? "up" : "down");
  return true;
}

/* Queue one frame; false (and counted) when the ring is full or the frame is bad. */
bool e1000_send(const uint8_t *frame, uint32_t len) {
  if (!nic_present || len < 14 || len > BUF_SIZE) { __atomic_add_fetch(&nic_stats.tx_dropped, 1, __ATOMIC_RELAXED); return false; }
  uint64_t f = spin_lock_irqsave(&tx_lock);
  struct tx_desc *d = &tx_ring[tx_next];
  /* wait briefly for the slot to drain before giving up */
  for (int i = 0; i < 20000 && !(*(volatile uint8_t *)&d->status & DESC_DD); i++) cpu_relax();
  if (!(*(volatile uint8_t *)&d->status & DESC_DD)) {
    spin_unlock_irqrestore(&tx_lock, f);
    __atomic_add_fetch(&nic_stats.tx_dropped, 1, __ATOMIC_RELAXED);
    return false;
  }
  memcpy(tx_bufs[tx_next], frame, len);
  uint32_t padded = len < 60 ? 60 : len;
  if (padded > len) memset(tx_bufs[tx_next] + len, 0, padded - len);
  d->len = (uint16_t)padded;
  d->cso = 0; d->css = 0; d->special = 0;
  d->status = 0;
  d->cmd = TX_CMD_EOP | TX_CMD_IFCS | TX_CMD_RS;
  barrier();
  tx_next = (tx_next + 1) % TX_N;
  wr(REG_TDT, tx_next);
  nic_stats.tx_frames++;
  spin_unlock_irqrestore(&tx_lock, f);
  return true;
}

/* Drain received frames into `deliver`; returns how many. Safe to call from any core. */
uint32_t e1000_poll_rx(void (*deliver)(const uint8_t *frame, uint32_t len)) {
  if (!nic_present) return 0;
  uint32_t n = 0;
  uint64_t f = spin_lock_irqsave(&rx_lock);
  (void)rd(REG_ICR);   /* acknowledge: we drain everything below anyway */
  for (;;) {
    struct rx_desc *d = &rx_ring[rx_next];
    uint8_t st = *(volatile uint8_t *)&d->status;
    if (!(st & DESC_DD)) break;
    barrier();
    uint32_t len = d->len;
    if ((st & RX_EOP) && !d->errors && len >= 14 && len <= BUF_SIZE) {
      nic_stats.rx_frames++;
      deliver(rx_bufs[rx_next], len);
    } else {
      nic_stats.rx_dropped++;
    }
    d->status = 0;
    uint32_t done = rx_next;
    rx_next = (rx_next + 1) % RX_N;
    wr(REG_RDT, done);
    n++;
  }
  spin_unlock_irqrestore(&rx_lock, f);
  return n;
}

/* The NIC's own drop counters clear when read: fold them into running totals (any core). */
static bool mpc_cumulative;

void e1000_fold_stats(void) {
  if (!nic_present) return;
  uint64_t f = spin_lock_irqsave(&rx_lock);
  nic_stats.rx_oversize += rd(REG_ROC);
  /* MPC clears on read on the 82540EM (SDM 13.7); QEMU 7.2 keeps it cumulative (plain read).
   * Two reads back to back tell them apart: a clearing register reads 0 the second time (unless
   * frames were missed between the two reads, never as many as the first read found). */
  uint32_t m1 = rd(REG_MPC), m2 = rd(REG_MPC);
  if (!mpc_cumulative && m1 && m2 >= m1) mpc_cumulative = true;
  if (mpc_cumulative) nic_stats.rx_missed = m2;
  else nic_stats.rx_missed += m1 + m2;
  nic_stats.rx_runts += rd(REG_RUC);
  spin_unlock_irqrestore(&rx_lock, f);
}

/* Receive and transmit off and the NIC reset, so no DMA lands in memory handed to the next
 * owner (the network boot firmware calls this before it enters the kernel it fetched). */
void e1000_stop(void) {
  if (!nic_present) return;
  wr(REG_IMC, 0xFFFFFFFF);
  wr(REG_RCTL, 0);
  wr(REG_TCTL, 0);
  wr(REG_CTRL, rd(REG_CTRL) | CTRL_RST);
  delay_us(2000);
  nic_present = false;
}
