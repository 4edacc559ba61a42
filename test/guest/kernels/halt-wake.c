/* halt-wake: cores halted with interrupts off (CLI; HLT) and woken only by NMIs, as memtest86+
 * parks its CPUs between tests. The machine may end a run only when no core can ever run
 * again, so it must not mistake a core that a STARTUP IPI or an NMI has just woken, and that
 * is running, for one still waiting or halted.
 * Phase 1: the BSP sends INIT-SIPI-SIPI and halts at once; the new AP wakes it with NMIs.
 * Phase 2: the two cores take turns, each waking the other and halting, ROUNDS times.
 * No wake-up can be lost: a waker repeats its NMI until the woken core acknowledges. */
#include "guest.h"

#define ROUNDS 200

static volatile int ack;   /* the last round number a woken core acknowledged */
static volatile u32 nmis[2];

static void on_nmi(struct int_frame *f) {
  (void)f;
  nmis[cpu_index() == 0 ? 0 : 1]++;
}

/* wake the core at `apic` until it acknowledges round `r` */
static void wake(u32 apic, int r) {
  while (ack < r) {
    lapic_send_ipi(apic, ICR_NMI);
    for (int i = 0; i < 1000 && ack < r; i++) cpu_relax(); /* not udelay: the PIT latch is not shared-safe */
  }
}

static void halt_until(int r) {
  while (ack < r - 1) cpu_relax(); /* the other side is about to wake us for r */
  cli();
  hlt();
  ack = r;
}

static void ap_main(int index) {
  (void)index;
  wake(cpu_apic_id[0], 1);                 /* phase 1: the BSP halted right after the SIPIs */
  for (int r = 2; r <= ROUNDS; r += 2) {   /* phase 2: odd rounds wake the BSP, even ones us */
    halt_until(r);
    if (r + 1 <= ROUNDS) wake(cpu_apic_id[0], r + 1);
  }
  smp_park();
}

int kmain(void) {
  lapic_init();
  idt_set_handler(2, on_nmi);
  if (cpu_count() < 2) {
    printf("halt-wake: needs 2 cores\n");
    return 1;
  }
  smp_start_ap_nowait(1, ap_main);
  cli();
  hlt();                                   /* woken by the AP's NMI */
  ack = 1;
  printf("halt-wake: BSP woken by the new AP\n");
  for (int r = 3; r <= ROUNDS; r += 2) {
    wake(cpu_apic_id[1], r - 1);
    halt_until(r);
  }
  if (ROUNDS % 2 == 0) wake(cpu_apic_id[1], ROUNDS);
  printf("halt-wake: %d wake-ups by NMI with both cores halting with interrupts off, none lost\n", ROUNDS);
  return nmis[0] > 0 && nmis[1] > 0 ? 0 : 1;
}
