/* Launch of a service on a set of DIMEs (docs/COLLECTIVES.md, "Launch"): the image travels
 * down the collective tree in several blocks, into each member's own image chunks through the
 * ordinary load path (svc_load_begin / svc_load_chunk: the loaded image is the one a LOAD_BEGIN
 * would have produced, checked against the same CRC-32), and is started everywhere or nowhere:
 *   OPEN    reserve the image (LOADING, owner = the launcher); its op id names the launch
 *   STAGE   one block at an image offset (in order: a member that missed one refuses later ones)
 *   VERIFY  vote yes when the whole image is here and passed its checksum (LOADED)
 *   START   run it (the EXECUTE path) and signal the event; DISCARD: drop the staged image.
 * A DIME in the middle of a launch is LOADING, which no EXECUTE can start: that is the staging
 * area. Each action is idempotent (a repeated phase changes nothing the first one did). */
#include "coll_launch.h"

/* the launch each DIME is taking part in (0: none) */
static uint64_t launch_of[MAX_CPUS];

bool coll_launch_open(struct dime *d, uint64_t op, uint64_t size_crc, const uint8_t *block, uint16_t len) {
  if (launch_of[d->index] == op) return true;   /* a repeat of our OPEN */
  if (len < 22) return false;
  const uint8_t *owner = block + 16;
  if (d->owned && memcmp(d->owner_mac, owner, 6) != 0) return false;   /* the owner lock, as for LOAD_BEGIN */
  char name[16];
  memcpy(name, block, 15);
  name[15] = 0;
  uint16_t chunks = 0;
  if (svc_load_begin(d, (uint32_t)(size_crc >> 32), (uint32_t)size_crc, name, &chunks) != PX_STATUS_OK) return false;
  d->owned = true;
  memcpy(d->owner_mac, owner, 6);
  launch_of[d->index] = op;
  return true;
}

bool coll_launch_stage(struct dime *d, uint64_t launch, uint64_t offset, const uint8_t *block, uint16_t len) {
  if (!launch || launch_of[d->index] != launch || offset > 0xFFFFFFFFULL) return false;
  uint32_t received = 0;
  return svc_load_chunk(d, (uint32_t)offset, block, len, &received) == PX_STATUS_OK;
}

bool coll_launch_verify(struct dime *d, uint64_t launch) {
  return launch && launch_of[d->index] == launch && d->state == PX_STATE_LOADED && !d->exec_pending;
}

/* START: the image becomes the running service (a repeat is recognised by collectives.c) */
bool coll_launch_start(struct dime *d, uint64_t launch, uint16_t event, uint32_t *events) {
  if (!launch || launch_of[d->index] != launch) return false;
  if (svc_execute(d) != PX_STATUS_OK) return false;
  d->exec_rec = -1;   /* no accounting record of its own: the launch was not one request */
  launch_of[d->index] = 0;
  __atomic_store_n(&events[event], events[event] + 1, __ATOMIC_RELEASE);
  return true;
}

/* DISCARD: the launch is abandoned; a member that staged it goes back to the pool */
bool coll_launch_discard(struct dime *d, uint64_t launch) {
  if (launch && launch_of[d->index] == launch) {
    if (d->state == PX_STATE_LOADING || d->state == PX_STATE_LOADED) { svc_discard(d); d->owned = false; }
    launch_of[d->index] = 0;
  }
  return true;
}
