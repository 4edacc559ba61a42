/* The name service as a fleet of DIMEs (fos's naming fleet, paper 004; docs/NAMES.md).
 *
 * Members: the DIMEs of a view (NAME_FLEET from the orchestrator), one per server. Member 0 is
 * the primary: it orders every binding with a sequence number and pushes the bindings to each
 * other member, one NAME_APPEND in flight per member (resent until NAME_ACK answers, with the
 * member's highest applied sequence number). A member that applied `acked` gets the binding with
 * the smallest sequence number above it, so normal replication and catching up (state transfer
 * to a new or restarted member) are the same loop. A register is answered once every member the
 * primary counts alive holds it; a member silent for MEMBER_TIMEOUT counts as dead (probed
 * once a second, alive again when it answers).
 *
 * Any member answers NAME_RESOLVE from its replica once it has caught up with the primary's
 * head. A DIME outside the fleet answers from its kernel cache (TTL, no invalidation messages)
 * or asks a member with NAME_QUERY, the next member when one stays silent. */
#include "dime.h"
#include "e1000.h"

#define RTO_NS 40000000ULL              /* first resend of an unanswered NAME_APPEND */
#define RTO_MAX_SHIFT 2                 /* then 80, 160, 160 ... ms */
#define MEMBER_TIMEOUT_NS 1000000000ULL /* a member silent this long counts as dead */
#define PROBE_LIVE_NS 300000000ULL      /* an idle live member is probed (it may have restarted) */
#define PROBE_DEAD_NS 1000000000ULL     /* a dead member is probed this often */
#define DEAD_WAIT_NS 200000000ULL       /* how long a probe of a dead member waits for its answer */
#define QUERY_RTO_NS 100000000ULL       /* a cache miss asks the next member after this */
#define QUERY_GIVE_UP_NS 1500000000ULL
#define CACHE_SLOTS 16
#define QUERY_SLOTS 4
#define NOT_MEMBER 0xFFFF

struct binding { bool used; char name[PX_NAME_BYTES]; uint8_t mac[6]; uint16_t core; uint32_t seq; };

struct fmember {
  uint8_t mac[6];
  uint16_t core;
  bool alive, inflight;
  uint8_t tries;
  uint32_t acked;
  uint64_t sent_ns, first_ns, idle_ns;
};

struct cached { bool used; char name[PX_NAME_BYTES]; uint8_t mac[6]; uint16_t core; uint32_t seq; uint64_t expires_ns; };

struct query {
  bool used;
  uint32_t id;
  char name[PX_NAME_BYTES];
  uint8_t req_mac[6];
  uint16_t req_core;
  uint32_t req_id;
  uint16_t asked;   /* member index asked last */
  uint64_t sent_ns, first_ns;
};

struct names_dime {
  uint32_t view;
  uint16_t count, self;
  struct fmember m[PX_NAME_MAX_MEMBERS];
  struct binding t[PX_NAME_MAX_NAMES];
  uint32_t applied, head;
  /* the register the primary is replicating, and who waits for its answer */
  bool reg_active;
  uint32_t reg_seq;
  uint8_t reg_mac[6];
  uint16_t reg_core;
  uint32_t reg_id;
  uint32_t deaths, refused, hits, misses, next_query;
  struct cached cache[CACHE_SLOTS];
  struct query q[QUERY_SLOTS];
};

static struct names_dime nds[MAX_CPUS];
static inline struct names_dime *ND(struct dime *d) { return &nds[d->index]; }

/* a name is 1..32 bytes, zero padded */
static bool name_ok(const uint8_t *p) { return p[0] != 0; }

static struct binding *find(struct names_dime *n, const uint8_t *name) {
  for (int i = 0; i < PX_NAME_MAX_NAMES; i++)
    if (n->t[i].used && memcmp(n->t[i].name, name, PX_NAME_BYTES) == 0) return &n->t[i];
  return NULL;
}

