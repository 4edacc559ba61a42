/* x87 error reporting, both ways CR0.NE selects (SDM vol. 1 8.7, appendix D; vol. 3A interrupt 16):
 *  - CR0.NE = 1 (native): an unmasked divide by zero is pending after the divide and raised as
 *    #MF (vector 16) by the next waiting instruction, with RIP at that instruction; the status
 *    word keeps ZE, ES and B, and FIP/FOP name the divide;
 *  - CR0.NE = 0 (MS-DOS compatibility): the waiting instruction asserts FERR# instead, which the
 *    PC routes to IRQ 13 (8259 slave input 5); the handler writes port 0xF0 (clears the
 *    request, IGNNE#) and FNCLEX, and execution goes on past the waiting instruction.
 *
 * QEMU 7.2 (7.2.22 as Debian 12 ships it) aborts on the CR0.NE = 0 path: its FERR# raises
 * IRQ 13 from the vCPU thread without the I/O-thread lock ("tcg_handle_interrupt: assertion
 * failed: (qemu_mutex_iothread_locked())"; later QEMU takes the lock). It also leaves FOP 0.
 * So the transcript holds what QEMU gets right (the CR0.NE = 1 #MF, its RIP, status and FIP),
 * and "sdm=strict" (emulator runs) checks the rest against the SDM, silently unless it fails:
 *  - FOP names the fdivrp (0x6f9: the last non-control instruction, an unmasked exception
 *    pending; vol. 1 8.1.9);
 *  - CR0.NE = 0: one IRQ 13 through the 8259 per error, the status it sees (ZE, ES, B), FNCLEX
 *    in the handler clears it and execution goes on;
 *  - the processor freezes before the waiting instruction until the interrupt (D.2.1.1), so the
 *    handler's return address is the FWAIT (QEMU, where it does not abort, runs on);
 *  - IGNNE# goes off when FERR# does (figure D-1: its flip-flop is cleared by FERR# inactive), so
 *    a second error raises IRQ 13 again (QEMU's source keeps IGNNE# on after the 0xF0 write until
 *    an FLDENV/FRSTOR/FXRSTOR, and would ignore it). */
#include "guest.h"

#define CR0_NE (1u << 5)
#define VEC_IRQ13 (0x28 + 5) /* pic_remap_and_mask: slave at 0x28 */
#define LVT_EXTINT 0x700

static int failures;
static int strict;

static void check(const char *what, int ok) {
  if (!check_line(44, what, ok)) failures++;
}

static u16 fnstsw(void) { u16 sw; __asm__ volatile("fnstsw %0" : "=m"(sw)); return sw; }

/* FNSTENV's 28-byte image (protected-mode layout, 32-bit operand size) */
struct fpu_env {
  u32 cw, sw, tw, fip;
  u16 fcs, fop;
  u32 fdp, fds;
};

/* The faulting pair at known addresses: an unmasked 1/0, then a waiting FWAIT. */
extern const char mf_divide[], mf_wait[], ferr_divide[], ferr_wait[];

static void __attribute__((noinline)) native_divide_then_wait(void) {
  __asm__ volatile("fld1\n fldz\n"
                   ".globl mf_divide\n mf_divide: fdivrp\n"
                   ".globl mf_wait\n mf_wait: fwait\n" ::: "memory");
}

static void __attribute__((noinline)) legacy_divide_then_wait(void) {
  __asm__ volatile("fld1\n fldz\n"
                   ".globl ferr_divide\n ferr_divide: fdivrp\n"
                   ".globl ferr_wait\n ferr_wait: fwait\n" ::: "memory");
}

static void unmask_zero_divide(void) {
  u16 cw = 0x037b;
  __asm__ volatile("fninit\n fldcw %0" : : "m"(cw));
}

static volatile int irq13_count;
static volatile u16 irq13_status;
static volatile u64 irq13_rip;

static void on_irq13(struct int_frame *f) {
  irq13_count++;
  irq13_status = fnstsw();
  irq13_rip = f->rip;
  outb(0xf0, 0); /* clear the interrupt request; IGNNE# while the error is still set */
  __asm__ volatile("fnclex");
  outb(0xa0, 0x20); /* EOI slave, then master */
  outb(0x20, 0x20);
}

/* one error with CR0.NE = 0 and IF = 1; returns the IRQ 13 count it produced */
static int legacy_round(void) {
  int before = irq13_count;
  unmask_zero_divide();
  sti();
  legacy_divide_then_wait();
  /* QEMU delivers a few instructions later: give it a bounded while */
  for (int i = 0; i < 100000 && irq13_count == before; i++) cpu_relax();
  cli();
  return irq13_count - before;
}

/* CR0.NE = 0: FERR# -> IRQ 13 through the 8259 (sdm=strict only: QEMU 7.2 aborts, see above) */
static void legacy_checks(void) {
  idt_set_handler(VEC_IRQ13, on_irq13);
  lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x100);
  lapic_write(LAPIC_LVT_LINT0, LVT_EXTINT); /* the 8259 reaches the core (virtual wire) */
  outb(0x21, 0xfb); /* master: only the cascade */
  outb(0xa1, 0xdf); /* slave: only IRQ 13 */
  write_cr0(read_cr0() & ~(u64)CR0_NE);

  if (legacy_round() != 1) check("CR0.NE=0: one IRQ 13 for the error", 0);
  if ((irq13_status & 0xc7ff) != 0x8084) check("CR0.NE=0: status in the handler 8084", 0);
  if ((fnstsw() & 0xc7ff) != 0) check("CR0.NE=0: status after the handler 0000", 0);
  if (irq13_rip != (u64)ferr_wait) check("CR0.NE=0: frozen at the fwait (return RIP)", 0);
  if (legacy_round() != 1) check("CR0.NE=0: a second error raises IRQ 13 again", 0);
  if (irq13_rip != (u64)ferr_wait) check("CR0.NE=0: second error frozen at the fwait", 0);

  outb(0xa1, 0xff);
  outb(0x21, 0xff);
  write_cr0(read_cr0() | CR0_NE);
}

int kmain(void) {
  strict = boot_has_arg("sdm=strict");
  write_cr0((read_cr0() | CR0_MP | CR0_NE) & ~(u64)(CR0_EM | CR0_TS));
  printf("fpu-error: start\n");

  /* CR0.NE = 1: #MF at the waiting instruction */
  unmask_zero_divide();
  if (TRY()) {
    native_divide_then_wait();
    catch_end();
    check("CR0.NE=1: #MF at fwait", 0);
  } else {
    struct catch_ctx *c = this_catch();
    struct fpu_env env;
    __asm__ volatile("fnstenv %0" : "=m"(env));
    printf("%-44s vector=%lu\n", "CR0.NE=1: #MF", c->vector);
    if (c->vector != 16) failures++;
    check("CR0.NE=1: saved RIP is the fwait", c->fault_rip == (u64)mf_wait);
    printf("%-44s %04x\n", "CR0.NE=1: status (without TOP)", env.sw & 0xc7ff);
    check("CR0.NE=1: FIP is the fdivrp", env.fip == (u32)(u64)mf_divide);
    if (strict && (env.fop & 0x7ff) != 0x6f9) check("CR0.NE=1: FOP is the fdivrp (6f9)", 0);
  }
  __asm__ volatile("fninit");

  if (strict) legacy_checks();

  printf("fpu-error: %d failure(s)\n", failures);
  return failures ? 1 : 0;
}
