/* The frozen state of a service that migrates to another server (docs/MIGRATION.md, "Across
 * servers"): one byte string the orchestrator reads from the source DIME (MIGRATE_READ) and
 * writes into the target (MIGRATE_IN, MIGRATE_CHUNK), both ends running this kernel:
 *
 *   header (struct mig_header: registers, image facts, parameters, routes, pending input,
 *           numbered-line state) | page map (1 bit per 4 KiB page of the service's chunks) |
 *   the non-zero pages, in order
 *
 * Pages that are all zero are not sent (a fresh chunk is zero). Both ends keep the header, map
 * and the list of page numbers in a chunk of their own (`stage`). The target checks everything
 * in the header that indexes kernel memory before using it: the bytes come over the wire. */
#include "dime.h"

#define MIG_MAGIC 0x4749524dU   /* "MRIG" */
#define MIG_VERSION 1
#define PAGE 4096u
#define PAGES_PER_CHUNK (CHUNK_SIZE / PAGE)

struct mig_header {
  uint32_t magic, version, header_len, nchunks;
  uint32_t img_size, img_crc, text_len, mem_limit;
  uint32_t npages, inq_len;
  uint64_t svc_in, svc_out;
  struct irq_frame ctx;
  char svc[16];
  struct param params[MAX_PARAMS];
  struct route out, in;
  uint8_t hb_muted, pad[7];
  uint8_t inq[INQ_SIZE];
  struct line_state lines;
};

static struct mig_header *H(struct dime *d) { return (struct mig_header *)d->mig.stage; }
static uint8_t *pagemap(struct dime *d) { return (uint8_t *)d->mig.stage + sizeof(struct mig_header); }
static uint32_t *pagelist(struct dime *d) { return (uint32_t *)(d->mig.stage + ALIGN_UP(d->mig.meta_len, 8)); }
static uint8_t *page_addr(struct dime *d, uint32_t page) { return (uint8_t *)d->chunk[page / PAGES_PER_CHUNK] + (uint64_t)(page % PAGES_PER_CHUNK) * PAGE; }

static bool page_zero(const uint8_t *p) {
  const uint64_t *q = (const uint64_t *)p;
  for (uint32_t i = 0; i < PAGE / 8; i++) if (q[i]) return false;
  return true;
}

/* The page list from the page map; false when the map does not say `npages`. */
static bool build_list(struct dime *d, uint32_t nchunks, uint32_t npages) {
  uint8_t *map = pagemap(d);
  uint32_t *list = pagelist(d), n = 0;
  for (uint32_t pg = 0; pg < nchunks * PAGES_PER_CHUNK; pg++) {
    if (!(map[pg / 8] & (1u << (pg % 8)))) continue;
    if (n == npages) return false;
    list[n++] = pg;
  }
  return n == npages;
}

/* bytes [off, off + n) of the state (stage for the header and map, then the pages) */
static void state_copy(struct dime *d, uint32_t off, uint8_t *dst, const uint8_t *src, uint32_t n) {
  while (n) {
    uint8_t *at;
    uint32_t take;
    if (off < d->mig.meta_len) {
      at = (uint8_t *)d->mig.stage + off;
      take = d->mig.meta_len - off;
    } else {
      uint32_t k = (off - d->mig.meta_len) / PAGE, in = (off - d->mig.meta_len) % PAGE;
      at = page_addr(d, pagelist(d)[k]) + in;
      take = PAGE - in;
    }
    if (take > n) take = n;
    if (dst) memcpy(dst, at, take); else memcpy(at, src, take);
    if (dst) dst += take; else src += take;
    off += take;
    n -= take;
  }
}

static uint32_t state_crc(struct dime *d) {
  uint8_t buf[512];
  uint32_t crc = 0;
  for (uint32_t off = 0; off < d->mig.state_len;) {
    uint32_t n = d->mig.state_len - off < sizeof buf ? d->mig.state_len - off : (uint32_t)sizeof buf;
    state_copy(d, off, buf, NULL, n);
    crc = crc32_update(crc, buf, n);
    off += n;
  }
  return crc;
}

/* ---------------- source ---------------- */

