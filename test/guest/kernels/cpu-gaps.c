/* cpu-gaps: architectural details independent guests exposed (issue 13). An interrupt that
 * became pending while IF=0 is taken in a "sti; nop; cli" window, right after the nop; a
 * 2 MiB page-directory entry with a reserved bit (13-20) set raises #PF with RSVD; a LOCKed
 * CMPXCHG8B / 64-bit CMPXCHG on a device register (HPET comparator) reaches the device;
 * RDMSR/WRMSR of IA32_SPEC_CTRL (not advertised by CPUID) raise #GP; CPUID.1:EDX.APIC
 * follows IA32_APIC_BASE.EN. Only what QEMU 7.2 and the SDM agree on is printed (for the
 * reserved-bit #PF the P bit of the error code differs: QEMU 0x8, SDM 0x9; RSVD is printed).
 * Boot argument "sdm=strict" adds the checks where QEMU 7.2 TCG departs from the SDM, silently
 * unless they fail: QEMU lets RDMSR/WRMSR of IA32_SPEC_CTRL through although its qemu64 CPUID
 * advertises none of the features that define the MSR (SDM Vol. 4, Table 2-2: the MSR exists
 * if CPUID.7.0:EDX[26] or [27] or [31]; otherwise RDMSR/WRMSR of it is #GP(0)); QEMU pushes
 * RFLAGS with RF clear for faults, where the SDM (Vol. 3, 17.3.1.1) has the processor set RF in
 * the image of every fault-class exception other than an instruction breakpoint; QEMU 7.2 serves
 * a 64-bit load of the running HPET main counter as two 32-bit reads, so the value tears when the
 * low half carries between them (seen here: 0x1fffffffe read from a counter started at
 * 0xffffffdf), where on hardware a 64-bit access to a 64-bit HPET register is one access and
 * returns one value. */
#include "guest.h"

#define VEC_SELF 0x50
#define VA_2M_RSVD 0x1000600000ul /* above the 4 GiB identity map */
#define MSR_SPEC_CTRL 0x48
#define MSR_APIC_BASE 0x1b
#define HPET_CONFIG 0x010
#define HPET_T0_COMPARATOR 0x108

static int failures;
static volatile int self_count;
static volatile u64 self_rip;

static void check(const char *what, int ok) {
  if (!check_line(56, what, ok)) failures++;
}

static void on_self(struct int_frame *f) {
  self_count++;
  self_rip = f->rip;
  lapic_eoi();
}

static volatile u64 ud_rflags;
static void on_ud(struct int_frame *f) {
  ud_rflags = f->rflags;
  f->rip += 2; /* past the ud2 */
}

#define VEC_HPET 0x60
#define HPET_CAP 0x000
#define HPET_COUNTER 0x0f0
#define HPET_T0_CONFIG 0x100
#define TN_INT_ENABLE (1u << 2)
#define TN_PERIODIC (1u << 3)
#define TN_VAL_SET (1u << 6)
#define TN_ROUTE_SHIFT 9
static volatile int hpet_ticks;
static void on_hpet(struct int_frame *f) { (void)f; hpet_ticks++; lapic_eoi(); }

/* (sdm=strict) The running main counter read with one 64-bit load is one value: started just below a carry
 * out of the low half, it reads within a second of its start. A load split into two 4-byte
 * accesses reads the low half before the carry and the high half after it whenever the carry
 * falls between them (2^32 ticks off). The start moves 16 ticks a round over 1600 ticks, then
 * 1000 ticks a round over 100,000 (1 ms), so some round puts the carry there whether the two
 * halves are nanoseconds apart (QEMU) or tens of microseconds (a round trip to an I/O thread). */
static void hpet_counter_64(void) {
  volatile u64 *h = (volatile u64 *)acpi_hpet_base;
  u64 second = 1000000000000000ul / (h[HPET_CAP / 8] >> 32);
  int torn = 0;
  for (u64 i = 0; i < 200; i++) {
    u64 start = 0xfffffffful - (i < 100 ? 16 * i : 1000 * (i - 100));
    h[HPET_CONFIG / 8] = 0;
    h[HPET_COUNTER / 8] = start;
    h[HPET_CONFIG / 8] = 1;
    u64 v = h[HPET_COUNTER / 8];
    if (v < start || v - start > second) torn++;
  }
  h[HPET_CONFIG / 8] = 0;
  if (torn) check("HPET running counter by one 64-bit load, 200 carries", 0);
}

