/* Multiboot 1 information structure as the boot loader hands it over. */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include "types.h"

#define MULTIBOOT_LOADER_MAGIC 0x2badb002

#define MBI_FLAG_MEM (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MMAP (1u << 6)

struct multiboot_info {
  u32 flags;
  u32 mem_lower;
  u32 mem_upper;
  u32 boot_device;
  u32 cmdline;
  u32 mods_count;
  u32 mods_addr;
  u32 syms[4];
  u32 mmap_length;
  u32 mmap_addr;
} __attribute__((packed));

/* An mmap entry; `size` does not count itself, entries are `size + 4` bytes apart. */
struct multiboot_mmap_entry {
  u32 size;
  u64 addr;
  u64 len;
  u32 type;
} __attribute__((packed));

/* What the library copies out of the loader's structures before anything can overwrite them. */
#define BOOT_CMDLINE_MAX 256
#define BOOT_MMAP_MAX 32
struct boot_info {
  u32 magic;
  u32 flags;
  u32 mem_lower;
  u32 mem_upper;
  char cmdline[BOOT_CMDLINE_MAX];
  u32 mmap_count;
  struct {
    u64 addr;
    u64 len;
    u32 type;
  } mmap[BOOT_MMAP_MAX];
};

extern struct boot_info boot_info;

/* The command line without its first word (the loader puts the kernel's own name there). */
const char *boot_args(void);
/* 1 when the word `opt` appears among boot_args() */
int boot_has_arg(const char *opt);
/* copies the value of the first `key=value` word among boot_args() into out (NUL-terminated,
 * cut to cap - 1 bytes); returns 1 when present, else 0 */
int boot_arg_value(const char *key, char *out, size_t cap);

#endif