/* Freeze-time: the service's state into the stage. Returns its length, 0 when no chunk is free. */
uint32_t mig_pack(struct dime *d, const struct irq_frame *ctx) {
  uint64_t stage = chunk_alloc(d->index);
  if (!stage) return 0;
  d->mig.stage = stage;
  struct mig_header *h = H(d);
  h->magic = MIG_MAGIC;
  h->version = MIG_VERSION;
  h->header_len = sizeof *h;
  h->nchunks = d->nchunks;
  h->img_size = d->img_size;
  h->img_crc = d->img_crc;
  h->text_len = d->text_len;
  h->mem_limit = d->mem_limit;
  h->svc_in = d->svc_in;
  h->svc_out = d->svc_out;
  h->ctx = *ctx;
  memcpy(h->svc, d->svc, sizeof h->svc);
  memcpy(h->params, d->params, sizeof h->params);
  h->out = d->out;
  h->in = d->in;
  h->hb_muted = d->hb_muted;
  h->inq_len = d->inq_head - d->inq_tail;
  for (uint32_t i = 0; i < h->inq_len; i++) h->inq[i] = d->inq[(d->inq_tail + i) % INQ_SIZE];
  memcpy(&h->lines, &d->lines, sizeof h->lines);
  d->mig.meta_len = sizeof *h + d->nchunks * PAGES_PER_CHUNK / 8;
  uint8_t *map = pagemap(d);
  memset(map, 0, d->nchunks * PAGES_PER_CHUNK / 8);
  uint32_t n = 0;
  for (uint32_t pg = 0; pg < d->nchunks * PAGES_PER_CHUNK; pg++)
    if (!page_zero(page_addr(d, pg))) { map[pg / 8] |= (uint8_t)(1u << (pg % 8)); n++; }
  h->npages = n;
  build_list(d, d->nchunks, n);
  d->mig.pages = n;
  d->mig.state_len = d->mig.meta_len + n * PAGE;
  return d->mig.state_len;
}

/* MIGRATE_READ: up to n bytes at off; returns how many. */
uint32_t mig_read(struct dime *d, uint32_t off, uint8_t *dst, uint32_t n) {
  if (!d->mig.frozen || !d->mig.stage || off >= d->mig.state_len) return 0;
  if (n > d->mig.state_len - off) n = d->mig.state_len - off;
  state_copy(d, off, dst, NULL, n);
  return n;
}

/* ---------------- target ---------------- */

uint16_t mig_import_begin(struct dime *d, uint32_t len, uint32_t crc) {
  if (d->state != PX_STATE_IDLE || d->exec_pending || d->mig.incoming) return PX_STATUS_BAD_STATE;
  svc_discard(d);
  migrate_forget(d);
  if (len < sizeof(struct mig_header)) return PX_STATUS_MALFORMED;
  d->mig.stage = chunk_alloc(d->index);
  if (!d->mig.stage) return PX_STATUS_NO_MEMORY;
  d->mig.state_len = len;
  d->mig.crc = crc;
  d->mig.received = 0;
  d->mig.meta_len = 0;   /* known once the header is in */
  d->mig.importing = true;
  d->state = PX_STATE_LOADING;
  strlcpy(d->svc, "(migrating)", sizeof d->svc);
  return PX_STATUS_OK;
}

/* Everything in the header that indexes kernel memory, checked. */
static bool header_sane(const struct mig_header *h, uint32_t len) {
  const struct line_state *s = &h->lines;
  if (h->magic != MIG_MAGIC || h->version != MIG_VERSION || h->header_len != sizeof *h) return false;
  if (!h->nchunks || h->nchunks > MAX_USER_CHUNKS || h->mem_limit > MAX_USER_CHUNKS) return false;
  if (h->img_size > (uint64_t)h->nchunks * CHUNK_SIZE || h->text_len > h->img_size || h->inq_len > INQ_SIZE) return false;
  if (h->npages > h->nchunks * PAGES_PER_CHUNK) return false;
  if ((uint64_t)sizeof *h + h->nchunks * PAGES_PER_CHUNK / 8 + (uint64_t)h->npages * PAGE != len) return false;
  if (h->out.kind > PX_ROUTE_ORCHESTRATOR || h->in.kind > PX_ROUTE_ANY) return false;
  if (s->pend_head - s->pend_tail > LINE_PENDING || s->held_head - s->held_tail > LINE_HELD) return false;
  if (s->bytes_head - s->bytes_tail > LINE_HOLD_BYTES || s->partial_len > sizeof s->partial) return false;
  for (uint32_t i = s->held_tail; i != s->held_head; i++)
    if (s->held[i % LINE_HELD].len > sizeof s->partial) return false;
  return true;
}