/* HPET timer 0 periodic, programmed only with 64-bit accesses, routed to IOAPIC pin 2 */
static void hpet_periodic_64(void) {
  volatile u64 *h = (volatile u64 *)acpi_hpet_base;
  u64 cap = h[HPET_CAP / 8];
  u64 period_fs = cap >> 32;
  u64 ticks_per_ms = 1000000000000ul / period_fs;
  u64 t0 = h[HPET_T0_CONFIG / 8];
  int route_ok = (int)((t0 >> 32) >> 2) & 1;
  check("HPET timer 0 can route to IOAPIC pin 2", route_ok);
  idt_set_handler(VEC_HPET, on_hpet);
  ioapic_route(2, VEC_HPET, lapic_id(), 0, 0, 0);
  h[HPET_CONFIG / 8] = 0;
  h[HPET_COUNTER / 8] = 0;
  h[HPET_T0_CONFIG / 8] = TN_INT_ENABLE | TN_PERIODIC | TN_VAL_SET | (2u << TN_ROUTE_SHIFT);
  h[HPET_T0_COMPARATOR / 8] = ticks_per_ms; /* first expiry, and (VAL_SET) the accumulator */
  h[HPET_T0_COMPARATOR / 8] = ticks_per_ms; /* period */
  h[HPET_CONFIG / 8] = 1;
  for (int i = 0; i < 500 && hpet_ticks < 5; i++) {
    sti();
    udelay(1000);
    cli();
  }
  h[HPET_CONFIG / 8] = 0;
  ioapic_route(2, VEC_HPET, lapic_id(), 0, 0, 1);
  check("HPET periodic via 64-bit writes: 5 interrupts", hpet_ticks >= 5);
}

static int msr_faults(int write) {
  if (TRY()) {
    if (write) wrmsr(MSR_SPEC_CTRL, 0);
    else (void)rdmsr(MSR_SPEC_CTRL);
    catch_end();
    return 0;
  }
  return this_catch()->vector == 13 && this_catch()->error == 0;
}

