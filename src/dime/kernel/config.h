/* Build-time limits and fixed vector/selector numbers, shared by C and assembly. */
#ifndef DIME_CONFIG_H
#define DIME_CONFIG_H

#define MAX_CPUS        64
#define KSTACK_SIZE     0x8000      /* per-core kernel stack, also its alignment */

/* GDT selectors */
#define SEL_KCODE       0x08
#define SEL_KDATA       0x10
#define SEL_UDATA       0x18
#define SEL_UCODE       0x20
#define SEL_CODE32      0x28
#define SEL_TSS0        0x30        /* TSS of core i at SEL_TSS0 + 16*i */

/* interrupt vectors */
#define VEC_PIC_BASE    0x20        /* 8259 pair remapped here, then masked */
#define VEC_NIC         0x30
#define VEC_SERIAL      0x31
#define VEC_TIMER       0x40
#define VEC_INBOX       0x50        /* "your inbox has frames" IPI */
#define VEC_SYSCALL     0x80
#define VEC_SPURIOUS    0xFF

/* AP trampoline is copied to this low page; SIPI vector = address >> 12 */
#define AP_TRAMPOLINE   0x8000

/* user (ring 3) virtual window: PML4 slot 1, one PD = up to 512 chunks of 2 MiB */
#ifdef __ASSEMBLER__
#define USER_BASE       0x0000008000000000
#define CHUNK_SIZE      0x200000
#else
#define USER_BASE       0x0000008000000000ULL
#define CHUNK_SIZE      0x200000U
#endif

#endif