static void install(struct dime *d) {
  struct mig_header *h = H(d);
  for (int i = 0; i < MAX_PARAMS; i++) { h->params[i].key[15] = 0; h->params[i].value[63] = 0; }
  h->svc[15] = 0;
  memcpy(d->svc, h->svc, sizeof d->svc);
  d->img_size = d->img_received = h->img_size;
  d->img_crc = h->img_crc;
  d->text_len = h->text_len;
  d->mem_limit = (uint16_t)(h->mem_limit > d->mem_limit ? h->mem_limit : d->mem_limit);
  memcpy(d->params, h->params, sizeof d->params);
  uint64_t f = spin_lock_irqsave(&d->inq_lock);
  d->out = h->out;
  d->in = h->in;
  memcpy(d->inq, h->inq, h->inq_len);
  d->inq_tail = 0;
  d->inq_head = h->inq_len;
  spin_unlock_irqrestore(&d->inq_lock, f);
  lines_take_over(d, &h->lines, true);
  d->svc_in = h->svc_in;
  d->svc_out = h->svc_out;
  d->hb_muted = h->hb_muted != 0;
  d->mig.ctx = h->ctx;
  d->mig.resume_ctx = true;
  d->mig.importing = false;
  chunk_free(d->index, d->mig.stage);
  d->mig.stage = 0;
  d->exec_rec = -1;
  d->kill_pending = false;
  uint64_t now;
  cpu_busy_since(d->cpu, 0, 0, &now, &d->svc_start_halted);
  d->svc_start_ns = now;
  kprintf("DIME %u: '%s' migrated in (%u chunks, %u pages)\n", d->index, d->svc, d->nchunks, h->npages);
  d->state = PX_STATE_SUSPENDED;   /* RESUME lets its core enter it */
  __atomic_store_n(&d->exec_pending, true, __ATOMIC_RELEASE);
}

static uint16_t import_fail(struct dime *d, uint16_t st) {
  kprintf("DIME %u: migrating service refused (status %u), discarded\n", d->index, st);
  svc_discard(d);
  d->owned = false;
  return st;
}

/* MIGRATE_CHUNK: bytes at off, in order (a repeat is acknowledged again, a gap refused). */
uint16_t mig_import_chunk(struct dime *d, uint32_t off, const uint8_t *p, uint32_t n, uint32_t *received) {
  *received = d->mig.received;
  if (d->state == PX_STATE_SUSPENDED && d->mig.resume_ctx && off + n <= d->mig.state_len) return PX_STATUS_OK;   /* late repeat */
  if (!d->mig.importing) return PX_STATUS_BAD_STATE;
  if (off + n > d->mig.state_len || off + n < off) return PX_STATUS_OUT_OF_RANGE;
  if (off + n <= d->mig.received) return PX_STATUS_OK;
  if (off > d->mig.received) return PX_STATUS_OUT_OF_RANGE;
  uint32_t skip = d->mig.received - off;
  p += skip;
  n -= skip;
  while (n) {
    uint32_t at = d->mig.received, take = n;
    if (!d->mig.meta_len) {   /* the header */
      if (take > sizeof(struct mig_header) - at) take = sizeof(struct mig_header) - at;
      memcpy((uint8_t *)d->mig.stage + at, p, take);
      if (at + take == sizeof(struct mig_header)) {
        struct mig_header *h = H(d);
        if (!header_sane(h, d->mig.state_len)) return import_fail(d, PX_STATUS_MALFORMED);
        if (h->nchunks > chunk_free_count) return import_fail(d, PX_STATUS_NO_MEMORY);
        for (uint32_t i = 0; i < h->nchunks; i++) {
          uint64_t c = chunk_alloc(d->index);
          if (!c) return import_fail(d, PX_STATUS_NO_MEMORY);
          d->chunk[d->nchunks++] = c;
        }
        d->mig.meta_len = sizeof *h + h->nchunks * PAGES_PER_CHUNK / 8;
        if (d->mig.meta_len == at + take && !build_list(d, h->nchunks, h->npages)) return import_fail(d, PX_STATUS_MALFORMED);
      }
    } else if (at < d->mig.meta_len) {   /* the page map */
      if (take > d->mig.meta_len - at) take = d->mig.meta_len - at;
      memcpy((uint8_t *)d->mig.stage + at, p, take);
      if (at + take == d->mig.meta_len && !build_list(d, H(d)->nchunks, H(d)->npages)) return import_fail(d, PX_STATUS_MALFORMED);
    } else {   /* pages */
      state_copy(d, at, NULL, p, take);
    }
    d->mig.received += take;
    p += take;
    n -= take;
  }
  *received = d->mig.received;
  if (d->mig.received == d->mig.state_len) {
    if (state_crc(d) != d->mig.crc) return import_fail(d, PX_STATUS_BAD_CHECKSUM);
    install(d);
  }
  return PX_STATUS_OK;
}
