/* The table of named storage rights shared by local grants (store.c) and central exports
 * (cstore.c): rights.h says what it holds. */
#include "rights.h"
#include "protocol.h"

void rights_reset(struct rights_table *t) { memset(t, 0, sizeof *t); }

uint16_t rights_count(const struct rights_table *t) {
  uint16_t n = 0;
  for (int i = 0; i < RIGHTS_MAX; i++) n += t->e[i].rights != 0;
  return n;
}

uint16_t rights_set(struct rights_table *t, const uint8_t *key_field, uint8_t rights, bool key_required,
                    struct rights_entry **entry) {
  char key[RIGHTS_KEY_LEN];
  memcpy(key, key_field, RIGHTS_KEY_LEN);
  key[RIGHTS_KEY_LEN - 1] = 0;
  *entry = NULL;
  if (rights & ~(PX_STORE_RIGHT_READ | PX_STORE_RIGHT_WRITE)) return PX_STATUS_OUT_OF_RANGE;
  if (key_required && !key[0]) return PX_STATUS_MALFORMED;
  struct rights_entry *slot = NULL, *free_slot = NULL;
  for (int i = 0; i < RIGHTS_MAX; i++) {
    if (t->e[i].rights && strcmp(t->e[i].key, key) == 0) slot = &t->e[i];
    else if (!t->e[i].rights && !free_slot) free_slot = &t->e[i];
  }
  if (!rights) {
    if (!slot) return PX_STATUS_NOT_FOUND;
    slot->rights = 0;
    return PX_STATUS_OK;
  }
  if (!slot) slot = free_slot;
  if (!slot) return PX_STATUS_NO_MEMORY;
  strlcpy(slot->key, key, RIGHTS_KEY_LEN);
  slot->rights = rights;
  *entry = slot;
  return PX_STATUS_OK;
}
