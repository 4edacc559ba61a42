/* Boot core: bring the machine up, then every core becomes an idle DIME waiting for work. */
#include "kernel.h"
#include "dime.h"

struct cpu cpus[MAX_CPUS];
uint32_t ncpus;
uint8_t kstacks[MAX_CPUS][KSTACK_SIZE] __attribute__((aligned(KSTACK_SIZE)));
uint32_t tick_hz = 100;

struct mb_info {
  uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
  uint32_t syms[4];
  uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

static void setup_cpus(void) {
  uint32_t bsp = lapic_id();
  ncpus = 0;
  for (uint32_t i = 0; i < acpi.ncpu; i++)
    if (acpi.cpu[i].apic_id == bsp) { cpus[ncpus].apic_id = bsp; cpus[ncpus++].acpi_id = acpi.cpu[i].acpi_id; }
  if (ncpus == 0) { cpus[0].apic_id = bsp; ncpus = 1; }
  for (uint32_t i = 0; i < acpi.ncpu && ncpus < MAX_CPUS; i++)
    if (acpi.cpu[i].apic_id != bsp) { cpus[ncpus].apic_id = acpi.cpu[i].apic_id; cpus[ncpus++].acpi_id = acpi.cpu[i].acpi_id; }
  for (uint32_t i = 0; i < MAX_CPUS; i++) {
    cpus[i].index = i;
    cpus[i].kstack_top = (uint64_t)(kstacks[i] + KSTACK_SIZE);
    *(struct cpu **)kstacks[i] = &cpus[i];
  }
}

/* Per-core setup shared by the boot core and application cores. */
void cpu_common_init(struct cpu *c) {
  cpu_tables_load(c);
  lapic_init_cpu();
  if (lapic_id() != c->apic_id) kprintf("warning: DIME %u expected APIC %u, found %u\n", c->index, c->apic_id, lapic_id());
  mem_cpu_init(c);
  dime_init(c);
  lapic_timer_start(tick_hz);
  __atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
  kprintf("DIME %u up\n", c->index);
}

void kmain(uint32_t magic, uint32_t mbi_addr) {
  serial_init();
  kprintf("\nDIME kernel (Parallax) booting\n");
  if (magic != 0x2BADB002) panic("not loaded by a Multiboot loader (magic %x)", magic);
  const struct mb_info *mbi = (const struct mb_info *)(uint64_t)mbi_addr;
  if (mbi->flags & (1 << 2)) cmdline_init((const char *)(uint64_t)mbi->cmdline);
  char shown[sizeof cmdline];
  cmdline_redacted(shown, sizeof shown);
  kprintf("cmdline: %s\n", shown);
  tick_hz = (uint32_t)cmdline_uint("hz", 100);
  if (tick_hz < 10) tick_hz = 10;
  if (tick_hz > 1000) tick_hz = 1000;

  mem_init_from_multiboot(mbi->flags, mbi->mem_upper, mbi->mmap_addr, mbi->mmap_length);
  gdt_idt_init_bsp();
  acpi_init();
  lapic_base = acpi.lapic_base;
  pic_disable();
  setup_cpus();
  kprintf("ACPI: %u cores%s, %u IOAPIC, HPET %s\n", ncpus, acpi.ncpu_ignored ? " (some over the limit ignored)" : "",
          acpi.nioapic, acpi.hpet_base ? "yes" : "no");
  lapic_init_cpu();
  time_init();
  net_early_init();
  cpu_common_init(&cpus[0]);
  smp_start_aps();
  devices_init();
  kprintf("DIME ready: %u cores\n", ncpus);
  if (cmdline_get("exit") && strcmp(cmdline_get("exit"), "boot") == 0) debug_exit(0);
  idle_main();
}
