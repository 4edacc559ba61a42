/* virtio-blk driver (virtio 1.x PCI, polled): the server's local disk. */
#ifndef DIME_BLK_H
#define DIME_BLK_H
#include "kernel.h"

#define BLK_SECTOR 512u
#define BLK_MAX_BYTES (64u * 1024)   /* largest single transfer (the store's bounce buffer) */

struct blk_stats { uint64_t requests; uint32_t errors; };
extern struct blk_stats blk_stats;
extern uint64_t blk_sectors;          /* capacity; 0 = no disk */
extern bool blk_readonly;

bool blk_init(void);
/* Synchronous transfer of `count` sectors at `sector` to/from `buf` (kernel memory, identity
 * mapped: its address is its physical address). false on a device error or timeout. */
bool blk_read(uint64_t sector, void *buf, uint32_t count);
bool blk_write(uint64_t sector, const void *buf, uint32_t count);
bool blk_flush(void);
#endif
