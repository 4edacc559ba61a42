/* Interrupt and exception dispatch, the per-core idle loop, and halt-time accounting. */
#include "dime.h"
#include "e1000.h"
#include "store.h"

void serial_poll_rx(void);
static const char *const exc_names[32] = {
  "divide error", "debug", "NMI", "breakpoint", "overflow", "bound", "invalid opcode", "no FPU",
  "double fault", "coprocessor overrun", "invalid TSS", "segment not present", "stack fault",
  "general protection", "page fault", "reserved", "x87 error", "alignment check", "machine check",
  "SIMD error", "virtualization", "control protection", "?", "?", "?", "?", "?", "?", "?", "?", "?", "?"};

static void account_wakeup(struct cpu *c) {
  if (c->halted) {
    c->halted_cycles += rdtsc() - c->halt_start;
    c->halted = 0;
  }
}

/* Halt until the next interrupt, counting the time as idle. Call with interrupts off. */
void cpu_halt_wait(struct cpu *c) {
  c->halt_start = rdtsc();
  c->halted = 1;
  __asm__ volatile("sti; hlt; cli" ::: "memory");
  account_wakeup(c);
}

/* Busy (not halted) ns since a (now, halted) snapshot; returns the new snapshot too. */
uint64_t cpu_busy_since(struct cpu *c, uint64_t since_ns, uint64_t since_halted, uint64_t *now_out, uint64_t *halted_out) {
  uint64_t hc = c->halted_cycles;
  if (c->halted) hc += rdtsc() - c->halt_start;
  uint64_t now = now_ns(), halted = cycles_to_ns(hc);
  *now_out = now;
  *halted_out = halted;
  uint64_t wall = now - since_ns, idle = halted - since_halted;
  return idle > wall ? 0 : wall - idle;
}

static void timer_tick(struct cpu *c) {
  c->ticks++;
  if (c->index == 0) {
    net_poll();          /* backstop for a lost or unrouted NIC interrupt */
    serial_poll_rx();
    console_input_poll();
  }
  agent_tick(&dimes[c->index]);
}

void isr_dispatch(struct irq_frame *f) {
  struct cpu *c = this_cpu();
  struct dime *d = &dimes[c->index];
  account_wakeup(c);
  c->irqs++;
  uint64_t v = f->vector;
  if (v < 32) {
    if (frame_from_user(f)) svc_fault(d, f);
    panic("%s (vector %lu) in the kernel on DIME %u: error %lx rip %lx rsp %lx cr2 %lx", exc_names[v], v, c->index,
          f->error, f->rip, f->rsp, read_cr2());
  }
  switch (v) {
    case VEC_TIMER:
      lapic_eoi();
      timer_tick(c);
      break;
    case VEC_INBOX:
      lapic_eoi();
      agent_inbox(d);
      break;
    case VEC_NIC:
      net_poll();
      lapic_eoi();
      break;
    case VEC_SERIAL:
      serial_poll_rx();
      console_input_poll();
      lapic_eoi();
      break;
    case VEC_SYSCALL:
      if (frame_from_user(f)) svc_syscall(d, f);
      break;
    case VEC_SPURIOUS:
      break;
    default:
      if (v >= VEC_PIC_BASE && v < VEC_PIC_BASE + 16) {
        if (v != VEC_PIC_BASE + 7 && v != VEC_PIC_BASE + 15) { if (v >= VEC_PIC_BASE + 8) outb(0xA0, 0x20); outb(0x20, 0x20); }
      } else {
        lapic_eoi();
      }
      break;
  }
  svc_user_return(d, f);
}

/* Every core ends up here when it has nothing to run: halt, serve interrupts, and start
 * a service when the agent has one ready. */
void idle_main(void) {
  struct cpu *c = this_cpu();
  struct dime *d = &dimes[c->index];
  for (;;) {
    irq_disable();
    /* a started service not yet entered (a SUSPEND before it got the core waits for RESUME) */
    if (d->exec_pending && (d->state == PX_STATE_RUNNING || d->kill_pending)) svc_enter(d);
    cpu_halt_wait(c);
  }
}

void devices_init(void) {
  bool nic = e1000_init();
  keys_init();
  store_init();
  if (!nic) {
    kprintf("e1000: no NIC found, DIMEs reachable only from this server\n");
    return;
  }
  if (nic_irq_line < 24) ioapic_route(nic_irq_line, VEC_NIC, cpus[0].apic_id, true);
  ioapic_route(4, VEC_SERIAL, cpus[0].apic_id, false);
}
