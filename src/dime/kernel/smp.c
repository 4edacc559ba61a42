/* Start every enabled MADT core with INIT-SIPI-SIPI, one at a time, so the
 * "DIME n up" announcements come out in DIME order. */
#include "kernel.h"

extern char ap_tramp_start[], ap_tramp_end[], ap_tramp_cr3[], ap_tramp_stack[];
void ap_main(void);
void cpu_common_init(struct cpu *c);

static volatile uint32_t ap_ready;

static bool start_one(struct cpu *c) {
  uint8_t *tramp = (uint8_t *)AP_TRAMPOLINE;
  *(uint64_t *)(tramp + (ap_tramp_cr3 - ap_tramp_start)) = read_cr3();
  *(uint64_t *)(tramp + (ap_tramp_stack - ap_tramp_start)) = c->kstack_top;
  __atomic_store_n(&ap_ready, 0, __ATOMIC_SEQ_CST);

  lapic_send_ipi(c->apic_id, 0x0000C500);   /* INIT, level assert */
  delay_us(200);
  lapic_send_ipi(c->apic_id, 0x00008500);   /* INIT de-assert (older parts want it) */
  delay_us(10000);
  for (int sipi = 0; sipi < 2; sipi++) {
    lapic_send_ipi(c->apic_id, 0x00004600 | (AP_TRAMPOLINE >> 12));
    /* real cores answer within microseconds; an emulated one on a busy host may need seconds */
    uint64_t until = now_ns() + (sipi == 0 ? 1000000ULL : 10000000000ULL);
    while (now_ns() < until) {
      if (__atomic_load_n(&ap_ready, __ATOMIC_ACQUIRE)) return true;
      cpu_relax();
    }
  }
  return false;
}

void smp_start_aps(void) {
  memcpy((void *)AP_TRAMPOLINE, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
  for (uint32_t i = 1; i < ncpus; i++) {
    if (!start_one(&cpus[i])) {
      kprintf("DIME %u (APIC %u) did not start; continuing without it\n", i, cpus[i].apic_id);
      /* keep numbering dense: drop it and shift the rest down */
      for (uint32_t j = i; j + 1 < ncpus; j++) {
        cpus[j].apic_id = cpus[j + 1].apic_id;
        cpus[j].acpi_id = cpus[j + 1].acpi_id;
      }
      ncpus--;
      i--;
    }
  }
}

/* First C code on an application core. */
void ap_main(void) {
  struct cpu *c = this_cpu();
  /* a core that answers after the boot core gave up on it finds its slot handed to the next
   * core (another APIC id): it must not run as that DIME, so it parks for good */
  if (lapic_id() != c->apic_id) for (;;) __asm__ volatile("cli; hlt");
  cpu_common_init(c);
  __atomic_store_n(&ap_ready, 1, __ATOMIC_RELEASE);
  idle_main();
}
