/* smp: every processor in the MADT starts (INIT-SIPI-SIPI) and reports in APIC-ID order. */
#include "guest.h"

static spinlock_t report_lock;
static volatile int turn = 1; /* which AP index may report next */
static volatile int reported;
static volatile u64 stack_seen[MAX_CPUS];

static void ap_main(int index) {
  u32 a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  u32 initial_apic_id = b >> 24;
  int in_long_mode = (rdmsr(MSR_EFER) & (1u << 10)) != 0; /* EFER.LMA */
  int paging = (read_cr0() >> 31) & 1;
  u64 rsp;
  __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
  stack_seen[index] = rsp;

  while (turn != index) cpu_relax();
  spin_lock(&report_lock);
  printf("AP %d: APIC ID %u, cpu_index %d, CPUID initial APIC ID %s, long mode %s, paging %s\n",
         index, lapic_id(), cpu_index(), initial_apic_id == lapic_id() ? "matches" : "DIFFERS",
         in_long_mode ? "on" : "OFF", paging ? "on" : "OFF");
  spin_unlock(&report_lock);
  __atomic_fetch_add(&reported, 1, __ATOMIC_SEQ_CST);
  turn = index + 1;
}

int kmain(void) {
  printf("smp: start\n");
  printf("MADT: LAPIC at %lx, %d enabled processor(s), %d disabled, PC/AT compat %u\n",
         madt.lapic_addr, madt.ncpus, madt.disabled_cpus, madt.madt_flags & 1);
  for (int i = 0; i < madt.ncpus && i < MAX_CPUS; i++) printf("  processor APIC ID %u\n", madt.apic_ids[i]);
  for (int i = 0; i < madt.nioapics && i < MADT_MAX_IOAPICS; i++)
    printf("  IOAPIC ID %u at %x, GSI base %u, %d redirection entries\n", madt.ioapic[i].id,
           madt.ioapic[i].addr, madt.ioapic[i].gsi_base, ioapic_max_redirection() + 1);
  for (int i = 0; i < madt.noverrides && i < MADT_MAX_OVERRIDES; i++)
    printf("  override: bus %u IRQ %u -> GSI %u flags %x\n", madt.override[i].bus,
           madt.override[i].source, madt.override[i].gsi, madt.override[i].flags);
  printf("  local APIC NMI entries: %d\n", madt.nmi_entries);
  int fw = fwcfg_cpu_count();
  printf("fw_cfg: %s, CPU count %d (%s MADT)\n", fwcfg_present() ? "present" : "absent", fw,
         fw == madt.ncpus ? "matches" : "differs from");

  lapic_init();
  printf("BSP: APIC ID %u, LAPIC version 0x%x, APIC_BASE MSR BSP flag %lu\n", lapic_id(),
         lapic_read(LAPIC_VERSION) & 0xff, (rdmsr(MSR_APIC_BASE) >> 8) & 1);

  int up = smp_start_aps(ap_main);
  /* the APs reported in order as they got their turn; wait for the last one */
  for (int t = 0; t < 2000 && reported < cpu_count() - 1; t++) udelay(1000);
  int distinct = 1;
  for (int i = 1; i < cpu_count(); i++)
    for (int j = 1; j < i; j++)
      if (stack_seen[i] / STACK_SIZE == stack_seen[j] / STACK_SIZE) distinct = 0;
  printf("AP stacks %s\n", distinct ? "distinct" : "SHARED");
  printf("%d cores up\n", up);
  return up == madt.ncpus && reported == madt.ncpus - 1 && distinct ? 0 : 1;
}
