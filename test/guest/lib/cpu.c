/* Which core is running (by LAPIC ID) and what CPUID advertises. */
#include "guest.h"

u32 cpu_apic_id[MAX_CPUS];
static int ncpus; /* 0 until acpi_init has filled cpu_apic_id */

void cpu_set_table(const u32 *ids, int n) {
  for (int i = 0; i < n && i < MAX_CPUS; i++) cpu_apic_id[i] = ids[i];
  ncpus = n < MAX_CPUS ? n : MAX_CPUS;
}

int cpu_index(void) {
  u32 id = lapic_id();
  for (int i = 0; i < ncpus; i++)
    if (cpu_apic_id[i] == id) return i;
  return 0;
}

int cpu_count(void) { return ncpus ? ncpus : 1; }

int cpu_has(int leaf_reg, int bit) {
  u32 a, b, c, d;
  switch (leaf_reg) {
    case CPUID_1_ECX:
      cpuid(1, 0, &a, &b, &c, &d);
      return (c >> bit) & 1;
    case CPUID_1_EDX:
      cpuid(1, 0, &a, &b, &c, &d);
      return (d >> bit) & 1;
    case CPUID_81_EDX:
      cpuid(0x80000000, 0, &a, &b, &c, &d);
      if (a < 0x80000001) return 0;
      cpuid(0x80000001, 0, &a, &b, &c, &d);
      return (d >> bit) & 1;
  }
  return 0;
}
