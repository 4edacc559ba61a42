/* ioapic-hpet: device interrupts through the I/O APIC. The PIT's IRQ 0 arrives on the GSI the
 * MADT override names; the HPET (found through ACPI) counts at its advertised period and its
 * timer 0 interrupts edge-triggered (periodic, legacy replacement) and level-triggered
 * (one-shot, status bit cleared by the handler, remote IRR cleared by EOI). */
#include "guest.h"

#define VEC_PIT 0x61
#define VEC_HPET 0x60
#define HPET_CAP 0x000
#define HPET_CONFIG 0x010
#define HPET_STATUS 0x020
#define HPET_COUNTER 0x0f0
#define HPET_T0_CONFIG 0x100
#define HPET_T0_COMPARATOR 0x108
#define CONF_ENABLE (1u << 0)
#define CONF_LEGACY (1u << 1)
#define TN_LEVEL (1u << 1)
#define TN_INT_ENABLE (1u << 2)
#define TN_PERIODIC (1u << 3)
#define TN_VAL_SET (1u << 6)
#define TN_32BIT (1u << 8) /* 32-bit comparator: no high half to keep consistent */
#define TN_ROUTE_SHIFT 9
#define TICKS 20
#define LEVEL_SHOTS 5

static volatile int pit_ticks, hpet_ticks, level_ticks;
static int failures;
static u64 hpet;
static u32 hpet_period_fs;

static u32 hpet_read(u32 reg) { return *(volatile u32 *)(hpet + reg); }
static void hpet_write(u32 reg, u32 v) { *(volatile u32 *)(hpet + reg) = v; }

/* ticks of the HPET counter for `us` microseconds */
static u32 hpet_ticks_for_us(u32 us) { return (u32)((u64)us * 1000000000ul / hpet_period_fs); }

/* busy-waits on the HPET counter (32-bit reads; wrap-safe) */
static void hpet_delay_us(u32 us) {
  u32 start = hpet_read(HPET_COUNTER), need = hpet_ticks_for_us(us);
  while ((u32)(hpet_read(HPET_COUNTER) - start) < need) cpu_relax();
}

static void on_pit(struct int_frame *f) { (void)f; pit_ticks++; lapic_eoi(); }
static void on_hpet(struct int_frame *f) { (void)f; hpet_ticks++; lapic_eoi(); }
static void on_level(struct int_frame *f) {
  (void)f;
  level_ticks++;
  hpet_write(HPET_STATUS, 1); /* deassert the line before EOI, or it fires again */
  lapic_eoi();
}

static void check(const char *what, int ok) {
  if (!check_line(52, what, ok)) failures++;
}

