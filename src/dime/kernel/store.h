/* The server's local file store (on the virtio-blk disk), shared by its DIMEs under
 * per-DIME grants. Format and rules: docs/STORAGE.md. */
#ifndef DIME_STORE_H
#define DIME_STORE_H
#include "dime.h"
#include "sdk_abi.h"

void store_init(void);                                 /* boot core, after the PCI devices */
void store_grants_reset(struct dime *d);               /* RESET / boot: no grants */
uint16_t store_grant(struct dime *d, const uint8_t *req, uint16_t *grants);   /* STORE_GRANT */
void store_query(struct dime *d, uint8_t *resp);       /* QUERY_STORAGE, PX_QUERY_STORAGE_RESP_LEN bytes */
uint32_t store_refused(struct dime *d);                /* for QUERY_SECURITY */
void store_service_ended(struct dime *d);              /* close (and flush) what the service left open */
/* shared with the central store (cstore.c): a refusal counted and alarmed (returns DIME_EACCES),
 * a service buffer inside its window, a file name from the service (STORE_NAME_LEN with its NUL) */
#define STORE_NAME_LEN 48
int64_t store_refuse(struct dime *d, const char *name, uint8_t want, const char *what);
/* the rights an open in DIME_O_* `mode` needs (the local store's and the central one's rule):
 * read to read, write for anything that may change the file */
static inline uint8_t store_open_rights(uint64_t mode) {
  return (mode & DIME_O_READ ? PX_STORE_RIGHT_READ : 0) |
         (mode & (DIME_O_WRITE | DIME_O_CREATE | DIME_O_TRUNC | DIME_O_APPEND) ? PX_STORE_RIGHT_WRITE : 0);
}
/* store_refuse of an access that needed `want`, named "write" or "read" */
static inline int64_t store_refuse_access(struct dime *d, const char *name, uint8_t want) {
  return store_refuse(d, name, want, want & PX_STORE_RIGHT_WRITE ? "write" : "read");
}
/* the file-call counters both stores keep per DIME, reported alike by QUERY_STORAGE and
 * QUERY_CSTORE (the same fields at the same offsets, asserted in store.c) */
struct file_counts { uint32_t opens, reads, writes; uint64_t bytes_read, bytes_written; };
static inline void file_counts_io(struct file_counts *c, bool write, uint64_t bytes) {
  if (write) { c->writes++; c->bytes_written += bytes; } else { c->reads++; c->bytes_read += bytes; }
}
void file_counts_put(uint8_t *resp, const struct file_counts *c);   /* into either query's answer */
bool store_user_ok(struct dime *d, uint64_t p, uint64_t n);
bool store_user_name(struct dime *d, uint64_t p, char *name);
int64_t store_syscall(struct dime *d, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2);
#endif
