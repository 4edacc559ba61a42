/* timing: the windows guests measure, as real hardware keeps them whatever the host is doing.
 * - Linux's check_timer(): with the PIT at 1 kHz through the IOAPIC and interrupts on, a busy
 *   wait of 10 ms by the TSC (calibrated against the PIT first) sees about 10 ticks; Linux
 *   panics with fewer than 5. Checked: 8 to 12.
 * - AP start-up: after INIT, a 10 ms wait and SIPI, the AP reaches its C code within 10 ms of
 *   the SIPI (kernels that wait 10 ms after SIPI count it); the check is on the whole start.
 * - the LAPIC timer, periodic at 1 ms, against the TSC: 8 to 12 ticks in 10 ms.
 * Run with 2 cores. Test under host load: test/guest/under-load.test.ts. */
#include "guest.h"

#define VEC_PIT 0x61
#define VEC_LAPIC 0x62

static volatile int pit_ticks, lapic_ticks;
static volatile u64 ap_tsc;
static u64 tsc_per_ms;
static int failures;

static void on_pit(struct int_frame *f) { (void)f; pit_ticks++; lapic_eoi(); }
static void on_lapic(struct int_frame *f) { (void)f; lapic_ticks++; lapic_eoi(); }

static void check(const char *what, int ok) {
  if (!check_line(56, what, ok)) failures++;
}

/* mdelay as Linux does it: spin on the TSC with interrupts as they are */
static void tsc_spin_ms(u64 ms) {
  u64 start = rdtsc(), need = ms * tsc_per_ms;
  while (rdtsc() - start < need) cpu_relax();
}

static void ap_main(int index) {
  (void)index;
  ap_tsc = rdtsc();
}

int kmain(void) {
  printf("timing: start\n");
  lapic_init();
  u32 bsp = lapic_id();
  idt_set_handler(VEC_PIT, on_pit);
  idt_set_handler(VEC_LAPIC, on_lapic);

  /* TSC against the PIT, 50 ms */
  pit_init();
  u64 t0 = rdtsc();
  udelay(50000);
  tsc_per_ms = (rdtsc() - t0) / 50;
  check("TSC calibrated against the PIT", tsc_per_ms > 0);

  /* check_timer(): PIT at ~1 kHz on IRQ 0 through the IOAPIC, 10 ms busy wait by the TSC */
  u32 pit_gsi = madt_isa_irq_gsi(0);
  outb(0x43, 0x34);
  outb(0x40, 1193 & 0xff);
  outb(0x40, 1193 >> 8);
  ioapic_route((int)pit_gsi, VEC_PIT, bsp, 0, 0, 0);
  pit_ticks = 0;
  sti();
  tsc_spin_ms(10);
  cli();
  int ticks = pit_ticks;
  ioapic_route((int)pit_gsi, VEC_PIT, bsp, 0, 0, 1);
  pit_init();
  check("PIT ticks in a 10 ms TSC window: 8 to 12", ticks >= 8 && ticks <= 12);
  if (ticks < 8 || ticks > 12) printf("  (%d ticks)\n", ticks);

  /* LAPIC timer periodic at 1 ms (its rate calibrated against the TSC window too) */
  lapic_write(LAPIC_TIMER_DIV, 0xb); /* divide by 1 */
  lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC | LVT_TIMER_PERIODIC | LVT_MASKED);
  lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
  u64 s = rdtsc();
  tsc_spin_ms(5);
  u32 counted = 0xffffffffu - lapic_read(LAPIC_TIMER_CUR);
  u64 per_ms = (u64)counted * tsc_per_ms / (rdtsc() - s);
  lapic_write(LAPIC_TIMER_INIT, (u32)per_ms);
  lapic_ticks = 0;
  lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC | LVT_TIMER_PERIODIC);
  sti();
  tsc_spin_ms(10);
  cli();
  ticks = lapic_ticks;
  lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC | LVT_MASKED);
  lapic_write(LAPIC_TIMER_INIT, 0);
  check("LAPIC timer ticks in a 10 ms TSC window: 8 to 12", ticks >= 8 && ticks <= 12);
  if (ticks < 8 || ticks > 12) printf("  (%d ticks)\n", ticks);

  /* AP start: INIT, 10 ms, SIPI, SIPI (smp.c); the AP's C code within 10 ms of the SIPI */
  if (cpu_count() >= 2) {
    u64 start = rdtsc();
    int n = smp_start_aps(ap_main);
    /* smp_start_aps returns once the AP checked in, which it does just before ap_main runs:
     * wait for the stamp itself (its value, not this wait, is what is measured) */
    for (int t = 0; t < 5000 && ap_tsc == 0; t++) udelay(1000);
    u64 latency_ms = ap_tsc > start ? (ap_tsc - start) / tsc_per_ms : 999;
    check("AP started", n == cpu_count());
    check("AP in its C code within 10 ms of its SIPI", ap_tsc != 0 && latency_ms < 20);
    if (!(ap_tsc != 0 && latency_ms < 20)) printf("  (%u ms from INIT)\n", (u32)latency_ms);
  }
  printf("timing: %s\n", failures ? "FAIL" : "done");
  return failures;
}
