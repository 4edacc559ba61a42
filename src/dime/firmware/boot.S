/* Network boot firmware entry (Multiboot 1, as the DIME kernel): 32-bit protected mode ->
 * long mode for the C code (which shares the kernel's e1000/PCI/crypto sources, built for
 * x86-64), and back: fw_handoff leaves long mode and enters the fetched kernel in the state a
 * Multiboot 1 loader gives (docs/BOOT.md, "Entry state, Multiboot 1 and 2"). */
#include "boot-long-mode.h"
#define MB_LOADER_MAGIC 0x2BADB002
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18
#define BOOT_STACK_TOP 0xF0000          /* ESP a Multiboot 1 entry gets from our loader */

    MULTIBOOT1_HEADER
    MULTIBOOT1_START                     /* bss holds the page tables and the stack */
    mov %esi, fw_mb_magic
    mov %ebp, fw_mb_info
    sgdt loader_gdtr                     /* the loader's GDT: given back to the kernel */

    IDENTITY_MAP_4G fw_pml4, fw_pdpt, fw_pd
    ENTER_LONG_MODE fw_pml4, 0x80000001, fw_gdtr, SEL_CODE64, long_entry   /* CR0: PG | PE */

.code64
long_entry:
    mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    CALL_MAIN fw_stack_top, fw_mb_magic, fw_mb_info, fw_main

/* fw_handoff(entry, info): never returns. Long mode -> 32-bit protected mode, paging off,
 * the loader's GDT and segments again, EAX = Multiboot magic, EBX = info, ESP = 0xF0000. */
.global fw_handoff
fw_handoff:
    cli
    mov %edi, handoff_entry(%rip)
    mov %esi, handoff_info(%rip)
    pushq $SEL_CODE32
    lea compat(%rip), %rax
    push %rax
    lretq
.code32
compat:
    mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr0, %eax
    and $0x7FFFFFFF, %eax                /* paging off: we run identity mapped below 4 GiB */
    mov %eax, %cr0
    mov $0xC0000080, %ecx                /* EFER = 0 */
    xor %eax, %eax
    xor %edx, %edx
    wrmsr
    mov %eax, %cr4
    mov %eax, %cr3
    mov $0x11, %eax                      /* PE | ET, as the loader leaves it */
    mov %eax, %cr0
    lgdt loader_gdtr
    ljmp $SEL_CODE32, $flat32
flat32:
    mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    lidt zero_idtr
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %edi, %edi
    xor %ebp, %ebp
    pushl $2                             /* EFLAGS: still on our stack (0xE0000-0xFFFFF may be read-only under a BIOS) */
    popfl
    mov handoff_info, %ebx               /* mov leaves the flags alone from here on */
    mov $MB_LOADER_MAGIC, %eax
    mov $BOOT_STACK_TOP, %esp
    jmp *handoff_entry

.section .data
.align 16
fw_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF             /* 0x08 32-bit code */
    .quad 0x00CF93000000FFFF             /* 0x10 data */
    .quad 0x00AF9A000000FFFF             /* 0x18 64-bit code */
fw_gdt_end:
fw_gdtr:
    .word fw_gdt_end - fw_gdt - 1
    .long fw_gdt
zero_idtr:
    .word 0
    .long 0

.section .bss
.align 4096
fw_pml4: .skip 4096
fw_pdpt: .skip 4096
fw_pd: .skip 4096 * 4
fw_stack: .skip 65536
fw_stack_top:
.align 8
fw_mb_magic: .skip 4
fw_mb_info: .skip 4
handoff_entry: .skip 4
handoff_info: .skip 4
loader_gdtr: .skip 8
