/* Interrupt entry stubs for all 256 vectors, the common save/restore path,
 * and the two one-way doors: into ring 3, and back to a core's idle loop. */
#include "config.h"

.text
.code64

/* one 16-byte stub per vector; exceptions without an error code push a zero so
 * every frame has the same shape */
.global isr_stub_table_start
isr_stub_table_start:
.set vec, 0
.rept 256
    .align 16
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
.endr

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi
    call isr_dispatch
/* the interrupt return: registers from the irq_frame at %rsp, drop vector and error code */
isr_return:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

/* void enter_user(uint64_t rip, uint64_t rsp, uint64_t arg0, uint64_t kstack_top) */
.global enter_user
enter_user:
    mov %rcx, %rsp                      /* nothing below the user frame on this stack */
    pushq $(SEL_UDATA | 3)
    push %rsi
    pushq $0x202                        /* IF set, IOPL 0 */
    pushq $(SEL_UCODE | 3)
    push %rdi
    mov %rdx, %rdi
    xor %eax, %eax
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    mov $SEL_UDATA | 3, %si
    mov %si, %ds
    mov %si, %es
    xor %esi, %esi
    iretq

/* void resume_user(const struct irq_frame *f, uint64_t kstack_top): the frame (not on this
 * stack) is copied to the top of the kernel stack and returned through like an interrupt */
.global resume_user
resume_user:
    lea -176(%rsi), %rsp                /* 22 quadwords: struct irq_frame */
    mov %rdi, %rsi
    mov %rsp, %rdi
    mov $22, %ecx
    rep movsq
    mov $SEL_UDATA | 3, %ax
    mov %ax, %ds
    mov %ax, %es
    jmp isr_return

/* void restart_idle(uint64_t kstack_top): abandon whatever this core was doing */
.global restart_idle
restart_idle:
    mov %rdi, %rsp
    xor %ebp, %ebp
    mov $SEL_KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    call idle_main
1:  cli
    hlt
    jmp 1b
