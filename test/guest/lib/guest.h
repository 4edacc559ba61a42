/* The guest test library: everything a test kernel may call. */
#ifndef GUEST_H
#define GUEST_H

#include "types.h"
#include "layout.h"
#include "x86.h"
#include "multiboot.h"
#include "spinlock.h"

/* ---- the kernel's entry point: return the exit code (0 = success) ---- */
int kmain(void);

/* ---- string.c ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* ---- serial.c: COM1 16550, polled ---- */
void serial_init(void);
void serial_putc(char c);

/* ---- printf.c: %d %i %u %x %X %s %c %p %%, with l/ll, width, '0' and '-' flags ---- */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* a test kernel's check line: `what` left-aligned in `width` columns, then "ok" or "FAIL"; returns ok */
int check_line(int width, const char *what, int ok);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void puts(const char *s);

/* ---- exit.c: isa-debug-exit at port 0xf4 (QEMU exits with (code << 1) | 1) ---- */
void exit(u32 code) __attribute__((noreturn));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#define EXIT_PANIC 0x7f
#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) panic("check failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
  } while (0)

/* ---- interrupts.c: IDT, dispatch, expected faults ---- */
struct int_frame {
  u64 r15, r14, r13, r12, r11, r10, r9, r8;
  u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
  u64 vector, error;
  u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};
typedef void (*int_handler)(struct int_frame *f);
void idt_init(void); /* builds the IDT once (BSP) */
void idt_load(void); /* every core */
void idt_set_handler(int vector, int_handler h);
void idt_set_dpl(int vector, int dpl);
void idt_set_ist(int vector, int ist);

/* Expected faults: fault_catch() returns 0 when called and 1 when a later exception (or the
 * end of a run_user() call) on this core came back to it, like setjmp. Exceptions with no
 * handler and no active catch print a report and exit with EXIT_PANIC. */
struct catch_ctx {
  u64 rbx, rbp, r12, r13, r14, r15, rsp, rip, rflags; /* saved by fault_catch */
  u64 active;
  /* filled in when the catch fires */
  u64 vector, error, cr2, fault_rip, fault_cs, fault_rsp, frame_addr, user_value;
};
int fault_catch(struct catch_ctx *c) __attribute__((returns_twice));
struct catch_ctx *this_catch(void);
#define TRY() (fault_catch(this_catch()) == 0)
void catch_end(void); /* the guarded code finished without a fault */
#define VEC_USER_RETURN 0x81 /* run_user's way back to ring 0 */

/* ---- user.c: ring 3 ---- */
/* Runs fn(arg) in ring 3 on a user stack; returns 0 when fn returned (result in *ret),
 * or 1 when it faulted (details in this_catch()). */
int run_user(u64 (*fn)(u64), u64 arg, u64 *ret);

/* ---- gdt.c ---- */
void gdt_install_tss(void); /* BSP: TSS with RSP0 and IST1 (#DF) stacks */
void gdt_set(int selector, u64 descriptor);
extern u8 ist1_stack[STACK_SIZE];

/* ---- paging.c: 4-level tables, 4 KiB granularity on demand ---- */
#define PTE_P (1ul << 0)
#define PTE_W (1ul << 1)
#define PTE_U (1ul << 2)
#define PTE_PWT (1ul << 3)
#define PTE_PCD (1ul << 4)
#define PTE_A (1ul << 5)
#define PTE_D (1ul << 6)
#define PTE_PS (1ul << 7)
#define PTE_G (1ul << 8)
#define PTE_NX (1ul << 63)
#define PTE_ADDR 0x000ffffffffff000ul
u64 *pt_alloc(void); /* a zeroed page-table page */
/* entry for va at level 1 (4K PTE), 2 (PDE) or 3 (PDPTE), creating tables as needed and
 * splitting larger pages on the way */
u64 *pt_entry(u64 va, int level);
void map_page(u64 va, u64 pa, u64 flags); /* 4 KiB; flags include PTE_P */
void *page_alloc(void); /* a zeroed 4 KiB data page from a pool */

