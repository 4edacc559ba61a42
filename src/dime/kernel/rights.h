/* A DIME's table of named storage rights (PX_STORE_RIGHT_READ/WRITE), set by the orchestrator:
 * the local store's grants (key: a file-name prefix, STORE_GRANT) and central storage's exports
 * (key: an export name, plus the server holding it, CSTORE_GRANT). One entry per key; rights 0
 * withdraws it. Touched only by the DIME's own core, so it needs no lock. */
#pragma once
#include "kernel.h"

#define RIGHTS_MAX 8
#define RIGHTS_KEY_LEN 32           /* with its NUL: the grant requests' prefix and name fields */

struct rights_entry {
  uint8_t rights;                   /* 0 = free */
  uint8_t peer[6];                  /* exports: the server's MAC (unused by local grants) */
  char key[RIGHTS_KEY_LEN];
};
struct rights_table { struct rights_entry e[RIGHTS_MAX]; };

void rights_reset(struct rights_table *t);
uint16_t rights_count(const struct rights_table *t);
/* Set (rights != 0) or withdraw (0) the entry for the RIGHTS_KEY_LEN-byte key field of a grant
 * request. Returns PX_STATUS_OK with the entry set in *entry (NULL when withdrawn), or the
 * refusal: unknown right bits, an empty key when key_required, withdrawing an unknown key,
 * a full table. */
uint16_t rights_set(struct rights_table *t, const uint8_t *key_field, uint8_t rights, bool key_required,
                    struct rights_entry **entry);
