/* Memory: a shared kernel partition at the bottom of RAM, everything above it cut into
 * 2 MiB chunks that DIMEs own one at a time; per-core page tables give a core's ring-3
 * program a window (USER_BASE..) onto its own chunks only. */
#include "kernel.h"
#include "mem.h"

extern char __kernel_end[];
extern uint64_t boot_pdpt[];

#define MAX_CHUNKS 1536     /* 3 GiB of low RAM */
static uint16_t chunk_owner[MAX_CHUNKS];   /* CHUNK_ABSENT, CHUNK_FREE or 2 + DIME index */
static spinlock_t chunk_lock;
uint32_t chunk_total, chunk_free_count;
uint64_t kernel_part_end;

static uint64_t pt_pml4[MAX_CPUS][512] __attribute__((aligned(4096)));
static uint64_t pt_updpt[MAX_CPUS][512] __attribute__((aligned(4096)));
static uint64_t pt_upd[MAX_CPUS][512] __attribute__((aligned(4096)));
static uint64_t pt_upt[MAX_CPUS][512] __attribute__((aligned(4096)));   /* 4 KiB pages of the first chunk */
bool nx_enabled;

#define CHUNK_ABSENT 0
#define CHUNK_FREE 1

static void mark_range(uint64_t base, uint64_t len) {
  uint64_t first = ALIGN_UP(base, CHUNK_SIZE), end = (base + len) & ~(uint64_t)(CHUNK_SIZE - 1);
  if (first < kernel_part_end) first = kernel_part_end;
  for (uint64_t a = first; a + CHUNK_SIZE <= end; a += CHUNK_SIZE) {
    uint64_t i = a / CHUNK_SIZE;
    if (i >= MAX_CHUNKS) break;
    if (chunk_owner[i] == CHUNK_ABSENT) { chunk_owner[i] = CHUNK_FREE; chunk_total++; }
  }
}

void mem_init_from_multiboot(uint32_t flags, uint32_t mem_upper_kib, uint32_t mmap_addr, uint32_t mmap_len) {
  uint64_t kend = ALIGN_UP((uint64_t)__kernel_end, CHUNK_SIZE);
  kernel_part_end = kend > KERNEL_PARTITION_MIN ? kend : KERNEL_PARTITION_MIN;
  if (flags & (1 << 6)) {
    for (uint64_t p = mmap_addr; p < (uint64_t)mmap_addr + mmap_len;) {
      uint32_t size = *(const uint32_t *)p;
      uint64_t base = *(const uint64_t *)(p + 4), len = *(const uint64_t *)(p + 12);
      uint32_t type = *(const uint32_t *)(p + 20);
      if (type == 1) mark_range(base, len);
      p += size + 4;
    }
  } else if (flags & 1) {
    mark_range(0x100000, (uint64_t)mem_upper_kib * 1024);
  }
  chunk_free_count = chunk_total;
  kprintf("memory: kernel partition %lu MiB, %u chunks of 2 MiB for DIMEs\n", kernel_part_end >> 20, chunk_total);
}

uint64_t chunk_alloc(uint32_t dime) {
  uint64_t f = spin_lock_irqsave(&chunk_lock);
  uint64_t phys = 0;
  for (uint32_t i = 0; i < MAX_CHUNKS; i++) {
    if (chunk_owner[i] == CHUNK_FREE) {
      chunk_owner[i] = (uint16_t)(2 + dime);
      chunk_free_count--;
      phys = (uint64_t)i * CHUNK_SIZE;
      break;
    }
  }
  spin_unlock_irqrestore(&chunk_lock, f);
  if (phys) memset((void *)phys, 0, CHUNK_SIZE);   /* never hand over another DIME's data */
  return phys;
}

void chunk_free(uint32_t dime, uint64_t phys) {
  uint64_t i = phys / CHUNK_SIZE;
  uint64_t f = spin_lock_irqsave(&chunk_lock);
  if (i < MAX_CHUNKS && chunk_owner[i] == 2 + dime) { chunk_owner[i] = CHUNK_FREE; chunk_free_count++; }
  spin_unlock_irqrestore(&chunk_lock, f);
}

/* A chunk changes owner without being copied (a service migrating within the server). */
bool chunk_give(uint32_t from, uint32_t to, uint64_t phys) {
  uint64_t i = phys / CHUNK_SIZE;
  uint64_t f = spin_lock_irqsave(&chunk_lock);
  bool ok = i < MAX_CHUNKS && chunk_owner[i] == 2 + from;
  if (ok) chunk_owner[i] = (uint16_t)(2 + to);
  spin_unlock_irqrestore(&chunk_lock, f);
  return ok;
}

uint32_t chunks_owned_by(uint32_t dime) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < MAX_CHUNKS; i++) n += chunk_owner[i] == 2 + dime;
  return n;
}

#define MSR_EFER 0xC0000080
#define EFER_NXE (1ULL << 11)
#define PTE_NX (1ULL << 63)

void mem_cpu_init(struct cpu *c) {
  uint32_t i = c->index;
  /* no-execute for service data and stack, when the CPU has it (CPUID 0x80000001 EDX bit 20) */
  uint32_t r[4];
  cpuid(0x80000000, 0, r);
  bool has_nx = false;
  if (r[0] >= 0x80000001) { cpuid(0x80000001, 0, r); has_nx = (r[3] >> 20) & 1; }
  if (has_nx) wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
  if (i == 0) { nx_enabled = has_nx; if (!has_nx) kprintf("memory: WARNING the CPU has no NX: service data and stacks stay executable\n"); }
  c->user_pt = pt_upt[i];
  c->pml4 = pt_pml4[i];
  c->user_pdpt = pt_updpt[i];
  c->user_pd = pt_upd[i];
  memset(c->pml4, 0, 4096);
  memset(c->user_pdpt, 0, 4096);
  memset(c->user_pd, 0, 4096);
  c->pml4[0] = (uint64_t)boot_pdpt | 0x3;            /* kernel identity map, supervisor only */
  c->pml4[USER_BASE >> 39] = (uint64_t)c->user_pdpt | 0x7;
  c->user_pdpt[0] = (uint64_t)c->user_pd | 0x7;
  write_cr3((uint64_t)c->pml4);
}

/* Map chunk `phys` at user slot `slot` (USER_BASE + slot * 2 MiB) of the calling core. The
 * first `text_len` bytes of the window are code (executable, read-only); everything else is
 * data (writable, NX): the first chunk in 4 KiB pages so code and data can share it. */
void user_map_chunk(struct cpu *c, uint32_t slot, uint64_t phys, uint64_t text_len) {
  uint64_t nx = nx_enabled ? PTE_NX : 0;
  uint64_t start = (uint64_t)slot * CHUNK_SIZE;
  if (slot == 0) {
    for (uint32_t p = 0; p < 512; p++) {
      bool code = (uint64_t)p * 4096 < text_len;
      c->user_pt[p] = (phys + (uint64_t)p * 4096) | (code ? 0x5 : (0x7 | nx));   /* present, user, [writable] */
    }
    c->user_pd[0] = (uint64_t)c->user_pt | 0x7;
  } else {
    c->user_pd[slot] = phys | (start < text_len ? 0x85 : (0x87 | nx));             /* 2 MiB */
  }
  write_cr3((uint64_t)c->pml4);
}

void user_unmap_all(struct cpu *c) {
  memset(c->user_pd, 0, 4096);
  write_cr3((uint64_t)c->pml4);
}
