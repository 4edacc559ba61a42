/* Starting application processors: INIT, then two STARTUP IPIs, one AP at a time. */
#include "guest.h"

extern char trampoline_start[], trampoline_end[];
extern char tramp_gdtr[], tramp_cr3[], tramp_stack[], tramp_entry[], tramp_arg[];
extern u8 gdt_pointer[];

static u8 ap_stacks[MAX_CPUS][STACK_SIZE] __attribute__((aligned(16)));
static ap_main_fn ap_main_hook;
static volatile int ap_alive[MAX_CPUS];
static volatile int cores_running = 1;

#define TRAMP_VAR(sym) ((void *)(TRAMPOLINE_BASE + ((sym) - trampoline_start)))

void smp_park(void) {
  for (;;) {
    cli();
    hlt();
  }
}

static void ap_entry(u64 index) {
  idt_load();
  lapic_init();
  __atomic_fetch_add(&cores_running, 1, __ATOMIC_SEQ_CST);
  ap_alive[index] = 1;
  ap_main_hook((int)index);
  smp_park();
}

static void install_trampoline(ap_main_fn ap_main) {
  ap_main_hook = ap_main;
  memcpy((void *)TRAMPOLINE_BASE, trampoline_start, (size_t)(trampoline_end - trampoline_start));
  memcpy(TRAMP_VAR(tramp_gdtr), gdt_pointer, 6);
  *(u64 *)TRAMP_VAR(tramp_cr3) = read_cr3();
  *(u64 *)TRAMP_VAR(tramp_entry) = (u64)ap_entry;
}

static void send_startup(int i) {
  *(volatile u64 *)TRAMP_VAR(tramp_stack) = (u64)(ap_stacks[i] + STACK_SIZE);
  *(volatile u64 *)TRAMP_VAR(tramp_arg) = (u64)i;
  mfence();
  u32 apic = cpu_apic_id[i];
  lapic_send_ipi(apic, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
  udelay(10000);
  for (int sipi = 0; sipi < 2; sipi++) {
    lapic_send_ipi(apic, ICR_STARTUP | (TRAMPOLINE_BASE >> 12));
    udelay(200);
  }
}

void smp_start_ap_nowait(int index, ap_main_fn ap_main) {
  install_trampoline(ap_main);
  send_startup(index);
}

int smp_start_aps(ap_main_fn ap_main) {
  install_trampoline(ap_main);
  for (int i = 1; i < cpu_count(); i++) {
    u32 apic = cpu_apic_id[i];
    send_startup(i);
    /* wait up to ~5 s for the AP to check in before touching the trampoline again (an emulator
     * on an overloaded host may need more than the 1 s a real CPU would) */
    for (int t = 0; t < 5000 && !ap_alive[i]; t++) udelay(1000);
    if (!ap_alive[i]) printf("AP %d (APIC ID %u) did not start\n", i, apic);
  }
  return cores_running;
}
