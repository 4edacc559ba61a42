/* Central storage: the DIME side of the orchestrator's exports over raw Ethernet
 * (CSTORE_* frames, docs/STORAGE.md "Central storage"). A service opens an export as "@name"
 * with the ordinary file calls; handles CSTORE_HANDLE_BASE.. are central ones. */
#ifndef DIME_CSTORE_H
#define DIME_CSTORE_H
#include "dime.h"

#define CSTORE_HANDLE_BASE 16

void cstore_reset(struct dime *d);                                          /* RESET / boot: no exports */
uint16_t cstore_grant(struct dime *d, const uint8_t *req, uint16_t *exports); /* CSTORE_GRANT */
void cstore_query(struct dime *d, uint8_t *resp);                           /* QUERY_CSTORE */
bool cstore_response(struct dime *d, const struct pxmsg *m);                /* an export server's answer: taken */
bool cstore_claims(struct dime *d, uint64_t nr, uint64_t a0);               /* this file call is a central one */
int64_t cstore_syscall(struct dime *d, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2);
void cstore_service_ended(struct dime *d);                                  /* forget its handles and requests */
#endif
