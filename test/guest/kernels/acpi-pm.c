/* acpi-pm: the platform QEMU's `pc` machine models around the IOAPIC and the PIIX4 PM block:
 * IOAPIC version 0x20 with 24 pins, the ACPI PM timer at port 0x608 (24 bits, 3.579545 MHz,
 * checked against the PIT), and power-off through PM1a_CNT (SLP_TYP 0 = \_S5, SLP_EN): the
 * machine ends with status 0 instead of the kernel's own exit. */
#include "guest.h"

#define PM_TMR 0x608
#define PM1A_CNT 0x604
#define SLP_EN (1u << 13)
#define PM_HZ 3579545u

int kmain(void) {
  u32 ver = ioapic_read(1);
  printf("ioapic version 0x%x, max redirection entry %u\n", ver & 0xff, (ver >> 16) & 0xff);

  u32 max = 0, ups = 0, prev = inl(PM_TMR);
  for (int i = 0; i < 2000; i++) {
    u32 v = inl(PM_TMR);
    if (v > max) max = v;
    if (v != prev) ups++;
    prev = v;
  }
  printf("pm timer: %s, %s\n", max < (1u << 24) ? "24 bits" : "wider than 24 bits", ups ? "counting" : "stuck");

  pit_init();
  u32 a = inl(PM_TMR);
  udelay(20000);
  u32 b = inl(PM_TMR);
  u32 ticks = (b - a) & 0xffffff;
  u32 want = PM_HZ / 50;
  printf("pm timer over 20 ms of PIT time: %s\n", ticks > want * 9 / 10 && ticks < want * 3 / 2 ? "3.58 MHz" : "wrong rate");
  if (!(ticks > want * 9 / 10 && ticks < want * 3 / 2)) printf("  (%u ticks, expected about %u)\n", ticks, want);

  printf("powering off through PM1a_CNT (S5)\n");
  outw(PM1A_CNT, SLP_EN | (0u << 10));
  udelay(100000);
  printf("still running after S5\n");
  return 1;
}
