#include "kernel.h"
void dime_init(struct cpu *c) {}
void net_early_init(void) {}
void devices_init(void) {}
void isr_dispatch(struct irq_frame *f) {
  struct cpu *c = this_cpu();
  if (f->vector < 32) panic("exception %lu err %lx rip %lx cr2 %lx on DIME %u", f->vector, f->error, f->rip, read_cr2(), c->index);
  if (f->vector != VEC_SPURIOUS) lapic_eoi();
  if (f->vector == VEC_TIMER) c->ticks++;
}
void idle_main(void) { for (;;) __asm__ volatile("sti; hlt"); }