static struct binding *put(struct names_dime *n, const uint8_t *name, const uint8_t *mac, uint16_t core, uint32_t seq) {
  struct binding *b = find(n, name);
  for (int i = 0; !b && i < PX_NAME_MAX_NAMES; i++) if (!n->t[i].used) b = &n->t[i];
  if (!b) return NULL;
  b->used = true;
  memcpy(b->name, name, PX_NAME_BYTES);
  memcpy(b->mac, mac, 6);
  b->core = core;
  b->seq = seq;
  return b;
}

/* the binding with the smallest sequence number above `after` */
static struct binding *next_after(struct names_dime *n, uint32_t after) {
  struct binding *best = NULL;
  for (int i = 0; i < PX_NAME_MAX_NAMES; i++)
    if (n->t[i].used && n->t[i].seq > after && (!best || n->t[i].seq < best->seq)) best = &n->t[i];
  return best;
}

static int member_of(struct names_dime *n, const uint8_t *mac, uint16_t core) {
  for (int i = 0; i < n->count; i++) if (n->m[i].core == core && memcmp(n->m[i].mac, mac, 6) == 0) return i;
  return -1;
}

static void refuse(struct dime *d, const struct pxmsg *m, const char *why) {
  ND(d)->refused++;
  if (m->src_core == PX_CORE_NONE) agent_unauthorized(d, m, why);
}

/* ---------------- the primary ---------------- */

static void send_append(struct dime *d, struct fmember *f, uint64_t now) {
  struct names_dime *n = ND(d);
  uint8_t p[PX_NAME_APPEND_REQ_LEN], buf[PX_MAX_FRAME_LEN];
  memset(p, 0, sizeof p);
  struct binding *b = f->alive ? next_after(n, f->acked) : NULL;   /* a dead member gets probes only */
  put_be32(p + PX_NAME_APPEND_REQ_VIEW_OFF, n->view);
  put_be32(p + PX_NAME_APPEND_REQ_HEAD_OFF, n->head);
  put_be32(p + PX_NAME_APPEND_REQ_BASE_OFF, f->acked);
  if (b) {
    put_be32(p + PX_NAME_APPEND_REQ_SEQ_OFF, b->seq);
    memcpy(p + PX_NAME_APPEND_REQ_NAME_OFF, b->name, PX_NAME_BYTES);
    memcpy(p + PX_NAME_APPEND_REQ_SERVER_OFF, b->mac, 6);
    put_be16(p + PX_NAME_APPEND_REQ_CORE_OFF, b->core);
  }
  if (!f->inflight) { f->first_ns = now; f->tries = 0; }
  f->inflight = true;
  f->sent_ns = now;
  uint32_t fl = px_build(d, buf, f->mac, true, true, PX_DATA_NAME_APPEND, 0, f->core, 0, 0, p, sizeof p);
  px_send(d, buf, fl);
}

static void reg_check(struct dime *d) {
  struct names_dime *n = ND(d);
  if (!n->reg_active) return;
  uint16_t live = 1, acked = 1;
  for (int i = 1; i < n->count; i++) {
    if (!n->m[i].alive) continue;
    live++;
    if (n->m[i].acked >= n->reg_seq) acked++;
  }
  if (acked < live) return;
  uint8_t p[PX_NAME_REGISTER_RESP_LEN];
  put_be32(p + PX_NAME_REGISTER_RESP_SEQ_OFF, n->reg_seq);
  put_be16(p + PX_NAME_REGISTER_RESP_ACKED_OFF, acked);
  put_be16(p + PX_NAME_REGISTER_RESP_LIVE_OFF, live);
  n->reg_active = false;
  px_reply_to(d, n->reg_mac, n->reg_core, n->reg_id, PX_SIG_NAME_REGISTER, PX_STATUS_OK, p, sizeof p);
}

