/* AP start-up code. It is copied to TRAMPOLINE_BASE and entered by SIPI in real mode
 * (CS = TRAMPOLINE_BASE >> 4, IP = 0); it climbs to 64-bit mode on the BSP's GDT and page
 * tables and calls tramp_entry(tramp_arg) on tramp_stack. Addresses inside it are computed
 * from its copied location, never from where the linker put the original. */
#include "layout.h"
#include "long-mode.h"

#define AT(label) (TRAMPOLINE_BASE + (label) - trampoline_start)

  .section .rodata
  .globl trampoline_start, trampoline_end
  .globl tramp_gdtr, tramp_cr3, tramp_stack, tramp_entry, tramp_arg

  .code16
trampoline_start:
  cli
  cld
  mov %cs, %ax
  mov %ax, %ds
  lgdtl (tramp_gdtr - trampoline_start)
  mov %cr0, %eax
  or $1, %eax
  mov %eax, %cr0
  ljmpl $SEL_KCODE32, $AT(tramp_protected)

  .code32
tramp_protected:
  mov $SEL_KDATA, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  ENTER_LONG_MODE AT(tramp_cr3)
  ljmp $SEL_KCODE64, $AT(tramp_long)

  .code64
tramp_long:
  xor %eax, %eax
  mov %ax, %fs
  mov %ax, %gs
  mov AT(tramp_stack), %rsp
  mov AT(tramp_arg), %rdi
  mov AT(tramp_entry), %rax
  xor %ebp, %ebp
  call *%rax
1:
  cli
  hlt
  jmp 1b

  .align 8
tramp_gdtr:
  .word 0
  .long 0
  .word 0
tramp_cr3: .quad 0
tramp_stack: .quad 0
tramp_entry: .quad 0
tramp_arg: .quad 0
trampoline_end:
