/* Multiboot 1 header and the BSP's way from 32-bit protected mode into 64-bit long mode.
 * Kept apart from the DIME kernel's own copy on purpose: these kernels test the machine, and a
 * bug shared with the product kernel would hide from both (test/guest/README.md, Library). */
#include "layout.h"
#include "long-mode.h"

#define MB_HEADER_MAGIC 0x1badb002
#define MB_HEADER_FLAGS 0x00000003 /* page-align modules, ask for memory info */

  .section .multiboot, "a"
  .align 4
  .long MB_HEADER_MAGIC
  .long MB_HEADER_FLAGS
  .long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

  .section .text
  .code32
  .globl _start
_start:
  cli
  cld
  /* keep the loader's magic and info pointer in callee-untouched registers while we zero bss */
  mov %eax, %esi
  mov %ebx, %ebp

  lgdt gdt_pointer
  ljmp $SEL_KCODE32, $1f
1:
  mov $SEL_KDATA, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov %ax, %fs
  mov %ax, %gs
  mov $(bsp_stack + STACK_SIZE), %esp

  /* the loader is asked to zero bss, but do not rely on it */
  mov $__bss_start, %edi
  mov $__bss_end, %ecx
  sub %edi, %ecx
  xor %eax, %eax
  rep stosb

  mov %esi, boot_magic
  mov %ebp, boot_mbi

  /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages (identity, 0..4 GiB).
     Every level is user-accessible so test code may run in ring 3 anywhere in the image. */
  mov $identity_pdpt, %eax
  or $0x7, %eax
  mov %eax, identity_pml4

  mov $identity_pd, %eax
  or $0x7, %eax
  xor %ecx, %ecx
2:
  mov %eax, identity_pdpt(,%ecx,8)
  add $0x1000, %eax
  inc %ecx
  cmp $IDENTITY_PDS, %ecx
  jne 2b

  mov $0x87, %eax /* present, writable, user, 2 MiB */
  xor %ecx, %ecx
3:
  mov %eax, identity_pd(,%ecx,8)
  add $0x200000, %eax
  inc %ecx
  cmp $(IDENTITY_PDS * 512), %ecx
  jne 3b

  ENTER_LONG_MODE $identity_pml4
  ljmp $SEL_KCODE64, $long_mode_entry

  .code64
long_mode_entry:
  mov $SEL_KDATA, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  xor %eax, %eax
  mov %ax, %fs
  mov %ax, %gs
  mov $(bsp_stack + STACK_SIZE), %rsp
  xor %ebp, %ebp
  call guest_start
4:
  cli
  hlt
  jmp 4b

  .section .data
  .align 16
  .globl gdt
gdt:
  .quad 0                     /* 0x00 null */
  .quad 0x00209a0000000000    /* 0x08 kernel code, 64-bit */
  .quad 0x00cf92000000ffff    /* 0x10 kernel data, flat (also the 32-bit data segment) */
  .quad 0x00cffa000000ffff    /* 0x18 user code, 32-bit (SYSRET to compatibility mode) */
  .quad 0x00cff2000000ffff    /* 0x20 user data */
  .quad 0x0020fa0000000000    /* 0x28 user code, 64-bit */
  .quad 0x00cf9a000000ffff    /* 0x30 kernel code, 32-bit flat (entry and AP start-up) */
  .fill (GDT_ENTRIES - 7), 8, 0 /* TSS and spare slots, filled at run time */
gdt_end:

  .globl gdt_pointer
  .align 8
gdt_pointer:
  .word gdt_end - gdt - 1
  .long gdt
  .long 0

  .globl boot_magic, boot_mbi
boot_magic: .long 0
boot_mbi: .long 0

  .section .bss
  .align 4096
  .globl identity_pml4, identity_pdpt, identity_pd
identity_pml4: .skip 4096
identity_pdpt: .skip 4096
identity_pd: .skip 4096 * IDENTITY_PDS
  .align 16
  .globl bsp_stack
bsp_stack: .skip STACK_SIZE