/* one member: resend, give up, or send what it lacks (or a probe when idle) */
static void pump(struct dime *d, struct fmember *f, uint64_t now) {
  struct names_dime *n = ND(d);
  if (f->inflight) {
    if (!f->alive) {
      if (now - f->sent_ns >= DEAD_WAIT_NS) { f->inflight = false; f->idle_ns = now; }
      return;
    }
    uint8_t shift = f->tries < RTO_MAX_SHIFT ? f->tries : RTO_MAX_SHIFT;
    if (now - f->sent_ns < (RTO_NS << shift)) return;
    if (now - f->first_ns >= MEMBER_TIMEOUT_NS) {
      f->alive = false;
      f->inflight = false;
      f->idle_ns = now;
      n->deaths++;
      reg_check(d);
      return;
    }
    f->tries++;
    send_append(d, f, now);
    return;
  }
  if (f->alive) {
    if (next_after(n, f->acked) || now - f->idle_ns >= PROBE_LIVE_NS) send_append(d, f, now);
  } else if (now - f->idle_ns >= PROBE_DEAD_NS) {
    send_append(d, f, now);
  }
}

static void name_register(struct dime *d, const struct pxmsg *m) {
  struct names_dime *n = ND(d);
  if (m->plen < PX_NAME_REGISTER_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
  const uint8_t *p = m->payload;
  const uint8_t *name = p + PX_NAME_REGISTER_REQ_NAME_OFF, *mac = p + PX_NAME_REGISTER_REQ_SERVER_OFF;
  uint16_t core = be16(p + PX_NAME_REGISTER_REQ_CORE_OFF);
  if (!name_ok(name)) { px_reply(d, m, PX_STATUS_OUT_OF_RANGE, NULL, 0); return; }
  if (n->self != 0 || !n->count) { px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0); return; }   /* not the primary */
  struct binding *b = find(n, name);
  bool same = b && b->core == core && memcmp(b->mac, mac, 6) == 0;
  if (n->reg_active) {
    if (same && b->seq == n->reg_seq) {   /* a repeat of the one in progress: answer this attempt */
      memcpy(n->reg_mac, m->src_mac, 6);
      n->reg_core = m->src_core;
      n->reg_id = m->req_id;
    } else {
      px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0);   /* one register at a time */
    }
    return;
  }
  if (!same) {
    if (!put(n, name, mac, core, n->applied + 1)) { px_reply(d, m, PX_STATUS_NO_MEMORY, NULL, 0); return; }
    n->applied++;
    n->head = n->applied;
    b = find(n, name);
  }
  n->reg_active = true;
  n->reg_seq = b->seq;
  memcpy(n->reg_mac, m->src_mac, 6);
  n->reg_core = m->src_core;
  n->reg_id = m->req_id;
  uint64_t now = now_ns();
  for (int i = 1; i < n->count; i++) pump(d, &n->m[i], now);
  reg_check(d);
}

static void name_ack(struct dime *d, const struct pxmsg *m) {
  struct names_dime *n = ND(d);
  if (m->plen < PX_NAME_ACK_REQ_LEN) return;
  int i = member_of(n, m->src_mac, m->src_core);
  if (n->self != 0 || i <= 0 || be32(m->payload + PX_NAME_ACK_REQ_VIEW_OFF) != n->view) { refuse(d, m, "name ack not for this primary"); return; }
  struct fmember *f = &n->m[i];
  f->acked = be32(m->payload + PX_NAME_ACK_REQ_APPLIED_OFF);
  f->inflight = false;
  f->alive = true;   /* a member given up on answers again: it catches up from what it has */
  uint64_t now = now_ns();
  f->idle_ns = now;
  reg_check(d);
  if (next_after(n, f->acked)) send_append(d, f, now);
}

/* ---------------- a member ---------------- */

