/* syscall: SYSCALL/SYSRET with STAR/LSTAR/FMASK and EFER.SCE, SWAPGS to a kernel per-cpu
 * area, SYSRETQ into ring 3 code that makes system calls, then back to the kernel. */
#include "guest.h"

#define SYS_WRITE 0
#define SYS_ADD 1
#define SYS_REPORT 2
#define USER_TLS_MAGIC 0x75736572746c73ul /* "usertls" */

struct percpu {
  u64 user_rsp;   /* %gs:0 while in the kernel */
  u64 kernel_rsp; /* %gs:8 */
  u64 self;       /* %gs:16 */
};

/* what the entry code saved, in push order reversed */
struct syscall_regs {
  u64 r9, r8, r10, rdx, rsi, rdi, rax, rcx, r11;
};

static struct percpu percpu;
static u64 user_tls[4] = {USER_TLS_MAGIC, 0, 0, 0};
static u8 syscall_stack[STACK_SIZE] __attribute__((aligned(16)));
static u8 user_stack[STACK_SIZE] __attribute__((aligned(16)));

static volatile u64 entry_rflags, entry_cs, entry_gs_base, entry_rcx, entry_r11, calls;
static volatile u64 reported_cs, reported_ss, reported_gs_value, reported_rflags;
static volatile u64 user_rip_after_syscall;
static int failures;

void syscall_entry(void);
void sysret_to_user(u64 rip, u64 rsp, u64 arg) __attribute__((noreturn));

__asm__(
    ".text\n"
    ".globl syscall_entry\n"
    "syscall_entry:\n"
    "  swapgs\n"
    "  movq %rsp, %gs:0\n"
    "  movq %gs:8, %rsp\n"
    "  pushq %r11\n"
    "  pushq %rcx\n"
    "  pushq %rax\n"
    "  pushq %rdi\n"
    "  pushq %rsi\n"
    "  pushq %rdx\n"
    "  pushq %r10\n"
    "  pushq %r8\n"
    "  pushq %r9\n"
    "  movq %rsp, %rdi\n"
    "  subq $8, %rsp\n" /* 9 pushes: realign to 16 for the call */
    "  call syscall_dispatch\n"
    "  addq $8, %rsp\n"
    "  popq %r9\n"
    "  popq %r8\n"
    "  popq %r10\n"
    "  popq %rdx\n"
    "  popq %rsi\n"
    "  popq %rdi\n"
    "  addq $8, %rsp\n" /* the saved rax: the result is in rax */
    "  popq %rcx\n"
    "  popq %r11\n"
    "  movq %gs:0, %rsp\n"
    "  swapgs\n"
    "  sysretq\n"
    ".globl sysret_to_user\n"
    "sysret_to_user:\n"
    "  movq %rdi, %rcx\n"
    "  movq %rsi, %rsp\n"
    "  movq %rdx, %rdi\n"
    "  movq $0x202, %r11\n"
    "  sysretq\n");

u64 syscall_dispatch(struct syscall_regs *r) {
  calls++;
  entry_rflags = read_rflags();
  u16 cs;
  __asm__ volatile("mov %%cs, %0" : "=r"(cs));
  entry_cs = cs;
  entry_gs_base = rdmsr(MSR_GS_BASE);
  entry_rcx = r->rcx;
  entry_r11 = r->r11;
  switch (r->rax) {
    case SYS_WRITE: {
      const char *s = (const char *)r->rdi;
      u64 n = r->rsi < 200 ? r->rsi : 200;
      char buf[201];
      memcpy(buf, s, n);
      buf[n] = 0;
      printf("kernel: user wrote \"%s\"\n", buf);
      return n;
    }
    case SYS_ADD:
      return r->rdi + r->rsi;
    case SYS_REPORT:
      reported_cs = r->rdi;
      reported_ss = r->rsi;
      reported_gs_value = r->rdx;
      reported_rflags = r->r10;
      return 0;
  }
  return (u64)-1;
}

