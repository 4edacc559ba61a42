/* Time: TSC and LAPIC-timer rates calibrated against the HPET (or the PIT when the
 * ACPI tables list no HPET). Everything after boot reads the TSC. */
#include "kernel.h"
#include "pit.h"

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

/* one reading of the HPET counter (and the LAPIC timer) with the TSC at that instant */
struct ref_sample { uint64_t tsc; uint32_t ref, lapic; };
static struct ref_sample hpet_sample(void) {
  struct ref_sample best = {0, 0, 0};
  uint64_t best_gap = ~0ULL;
  for (int i = 0; i < 8; i++) {
    uint64_t a = rdtsc();
    uint32_t h = mmio_read32(acpi.hpet_base + 0xF0);
    uint32_t l = lapic_timer_current();
    uint64_t b = rdtsc();
    if (b - a < best_gap) { best_gap = b - a; best.tsc = a + (b - a) / 2; best.ref = h; best.lapic = l; }
  }
  return best;
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
  uint64_t t0;
  if (hpet) {
    /* each end of the window is an HPET reading bracketed by TSC reads, the tightest of a few
     * tries: a slow device access (an emulator's, or a vCPU the host preempted) then cannot
     * skew the rates, as it would if the TSC were read before the first HPET access */
    uint32_t period_fs = mmio_read32(acpi.hpet_base + 4);
    struct ref_sample s0 = hpet_sample();
    ref_wait_hpet(window_us);
    struct ref_sample s1 = hpet_sample();
    uint64_t ns = (uint64_t)(uint32_t)(s1.ref - s0.ref) * period_fs / 1000000ULL;
    tsc_hz = ns ? (s1.tsc - s0.tsc) * 1000000000ULL / ns : 0;
    lapic_timer_hz = ns ? (uint64_t)(uint32_t)(s0.lapic - s1.lapic) * 1000000000ULL / ns : 0;
    t0 = s0.tsc;
  } else {
    t0 = rdtsc();
    pit_wait_us(window_us);
    uint64_t t1 = rdtsc();
    uint32_t left = lapic_timer_current();
    tsc_hz = (t1 - t0) * 1000000ULL / window_us;
    lapic_timer_hz = (uint64_t)(0xFFFFFFFFu - left) * 1000000ULL / window_us;
  }
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
