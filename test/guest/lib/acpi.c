/* ACPI: find the RSDP in the BIOS area, walk the RSDT/XSDT, and parse the MADT. */
#include "guest.h"

struct madt_info madt;
u64 acpi_hpet_base;

struct sdt_header {
  char signature[4];
  u32 length;
  u8 revision;
  u8 checksum;
  char oem_id[6];
  char oem_table_id[8];
  u32 oem_revision;
  u32 creator_id;
  u32 creator_revision;
} __attribute__((packed));

struct rsdp {
  char signature[8];
  u8 checksum;
  char oem_id[6];
  u8 revision;
  u32 rsdt_address;
  u32 length; /* revision >= 2 from here on */
  u64 xsdt_address;
  u8 extended_checksum;
  u8 reserved[3];
} __attribute__((packed));

static u8 sum_bytes(const void *p, u32 n) {
  const u8 *b = p;
  u8 s = 0;
  for (u32 i = 0; i < n; i++) s = (u8)(s + b[i]);
  return s;
}

static const struct rsdp *find_rsdp(void) {
  for (u64 a = BIOS_SCAN_START; a < BIOS_SCAN_END; a += 16) {
    const struct rsdp *r = (const struct rsdp *)a;
    if (memcmp(r->signature, "RSD PTR ", 8) == 0 && sum_bytes(r, 20) == 0) return r;
  }
  return NULL;
}

static int table_ok(const struct sdt_header *h) {
  return h->length >= sizeof *h && h->length < (1u << 20) && sum_bytes(h, h->length) == 0;
}

static void parse_madt(const struct sdt_header *h) {
  const u8 *p = (const u8 *)h;
  madt.lapic_addr = *(const u32 *)(p + 36);
  madt.madt_flags = *(const u32 *)(p + 40);
  for (u32 off = 44; off + 2 <= h->length;) {
    u8 type = p[off], len = p[off + 1];
    if (len < 2 || off + len > h->length) break;
    const u8 *e = p + off;
    switch (type) {
      case 0: /* processor local APIC: uid, APIC ID, flags (bit 0 enabled) */
        if (*(const u32 *)(e + 4) & 1) {
          if (madt.ncpus < MAX_CPUS) madt.apic_ids[madt.ncpus] = e[3];
          madt.ncpus++;
        } else {
          madt.disabled_cpus++;
        }
        break;
      case 1: /* I/O APIC */
        if (madt.nioapics < MADT_MAX_IOAPICS) {
          madt.ioapic[madt.nioapics].id = e[2];
          madt.ioapic[madt.nioapics].addr = *(const u32 *)(e + 4);
          madt.ioapic[madt.nioapics].gsi_base = *(const u32 *)(e + 8);
        }
        madt.nioapics++;
        break;
      case 2: /* interrupt source override */
        if (madt.noverrides < MADT_MAX_OVERRIDES) {
          madt.override[madt.noverrides].bus = e[2];
          madt.override[madt.noverrides].source = e[3];
          madt.override[madt.noverrides].gsi = *(const u32 *)(e + 4);
          madt.override[madt.noverrides].flags = *(const u16 *)(e + 8);
        }
        madt.noverrides++;
        break;
      case 4: /* local APIC NMI */
        madt.nmi_entries++;
        break;
      case 5: /* 64-bit local APIC address override */
        madt.lapic_addr = *(const u64 *)(e + 4);
        break;
    }
    off += len;
  }
}

void cpu_set_table(const u32 *ids, int n);

int acpi_init(void) {
  memset(&madt, 0, sizeof madt);
  acpi_hpet_base = 0;
  const struct rsdp *r = find_rsdp();
  if (!r) return -1;
  madt.rsdp_revision = r->revision;
  const struct sdt_header *root;
  int entry_size;
  if (r->revision >= 2 && r->xsdt_address && sum_bytes(r, r->length) == 0) {
    root = (const struct sdt_header *)r->xsdt_address;
    entry_size = 8;
    madt.using_xsdt = 1;
  } else {
    root = (const struct sdt_header *)(u64)r->rsdt_address;
    entry_size = 4;
  }
  if (!table_ok(root)) return -2;
  const u8 *entries = (const u8 *)root + sizeof *root;
  int n = (int)((root->length - sizeof *root) / entry_size);
  const struct sdt_header *found = NULL;
  for (int i = 0; i < n; i++) {
    u64 a = entry_size == 8 ? *(const u64 *)(entries + 8 * i) : *(const u32 *)(entries + 4 * i);
    const struct sdt_header *h = (const struct sdt_header *)a;
    if (memcmp(h->signature, "APIC", 4) == 0 && table_ok(h)) found = h;
    /* HPET: event timer block ID at 36, then a Generic Address Structure whose address is at 44 */
    if (memcmp(h->signature, "HPET", 4) == 0 && table_ok(h) && h->length >= 56)
      acpi_hpet_base = *(const u64 *)((const u8 *)h + 44);
  }
  if (!found) return -3;
  parse_madt(found);
  if (madt.ncpus == 0) return -4;

  /* core index 0 is the BSP; APs follow in ascending APIC-ID order */
  u32 ids[MAX_CPUS];
  int count = madt.ncpus < MAX_CPUS ? madt.ncpus : MAX_CPUS;
  u32 bsp = lapic_id();
  int k = 0;
  ids[k++] = bsp;
  for (;;) {
    u32 best = 0xffffffff;
    for (int i = 0; i < count; i++) {
      u32 id = madt.apic_ids[i];
      int taken = 0;
      for (int j = 0; j < k; j++) taken |= ids[j] == id;
      if (!taken && id < best) best = id;
    }
    if (best == 0xffffffff || k >= MAX_CPUS) break;
    ids[k++] = best;
  }
  cpu_set_table(ids, k);
  return 0;
}

u32 madt_isa_irq_gsi(u32 irq) {
  for (int i = 0; i < madt.noverrides && i < MADT_MAX_OVERRIDES; i++)
    if (madt.override[i].bus == 0 && madt.override[i].source == irq) return madt.override[i].gsi;
  return irq;
}
