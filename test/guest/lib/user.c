/* Running a function in ring 3 and coming back (through INT VEC_USER_RETURN or a fault). */
#include "guest.h"

static u8 user_stack[STACK_SIZE] __attribute__((aligned(16)));

void enter_user(u64 (*fn)(u64), u64 arg, u64 stack_top) __attribute__((noreturn));

__asm__(
    ".text\n"
    ".globl enter_user\n"
    "enter_user:\n"
    "  pushq $0x23\n" /* SS = user data | RPL 3 */
    "  pushq %rdx\n"
    "  pushq $0x202\n" /* RFLAGS: IF */
    "  pushq $0x2b\n" /* CS = user code 64 | RPL 3 */
    "  leaq user_entry_stub(%rip), %rax\n"
    "  pushq %rax\n"
    "  movq %rdi, %rax\n"
    "  movq %rsi, %rdi\n"
    "  iretq\n"
    "user_entry_stub:\n"
    "  call *%rax\n"
    "  movq %rax, %rdi\n"
    "  int $0x81\n"
    "  ud2\n");

int run_user(u64 (*fn)(u64), u64 arg, u64 *ret) {
  struct catch_ctx *c = this_catch();
  if (fault_catch(c) == 0) enter_user(fn, arg, (u64)(user_stack + STACK_SIZE));
  if (c->vector == VEC_USER_RETURN) {
    if (ret) *ret = c->user_value;
    return 0;
  }
  return 1;
}
