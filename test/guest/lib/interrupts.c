/* The IDT, the C side of interrupt dispatch, and expected-fault recovery (fault_catch). */
#include "guest.h"

struct idt_gate {
  u16 offset_lo;
  u16 selector;
  u8 ist;
  u8 type_attr;
  u16 offset_mid;
  u32 offset_hi;
  u32 reserved;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));
static int_handler handlers[256];
static struct catch_ctx catches[MAX_CPUS];
extern char isr_stubs_start[];

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "res15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};

void idt_init(void) {
  for (int v = 0; v < 256; v++) {
    u64 addr = (u64)(isr_stubs_start + 16 * v);
    idt[v].offset_lo = (u16)addr;
    idt[v].selector = SEL_KCODE64;
    idt[v].ist = 0;
    idt[v].type_attr = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
    idt[v].offset_mid = (u16)(addr >> 16);
    idt[v].offset_hi = (u32)(addr >> 32);
    idt[v].reserved = 0;
  }
  idt_set_dpl(VEC_USER_RETURN, 3);
}

void idt_load(void) {
  struct {
    u16 limit;
    u64 base;
  } __attribute__((packed)) ptr = {sizeof idt - 1, (u64)idt};
  __asm__ volatile("lidt %0" : : "m"(ptr));
}

void idt_set_handler(int vector, int_handler h) { handlers[vector & 0xff] = h; }

void idt_set_dpl(int vector, int dpl) {
  idt[vector & 0xff].type_attr = (u8)(0x8e | ((dpl & 3) << 5));
}

void idt_set_ist(int vector, int ist) { idt[vector & 0xff].ist = (u8)(ist & 7); }

struct catch_ctx *this_catch(void) { return &catches[cpu_index()]; }

void catch_end(void) { this_catch()->active = 0; }

/* Resume at the fault_catch() call site as if it had returned 1. */
static void resume_at_catch(struct catch_ctx *c, struct int_frame *f) {
  c->active = 0;
  c->vector = f->vector;
  c->error = f->error;
  c->cr2 = f->vector == 14 ? read_cr2() : 0;
  c->fault_rip = f->rip;
  c->fault_cs = f->cs;
  c->fault_rsp = f->rsp;
  c->frame_addr = (u64)f;
  c->user_value = f->rdi;
  f->rbx = c->rbx;
  f->rbp = c->rbp;
  f->r12 = c->r12;
  f->r13 = c->r13;
  f->r14 = c->r14;
  f->r15 = c->r15;
  f->rsp = c->rsp;
  f->rip = c->rip;
  f->rflags = c->rflags;
  f->cs = SEL_KCODE64;
  f->ss = SEL_KDATA;
  f->rax = 1;
}

void isr_dispatch(struct int_frame *f) {
  int v = (int)f->vector;
  if (handlers[v]) {
    handlers[v](f);
    return;
  }
  struct catch_ctx *c = this_catch();
  if (c->active && (v < 32 || v == VEC_USER_RETURN)) {
    resume_at_catch(c, f);
    return;
  }
  if (v == VEC_SPURIOUS) return; /* spurious LAPIC interrupts need no EOI */
  printf("UNEXPECTED %s vector=%d error=%lx rip=%lx cs=%lx rsp=%lx cr2=%lx cpu=%d\n",
         v < 32 && exception_names[v] ? exception_names[v] : "interrupt", v, f->error, f->rip,
         f->cs, f->rsp, v == 14 ? read_cr2() : 0ul, cpu_index());
  exit(EXIT_PANIC);
}