static void name_append(struct dime *d, const struct pxmsg *m) {
  struct names_dime *n = ND(d);
  if (m->plen < PX_NAME_APPEND_REQ_LEN) return;
  const uint8_t *p = m->payload;
  if (n->self == NOT_MEMBER || n->self == 0 || be32(p + PX_NAME_APPEND_REQ_VIEW_OFF) != n->view ||
      member_of(n, m->src_mac, m->src_core) != 0) { refuse(d, m, "name append not from this view's primary"); return; }
  n->head = be32(p + PX_NAME_APPEND_REQ_HEAD_OFF);
  uint32_t seq = be32(p + PX_NAME_APPEND_REQ_SEQ_OFF), base = be32(p + PX_NAME_APPEND_REQ_BASE_OFF);
  /* in order only: what lies between base and seq was overwritten later, so is not needed */
  if (seq > n->applied && base <= n->applied && name_ok(p + PX_NAME_APPEND_REQ_NAME_OFF) &&
      put(n, p + PX_NAME_APPEND_REQ_NAME_OFF, p + PX_NAME_APPEND_REQ_SERVER_OFF, be16(p + PX_NAME_APPEND_REQ_CORE_OFF), seq))
    n->applied = seq;
  uint8_t a[PX_NAME_ACK_REQ_LEN], buf[PX_MAX_FRAME_LEN];
  put_be32(a + PX_NAME_ACK_REQ_VIEW_OFF, n->view);
  put_be32(a + PX_NAME_ACK_REQ_APPLIED_OFF, n->applied);
  uint32_t fl = px_build(d, buf, m->src_mac, true, true, PX_DATA_NAME_ACK, 0, m->src_core, 0, 0, a, sizeof a);
  px_send(d, buf, fl);
}

static bool caught_up(struct names_dime *n) { return n->self == 0 || n->applied >= n->head; }

static void name_query(struct dime *d, const struct pxmsg *m) {
  struct names_dime *n = ND(d);
  if (m->plen < PX_NAME_QUERY_REQ_LEN) return;
  if (n->self == NOT_MEMBER) { refuse(d, m, "name query to a non-member"); return; }
  struct binding *b = find(n, m->payload + PX_NAME_QUERY_REQ_NAME_OFF);
  uint8_t a[PX_NAME_ANSWER_REQ_LEN], buf[PX_MAX_FRAME_LEN];
  memset(a, 0, sizeof a);
  put_be32(a + PX_NAME_ANSWER_REQ_QUERY_OFF, be32(m->payload + PX_NAME_QUERY_REQ_QUERY_OFF));
  a[PX_NAME_ANSWER_REQ_FOUND_OFF] = !caught_up(n) ? 2 : b ? 1 : 0;
  if (b && caught_up(n)) {
    put_be16(a + PX_NAME_ANSWER_REQ_CORE_OFF, b->core);
    memcpy(a + PX_NAME_ANSWER_REQ_SERVER_OFF, b->mac, 6);
    put_be32(a + PX_NAME_ANSWER_REQ_SEQ_OFF, b->seq);
  }
  uint32_t fl = px_build(d, buf, m->src_mac, true, true, PX_DATA_NAME_ANSWER, 0, m->src_core, 0, 0, a, sizeof a);
  px_send(d, buf, fl);
}

/* ---------------- resolving, and the kernel cache of a DIME outside the fleet ---------------- */

static void resolve_reply(struct dime *d, const uint8_t *mac, uint16_t core, uint32_t req_id, const uint8_t *bmac,
                          uint16_t bcore, uint32_t seq, uint8_t source) {
  uint8_t a[PX_NAME_RESOLVE_RESP_LEN];
  memset(a, 0, sizeof a);
  memcpy(a + PX_NAME_RESOLVE_RESP_SERVER_OFF, bmac, 6);
  put_be16(a + PX_NAME_RESOLVE_RESP_CORE_OFF, bcore);
  put_be32(a + PX_NAME_RESOLVE_RESP_SEQ_OFF, seq);
  a[PX_NAME_RESOLVE_RESP_SOURCE_OFF] = source;
  px_reply_to(d, mac, core, req_id, PX_SIG_NAME_RESOLVE, PX_STATUS_OK, a, sizeof a);
}

static void fail_query(struct dime *d, struct query *q, uint16_t status) {
  px_reply_to(d, q->req_mac, q->req_core, q->req_id, PX_SIG_NAME_RESOLVE, status, NULL, 0);
  q->used = false;
}

