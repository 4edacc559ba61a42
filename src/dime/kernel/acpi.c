/* ACPI: find the RSDP, then the MADT (cores, IOAPICs, interrupt overrides) and HPET. */
#include "kernel.h"

struct acpi_info acpi;

struct sdt_header {
  char sig[4];
  uint32_t length;
  uint8_t revision, checksum;
  char oem[6], oem_table[8];
  uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

static bool sum_ok(const void *p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; i++) s = (uint8_t)(s + ((const uint8_t *)p)[i]);
  return s == 0;
}

static const uint8_t *find_rsdp_in(uint64_t from, uint64_t to) {
  for (uint64_t a = from; a + 20 <= to; a += 16) {
    const uint8_t *p = (const uint8_t *)a;
    if (memcmp(p, "RSD PTR ", 8) == 0 && sum_ok(p, 20)) return p;
  }
  return NULL;
}

static void parse_madt(const struct sdt_header *h) {
  const uint8_t *p = (const uint8_t *)h;
  acpi.lapic_base = *(const uint32_t *)(p + 36);
  acpi.has_8259 = (*(const uint32_t *)(p + 40)) & 1;
  const uint8_t *e = p + 44, *end = p + h->length;
  while (e + 2 <= end && e[1] >= 2 && e + e[1] <= end) {
    switch (e[0]) {
      case 0: {   /* processor local APIC */
        uint32_t flags = *(const uint32_t *)(e + 4);
        if (flags & 1) {
          if (acpi.ncpu < MAX_CPUS) {
            acpi.cpu[acpi.ncpu].acpi_id = e[2];
            acpi.cpu[acpi.ncpu].apic_id = e[3];
            acpi.ncpu++;
          } else {
            acpi.ncpu_ignored++;
          }
        }
        break;
      }
      case 1:     /* IOAPIC */
        if (acpi.nioapic < ARRAY_LEN(acpi.ioapic)) {
          struct ioapic_info *io = &acpi.ioapic[acpi.nioapic++];
          io->id = e[2];
          io->base = *(const uint32_t *)(e + 4);
          io->gsi_base = *(const uint32_t *)(e + 8);
        }
        break;
      case 2:     /* interrupt source override */
        if (acpi.niso < ARRAY_LEN(acpi.iso)) {
          struct irq_override *o = &acpi.iso[acpi.niso++];
          o->irq = e[3];
          o->gsi = *(const uint32_t *)(e + 4);
          o->flags = *(const uint16_t *)(e + 8);
        }
        break;
      case 5:     /* 64-bit local APIC address override */
        acpi.lapic_base = *(const uint64_t *)(e + 4);
        break;
      default: break;
    }
    e += e[1];
  }
}

void acpi_init(void) {
  const uint8_t *rsdp = NULL;
  uint64_t ebda = (uint64_t)(*(const uint16_t *)0x40E) << 4;
  if (ebda >= 0x80000 && ebda < 0xA0000) rsdp = find_rsdp_in(ebda, ebda + 1024);
  if (!rsdp) rsdp = find_rsdp_in(0xE0000, 0x100000);
  if (!rsdp) panic("ACPI: no RSDP");

  bool xsdt = rsdp[15] >= 2 && *(const uint64_t *)(rsdp + 24) != 0;
  const struct sdt_header *root = xsdt ? (const struct sdt_header *)*(const uint64_t *)(rsdp + 24)
                                       : (const struct sdt_header *)(uint64_t)*(const uint32_t *)(rsdp + 16);
  if (!sum_ok(root, root->length)) panic("ACPI: bad root table checksum");
  size_t esz = xsdt ? 8 : 4;
  size_t n = (root->length - sizeof *root) / esz;
  const uint8_t *ents = (const uint8_t *)(root + 1);
  for (size_t i = 0; i < n; i++) {
    uint64_t a = xsdt ? *(const uint64_t *)(ents + i * 8) : *(const uint32_t *)(ents + i * 4);
    const struct sdt_header *h = (const struct sdt_header *)a;
    if (!a || !sum_ok(h, h->length)) continue;
    if (memcmp(h->sig, "APIC", 4) == 0) parse_madt(h);
    else if (memcmp(h->sig, "HPET", 4) == 0) acpi.hpet_base = *(const uint64_t *)((const uint8_t *)h + 44);
  }
  if (!acpi.ncpu) panic("ACPI: no MADT processors");
}

/* ISA IRQ -> GSI with MPS flags (polarity bits 0-1, trigger bits 2-3); identity otherwise */
uint32_t acpi_irq_to_gsi(uint8_t irq, uint16_t *flags) {
  for (uint32_t i = 0; i < acpi.niso; i++) {
    if (acpi.iso[i].irq == irq) {
      if (flags) *flags = acpi.iso[i].flags;
      return acpi.iso[i].gsi;
    }
  }
  if (flags) *flags = 0;
  return irq;
}
