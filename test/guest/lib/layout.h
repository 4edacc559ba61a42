/* Constants shared by the assembly and C parts of the guest library (no C types here). */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

/* GDT selectors. The order 0x18/0x20/0x28 is what SYSRET expects from STAR[63:48] = 0x18. */
#define SEL_KCODE64 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE32 0x18
#define SEL_UDATA 0x20
#define SEL_UCODE64 0x28
#define SEL_KCODE32 0x30
#define SEL_TSS 0x38 /* 16-byte system descriptor: slots 0x38 and 0x40 */
#define SEL_SPARE0 0x48 /* slots tests may fill with descriptors of their own */
#define GDT_ENTRIES 16

/* Where the AP start-up code is copied; SIPI vector = TRAMPOLINE_BASE >> 12. */
#define TRAMPOLINE_BASE 0x8000

#define MAX_CPUS 16
#define STACK_SIZE 16384

/* 4 GiB identity map with 2 MiB pages: one PML4, one PDPT, four page directories. */
#define IDENTITY_PDS 4

/* The ACPI RSDP is searched for here, on 16-byte boundaries. */
#define BIOS_SCAN_START 0xe0000
#define BIOS_SCAN_END 0x100000

#endif
