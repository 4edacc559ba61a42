// Where the emulated firmware puts its own things in guest RAM (what a BIOS + QEMU's
// multiboot option ROM would leave behind). All of it is outside RAM the memory map calls usable.
//
//   0x00400-0x004FF   BIOS data area fields (COM1 base, EBDA segment, base memory size)
//   0x09000           Multiboot 1 memory map (as QEMU: ADDR_E820_MAP)
//   0x09500           Multiboot 1 information structure (as QEMU: EBX = 0x9500)
//   0xE0000           boot GDT (selectors in boot-gdt.ts)
//   0xE1000-0xE6FFF   long-mode page tables: PML4, PDPT, 4 page directories (ELF64 entry)
//   0xE8000-0xEFFFF   boot stack (ESP/RSP = 0xF0000 at entry)
//   0xF0000           ACPI RSDP (revision 2), found by the 0xE0000-0xFFFFF scan
//   lowEnd-128 KiB    ACPI tables (RSDT, XSDT, FADT, FACS, DSDT, MADT, HPET), as QEMU/SeaBIOS
//                     keep the top 128 KiB of low RAM for themselves

export const BDA_BASE = 0x400;
export const MB1_MMAP_ADDR = 0x9000;
export const MB1_INFO_ADDR = 0x9500;
export const MB1_INFO_SIZE = 88;
export const BOOT_GDT_ADDR = 0xe0000;
export const PML4_ADDR = 0xe1000;
export const PDPT_ADDR = 0xe2000;
export const PD_ADDR = 0xe3000; // four consecutive pages, one per GiB
export const BOOT_STACK_BASE = 0xe8000;
export const BOOT_STACK_TOP = 0xf0000;
export const RSDP_ADDR = 0xf0000;
/** bytes at the top of low RAM kept by the firmware (QEMU -m 512 reports mem_upper 523136) */
export const FIRMWARE_RESERVED_TOP = 128 * 1024;
/** the 4 GiB - 256 KiB BIOS flash window QEMU/SeaBIOS report as reserved */
export const BIOS_FLASH_BASE = 0xfffc0000;
export const BIOS_FLASH_SIZE = 0x40000;
