/* ipi: fixed IPIs passed around a ring of cores, the destination shorthands (self, all
 * including self, all excluding self), logical flat destinations, NMI, and TPR masking. */
#include "guest.h"

#define VEC_RING 0x50
#define VEC_ALL_EXCL 0x51
#define VEC_ALL_INCL 0x52
#define VEC_LOGICAL 0x53
#define VEC_SELF 0x54
#define VEC_TPR 0x55 /* priority class 5 */
#define ROUNDS 100

enum { K_RING, K_EXCL, K_INCL, K_LOGICAL, K_SELF, K_TPR, K_NMI, KINDS };
static volatile int counts[KINDS][MAX_CPUS];
static volatile int rounds_done;
static volatile int aps_ready;
static int ncores, failures;

static void count(int kind, int eoi) {
  __atomic_fetch_add(&counts[kind][cpu_index()], 1, __ATOMIC_SEQ_CST);
  if (eoi) lapic_eoi();
}

/* the token goes 0 -> 1 -> ... -> n-1 -> 0; core 0 counts a round each time it returns */
static void on_ring(struct int_frame *f) {
  (void)f;
  int me = cpu_index();
  count(K_RING, 1);
  if (me == 0 && ++rounds_done >= ROUNDS) return;
  lapic_send_ipi(cpu_apic_id[(me + 1) % ncores], ICR_FIXED | VEC_RING);
}
static void on_excl(struct int_frame *f) { (void)f; count(K_EXCL, 1); }
static void on_incl(struct int_frame *f) { (void)f; count(K_INCL, 1); }
static void on_logical(struct int_frame *f) { (void)f; count(K_LOGICAL, 1); }
static void on_self(struct int_frame *f) { (void)f; count(K_SELF, 1); }
static void on_tpr(struct int_frame *f) { (void)f; count(K_TPR, 1); }
static void on_nmi(struct int_frame *f) { (void)f; count(K_NMI, 0); }

static int total(int kind) {
  int s = 0;
  for (int i = 0; i < ncores; i++) s += counts[kind][i];
  return s;
}

/* waits with interrupts enabled until `kind` has `want` deliveries in all, at most ~2 s */
static void wait_total(int kind, int want) {
  sti();
  for (int t = 0; t < 2000 && total(kind) < want; t++) udelay(1000);
  cli();
}

static void ap_main(int index) {
  lapic_write(LAPIC_DFR, 0xffffffffu); /* flat model */
  lapic_write(LAPIC_LDR, (1u << index) << 24);
  __atomic_fetch_add(&aps_ready, 1, __ATOMIC_SEQ_CST);
  for (;;) sti_hlt();
}

static void check(const char *what, int ok) {
  if (!check_line(48, what, ok)) failures++;
}

int kmain(void) {
  printf("ipi: start\n");
  lapic_init();
  lapic_write(LAPIC_DFR, 0xffffffffu);
  lapic_write(LAPIC_LDR, 1u << 24);
  idt_set_handler(VEC_RING, on_ring);
  idt_set_handler(VEC_ALL_EXCL, on_excl);
  idt_set_handler(VEC_ALL_INCL, on_incl);
  idt_set_handler(VEC_LOGICAL, on_logical);
  idt_set_handler(VEC_SELF, on_self);
  idt_set_handler(VEC_TPR, on_tpr);
  idt_set_handler(2, on_nmi);

  ncores = smp_start_aps(ap_main);
  for (int t = 0; t < 1000 && aps_ready < ncores - 1; t++) udelay(1000);
  printf("%d cores up\n", ncores);
  if (ncores < 2) {
    printf("ipi: needs at least 2 cores\n");
    return 1;
  }

  /* ring of fixed IPIs, physical destination */
  lapic_send_ipi(cpu_apic_id[1], ICR_FIXED | VEC_RING);
  sti();
  for (int t = 0; t < 5000 && rounds_done < ROUNDS; t++) udelay(1000);
  cli();
  for (int t = 0; t < 100 && total(K_RING) < ROUNDS * ncores; t++) udelay(1000);
  printf("ring: %d rounds around %d cores\n", rounds_done, ncores);

  lapic_send_ipi(0, ICR_ALL_EXCL | ICR_FIXED | VEC_ALL_EXCL);
  wait_total(K_EXCL, ncores - 1);
  lapic_send_ipi(0, ICR_ALL_INCL | ICR_FIXED | VEC_ALL_INCL);
  wait_total(K_INCL, ncores);
  u32 ap_mask = ((1u << ncores) - 1) & ~1u;
  lapic_send_ipi(ap_mask, ICR_LOGICAL | ICR_FIXED | VEC_LOGICAL);
  wait_total(K_LOGICAL, ncores - 1);
  lapic_send_ipi(0, ICR_SELF | ICR_FIXED | VEC_SELF);
  wait_total(K_SELF, 1);
  for (int i = 1; i < ncores; i++) lapic_send_ipi(cpu_apic_id[i], ICR_NMI);
  wait_total(K_NMI, ncores - 1);

  for (int i = 0; i < ncores; i++)
    printf("core %d: ring=%d all-excl=%d all-incl=%d logical=%d self=%d nmi=%d\n", i,
           counts[K_RING][i], counts[K_EXCL][i], counts[K_INCL][i], counts[K_LOGICAL][i],
           counts[K_SELF][i], counts[K_NMI][i]);
  for (int i = 0; i < ncores; i++) {
    int ap = i != 0;
    if (counts[K_RING][i] != ROUNDS || counts[K_EXCL][i] != ap || counts[K_INCL][i] != 1 ||
        counts[K_LOGICAL][i] != ap || counts[K_SELF][i] != !ap || counts[K_NMI][i] != ap)
      failures++;
  }

  /* TPR above the vector's priority class holds a self-IPI pending in the IRR */
  lapic_write(LAPIC_TPR, 0x60);
  lapic_send_ipi(0, ICR_SELF | ICR_FIXED | VEC_TPR);
  sti();
  udelay(1000);
  cli();
  int held = counts[K_TPR][0] == 0;
  int in_irr = (lapic_read(LAPIC_IRR + 0x10 * (VEC_TPR / 32)) >> (VEC_TPR % 32)) & 1;
  check("TPR 0x60 holds vector 0x55 pending in IRR", held && in_irr);
  lapic_write(LAPIC_TPR, 0);
  wait_total(K_TPR, 1);
  check("TPR 0 delivers it", counts[K_TPR][0] == 1);

  printf("ipi: %d failure(s)\n", failures);
  return failures ? 1 : 0;
}