static void ask(struct dime *d, struct query *q, uint64_t now) {
  struct names_dime *n = ND(d);
  struct fmember *f = &n->m[q->asked % n->count];
  uint8_t p[PX_NAME_QUERY_REQ_LEN], buf[PX_MAX_FRAME_LEN];
  put_be32(p + PX_NAME_QUERY_REQ_QUERY_OFF, q->id);
  memcpy(p + PX_NAME_QUERY_REQ_NAME_OFF, q->name, PX_NAME_BYTES);
  q->sent_ns = now;
  uint32_t fl = px_build(d, buf, f->mac, true, true, PX_DATA_NAME_QUERY, 0, f->core, 0, 0, p, sizeof p);
  px_send(d, buf, fl);
}

static void name_resolve(struct dime *d, const struct pxmsg *m) {
  struct names_dime *n = ND(d);
  if (m->plen < PX_NAME_RESOLVE_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
  const uint8_t *name = m->payload + PX_NAME_RESOLVE_REQ_NAME_OFF;
  if (!name_ok(name)) { px_reply(d, m, PX_STATUS_OUT_OF_RANGE, NULL, 0); return; }
  if (!n->count) { px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0); return; }   /* no fleet known here */
  if (n->self != NOT_MEMBER) {
    if (!caught_up(n)) { px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0); return; }
    struct binding *b = find(n, name);
    if (!b) { px_reply(d, m, PX_STATUS_NOT_FOUND, NULL, 0); return; }
    resolve_reply(d, m->src_mac, m->src_core, m->req_id, b->mac, b->core, b->seq, PX_NAME_SOURCE_REPLICA);
    return;
  }
  uint64_t now = now_ns();
  for (int i = 0; i < CACHE_SLOTS; i++) {
    struct cached *c = &n->cache[i];
    if (!c->used || memcmp(c->name, name, PX_NAME_BYTES) != 0) continue;
    if (now >= c->expires_ns) { c->used = false; break; }   /* TTL over: ask again */
    n->hits++;
    resolve_reply(d, m->src_mac, m->src_core, m->req_id, c->mac, c->core, c->seq, PX_NAME_SOURCE_CACHE);
    return;
  }
  struct query *q = NULL;
  for (int i = 0; i < QUERY_SLOTS && !q; i++) if (!n->q[i].used) q = &n->q[i];
  if (!q) { px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0); return; }   /* too many lookups at once */
  n->misses++;
  q->used = true;
  q->id = ++n->next_query;
  memcpy(q->name, name, PX_NAME_BYTES);
  memcpy(q->req_mac, m->src_mac, 6);
  q->req_core = m->src_core;
  q->req_id = m->req_id;
  q->asked = (uint16_t)(d->index % n->count);   /* spread the DIMEs over the members */
  q->first_ns = now;
  ask(d, q, now);
}

static void name_answer(struct dime *d, const struct pxmsg *m) {
  struct names_dime *n = ND(d);
  if (m->plen < PX_NAME_ANSWER_REQ_LEN || !n->count) return;
  const uint8_t *p = m->payload;
  uint32_t id = be32(p + PX_NAME_ANSWER_REQ_QUERY_OFF);
  struct query *q = NULL;
  for (int i = 0; i < QUERY_SLOTS && !q; i++) if (n->q[i].used && n->q[i].id == id) q = &n->q[i];
  if (!q) return;   /* late or repeated */
  if (member_of(n, m->src_mac, m->src_core) < 0) { refuse(d, m, "name answer not from a member"); return; }
  uint8_t found = p[PX_NAME_ANSWER_REQ_FOUND_OFF];
  if (found == 2) { q->asked++; ask(d, q, now_ns()); return; }   /* that member is catching up */
  if (found == 0) { fail_query(d, q, PX_STATUS_NOT_FOUND); return; }
  const uint8_t *bmac = p + PX_NAME_ANSWER_REQ_SERVER_OFF;
  uint16_t bcore = be16(p + PX_NAME_ANSWER_REQ_CORE_OFF);
  uint32_t seq = be32(p + PX_NAME_ANSWER_REQ_SEQ_OFF);
  struct cached *c = &n->cache[0];
  for (int i = 0; i < CACHE_SLOTS; i++) {   /* a free slot, else the one expiring first */
    if (!n->cache[i].used) { c = &n->cache[i]; break; }
    if (n->cache[i].expires_ns < c->expires_ns) c = &n->cache[i];
  }
  *c = (struct cached){true, {0}, {0}, bcore, seq, now_ns() + (uint64_t)PX_NAME_CACHE_TTL_MS * 1000000ULL};
  memcpy(c->name, q->name, PX_NAME_BYTES);
  memcpy(c->mac, bmac, 6);
  resolve_reply(d, q->req_mac, q->req_core, q->req_id, bmac, bcore, seq, PX_NAME_SOURCE_FLEET);
  q->used = false;
}

