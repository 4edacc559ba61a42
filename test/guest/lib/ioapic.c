/* I/O APIC: index/data register pair; redirection entry n is registers 0x10 + 2n (low, high). */
#include "guest.h"

#define IOAPIC_DEFAULT 0xfec00000ul

static volatile u32 *ioapic_base(void) {
  return (volatile u32 *)(madt.nioapics ? (u64)madt.ioapic[0].addr : IOAPIC_DEFAULT);
}

u32 ioapic_read(u32 reg) {
  volatile u32 *b = ioapic_base();
  b[0] = reg;
  return b[4];
}

void ioapic_write(u32 reg, u32 v) {
  volatile u32 *b = ioapic_base();
  b[0] = reg;
  b[4] = v;
}

int ioapic_max_redirection(void) { return (int)((ioapic_read(1) >> 16) & 0xff); }

void ioapic_route(int gsi, u8 vector, u32 dest_apic_id, int level, int active_low, int masked) {
  u32 lo = vector | (active_low ? 1u << 13 : 0) | (level ? 1u << 15 : 0) | (masked ? 1u << 16 : 0);
  ioapic_write(0x10 + 2 * gsi + 1, dest_apic_id << 24);
  ioapic_write(0x10 + 2 * gsi, lo);
}

void ioapic_mask_all(void) {
  int n = ioapic_max_redirection();
  for (int i = 0; i <= n; i++) ioapic_write(0x10 + 2 * i, 1u << 16);
}