/* ---- cpu.c ---- */
int cpu_index(void); /* 0 = BSP; APs in APIC-ID order */
int cpu_count(void); /* enabled processors in the MADT */
extern u32 cpu_apic_id[MAX_CPUS];
int cpu_has(int leaf_reg, int bit);
#define CPUID_1_ECX 0
#define CPUID_1_EDX 1
#define CPUID_81_EDX 2
#define FEAT_TSC_DEADLINE CPUID_1_ECX, 24
#define FEAT_APIC CPUID_1_EDX, 9
#define FEAT_SSE2 CPUID_1_EDX, 26
#define FEAT_NX CPUID_81_EDX, 20
#define FEAT_1G_PAGES CPUID_81_EDX, 26

/* ---- acpi.c ---- */
#define MADT_MAX_IOAPICS 4
#define MADT_MAX_OVERRIDES 16
struct madt_info {
  u64 lapic_addr;
  u32 madt_flags;
  int ncpus; /* enabled local APICs */
  u32 apic_ids[MAX_CPUS];
  int disabled_cpus;
  int nioapics;
  struct { u32 id, addr, gsi_base; } ioapic[MADT_MAX_IOAPICS];
  int noverrides;
  struct { u32 bus, source, gsi, flags; } override[MADT_MAX_OVERRIDES];
  int nmi_entries;
  int rsdp_revision;
  int using_xsdt;
};
extern struct madt_info madt;
extern u64 acpi_hpet_base; /* from the ACPI HPET table; 0 when there is none */
int acpi_init(void); /* 0 on success; fills madt and acpi_hpet_base */
u32 madt_isa_irq_gsi(u32 irq); /* the GSI of ISA IRQ `irq`: its bus-0 source override, or the same number */

/* ---- lapic.c (xAPIC MMIO) ---- */
#define LAPIC_ID 0x20
#define LAPIC_VERSION 0x30
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_LDR 0xd0
#define LAPIC_DFR 0xe0
#define LAPIC_SVR 0xf0
#define LAPIC_ISR 0x100
#define LAPIC_IRR 0x200
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_PERIODIC (1u << 17)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define ICR_FIXED 0x000
#define ICR_NMI 0x400
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_LOGICAL (1u << 11)
#define ICR_PENDING (1u << 12)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)
#define ICR_SELF (1u << 18)
#define ICR_ALL_INCL (2u << 18)
#define ICR_ALL_EXCL (3u << 18)
#define VEC_SPURIOUS 0xff
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 v);
u32 lapic_id(void);
void lapic_init(void); /* software-enable, TPR 0, LVTs masked except LINT1 = NMI */
void lapic_eoi(void);
/* sends an IPI and waits for the delivery-status bit to clear */
void lapic_send_ipi(u32 dest_apic_id, u32 icr_lo);

/* ---- ioapic.c ---- */
u32 ioapic_read(u32 reg);
void ioapic_write(u32 reg, u32 v);
int ioapic_max_redirection(void);
void ioapic_route(int gsi, u8 vector, u32 dest_apic_id, int level, int active_low, int masked);
void ioapic_mask_all(void);

/* ---- pic.c: 8259 pair ---- */
void pic_remap_and_mask(void); /* vectors 0x20-0x2f, every line masked */

/* ---- pit.c ---- */
void pit_init(void); /* channel 0, rate generator, free running (its IRQ stays masked) */
void udelay(u32 us);

/* ---- fwcfg.c ---- */
int fwcfg_present(void);
int fwcfg_cpu_count(void); /* -1 when fw_cfg is absent */

/* ---- smp.c ---- */
typedef void (*ap_main_fn)(int index);
/* starts every enabled AP of the MADT with INIT-SIPI-SIPI, one at a time, in APIC-ID order;
 * each runs ap_main(index) on its own stack after loading the IDT and enabling its LAPIC.
 * Returns the number of cores running (BSP included). */
int smp_start_aps(ap_main_fn ap_main);
void smp_park(void) __attribute__((noreturn)); /* cli; hlt forever */
/* INIT-SIPI-SIPI to AP `index` (1 = the first AP) without waiting for it to check in */
void smp_start_ap_nowait(int index, ap_main_fn ap_main);

#endif
