/* hello: the console works and the Multiboot information arrives intact. */
#include "guest.h"

static const char *mmap_type(u32 t) {
  switch (t) {
    case 1: return "available";
    case 2: return "reserved";
    case 3: return "ACPI reclaimable";
    case 4: return "ACPI NVS";
    case 5: return "bad";
  }
  return "other";
}

int kmain(void) {
  printf("hello from parallax guest\n");
  printf("cmdline args: '%s'\n", boot_args());
  if (boot_info.flags & MBI_FLAG_MEM)
    printf("mem_lower=%u KiB mem_upper=%u KiB\n", boot_info.mem_lower, boot_info.mem_upper);
  else
    printf("no memory information\n");
  if (boot_info.flags & MBI_FLAG_MMAP) {
    printf("mmap: %u entries\n", boot_info.mmap_count);
    for (u32 i = 0; i < boot_info.mmap_count; i++)
      printf("  %016lx-%016lx %s\n", boot_info.mmap[i].addr,
             boot_info.mmap[i].addr + boot_info.mmap[i].len - 1, mmap_type(boot_info.mmap[i].type));
  } else {
    printf("no memory map\n");
  }
  printf("printf: %d %i %u %x %X %lx %ld %c %s %5d|%-5d|%05d %p %%\n", -42, 7, 4000000000u,
         0xbeef, 0xbeef, 0x123456789abcdeful, -1234567890123l, 'Z', "str", 12, 34, -56,
         (void *)0x1000);
  printf("bye\n");
  return 0;
}