int kmain(void) {
  printf("cpu-gaps: start\n");
  lapic_init();
  idt_set_handler(VEC_SELF, on_self);

  /* interrupt shadow: the self-IPI is pending while IF=0; STI lets one instruction run */
  cli();
  lapic_send_ipi(lapic_id(), ICR_FIXED | VEC_SELF);
  for (int i = 0; i < 1000 && !(lapic_read(LAPIC_IRR + 0x10 * (VEC_SELF / 32)) & (1u << (VEC_SELF % 32))); i++) cpu_relax();
  check("self-IPI pending in IRR while IF=0", self_count == 0);
  u64 after_nop;
  __asm__ volatile("leaq 1f(%%rip), %0\n\tsti\n\tnop\n1:\tcli" : "=&r"(after_nop) : : "memory");
  check("sti; nop; cli: the pending interrupt is taken", self_count == 1);
  check("... after the nop, before the cli (saved RIP)", self_rip == after_nop);

  /* the RFLAGS image of a fault (#UD) */
  idt_set_handler(6, on_ud);
  __asm__ volatile("ud2" ::: "memory");
  idt_set_handler(6, 0);
  if (boot_has_arg("sdm=strict") && !((ud_rflags >> 16) & 1)) check("#UD: RF set in the pushed RFLAGS image", 0);

  /* 2 MiB page with reserved bit 13 set */
  *pt_entry(VA_2M_RSVD, 2) = 0x200000ul | PTE_P | PTE_W | PTE_PS | (1ul << 13);
  invlpg(VA_2M_RSVD);
  if (TRY()) {
    (void)*(volatile u64 *)(VA_2M_RSVD + 0x10);
    catch_end();
    check("2M PDE with bit 13 set: #PF", 0);
  } else {
    struct catch_ctx *c = this_catch();
    printf("%-56s #PF RSVD=%lu W=%lu U=%lu cr2=%lx %s\n", "2M PDE with bit 13 set", (c->error >> 3) & 1,
           (c->error >> 1) & 1, (c->error >> 2) & 1, c->cr2,
           c->vector == 14 && (c->error & 0x8) && c->cr2 == VA_2M_RSVD + 0x10 ? "ok" : "FAIL");
    if (!(c->vector == 14 && (c->error & 0x8))) failures++;
  }
  *pt_entry(VA_2M_RSVD, 2) = 0x200000ul | PTE_P | PTE_W | PTE_PS | (1ul << 20);
  invlpg(VA_2M_RSVD);
  if (TRY()) {
    *(volatile u64 *)(VA_2M_RSVD + 0x20) = 1;
    catch_end();
    check("2M PDE with bit 20 set: #PF on write", 0);
  } else {
    struct catch_ctx *c = this_catch();
    printf("%-56s #PF RSVD=%lu W=%lu cr2=%lx %s\n", "2M PDE with bit 20 set (write)", (c->error >> 3) & 1,
           (c->error >> 1) & 1, c->cr2, c->vector == 14 && (c->error & 0xa) == 0xa ? "ok" : "FAIL");
    if (!(c->vector == 14 && (c->error & 0xa) == 0xa)) failures++;
  }
  *pt_entry(VA_2M_RSVD, 2) = 0;
  invlpg(VA_2M_RSVD);

  /* LOCKed 8-byte read-modify-writes on a device register (HPET halted: the comparator holds) */
  if (acpi_init() != 0 || !acpi_hpet_base) panic("no HPET in ACPI");
  volatile u32 *hpet = (volatile u32 *)acpi_hpet_base;
  hpet[HPET_CONFIG / 4] = 0;
  hpet[HPET_T0_COMPARATOR / 4] = 0x11111111;
  hpet[HPET_T0_COMPARATOR / 4 + 1] = 0x2;
  u32 lo = 0x11111111, hi = 0x2;
  u8 zf;
  __asm__ volatile("lock cmpxchg8b %2\n\tsetz %3"
                   : "+a"(lo), "+d"(hi), "+m"(*(volatile u64 *)(acpi_hpet_base + HPET_T0_COMPARATOR)), "=q"(zf)
                   : "b"(0x33334444u), "c"(0x5u)
                   : "memory");
  u64 now = hpet[HPET_T0_COMPARATOR / 4] | ((u64)hpet[HPET_T0_COMPARATOR / 4 + 1] << 32);
  printf("%-56s zf=%u comparator=%lx %s\n", "lock cmpxchg8b on the HPET comparator (equal)", zf, now,
         zf && now == 0x533334444ul ? "ok" : "FAIL");
  if (!(zf && now == 0x533334444ul)) failures++;
  u64 got = 0x1234;
  __asm__ volatile("lock cmpxchgq %3, %1\n\tsetz %2"
                   : "+a"(got), "+m"(*(volatile u64 *)(acpi_hpet_base + HPET_T0_COMPARATOR)), "=q"(zf)
                   : "r"(0x77ul) : "memory");
  printf("%-56s zf=%u old=%lx %s\n", "lock cmpxchg r64 on the HPET comparator (not equal)", zf, got,
         !zf && got == 0x533334444ul ? "ok" : "FAIL");
  if (!(!zf && got == 0x533334444ul)) failures++;

  if (boot_has_arg("sdm=strict")) hpet_counter_64();
  hpet_periodic_64();

  /* IA32_SPEC_CTRL: CPUID.7.0:EDX advertises none of IBRS/STIBP/SSBD */
  u32 a, b, c, d;
  cpuid(7, 0, &a, &b, &c, &d);
  int advertised = (d >> 26) & 1 || (d >> 27) & 1 || (d >> 31) & 1;
  printf("CPUID.7.0:EDX IBRS/STIBP/SSBD advertised: %d\n", advertised);
  if (!advertised && boot_has_arg("sdm=strict")) {
    if (!msr_faults(0)) check("rdmsr IA32_SPEC_CTRL: #GP(0)", 0);
    if (!msr_faults(1)) check("wrmsr IA32_SPEC_CTRL: #GP(0)", 0);
  }

  /* CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN (last: QEMU 7.2 cannot re-enable the LAPIC) */
  check("CPUID.1:EDX.APIC with the APIC enabled", cpu_has(FEAT_APIC));
  wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) & ~(1ul << 11));
  check("CPUID.1:EDX.APIC clear after IA32_APIC_BASE.EN=0", !cpu_has(FEAT_APIC));

  printf("cpu-gaps: %s\n", failures ? "FAILED" : "all ok");
  return failures ? 1 : 0;
}
