/* The firmware's only clock: the TSC, its rate measured once against the PIT (the firmware
 * reads no ACPI tables; the kernel calibrates properly later). */
#include "kernel.h"
#include "clock.h"

static uint64_t tsc_per_us = 1000;

/* the PIT channel 0 counter read back over `us` microseconds (mode 2, full 16-bit period) */
static void pit_wait(uint64_t us) {
  uint64_t need = us * 1193182ULL / 1000000ULL, got = 0;
  outb(0x43, 0x34);
  outb(0x40, 0); outb(0x40, 0);
  outb(0x43, 0x00);
  uint16_t prev = (uint16_t)(inb(0x40) | inb(0x40) << 8);
  while (got < need) {
    outb(0x43, 0x00);
    uint16_t cur = (uint16_t)(inb(0x40) | inb(0x40) << 8);
    got += (uint16_t)(prev - cur);
    prev = cur;
  }
}

void clock_init(void) {
  uint64_t t0 = rdtsc();
  pit_wait(10000);
  uint64_t per = (rdtsc() - t0) / 10000;
  tsc_per_us = per ? per : 1;
}

uint64_t clock_us(void) { return rdtsc() / tsc_per_us; }

/* e1000.c waits with this */
void delay_us(uint64_t us) {
  uint64_t end = clock_us() + us;
  while (clock_us() < end) cpu_relax();
}