static inline u64 sys3(u64 nr, u64 a, u64 b, u64 c) {
  u64 ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

static inline u64 sys4(u64 nr, u64 a, u64 b, u64 c, u64 d) {
  u64 ret;
  register u64 r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}

static const char user_message[] = "hello from ring 3";

/* ring 3 from here on: no port I/O, no privileged instructions, only system calls */
static void user_main(u64 arg) {
  u16 cs, ss;
  u64 gs_value, rflags, rip_after;
  __asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
  __asm__ volatile("movq %%gs:0, %0" : "=r"(gs_value));
  __asm__ volatile("pushfq; popq %0" : "=r"(rflags));
  sys4(SYS_REPORT, cs, ss, gs_value, rflags);
  u64 written = sys3(SYS_WRITE, (u64)user_message, sizeof user_message - 1, 0);
  u64 sum = 0;
  for (u64 i = 0; i < 1000; i++) sum = sys3(SYS_ADD, sum, i, 0);
  /* where SYSCALL came back to: RCX must have held the address after the instruction */
  __asm__ volatile("mov %1, %%eax\n\tsyscall\n1:\tleaq 1b(%%rip), %0"
                   : "=r"(rip_after) : "i"(SYS_ADD) : "rax", "rcx", "r11", "rdi", "rsi", "memory");
  user_rip_after_syscall = rip_after;
  u64 result = (written << 32) ^ sum ^ arg;
  __asm__ volatile("int $0x81" : : "D"(result));
  for (;;) {
  }
}

int kmain(void) {
  printf("syscall: start\n");
  wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
  wrmsr(MSR_STAR, ((u64)SEL_UCODE32 << 48) | ((u64)SEL_KCODE64 << 32));
  wrmsr(MSR_LSTAR, (u64)syscall_entry);
  wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_AC);
  percpu.kernel_rsp = (u64)(syscall_stack + STACK_SIZE);
  percpu.self = (u64)&percpu;
  wrmsr(MSR_KERNEL_GS_BASE, (u64)&percpu);
  wrmsr(MSR_GS_BASE, (u64)user_tls);

  struct catch_ctx *c = this_catch();
  if (fault_catch(c) == 0) sysret_to_user((u64)user_main, (u64)(user_stack + STACK_SIZE - 8), 0x5a5a);
  if (c->vector != VEC_USER_RETURN) {
    printf("user mode faulted: vector %lu error %lx rip %lx\n", c->vector, c->error, c->fault_rip);
    return 1;
  }
  u64 expected_sum = 999ul * 1000 / 2;
  u64 expect_result = ((sizeof user_message - 1) << 32) ^ expected_sum ^ 0x5a5a;

  printf("ring 3 entered by SYSRETQ: CS=%lx SS=%lx RFLAGS.IF=%lu\n", reported_cs, reported_ss,
         (reported_rflags >> 9) & 1);
  printf("user GS base after SYSRETQ reads %s\n", reported_gs_value == USER_TLS_MAGIC ? "the user TLS magic" : "WRONG");
  printf("in the kernel: CS=%lx, RFLAGS.IF=%lu after FMASK, GS base is the per-cpu area: %s\n",
         entry_cs, (entry_rflags >> 9) & 1, entry_gs_base == (u64)&percpu ? "yes" : "no");
  printf("SYSCALL saved RCX=next instruction: %s, R11=user RFLAGS with IF: %s\n",
         entry_rcx == user_rip_after_syscall ? "yes" : "no", (entry_r11 >> 9) & 1 ? "yes" : "no");
  printf("%lu system calls, user result %s\n", calls, c->user_value == expect_result ? "ok" : "WRONG");
  printf("kernel GS base restored: %s, KERNEL_GS_BASE restored: %s\n",
         rdmsr(MSR_GS_BASE) == (u64)user_tls ? "yes" : "no",
         rdmsr(MSR_KERNEL_GS_BASE) == (u64)&percpu ? "yes" : "no");

  if (reported_cs != (SEL_UCODE64 | 3) || reported_ss != (SEL_UDATA | 3) || reported_gs_value != USER_TLS_MAGIC ||
      !((reported_rflags >> 9) & 1) || entry_cs != SEL_KCODE64 || ((entry_rflags >> 9) & 1) ||
      entry_gs_base != (u64)&percpu || entry_rcx != user_rip_after_syscall || !((entry_r11 >> 9) & 1) ||
      calls != 1003 || c->user_value != expect_result)
    failures++;
  printf("syscall: %d failure(s)\n", failures);
  return failures ? 1 : 0;
}
