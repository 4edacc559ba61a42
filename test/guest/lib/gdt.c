/* The BSP's TSS (ring-0 stack for entries from ring 3, IST1 for #DF) and GDT slot updates. */
#include "guest.h"

struct tss64 {
  u32 reserved0;
  u64 rsp[3];
  u64 reserved1;
  u64 ist[7];
  u64 reserved2;
  u16 reserved3;
  u16 iomap_base;
} __attribute__((packed));

extern u64 gdt[GDT_ENTRIES];
static struct tss64 tss __attribute__((aligned(16)));
static u8 rsp0_stack[STACK_SIZE] __attribute__((aligned(16)));
u8 ist1_stack[STACK_SIZE] __attribute__((aligned(16)));

void gdt_set(int selector, u64 descriptor) { gdt[selector >> 3] = descriptor; }

void gdt_install_tss(void) {
  tss.rsp[0] = (u64)(rsp0_stack + STACK_SIZE);
  tss.ist[0] = (u64)(ist1_stack + STACK_SIZE);
  tss.iomap_base = sizeof tss; /* no I/O permission bitmap */
  u64 base = (u64)&tss, limit = sizeof tss - 1;
  /* 64-bit available TSS (type 9), present, DPL 0 */
  gdt[SEL_TSS >> 3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ul << 40) |
                      (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
  gdt[(SEL_TSS >> 3) + 1] = base >> 32;
  __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
  idt_set_ist(8, 1);
}