int kmain(void) {
  printf("ioapic-hpet: start\n");
  lapic_init();
  u32 bsp = lapic_id();
  idt_set_handler(VEC_PIT, on_pit);
  idt_set_handler(VEC_HPET, on_hpet);

  /* PIT channel 0 at ~1 kHz, IRQ 0 through the IOAPIC at the overridden GSI */
  u32 pit_gsi = madt_isa_irq_gsi(0);
  printf("ISA IRQ 0 is GSI %u\n", pit_gsi);
  outb(0x43, 0x34);
  outb(0x40, 1193 & 0xff);
  outb(0x40, 1193 >> 8);
  ioapic_route((int)pit_gsi, VEC_PIT, bsp, 0, 0, 0);
  while (pit_ticks < TICKS) sti_hlt();
  cli();
  ioapic_route((int)pit_gsi, VEC_PIT, bsp, 0, 0, 1);
  pit_init(); /* back to the free-running count udelay() expects */
  printf("PIT through the IOAPIC: ticks>=%d %s\n", TICKS, pit_ticks >= TICKS ? "ok" : "FAIL");

  hpet = acpi_hpet_base;
  if (!hpet) {
    printf("no ACPI HPET table\n");
    return 1;
  }
  u32 cap_lo = hpet_read(HPET_CAP);
  hpet_period_fs = hpet_read(HPET_CAP + 4);
  printf("HPET at %lx: period %u fs, %u timers, 64-bit counter %s, legacy replacement %s\n", hpet,
         hpet_period_fs, ((cap_lo >> 8) & 0x1f) + 1, (cap_lo >> 13) & 1 ? "yes" : "no",
         (cap_lo >> 15) & 1 ? "yes" : "no");
  if (hpet_period_fs == 0 || hpet_period_fs > 100000000u) {
    printf("HPET period out of range\n");
    return 1;
  }
  u32 route_cap = hpet_read(HPET_T0_CONFIG + 4);
  printf("HPET timer 0 may route to GSI 2: %s\n", (route_cap >> 2) & 1 ? "yes" : "no");

  /* the main counter: stopped it holds still, running it advances at the advertised period */
  hpet_write(HPET_CONFIG, 0);
  hpet_write(HPET_COUNTER, 0);
  hpet_write(HPET_COUNTER + 4, 0);
  u32 held = hpet_read(HPET_COUNTER);
  udelay(100);
  check("HPET counter holds while disabled", hpet_read(HPET_COUNTER) == held);
  hpet_write(HPET_CONFIG, CONF_ENABLE);
  u32 c0 = hpet_read(HPET_COUNTER);
  udelay(2000);
  u32 elapsed = hpet_read(HPET_COUNTER) - c0;
  /* 2 ms by the PIT: accept 1 ms .. 500 ms of HPET time */
  check("HPET counter rate consistent with the PIT",
        elapsed >= hpet_ticks_for_us(1000) && elapsed <= hpet_ticks_for_us(500000));

  /* legacy replacement: timer 0 takes over IRQ 0 (GSI 2), the PIT is cut off; periodic 1 ms */
  hpet_write(HPET_CONFIG, 0);
  hpet_write(HPET_COUNTER, 0);
  hpet_write(HPET_COUNTER + 4, 0);
  u32 period = hpet_ticks_for_us(1000);
  hpet_write(HPET_T0_CONFIG, TN_PERIODIC | TN_VAL_SET | TN_32BIT | TN_INT_ENABLE | (2u << TN_ROUTE_SHIFT));
  hpet_write(HPET_T0_COMPARATOR, period); /* with VAL_SET: the first comparator value */
  hpet_write(HPET_T0_COMPARATOR, period); /* then the period */
  ioapic_route(2, VEC_HPET, bsp, 0, 0, 0);
  hpet_write(HPET_CONFIG, CONF_ENABLE | CONF_LEGACY);
  while (hpet_ticks < TICKS) sti_hlt();
  cli();
  hpet_write(HPET_T0_CONFIG, 0);
  printf("HPET periodic timer 0, legacy replacement: ticks>=%d %s\n", TICKS, hpet_ticks >= TICKS ? "ok" : "FAIL");
  if (hpet_ticks < TICKS) failures++;
  /* timer 0 off, legacy replacement still on: a 1 kHz PIT must not reach GSI 2 */
  int before = hpet_ticks;
  outb(0x43, 0x34);
  outb(0x40, 1193 & 0xff);
  outb(0x40, 1193 >> 8);
  sti();
  hpet_delay_us(5000);
  cli();
  pit_init();
  check("PIT cut off from GSI 2 by legacy replacement", hpet_ticks == before);

  /* level-triggered one-shots: each needs the status bit cleared and an EOI to the IOAPIC */
  idt_set_handler(VEC_HPET, on_level);
  hpet_write(HPET_STATUS, 1);
  ioapic_route(2, VEC_HPET, bsp, 1, 0, 0);
  hpet_write(HPET_T0_CONFIG, TN_LEVEL | TN_32BIT | TN_INT_ENABLE | (2u << TN_ROUTE_SHIFT));
  for (int shot = 0; shot < LEVEL_SHOTS; shot++) {
    int want = level_ticks + 1;
    hpet_write(HPET_T0_COMPARATOR, hpet_read(HPET_COUNTER) + hpet_ticks_for_us(500));
    u32 start = hpet_read(HPET_COUNTER);
    sti();
    while (level_ticks < want && (u32)(hpet_read(HPET_COUNTER) - start) < hpet_ticks_for_us(500000)) cpu_relax();
    cli();
  }
  hpet_write(HPET_T0_CONFIG, 0);
  ioapic_route(2, VEC_HPET, bsp, 1, 0, 1);
  printf("HPET level-triggered one-shots: %d of %d delivered %s\n", level_ticks, LEVEL_SHOTS,
         level_ticks == LEVEL_SHOTS ? "ok" : "FAIL");
  if (level_ticks != LEVEL_SHOTS) failures++;

  printf("ioapic-hpet: %d failure(s)\n", failures);
  return failures ? 1 : 0;
}
