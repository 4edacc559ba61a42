/* The 32-bit -> long mode steps that the DIME kernel (kernel/boot.S) and the network boot
 * firmware (firmware/boot.S) both take from a Multiboot 1 entry: one copy, as assembler macros
 * for their .S files. They use the local labels 1-3 only. */
#ifndef BOOT_LONG_MODE_H
#define BOOT_LONG_MODE_H

#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x00000003            /* page-align modules, give memory info */

/* the Multiboot 1 header, in its own section (the linker scripts put it first) */
.macro MULTIBOOT1_HEADER
.section .multiboot, "a"
.align 4
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)
.endm

/* _start, where a Multiboot 1 loader enters in 32-bit protected mode: interrupts off, the
 * loader's magic kept in ESI and its info pointer in EBP, .bss zeroed (page tables and stacks
 * live there) */
.macro MULTIBOOT1_START
.section .text.boot, "ax"
.code32
.global _start
_start:
    cli
    cld
    mov %eax, %esi
    mov %ebx, %ebp
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl
.endm

/* identity map 0..4 GiB with 2 MiB pages, the top GiB (MMIO) uncached: PML4[0] -> pdpt, whose
 * 4 entries point at the 4 pages of pd (2048 entries) */
.macro IDENTITY_MAP_4G pml4, pdpt, pd
    mov $\pdpt, %eax
    or $3, %eax
    mov %eax, \pml4
    mov $\pd, %eax
    or $3, %eax
    mov $\pdpt, %edi
    mov $4, %ecx
1:  mov %eax, (%edi)
    add $4096, %eax
    add $8, %edi
    loop 1b
    mov $\pd, %edi
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax                      /* present, writable, 2 MiB */
    cmp $1536, %ecx
    jb 3f
    or $0x18, %eax                      /* PWT|PCD for 3..4 GiB */
3:  mov %eax, (%edi,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b
.endm

/* CR3 = pml4 (any 32-bit source operand), PAE, EFER.LME, then paging on with CR0 |= cr0_bits:
 * the step into long mode that the boot core and the kernel's AP trampoline (kernel/boot.S) share */
.macro LONG_MODE_PAGING pml4, cr0_bits
    mov \pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax                      /* PAE */
    mov %eax, %cr4
    mov $0xC0000080, %ecx               /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $\cr0_bits, %eax
    mov %eax, %cr0
.endm
/* LONG_MODE_PAGING with the page tables at `pml4`, then the 64-bit GDT and a far jump to
 * `target` through selector `sel` */
.macro ENTER_LONG_MODE pml4, cr0_bits, gdtr, sel, target
    LONG_MODE_PAGING $\pml4, \cr0_bits
    lgdt \gdtr
    ljmp $\sel, $\target
.endm
/* in long mode: RSP = stack, then fn(magic, info) with the values the entry saved; should fn
 * return, the core halts for good */
.macro CALL_MAIN stack, magic, info, fn
    lea \stack(%rip), %rsp
    xor %ebp, %ebp
    mov \magic(%rip), %edi
    mov \info(%rip), %esi
    call \fn
1:  cli
    hlt
    jmp 1b
.endm

#endif
