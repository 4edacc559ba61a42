/* Time: TSC and LAPIC-timer rates calibrated against the HPET (or the PIT when the
 * ACPI tables list no HPET). Everything after boot reads the TSC. */
#include "kernel.h"

uint64_t tsc_hz, lapic_timer_hz;
static uint64_t tsc_boot, ns_mult;   /* ns = cycles * ns_mult >> 32 */

void lapic_timer_oneshot_raw(uint32_t count);
uint32_t lapic_timer_current(void);

/* busy-wait `us` microseconds on the reference clock; returns nothing, used before TSC is known */
static void ref_wait_hpet(uint64_t us) {
  uint64_t b = acpi.hpet_base;
  uint32_t period_fs = mmio_read32(b + 4);
  uint64_t ticks = us * 1000000000ULL / period_fs;
  uint32_t start = mmio_read32(b + 0xF0);
  while ((uint32_t)(mmio_read32(b + 0xF0) - start) < ticks) cpu_relax();
}

static void ref_wait_pit(uint64_t us) {
  uint64_t need = us * 1193182ULL / 1000000ULL, got = 0;
  outb(0x43, 0x34);          /* channel 0, lo/hi, mode 2 */
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

void time_init(void) {
  bool hpet = acpi.hpet_base != 0;
  if (hpet) {
    uint64_t b = acpi.hpet_base;
    /* 32-bit accesses only: every HPET model must support them */
    uint32_t cfg = mmio_read32(b + 0x10);
    mmio_write32(b + 0x10, cfg | 1);      /* main counter on, legacy routing untouched */
    uint32_t period = mmio_read32(b + 4);
    if (period == 0 || period > 100000000u) hpet = false;   /* at most 100 ns per tick */
  }
  const uint64_t window_us = 20000;
  lapic_timer_oneshot_raw(0xFFFFFFFF);
  uint64_t t0 = rdtsc();
  if (hpet) ref_wait_hpet(window_us); else ref_wait_pit(window_us);
  uint64_t t1 = rdtsc();
  uint32_t left = lapic_timer_current();
  tsc_hz = (t1 - t0) * 1000000ULL / window_us;
  lapic_timer_hz = (uint64_t)(0xFFFFFFFFu - left) * 1000000ULL / window_us;
  if (tsc_hz == 0) tsc_hz = 1000000000ULL;
  if (lapic_timer_hz == 0) lapic_timer_hz = 1000000ULL;
  ns_mult = (1000000000ULL << 32) / tsc_hz;
  tsc_boot = t0;
  kprintf("time: TSC %lu kHz, LAPIC timer %lu kHz (calibrated on %s)\n", tsc_hz / 1000,
          lapic_timer_hz / 1000, hpet ? "HPET" : "PIT");
}

uint64_t cycles_to_ns(uint64_t c) { return (uint64_t)(((unsigned __int128)c * ns_mult) >> 32); }
uint64_t now_ns(void) { return cycles_to_ns(rdtsc() - tsc_boot); }

void delay_us(uint64_t us) {
  uint64_t end = rdtsc() + us * tsc_hz / 1000000ULL;
  while (rdtsc() < end) cpu_relax();
}
