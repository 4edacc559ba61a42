/* GDT task-state descriptors (one per core) and the shared IDT. */
#include "kernel.h"

struct idt_gate {
  uint16_t off0, sel;
  uint8_t ist, type;
  uint16_t off1;
  uint32_t off2, zero;
} __attribute__((packed));

extern uint64_t gdt[];
extern char isr_stub_table_start[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idt_ptr;

/* double faults switch to this stack so a blown kernel stack still reports */
static uint8_t df_stacks[MAX_CPUS][KSTACK_SIZE] __attribute__((aligned(KSTACK_SIZE)));

static void set_gate(int v, int dpl, int ist) {
  uint64_t a = (uint64_t)(isr_stub_table_start + 16 * v);
  idt[v].off0 = (uint16_t)a;
  idt[v].sel = SEL_KCODE;
  idt[v].ist = (uint8_t)ist;
  idt[v].type = (uint8_t)(0x8E | (dpl << 5));   /* present, 64-bit interrupt gate */
  idt[v].off1 = (uint16_t)(a >> 16);
  idt[v].off2 = (uint32_t)(a >> 32);
  idt[v].zero = 0;
}

void gdt_idt_init_bsp(void) {
  for (int v = 0; v < 256; v++) set_gate(v, 0, 0);
  set_gate(8, 0, 1);
  set_gate(VEC_SYSCALL, 3, 0);
  idt_ptr.limit = sizeof idt - 1;
  idt_ptr.base = (uint64_t)idt;
}

/* Load this core's TSS descriptor and the IDT (runs on every core). */
void cpu_tables_load(struct cpu *c) {
  struct tss64 *t = &c->tss;
  memset(t, 0, sizeof *t);
  t->rsp0 = c->kstack_top;
  uint8_t *df = df_stacks[c->index];
  *(struct cpu **)df = c;
  t->ist[0] = (uint64_t)(df + KSTACK_SIZE);
  t->iomap_base = sizeof *t;   /* no I/O bitmap: ring 3 gets no ports */

  uint64_t base = (uint64_t)t, limit = sizeof *t - 1;
  int slot = (SEL_TSS0 >> 3) + 2 * (int)c->index;
  gdt[slot] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
              (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
  gdt[slot + 1] = base >> 32;
  uint16_t sel = (uint16_t)(SEL_TSS0 + 16 * c->index);
  __asm__ volatile("ltr %0" ::"r"(sel));
  __asm__ volatile("lidt %0" ::"m"(idt_ptr));
}
