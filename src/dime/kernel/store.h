/* The server's local file store (on the virtio-blk disk), shared by its DIMEs under
 * per-DIME grants. Format and rules: docs/STORAGE.md. */
#ifndef DIME_STORE_H
#define DIME_STORE_H
#include "dime.h"

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
bool store_user_ok(struct dime *d, uint64_t p, uint64_t n);
bool store_user_name(struct dime *d, uint64_t p, char *name);
int64_t store_syscall(struct dime *d, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2);
#endif
