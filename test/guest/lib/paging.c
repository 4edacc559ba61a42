/* Editing the live 4-level page tables built at boot (identity map of 0..4 GiB). */
#include "guest.h"

#define POOL_PAGES 64
static u8 table_pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static int table_used;
static u8 data_pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static int data_used;
static spinlock_t pool_lock;

u64 *pt_alloc(void) {
  spin_lock(&pool_lock);
  if (table_used >= POOL_PAGES) panic("page-table pool exhausted");
  u64 *t = (u64 *)table_pool[table_used++];
  spin_unlock(&pool_lock);
  memset(t, 0, 4096);
  return t;
}

void *page_alloc(void) {
  spin_lock(&pool_lock);
  if (data_used >= POOL_PAGES) panic("data page pool exhausted");
  void *p = data_pool[data_used++];
  spin_unlock(&pool_lock);
  memset(p, 0, 4096);
  return p;
}

/* Replace a large-page entry by a table of smaller entries mapping the same memory. */
static void split(u64 *entry, int level) {
  u64 *t = pt_alloc();
  u64 step = level == 3 ? (1ul << 21) : (1ul << 12);
  u64 base = *entry & PTE_ADDR & ~((level == 3 ? (1ul << 30) : (1ul << 21)) - 1);
  u64 flags = *entry & ~PTE_ADDR & ~PTE_PS;
  /* PAT bit sits at bit 12 in large entries; it is never set here */
  for (int i = 0; i < 512; i++) t[i] = (base + i * step) | flags | (level == 3 ? PTE_PS : 0);
  *entry = (u64)t | PTE_P | PTE_W | PTE_U;
}

u64 *pt_entry(u64 va, int level) {
  u64 *table = (u64 *)(read_cr3() & PTE_ADDR);
  for (int l = 4; l > level; l--) {
    u64 *e = &table[(va >> (12 + 9 * (l - 1))) & 511];
    if (!(*e & PTE_P)) *e = (u64)pt_alloc() | PTE_P | PTE_W | PTE_U;
    else if (*e & PTE_PS) split(e, l);
    table = (u64 *)(*e & PTE_ADDR);
  }
  return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

void map_page(u64 va, u64 pa, u64 flags) {
  *pt_entry(va, 1) = (pa & PTE_ADDR) | flags;
  invlpg(va);
}
