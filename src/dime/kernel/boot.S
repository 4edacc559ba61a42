/* Multiboot 1 entry: 32-bit protected mode -> 64-bit long mode on the boot core,
 * plus the real-mode trampoline that takes application cores the same way. */
#include "config.h"
#include "boot-long-mode.h"

    MULTIBOOT1_HEADER
    MULTIBOOT1_START
    mov %esi, mb_magic
    mov %ebp, mb_info

    /* long mode available? */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    test $(1 << 29), %edx
    jz no_long_mode

    IDENTITY_MAP_4G boot_pml4, boot_pdpt, boot_pd
    ENTER_LONG_MODE boot_pml4, 0x80010001, gdt_ptr, SEL_KCODE, long_entry   /* CR0: PG | WP | PE */

no_long_mode:
    mov $no_lm_msg, %esi
4:  lodsb
    test %al, %al
    jz 5f
    mov $0x3F8, %dx
    out %al, %dx
    jmp 4b
5:  hlt
    jmp 5b

/* in 64-bit mode: kernel data in DS, ES and SS; FS and GS null (their bases are MSRs) */
.macro KERNEL_DATA_SEGMENTS
    mov $SEL_KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
.endm

.code64
long_entry:
    KERNEL_DATA_SEGMENTS
    CALL_MAIN kstacks+KSTACK_SIZE, mb_magic, mb_info, kmain

/* Application cores arrive here in long mode on the shared boot page tables,
 * with RSP already pointing at their own kernel stack. */
.global ap_entry64
ap_entry64:
    lgdt gdt_ptr(%rip)
    KERNEL_DATA_SEGMENTS
    pushq $SEL_KCODE
    lea 7f(%rip), %rax
    push %rax
    lretq
7:  xor %ebp, %ebp
    call ap_main
8:  cli
    hlt
    jmp 8b

/* ---- AP trampoline: copied to AP_TRAMPOLINE, entered in real mode by SIPI ---- */
#define TR(x) ((x) - ap_tramp_start + AP_TRAMPOLINE)
.global ap_tramp_start, ap_tramp_end, ap_tramp_cr3, ap_tramp_stack
.code16
ap_tramp_start:
    cli
    cld
    xor %ax, %ax
    mov %ax, %ds
    lgdtl TR(tramp_gdtr)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $TR(tramp32)
.code32
tramp32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    LONG_MODE_PAGING TR(ap_tramp_cr3), 0x80010000   /* CR0: PG | WP (PE is on already) */
    ljmp $0x18, $TR(tramp64)
.code64
tramp64:
    mov TR(ap_tramp_stack), %rsp
    movabs $ap_entry64, %rax
    jmp *%rax
.align 8
tramp_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF            /* 0x08 flat 32-bit code */
    .quad 0x00CF92000000FFFF            /* 0x10 flat data */
    .quad 0x00AF9A000000FFFF            /* 0x18 64-bit code */
tramp_gdtr:
    .word 31
    .long TR(tramp_gdt)
.align 8
ap_tramp_cr3:   .quad 0
ap_tramp_stack: .quad 0
ap_tramp_end:

.section .rodata
no_lm_msg: .asciz "DIME: this CPU has no long mode\r\n"

.section .data
.align 16
.global gdt, gdt_ptr, mb_magic, mb_info
gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF            /* 0x08 kernel code, 64-bit */
    .quad 0x00CF92000000FFFF            /* 0x10 kernel data */
    .quad 0x00CFF2000000FFFF            /* 0x18 user data, DPL 3 */
    .quad 0x00AFFA000000FFFF            /* 0x20 user code, 64-bit, DPL 3 */
    .quad 0x00CF9A000000FFFF            /* 0x28 flat 32-bit code */
    .fill MAX_CPUS * 2, 8, 0            /* 0x30.. one 16-byte TSS descriptor per core */
gdt_end:
.align 8
gdt_ptr:
    .word gdt_end - gdt - 1
    .quad gdt
mb_magic: .long 0
mb_info:  .long 0

.section .bss
.align 4096
.global boot_pml4, boot_pdpt, boot_pd
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd:   .skip 4096 * 4