/* ---------------- configuration and reading ---------------- */

static void name_fleet(struct dime *d, const struct pxmsg *m) {
  struct names_dime *n = ND(d);
  if (m->plen < PX_NAME_FLEET_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
  const uint8_t *p = m->payload;
  uint32_t view = be32(p + PX_NAME_FLEET_REQ_VIEW_OFF);
  uint16_t count = be16(p + PX_NAME_FLEET_REQ_COUNT_OFF);
  if (count > PX_NAME_MAX_MEMBERS || (uint32_t)PX_NAME_FLEET_REQ_LEN + count * 8u > m->plen) { px_reply(d, m, PX_STATUS_OUT_OF_RANGE, NULL, 0); return; }
  if (view < n->view) { px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0); return; }   /* an older view than the one we have */
  bool changed = view != n->view;
  n->view = view;
  n->count = count;
  n->self = NOT_MEMBER;
  uint64_t now = now_ns();
  for (uint16_t i = 0; i < count; i++) {
    const uint8_t *r = p + PX_NAME_FLEET_REQ_MEMBERS_OFF + i * 8;
    struct fmember *f = &n->m[i];
    bool kept = !changed && memcmp(f->mac, r, 6) == 0 && f->core == be16(r + 6);
    if (!kept) *f = (struct fmember){{0}, be16(r + 6), true, false, 0, 0, 0, 0, now - PROBE_LIVE_NS};
    memcpy(f->mac, r, 6);
    if (f->core == d->index && memcmp(r, nic_mac, 6) == 0) n->self = i;
  }
  if (n->self == 0) n->head = n->applied;   /* the orchestrator makes the most up-to-date member primary */
  else if (changed && n->self != NOT_MEMBER) n->head = 0xFFFFFFFFu;   /* unknown until the primary speaks: not caught up */
  if (n->reg_active && n->self != 0) n->reg_active = false;   /* no longer primary: its client retries elsewhere */
  if (changed) for (int i = 0; i < CACHE_SLOTS; i++) n->cache[i].used = false;
  uint8_t a[PX_NAME_FLEET_RESP_LEN];
  put_be32(a + PX_NAME_FLEET_RESP_APPLIED_OFF, n->applied);
  px_reply(d, m, PX_STATUS_OK, a, sizeof a);
}

