/* Common kernel types, port/MSR/MMIO helpers and cross-file declarations. */
#ifndef DIME_KERNEL_H
#define DIME_KERNEL_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>
#include "config.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define barrier() __asm__ volatile("" ::: "memory")

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }

static inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint64_t mmio_read64(uint64_t a) { return *(volatile uint64_t *)a; }
static inline void mmio_write64(uint64_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline uint64_t read_flags(void) { uint64_t f; __asm__ volatile("pushfq; popq %0" : "=r"(f)); return f; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }

/* ---- spinlocks that also keep interrupts off while held ---- */
typedef struct { volatile uint32_t v; } spinlock_t;
static inline uint64_t spin_lock_irqsave(spinlock_t *l) {
  uint64_t f = read_flags();
  irq_disable();
  while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE)) {
    while (__atomic_load_n(&l->v, __ATOMIC_RELAXED)) cpu_relax();
  }
  return f;
}
static inline void spin_unlock_irqrestore(spinlock_t *l, uint64_t f) {
  __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
  if (f & 0x200) irq_enable();
}

/* ---- interrupt frame, as isr.S lays it out ---- */
struct irq_frame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error;
  uint64_t rip, cs, rflags, rsp, ss;
};
static inline bool frame_from_user(const struct irq_frame *f) { return (f->cs & 3) == 3; }

/* ---- 64-bit TSS ---- */
struct tss64 {
  uint32_t rsvd0;
  uint64_t rsp0, rsp1, rsp2;
  uint64_t rsvd1;
  uint64_t ist[7];
  uint64_t rsvd2;
  uint16_t rsvd3, iomap_base;
} __attribute__((packed));

/* ---- one per core (= one per DIME) ---- */
struct cpu {
  uint32_t index;           /* DIME number, 0 = boot core */
  uint32_t apic_id;
  uint32_t acpi_id;
  volatile uint32_t online;
  uint64_t kstack_top;
  struct tss64 tss;
  /* time accounting (TSC cycles) */
  volatile uint32_t halted;
  uint64_t halt_start;
  uint64_t halted_cycles;
  uint64_t ticks;
  uint64_t irqs;
  /* page tables for this core: PML4 + user PDPT + user PD */
  uint64_t *pml4, *user_pdpt, *user_pd, *user_pt;
};

extern struct cpu cpus[MAX_CPUS];
extern uint32_t ncpus;
extern uint8_t kstacks[MAX_CPUS][KSTACK_SIZE];

/* the running core, found from the bottom of its (aligned) kernel stack */
static inline struct cpu *this_cpu(void) {
  uint64_t sp;
  __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
  return *(struct cpu **)(sp & ~(uint64_t)(KSTACK_SIZE - 1));
}

/* lib.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
void strlcpy(char *d, const char *s, size_t n);
uint64_t parse_uint(const char *s, const char **end);
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static inline void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static inline void put_be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = (uint8_t)v; }
static inline void put_be64(uint8_t *p, uint64_t v) { put_be32(p, v >> 32); put_be32(p + 4, (uint32_t)v); }

/* serial.c / console */
void serial_init(void);
void serial_putc(char c);
int serial_getc(void);              /* -1 when nothing waiting */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kputs_raw(const char *s, size_t n);   /* whole line(s) under the console lock */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void debug_exit(uint32_t code);

/* cmdline.c */
void cmdline_init(const char *src);
const char *cmdline_get(const char *key);   /* value of key=value, "" for bare key, NULL absent */
uint64_t cmdline_uint(const char *key, uint64_t dflt);
void cmdline_redacted(char *out, size_t n);
extern char cmdline[512];

/* descriptors.c */
void gdt_idt_init_bsp(void);
void cpu_tables_load(struct cpu *c);

/* acpi.c */
struct madt_cpu { uint32_t apic_id, acpi_id; };
struct ioapic_info { uint64_t base; uint32_t gsi_base; uint8_t id; };
struct irq_override { uint8_t irq; uint32_t gsi; uint16_t flags; };
struct acpi_info {
  uint64_t lapic_base;
  uint32_t ncpu; struct madt_cpu cpu[MAX_CPUS]; uint32_t ncpu_ignored;
  uint32_t nioapic; struct ioapic_info ioapic[4];
  uint32_t niso; struct irq_override iso[16];
  uint64_t hpet_base;
  bool has_8259;
};
extern struct acpi_info acpi;
void acpi_init(void);
uint32_t acpi_irq_to_gsi(uint8_t irq, uint16_t *flags);

/* apic.c */
void pic_disable(void);
void lapic_init_cpu(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);
void lapic_timer_start(uint32_t hz);
void ioapic_route(uint8_t irq_isa, uint8_t vector, uint32_t dest_apic, bool pci_default);
extern uint64_t lapic_base;

/* time.c */
void time_init(void);                /* calibrate TSC and LAPIC timer */
uint64_t now_ns(void);
uint64_t cycles_to_ns(uint64_t c);
void delay_us(uint64_t us);
extern uint64_t tsc_hz, lapic_timer_hz;

/* smp.c */
void smp_start_aps(void);

/* interrupt dispatch */
void isr_dispatch(struct irq_frame *f);
void idle_main(void) __attribute__((noreturn));
void enter_user(uint64_t rip, uint64_t rsp, uint64_t arg0, uint64_t kstack_top) __attribute__((noreturn));
void restart_idle(uint64_t kstack_top) __attribute__((noreturn));
/* into ring 3 with every register of a saved frame (a migrated service) */
void resume_user(const struct irq_frame *f, uint64_t kstack_top) __attribute__((noreturn));

#endif
