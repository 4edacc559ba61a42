/* 8259 pair (remapped, then masked), local APIC and IOAPIC programming. */
#include "kernel.h"

uint64_t lapic_base;

#define LAPIC_ID     0x020
#define LAPIC_TPR    0x080
#define LAPIC_EOI    0x0B0
#define LAPIC_SVR    0x0F0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERR   0x370
#define LAPIC_TICR   0x380
#define LAPIC_TCCR   0x390
#define LAPIC_TDCR   0x3E0

static inline uint32_t lapic_read(uint32_t r) { return mmio_read32(lapic_base + r); }
static inline void lapic_write(uint32_t r, uint32_t v) { mmio_write32(lapic_base + r, v); }

void pic_disable(void) {
  /* ICW1..ICW4: remap to VEC_PIC_BASE so stray legacy interrupts never look like exceptions */
  outb(0x20, 0x11); outb(0xA0, 0x11);
  outb(0x21, VEC_PIC_BASE); outb(0xA1, VEC_PIC_BASE + 8);
  outb(0x21, 0x04); outb(0xA1, 0x02);
  outb(0x21, 0x01); outb(0xA1, 0x01);
  outb(0x21, 0xFF); outb(0xA1, 0xFF);
}

void lapic_init_cpu(void) {
  uint64_t base = rdmsr(0x1B);
  if (!(base & (1 << 11))) wrmsr(0x1B, base | (1 << 11));
  if (!lapic_base) lapic_base = acpi.lapic_base ? acpi.lapic_base : (base & ~0xFFFULL);
  lapic_write(LAPIC_TPR, 0);
  lapic_write(LAPIC_LVT_TIMER, 1 << 16);
  lapic_write(LAPIC_LVT_ERR, 1 << 16);
  lapic_write(LAPIC_LVT_LINT0, 1 << 16);
  lapic_write(LAPIC_LVT_LINT1, 1 << 16);
  lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
  lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }
void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

/* interrupts off: a nested sender between the two ICR writes would redirect ours */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low) {
  uint64_t f = read_flags();
  irq_disable();
  for (int i = 0; i < 1000000 && (lapic_read(LAPIC_ICR_LO) & (1 << 12)); i++) cpu_relax();
  lapic_write(LAPIC_ICR_HI, apic_id << 24);
  lapic_write(LAPIC_ICR_LO, icr_low);
  if (f & 0x200) irq_enable();
}

/* one-shot count-down helpers used by calibration */
void lapic_timer_oneshot_raw(uint32_t count) {
  lapic_write(LAPIC_TDCR, 0x3);            /* divide by 16 */
  lapic_write(LAPIC_LVT_TIMER, 1 << 16);   /* masked */
  lapic_write(LAPIC_TICR, count);
}
uint32_t lapic_timer_current(void) { return lapic_read(LAPIC_TCCR); }

void lapic_timer_start(uint32_t hz) {
  uint64_t count = lapic_timer_hz / hz;
  if (count == 0) count = 1;
  if (count > 0xFFFFFFFFULL) count = 0xFFFFFFFFULL;
  lapic_write(LAPIC_TDCR, 0x3);
  lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | (1 << 17));   /* periodic */
  lapic_write(LAPIC_TICR, (uint32_t)count);
}

static uint32_t ioapic_read(uint64_t base, uint32_t reg) {
  mmio_write32(base, reg);
  return mmio_read32(base + 0x10);
}
static void ioapic_write(uint64_t base, uint32_t reg, uint32_t v) {
  mmio_write32(base, reg);
  mmio_write32(base + 0x10, v);
}

/* Route an ISA IRQ (or a PCI line number) to `vector` on one core, honouring MADT overrides.
 * PCI lines without an override default to level-triggered, active-low. */
void ioapic_route(uint8_t irq, uint8_t vector, uint32_t dest_apic, bool pci_default) {
  uint16_t flags;
  uint32_t gsi = acpi_irq_to_gsi(irq, &flags);
  for (uint32_t i = 0; i < acpi.nioapic; i++) {
    struct ioapic_info *io = &acpi.ioapic[i];
    uint32_t nred = ((ioapic_read(io->base, 1) >> 16) & 0xFF) + 1;
    if (gsi < io->gsi_base || gsi >= io->gsi_base + nred) continue;
    uint32_t pin = gsi - io->gsi_base;
    bool active_low, level;
    uint16_t pol = flags & 3, trig = (flags >> 2) & 3;
    if (pol == 0) active_low = pci_default; else active_low = (pol == 3);
    if (trig == 0) level = pci_default; else level = (trig == 3);
    uint32_t lo = vector | (active_low ? 1u << 13 : 0) | (level ? 1u << 15 : 0);
    ioapic_write(io->base, 0x10 + 2 * pin + 1, dest_apic << 24);
    ioapic_write(io->base, 0x10 + 2 * pin, lo);
    return;
  }
}
