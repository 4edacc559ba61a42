/* debug-regs: hardware breakpoints and single-step. An instruction breakpoint in DR0 raises #DB
 * before the instruction (DR6.B0, not BS) and the handler resumes it by setting RF in the
 * pushed RFLAGS; a write breakpoint (DR1) traps after the writing instruction and ignores
 * reads; a read/write breakpoint (DR2) traps on a read; single-step (TF) traps after every
 * instruction, except that MOV SS holds its trap back until the following instruction has run,
 * while STI does not.
 * Boot argument "sdm=strict" adds, silently unless they fail, the STI checks: QEMU 7.2 TCG
 * suppresses the single-step trap after STI as after MOV SS, while the SDM holds debug traps
 * back only for MOV SS / POP SS (Vol. 3, 6.8.3); STI inhibits maskable interrupts alone (STI
 * instruction reference). */
#include "guest.h"

static int failures;

static void check(const char *what, int ok) {
  if (!check_line(56, what, ok)) failures++;
}

#define MAX_TRAPS 16
static volatile int ntraps;
static volatile u64 trap_rip[MAX_TRAPS], trap_dr6[MAX_TRAPS];
static volatile int resume_with_rf;

static u64 read_dr6(void) { u64 v; __asm__ volatile("mov %%dr6, %0" : "=r"(v)); return v; }
static void write_dr(int n, u64 v) {
  switch (n) {
    case 0: __asm__ volatile("mov %0, %%dr0" : : "r"(v)); break;
    case 1: __asm__ volatile("mov %0, %%dr1" : : "r"(v)); break;
    case 2: __asm__ volatile("mov %0, %%dr2" : : "r"(v)); break;
    case 6: __asm__ volatile("mov %0, %%dr6" : : "r"(v)); break;
    case 7: __asm__ volatile("mov %0, %%dr7" : : "r"(v)); break;
  }
}

static void on_db(struct int_frame *f) {
  int i = ntraps;
  if (i < MAX_TRAPS) {
    trap_rip[i] = f->rip;
    trap_dr6[i] = read_dr6();
  }
  ntraps = i + 1;
  write_dr(6, 0);
  if (resume_with_rf) f->rflags |= 1ul << 16;
  if (ntraps > 40) f->rflags &= ~(1ul << 8); /* runaway single-step: stop it */
}

extern char bp_target[];
__asm__(".text\n.globl bp_target\nbp_target:\n\tmov $7, %eax\n\tret\n");
static int call_target(void) {
  int r;
  __asm__ volatile("call bp_target" : "=a"(r) : : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
  return r;
}

static volatile u32 watched_w, watched_rw;

int kmain(void) {
  printf("debug-regs: start\n");
  idt_set_handler(1, on_db);

  /* instruction breakpoint: DR0 = bp_target, DR7.L0, R/W0 = 00 (execute), LEN0 = 00 */
  write_dr(6, 0);
  write_dr(0, (u64)bp_target);
  resume_with_rf = 1;
  ntraps = 0;
  write_dr(7, 1);
  int r1 = call_target();
  int r2 = call_target();
  write_dr(7, 0);
  check("execution breakpoint: #DB on each of 2 calls", ntraps == 2 && r1 == 7 && r2 == 7);
  check("... saved RIP is the breakpoint address (a fault)", trap_rip[0] == (u64)bp_target && trap_rip[1] == (u64)bp_target);
  printf("%-56s %lx\n", "... DR6 & 0x400f (B0, no BS)", trap_dr6[0] & 0x400f);

  /* write breakpoint: DR1 = &watched_w, L1, R/W1 = 01, LEN1 = 11 (4 bytes) */
  u64 after_write, after_read;
  write_dr(1, (u64)&watched_w);
  ntraps = 0;
  resume_with_rf = 0;
  write_dr(7, (1ul << 2) | (1ul << 20) | (3ul << 22));
  u32 tmp;
  __asm__ volatile("movl (%2), %0\n\tleaq 1f(%%rip), %1\n\tmovl $5, (%2)\n1:"
                   : "=&r"(tmp), "=&r"(after_write) : "r"(&watched_w) : "memory");
  write_dr(7, 0);
  (void)tmp;
  check("write breakpoint: one #DB (the read before it: none)", ntraps == 1 && watched_w == 5);
  check("... a trap: saved RIP after the writing instruction", trap_rip[0] == after_write);
  printf("%-56s %lx\n", "... DR6 & 0x400f (B1, no BS)", trap_dr6[0] & 0x400f);

  /* read/write breakpoint: DR2 = &watched_rw, L2, R/W2 = 11, LEN2 = 01 (2 bytes) */
  write_dr(2, (u64)&watched_rw);
  ntraps = 0;
  write_dr(7, (1ul << 4) | (3ul << 24) | (1ul << 26));
  __asm__ volatile("leaq 1f(%%rip), %1\n\tmovzwl (%2), %0\n1:" : "=&r"(tmp), "=&r"(after_read) : "r"(&watched_rw) : "memory");
  write_dr(7, 0);
  check("read/write breakpoint: #DB on a read", ntraps == 1 && trap_rip[0] == after_read);
  printf("%-56s %lx\n", "... DR6 & 0x400f (B2, no BS)", trap_dr6[0] & 0x400f);

  /* single-step over MOV SS: the trap after MOV SS is held back until after the next one */
  u64 l1, l2, l3;
  ntraps = 0;
  __asm__ volatile(
      "leaq 1f(%%rip), %0\n\tleaq 2f(%%rip), %1\n\tleaq 3f(%%rip), %2\n\t"
      "mov %%ss, %%eax\n\t"
      "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
      "nop\n"
      "1:\tmov %%eax, %%ss\n\t"
      "nop\n"
      "2:\tnop\n"
      "3:\tpushfq\n\tandq $~0x100, (%%rsp)\n\tpopfq\n\t"
      : "=&r"(l1), "=&r"(l2), "=&r"(l3) : : "rax", "memory", "cc");
  printf("single-step traps: %d\n", ntraps);
  check("single-step: trap after the first nop", ntraps >= 1 && trap_rip[0] == l1);
  check("... none after MOV SS; the next trap follows the nop after it", ntraps >= 2 && trap_rip[1] == l2);
  check("... then after each instruction again", ntraps >= 3 && trap_rip[2] == l3);
  printf("%-56s %lx\n", "... DR6 & 0x400f (BS)", trap_dr6[0] & 0x400f);

  /* single-step over STI: STI does not hold the trap back */
  u64 s1, s2;
  ntraps = 0;
  __asm__ volatile(
      "leaq 1f(%%rip), %0\n\tleaq 2f(%%rip), %1\n\t"
      "cli\n\t"
      "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
      "sti\n"
      "1:\tnop\n"
      "2:\tcli\n\t"
      "pushfq\n\tandq $~0x100, (%%rsp)\n\tpopfq\n\t"
      : "=&r"(s1), "=&r"(s2) : : "memory", "cc");
  if (boot_has_arg("sdm=strict")) {
    if (!(ntraps >= 1 && trap_rip[0] == s1)) check("single-step over STI: trap right after STI", 0);
    if (!(ntraps >= 2 && trap_rip[1] == s2)) check("... and after the next instruction", 0);
  }

  printf("debug-regs: %s\n", failures ? "FAILED" : "all ok");
  return failures ? 1 : 0;
}
