/* The firmware's only clock: the TSC, its rate measured once against the PIT (the firmware
 * reads no ACPI tables; the kernel calibrates properly later). */
#include "kernel.h"
#include "clock.h"
#include "pit.h"

static uint64_t tsc_per_us = 1000;

void clock_init(void) {
  uint64_t t0 = rdtsc();
  pit_wait_us(10000);
  uint64_t per = (rdtsc() - t0) / 10000;
  tsc_per_us = per ? per : 1;
}

uint64_t clock_us(void) { return rdtsc() / tsc_per_us; }

/* e1000.c waits with this */
void delay_us(uint64_t us) {
  uint64_t end = clock_us() + us;
  while (clock_us() < end) cpu_relax();
}
