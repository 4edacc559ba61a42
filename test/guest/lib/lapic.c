/* Local APIC in xAPIC mode: 32-bit MMIO registers at 0xfee00000 (identity-mapped). */
#include "guest.h"

#define LAPIC_MMIO 0xfee00000ul

u32 lapic_read(u32 reg) { return *(volatile u32 *)(LAPIC_MMIO + reg); }

void lapic_write(u32 reg, u32 v) { *(volatile u32 *)(LAPIC_MMIO + reg) = v; }

u32 lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }

void lapic_init(void) {
  lapic_write(LAPIC_TPR, 0);
  lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
  lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
  lapic_write(LAPIC_LVT_LINT1, ICR_NMI); /* NMI, unmasked, as firmware leaves it on the BSP */
  lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
  lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
}

void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

void lapic_send_ipi(u32 dest_apic_id, u32 icr_lo) {
  lapic_write(LAPIC_ICR_HI, dest_apic_id << 24);
  lapic_write(LAPIC_ICR_LO, icr_lo);
  for (u32 spins = 0; lapic_read(LAPIC_ICR_LO) & ICR_PENDING; spins++)
    if (spins > 100000000) panic("IPI %x to APIC %u never left", icr_lo, dest_apic_id);
}
