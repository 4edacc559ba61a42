/* Interrupt entry stubs for all 256 vectors, and fault_catch (setjmp for exceptions). */
#include "layout.h"

  .section .text
  .code64

/* vectors whose exceptions push an error code: 8, 10-14, 17, 21, 29, 30 */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

  .macro stub v
  .align 16
isr_stub_\v:
  .if (HAS_ERROR(\v)) == 0
  pushq $0
  .endif
  pushq $\v
  jmp isr_common
  .endm

  .globl isr_stubs_start
isr_stubs_start:
  .altmacro
  .set vec, 0
  .rept 256
  stub %vec
  .set vec, vec + 1
  .endr

/* stubs are 16 bytes apart: isr_stubs_start + 16 * vector (checked by the build) */

  .align 16
isr_common:
  pushq %rax
  pushq %rbx
  pushq %rcx
  pushq %rdx
  pushq %rsi
  pushq %rdi
  pushq %rbp
  pushq %r8
  pushq %r9
  pushq %r10
  pushq %r11
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  cld
  mov %rsp, %rdi
  call isr_dispatch
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %r11
  popq %r10
  popq %r9
  popq %r8
  popq %rbp
  popq %rdi
  popq %rsi
  popq %rdx
  popq %rcx
  popq %rbx
  popq %rax
  add $16, %rsp /* vector and error code */
  iretq

/* int fault_catch(struct catch_ctx *c): saves the callee-saved registers, the stack pointer
 * after return, the return address and RFLAGS; marks the context active; returns 0. */
  .globl fault_catch
fault_catch:
  mov %rbx, 0(%rdi)
  mov %rbp, 8(%rdi)
  mov %r12, 16(%rdi)
  mov %r13, 24(%rdi)
  mov %r14, 32(%rdi)
  mov %r15, 40(%rdi)
  lea 8(%rsp), %rax
  mov %rax, 48(%rdi)
  mov (%rsp), %rax
  mov %rax, 56(%rdi)
  pushfq
  popq %rax
  mov %rax, 64(%rdi)
  movq $1, 72(%rdi)
  xor %eax, %eax
  ret
