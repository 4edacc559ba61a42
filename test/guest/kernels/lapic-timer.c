/* lapic-timer: the local APIC timer in periodic, one-shot and (when CPUID offers it)
 * TSC-deadline mode, with the 8259 remapped and masked. Prints counts, never times.
 * Boot argument "tsc-deadline=required" turns a missing TSC-deadline feature into a failure. */
#include "guest.h"

#define VEC_PERIODIC 0x40
#define VEC_ONESHOT 0x41
#define VEC_DEADLINE 0x42
#define DIV_BY_1 0xb
#define DIV_BY_16 0x3
#define PERIOD_COUNT 62500u /* 1 ms at 1 GHz / 16 */
#define PERIODIC_TICKS 20
#define PIT_PER_MS 1193u

static volatile int periodic_ticks, oneshot_fired, deadline_fired;
static volatile u64 pit_elapsed;
static u16 pit_prev;
static int failures;

static u16 pit_read(void) {
  outb(0x43, 0x00);
  u8 lo = inb(0x40);
  u8 hi = inb(0x40);
  return (u16)(lo | (hi << 8));
}

static void on_periodic(struct int_frame *f) {
  (void)f;
  u16 now = pit_read();
  pit_elapsed += (u16)(pit_prev - now);
  pit_prev = now;
  periodic_ticks++;
  lapic_eoi();
}

static void on_oneshot(struct int_frame *f) {
  (void)f;
  oneshot_fired++;
  lapic_eoi();
}

static void on_deadline(struct int_frame *f) {
  (void)f;
  deadline_fired++;
  lapic_eoi();
}

static void check(const char *what, int ok) {
  if (!check_line(44, what, ok)) failures++;
}

int kmain(void) {
  printf("lapic-timer: start\n");
  lapic_init();
  idt_set_handler(VEC_PERIODIC, on_periodic);
  idt_set_handler(VEC_ONESHOT, on_oneshot);
  idt_set_handler(VEC_DEADLINE, on_deadline);

  /* periodic, 1 ms */
  lapic_write(LAPIC_TIMER_DIV, DIV_BY_16);
  lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | VEC_PERIODIC);
  pit_prev = pit_read();
  lapic_write(LAPIC_TIMER_INIT, PERIOD_COUNT);
  while (periodic_ticks < PERIODIC_TICKS) sti_hlt();
  cli();
  lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_PERIODIC | VEC_PERIODIC);
  lapic_write(LAPIC_TIMER_INIT, 0);
  printf("periodic: ticks>=%d %s\n", PERIODIC_TICKS, periodic_ticks >= PERIODIC_TICKS ? "ok" : "FAIL");
  /* 20 periods of 1 ms: the PIT must have seen between 10 ms and 2 s pass */
  check("periodic: rate consistent with the PIT",
        pit_elapsed >= 10 * PIT_PER_MS && pit_elapsed <= 2000 * PIT_PER_MS);
  int stopped_at = periodic_ticks;
  sti();
  udelay(5000);
  cli();
  check("periodic: no ticks after stopping", periodic_ticks == stopped_at);

  /* the current count counts down from the initial count, and reads 0 once stopped */
  lapic_write(LAPIC_TIMER_DIV, DIV_BY_1);
  lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_ONESHOT);
  lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
  u32 c1 = lapic_read(LAPIC_TIMER_CUR);
  udelay(200);
  u32 c2 = lapic_read(LAPIC_TIMER_CUR);
  check("current count decreases", c1 > c2 && c1 <= 0xffffffffu);
  lapic_write(LAPIC_TIMER_INIT, 0);
  check("current count is 0 after writing initial 0", lapic_read(LAPIC_TIMER_CUR) == 0);

  /* masked one-shot: counts down to 0 without an interrupt */
  lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_ONESHOT);
  lapic_write(LAPIC_TIMER_INIT, 100000); /* 100 us */
  sti();
  udelay(2000);
  cli();
  check("masked one-shot: reached 0, no interrupt", lapic_read(LAPIC_TIMER_CUR) == 0 && oneshot_fired == 0);

  /* one-shot, 1 ms: fires exactly once */
  lapic_write(LAPIC_LVT_TIMER, VEC_ONESHOT);
  lapic_write(LAPIC_TIMER_INIT, 1000000);
  while (!oneshot_fired) sti_hlt();
  udelay(5000);
  cli();
  printf("one-shot: fired %d time(s), current count %u\n", oneshot_fired, lapic_read(LAPIC_TIMER_CUR));
  if (oneshot_fired != 1 || lapic_read(LAPIC_TIMER_CUR) != 0) failures++;

  /* TSC deadline. The line printed is the same whether or not CPUID offers it (QEMU's TCG
   * cannot), so that emulators which do implement it still match the golden transcript. */
  if (cpu_has(FEAT_TSC_DEADLINE)) {
    lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | VEC_DEADLINE);
    wrmsr(MSR_TSC_DEADLINE, rdtsc() + 1000000);
    while (!deadline_fired) sti_hlt();
    cli();
    check("tsc-deadline: fired, or not advertised", deadline_fired == 1);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
  } else if (boot_has_arg("tsc-deadline=required")) {
    check("tsc-deadline: required but not advertised", 0);
  } else {
    check("tsc-deadline: fired, or not advertised", 1);
  }

  printf("lapic-timer: %d failure(s)\n", failures);
  return failures ? 1 : 0;
}
