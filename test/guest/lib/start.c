/* From the boot assembly to kmain: console, boot information, descriptor tables, ACPI. */
#include "guest.h"

extern u32 boot_magic, boot_mbi;
struct boot_info boot_info;

static void copy_boot_info(void) {
  boot_info.magic = boot_magic;
  if (boot_magic != MULTIBOOT_LOADER_MAGIC) return;
  const struct multiboot_info *mbi = (const struct multiboot_info *)(u64)boot_mbi;
  boot_info.flags = mbi->flags;
  if (mbi->flags & MBI_FLAG_MEM) {
    boot_info.mem_lower = mbi->mem_lower;
    boot_info.mem_upper = mbi->mem_upper;
  }
  if ((mbi->flags & MBI_FLAG_CMDLINE) && mbi->cmdline) {
    const char *s = (const char *)(u64)mbi->cmdline;
    size_t i = 0;
    for (; s[i] && i + 1 < BOOT_CMDLINE_MAX; i++) boot_info.cmdline[i] = s[i];
    boot_info.cmdline[i] = 0;
  }
  if (mbi->flags & MBI_FLAG_MMAP) {
    u64 p = mbi->mmap_addr, end = p + mbi->mmap_length;
    while (p + 4 <= end && boot_info.mmap_count < BOOT_MMAP_MAX) {
      const struct multiboot_mmap_entry *e = (const struct multiboot_mmap_entry *)p;
      if (e->size < 20) break;
      boot_info.mmap[boot_info.mmap_count].addr = e->addr;
      boot_info.mmap[boot_info.mmap_count].len = e->len;
      boot_info.mmap[boot_info.mmap_count].type = e->type;
      boot_info.mmap_count++;
      p += e->size + 4;
    }
  }
}

const char *boot_args(void) {
  const char *s = boot_info.cmdline;
  while (*s && *s != ' ') s++;
  while (*s == ' ') s++;
  return s;
}

/* the first word among boot_args() that is `key` itself (with_value 0) or `key=...` (1), its end
 * in *end; NULL when there is none */
static const char *find_arg(const char *key, int with_value, const char **end) {
  size_t n = strlen(key);
  for (const char *s = boot_args(); *s;) {
    while (*s == ' ') s++;
    const char *w = s;
    while (*s && *s != ' ') s++;
    size_t len = (size_t)(s - w);
    if ((with_value ? len > n && w[n] == '=' : len == n) && strncmp(w, key, n) == 0) {
      *end = s;
      return w;
    }
  }
  return NULL;
}

int boot_has_arg(const char *opt) {
  const char *end;
  return find_arg(opt, 0, &end) != NULL;
}

int boot_arg_value(const char *key, char *out, size_t cap) {
  const char *end, *w = find_arg(key, 1, &end);
  if (!w) return 0;
  const char *v = w + strlen(key) + 1;
  size_t n = 0;
  while (v + n < end && n + 1 < cap) {
    out[n] = v[n];
    n++;
  }
  out[n] = 0;
  return 1;
}

void guest_start(void) {
  serial_init();
  copy_boot_info();
  if (boot_info.magic != MULTIBOOT_LOADER_MAGIC)
    panic("not started by a Multiboot loader (eax=%x)", boot_info.magic);
  idt_init();
  idt_load();
  gdt_install_tss();
  pic_remap_and_mask();
  pit_init();
  int acpi = acpi_init();
  if (acpi != 0) printf("ACPI: MADT not usable (%d)\n", acpi);
  if (madt.nioapics) ioapic_mask_all(); /* firmware may leave entries live; tests unmask their own */
  exit((u32)kmain());
}
