/* 2 MiB chunk allocator and per-core user mappings. */
#ifndef DIME_MEM_H
#define DIME_MEM_H
#include "kernel.h"

#define KERNEL_PARTITION_MIN (16ULL << 20)
extern uint32_t chunk_total, chunk_free_count;
extern uint64_t kernel_part_end;

void mem_init_from_multiboot(uint32_t flags, uint32_t mem_upper_kib, uint32_t mmap_addr, uint32_t mmap_len);
uint64_t chunk_alloc(uint32_t dime);          /* zeroed chunk's physical address, 0 when none */
void chunk_free(uint32_t dime, uint64_t phys);
bool chunk_give(uint32_t from, uint32_t to, uint64_t phys);
uint32_t chunks_owned_by(uint32_t dime);
void mem_cpu_init(struct cpu *c);
void user_map_chunk(struct cpu *c, uint32_t slot, uint64_t phys, uint64_t text_len);
extern bool nx_enabled;
void user_unmap_all(struct cpu *c);
#endif