static void name_status(struct dime *d, const struct pxmsg *m) {
  struct names_dime *n = ND(d);
  if (m->plen < PX_NAME_STATUS_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
  uint16_t first = be16(m->payload + PX_NAME_STATUS_REQ_FIRST_OFF);
  uint8_t a[PX_MAX_PAYLOAD];
  memset(a, 0, PX_NAME_STATUS_RESP_LEN);
  uint16_t live = 0, names = 0;
  for (int i = 0; i < n->count; i++) if (n->self == 0 && (i == 0 || n->m[i].alive)) live++;
  for (int i = 0; i < PX_NAME_MAX_NAMES; i++) if (n->t[i].used) names++;
  put_be32(a + PX_NAME_STATUS_RESP_VIEW_OFF, n->view);
  put_be16(a + PX_NAME_STATUS_RESP_SELF_OFF, n->self);
  put_be16(a + PX_NAME_STATUS_RESP_COUNT_OFF, n->count);
  put_be32(a + PX_NAME_STATUS_RESP_APPLIED_OFF, n->applied);
  put_be32(a + PX_NAME_STATUS_RESP_HEAD_OFF, n->head);
  put_be16(a + PX_NAME_STATUS_RESP_NAMES_OFF, names);
  put_be16(a + PX_NAME_STATUS_RESP_LIVE_OFF, live);
  put_be32(a + PX_NAME_STATUS_RESP_DEATHS_OFF, n->deaths);
  put_be32(a + PX_NAME_STATUS_RESP_REFUSED_OFF, n->refused);
  put_be32(a + PX_NAME_STATUS_RESP_CACHE_HITS_OFF, n->hits);
  put_be32(a + PX_NAME_STATUS_RESP_CACHE_MISSES_OFF, n->misses);
  uint32_t len = PX_NAME_STATUS_RESP_LEN;
  /* bindings are never removed, so the used slots come first and an index is stable */
  for (uint16_t i = first; i < PX_NAME_MAX_NAMES && n->t[i].used && len + PX_NAME_STATUS_RESP_REC_LEN <= PX_MAX_PAYLOAD; i++) {
    uint8_t *r = a + len;
    memcpy(r + PX_NAME_STATUS_RESP_REC_NAME_OFF, n->t[i].name, PX_NAME_BYTES);
    memcpy(r + PX_NAME_STATUS_RESP_REC_SERVER_OFF, n->t[i].mac, 6);
    put_be16(r + PX_NAME_STATUS_RESP_REC_CORE_OFF, n->t[i].core);
    put_be32(r + PX_NAME_STATUS_RESP_REC_SEQ_OFF, n->t[i].seq);
    len += PX_NAME_STATUS_RESP_REC_LEN;
  }
  px_reply(d, m, PX_STATUS_OK, a, len);
}

/* ---------------- hooks into the agent ---------------- */

static const struct frame_route name_routes[] = {
  /* fleet traffic comes from DIMEs (network key between servers), never in an orchestrator's name */
  {true, PX_DATA_NAME_APPEND, ROUTE_FROM_DIME, name_append, "name fleet frame not from a DIME"},
  {true, PX_DATA_NAME_ACK, ROUTE_FROM_DIME, name_ack, "name fleet frame not from a DIME"},
  {true, PX_DATA_NAME_QUERY, ROUTE_FROM_DIME, name_query, "name fleet frame not from a DIME"},
  {true, PX_DATA_NAME_ANSWER, ROUTE_FROM_DIME, name_answer, "name fleet frame not from a DIME"},
  {false, PX_SIG_NAME_FLEET, ROUTE_FROM_ORCHESTRATOR, name_fleet, "DIMEs may not configure the name fleet"},
  {false, PX_SIG_NAME_REGISTER, ROUTE_FROM_ORCHESTRATOR, name_register, "DIMEs may not configure the name fleet"},
  {false, PX_SIG_NAME_RESOLVE, ROUTE_FROM_ANY, name_resolve, NULL},
  {false, PX_SIG_NAME_STATUS, ROUTE_FROM_ANY, name_status, NULL},
};

/* An authenticated frame for this DIME: true when it is the name service's (handled here). */
bool names_handle(struct dime *d, const struct pxmsg *m, bool system_scope) {
  return agent_route(d, m, system_scope, name_routes, ARRAY_LEN(name_routes), &ND(d)->refused);
}

/* Local timer: the primary keeps every member fed; a cache miss asks the next member. */
void names_tick(struct dime *d, uint64_t now) {
  struct names_dime *n = ND(d);
  if (!n->count) return;
  if (n->self == 0) for (int i = 1; i < n->count; i++) pump(d, &n->m[i], now);
  for (int i = 0; i < QUERY_SLOTS; i++) {
    struct query *q = &n->q[i];
    if (!q->used || now - q->sent_ns < QUERY_RTO_NS) continue;
    if (now - q->first_ns >= QUERY_GIVE_UP_NS) { fail_query(d, q, PX_STATUS_BAD_STATE); continue; }
    q->asked++;
    ask(d, q, now);
  }
}
