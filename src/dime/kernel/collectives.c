/* Collectives after STORM's three primitives (paper 002; docs/COLLECTIVES.md):
 * XFER-AND-SIGNAL (a block into the global memory of every member, all or none, and an event
 * signalled), TEST-EVENT, COMPARE-AND-WRITE (compare a global variable on every member; if
 * true everywhere assign one, sequentially consistent), and a barrier.
 *
 * The member list travels with every request; the members form a k-ary tree by list index
 * (children of i: i*k+1 .. i*k+k). Member 0 coordinates: one operation at a time, in phases
 * (XFER: PREPARE then COMMIT or ABORT; CAW: COMPARE then WRITE; barrier: GATHER). A phase is
 * a COLL_DOWN sweep down the tree and COLL_UP answers back up, each hop acknowledged by the
 * answer and resent until it comes (after 40, 80, 160, 160... ms). A child silent for the phase's
 * timeout (per level of the tree below it) counts as dead: its children are adopted by its
 * parent, so the phase still reaches everyone alive, and the coordinator learns a member is
 * missing. */
#include "dime.h"
#include "e1000.h"
#include "coll_launch.h"
#include "coll_syscall.h"
#include "sdk_abi.h"

#define NODE_SLOTS 3
#define APPLIED_RING 64
#define RESULT_RING 32             /* outcomes kept for repeats of finished operations */
#define RTO_NS 40000000ULL         /* first resend of an unanswered COLL_DOWN */
#define RTO_MAX_SHIFT 2            /* then 80, 160 ms, 160 ms ... */
#define DEFAULT_TIMEOUT_MS 1000
#define STALE_STAGED_NS 30000000000ULL   /* a prepared block nobody committed or aborted for 30 s may be dropped */
#define DATA_MAX (PX_MAX_PAYLOAD - PX_COLL_DOWN_REQ_LEN)
#define NO_MEMBER 0xFFFF

struct member { uint8_t mac[6]; uint16_t core; };

/* the fields of a COLL_DOWN (and of a COLL_START, which carries the same ones) */
struct coll_hdr {
  uint64_t op, compare, value;
  uint8_t phase, fanout, var, cmp, write_var;
  uint16_t count, self, event, offset, data_len, timeout_ms;
};

struct child { uint16_t idx; uint8_t tries; uint64_t sent_ns, first_ns, limit_ns; };

/* one phase of one operation as this DIME sees it: its own vote and its subtree's */
struct node {
  bool used, done, is_root, staged;
  uint64_t touch_ns;
  struct coll_hdr h;
  uint8_t parent_mac[6];
  uint16_t parent_core;
  struct member members[PX_COLL_MAX_MEMBERS];
  uint16_t nchild;
  struct child child[PX_COLL_MAX_MEMBERS];
  uint16_t answered, yes, missing;
  uint8_t data[DATA_MAX];
};

struct result { uint64_t op; uint8_t outcome; uint16_t answered, yes, missing; };

/* the operation member 0 is coordinating, and the requester waiting for its answer */
struct coord {
  bool active;
  uint8_t kind;
  uint8_t req_mac[6];
  uint16_t req_core;
  uint32_t req_id;
  uint16_t answered, yes, missing;   /* of the first phase, when the second one is an ABORT */
  uint16_t plen;
  uint8_t start[PX_MAX_PAYLOAD];  /* the COLL_START payload */
};

struct coll_dime {
  uint8_t mem[PX_COLL_MEM_BYTES];
  uint64_t vars[PX_COLL_VARS];
  uint32_t events[PX_COLL_EVENTS];
  uint32_t xfers, writes;
  uint64_t applied[APPLIED_RING];  /* ops whose block / assignment this DIME applied: never twice */
  uint32_t applied_head;
  struct node nodes[NODE_SLOTS];
  struct coord coord;
  struct result results[RESULT_RING];
  uint32_t results_head;
};

static struct coll_dime cds[MAX_CPUS];
static inline struct coll_dime *CD(struct dime *d) { return &cds[d->index]; }

static bool was_applied(struct coll_dime *c, uint64_t op) {
  for (int i = 0; i < APPLIED_RING; i++) if (c->applied[i] == op) return true;
  return false;
}
static void mark_applied(struct coll_dime *c, uint64_t op) { c->applied[c->applied_head++ % APPLIED_RING] = op; }

/* phases whose COLL_DOWN carries the block after the member list */
static bool carries_block(uint8_t phase) {
  return phase == PX_COLL_PHASE_PREPARE || phase == PX_COLL_PHASE_OPEN || phase == PX_COLL_PHASE_STAGE;
}

static void read_hdr(const uint8_t *p, struct coll_hdr *h) {
  h->op = be64(p + PX_COLL_DOWN_REQ_OP_OFF);
  h->phase = p[PX_COLL_DOWN_REQ_PHASE_OFF];
  h->fanout = p[PX_COLL_DOWN_REQ_FANOUT_OFF];
  h->count = be16(p + PX_COLL_DOWN_REQ_COUNT_OFF);
  h->self = be16(p + PX_COLL_DOWN_REQ_SELF_OFF);
  h->event = be16(p + PX_COLL_DOWN_REQ_EVENT_OFF);
  h->offset = be16(p + PX_COLL_DOWN_REQ_OFFSET_OFF);
  h->data_len = be16(p + PX_COLL_DOWN_REQ_DATA_LEN_OFF);
  h->var = p[PX_COLL_DOWN_REQ_VAR_OFF];
  h->cmp = p[PX_COLL_DOWN_REQ_CMP_OFF];
  h->write_var = p[PX_COLL_DOWN_REQ_WRITE_VAR_OFF];
  h->timeout_ms = be16(p + PX_COLL_DOWN_REQ_TIMEOUT_MS_OFF);
  h->compare = be64(p + PX_COLL_DOWN_REQ_COMPARE_OFF);
  h->value = be64(p + PX_COLL_DOWN_REQ_VALUE_OFF);
}

/* the tree's shape and the request's ranges: false = refuse the request */
static bool hdr_valid(const struct coll_hdr *h, uint32_t rest_len) {
  if (!h->op || h->count < 1 || h->count > PX_COLL_MAX_MEMBERS || h->fanout > 8) return false;
  if ((uint32_t)h->count * PX_COLL_MEMBER_BYTES + h->data_len > rest_len) return false;
  if ((uint32_t)h->offset + h->data_len > PX_COLL_MEM_BYTES || h->event >= PX_COLL_EVENTS) return false;
  if (h->var >= PX_COLL_VARS || h->write_var >= PX_COLL_VARS || h->cmp > PX_COLL_CMP_GE) return false;
  return true;
}

/* ---------------- sending ---------------- */

static void send_down(struct dime *d, struct node *n, uint16_t idx) {
  uint8_t p[PX_MAX_PAYLOAD], buf[PX_MAX_FRAME_LEN];
  memset(p, 0, PX_COLL_DOWN_REQ_LEN);
  const struct coll_hdr *h = &n->h;
  uint16_t dlen = carries_block(h->phase) ? h->data_len : 0;
  put_be64(p + PX_COLL_DOWN_REQ_OP_OFF, h->op);
  p[PX_COLL_DOWN_REQ_PHASE_OFF] = h->phase;
  p[PX_COLL_DOWN_REQ_FANOUT_OFF] = h->fanout;
  put_be16(p + PX_COLL_DOWN_REQ_COUNT_OFF, h->count);
  put_be16(p + PX_COLL_DOWN_REQ_SELF_OFF, idx);
  put_be16(p + PX_COLL_DOWN_REQ_EVENT_OFF, h->event);
  put_be16(p + PX_COLL_DOWN_REQ_OFFSET_OFF, h->offset);
  put_be16(p + PX_COLL_DOWN_REQ_DATA_LEN_OFF, dlen);
  p[PX_COLL_DOWN_REQ_VAR_OFF] = h->var;
  p[PX_COLL_DOWN_REQ_CMP_OFF] = h->cmp;
  p[PX_COLL_DOWN_REQ_WRITE_VAR_OFF] = h->write_var;
  put_be16(p + PX_COLL_DOWN_REQ_TIMEOUT_MS_OFF, h->timeout_ms);
  put_be64(p + PX_COLL_DOWN_REQ_COMPARE_OFF, h->compare);
  put_be64(p + PX_COLL_DOWN_REQ_VALUE_OFF, h->value);
  uint32_t len = PX_COLL_DOWN_REQ_LEN;
  for (uint16_t i = 0; i < h->count; i++, len += PX_COLL_MEMBER_BYTES) {
    memcpy(p + len, n->members[i].mac, 6);
    put_be16(p + len + 6, n->members[i].core);
  }
  memcpy(p + len, n->data, dlen);
  len += dlen;
  const struct member *to = &n->members[idx];
  uint32_t fl = px_build(d, buf, to->mac, true, true, PX_DATA_COLL_DOWN, 0, to->core, 0, 0, p, len);
  px_send(d, buf, fl);
}

static void send_up(struct dime *d, struct node *n) {
  uint8_t p[PX_COLL_UP_REQ_LEN], buf[PX_MAX_FRAME_LEN];
  memset(p, 0, sizeof p);
  put_be64(p + PX_COLL_UP_REQ_OP_OFF, n->h.op);
  p[PX_COLL_UP_REQ_PHASE_OFF] = n->h.phase;
  put_be16(p + PX_COLL_UP_REQ_SELF_OFF, n->h.self);
  put_be16(p + PX_COLL_UP_REQ_ANSWERED_OFF, n->answered);
  put_be16(p + PX_COLL_UP_REQ_YES_OFF, n->yes);
  put_be16(p + PX_COLL_UP_REQ_MISSING_OFF, n->missing);
  uint32_t fl = px_build(d, buf, n->parent_mac, true, true, PX_DATA_COLL_UP, 0, n->parent_core, 0, 0, p, sizeof p);
  px_send(d, buf, fl);
}

/* ---------------- the tree ---------------- */

static uint8_t fanout_of(const struct coll_hdr *h) { return h->fanout ? h->fanout : 2; }

/* levels of the tree below member c */
static uint32_t height_below(uint32_t c, uint32_t k, uint32_t count) {
  uint32_t h = 0;
  for (uint64_t first = (uint64_t)c * k + 1; first < count; first = first * k + 1) h++;
  return h;
}

/* How long a child may stay silent before it counts as dead: an inner child may itself be
 * waiting out a dead descendant (timeout per level below it, adoption included), so it gets
 * those levels and half a timeout more than they can take; a leaf gets one timeout. */
static uint64_t silence_limit(const struct coll_hdr *h, uint32_t c) {
  uint64_t t = (uint64_t)(h->timeout_ms ? h->timeout_ms : DEFAULT_TIMEOUT_MS) * 1000000ULL;
  uint32_t below = height_below(c, fanout_of(h), h->count);
  return t * (1 + below) + (below ? t / 2 : 0);
}

static void add_children_of(struct dime *d, struct node *n, uint16_t i, uint64_t now) {
  uint32_t k = fanout_of(&n->h);
  for (uint32_t j = 1; j <= k; j++) {
    uint32_t c = i * k + j;
    if (c >= n->h.count || n->nchild >= PX_COLL_MAX_MEMBERS) break;
    n->child[n->nchild++] = (struct child){(uint16_t)c, 0, now, now, silence_limit(&n->h, c)};
    send_down(d, n, (uint16_t)c);
  }
}

static struct node *node_find(struct coll_dime *c, uint64_t op, uint8_t phase) {
  for (int i = 0; i < NODE_SLOTS; i++)
    if (c->nodes[i].used && c->nodes[i].h.op == op && c->nodes[i].h.phase == phase) return &c->nodes[i];
  return NULL;
}

/* a free slot, else the oldest finished one; a prepared block is kept until its fate is known
 * (or nobody said for STALE_STAGED_NS) */
static struct node *node_alloc(struct coll_dime *c, uint64_t now) {
  struct node *best = NULL;
  for (int i = 0; i < NODE_SLOTS; i++) {
    struct node *n = &c->nodes[i];
    if (!n->used) return n;
    if (!n->done) continue;
    if (n->staged && now - n->touch_ns < STALE_STAGED_NS) continue;
    if (!best || n->touch_ns < best->touch_ns) best = n;
  }
  return best;
}

static void coord_phase_done(struct dime *d, struct node *n);

static void node_complete(struct dime *d, struct node *n) {
  n->done = true;
  if (n->is_root) coord_phase_done(d, n);
  else send_up(d, n);
}

/* what this DIME itself does in a phase; true = its vote is yes */
static bool node_act(struct dime *d, struct node *n) {
  struct coll_dime *c = CD(d);
  const struct coll_hdr *h = &n->h;
  switch (h->phase) {
    case PX_COLL_PHASE_PREPARE:
      n->staged = true;   /* the block waits in the slot until COMMIT or ABORT */
      return true;
    case PX_COLL_PHASE_COMMIT: {
      if (was_applied(c, h->op)) return true;
      struct node *prep = node_find(c, h->op, PX_COLL_PHASE_PREPARE);
      if (!prep || !prep->staged) return false;   /* the block is gone: cannot apply (reported, never guessed) */
      memcpy(c->mem + prep->h.offset, prep->data, prep->h.data_len);
      __atomic_store_n(&c->events[prep->h.event], c->events[prep->h.event] + 1, __ATOMIC_RELEASE);
      c->xfers++;
      mark_applied(c, h->op);
      prep->staged = false;
      return true;
    }
    case PX_COLL_PHASE_ABORT: {
      struct node *prep = node_find(c, h->op, PX_COLL_PHASE_PREPARE);
      if (prep) prep->staged = false;
      return true;
    }
    case PX_COLL_PHASE_COMPARE: {
      uint64_t v = c->vars[h->var];
      switch (h->cmp) {
        case PX_COLL_CMP_EQ: return v == h->compare;
        case PX_COLL_CMP_NE: return v != h->compare;
        case PX_COLL_CMP_LT: return v < h->compare;
        default: return v >= h->compare;
      }
    }
    case PX_COLL_PHASE_WRITE:
      if (!was_applied(c, h->op)) { c->vars[h->write_var] = h->value; c->writes++; mark_applied(c, h->op); }
      return true;
    /* launch of a service (coll_launch.c): the image in blocks, then started all or none */
    case PX_COLL_PHASE_OPEN:
      if (was_applied(c, h->op)) return true;
      if (!coll_launch_open(d, h->op, h->value, n->data, h->data_len)) return false;
      mark_applied(c, h->op);
      return true;
    case PX_COLL_PHASE_STAGE:
      return coll_launch_stage(d, h->value, h->compare, n->data, h->data_len);
    case PX_COLL_PHASE_VERIFY:
      return was_applied(c, h->op) || coll_launch_verify(d, h->value);
    case PX_COLL_PHASE_START:
      if (was_applied(c, h->op)) return true;
      if (!coll_launch_start(d, h->value, h->event, c->events)) return false;
      mark_applied(c, h->op);
      return true;
    case PX_COLL_PHASE_DISCARD:
      return coll_launch_discard(d, h->value);
    default:   /* GATHER: being here is the vote */
      return true;
  }
}

/* Take part in one phase: act, pass it on to the children, answer when they did. */
static struct node *node_start(struct dime *d, const struct coll_hdr *h, const uint8_t *rest, const uint8_t *pmac,
                               uint16_t pcore, bool is_root) {
  struct coll_dime *c = CD(d);
  uint64_t now = now_ns();
  struct node *n = node_alloc(c, now);
  if (!n) return NULL;   /* every slot busy: not taken; the sender resends, or counts us missing */
  memset(n, 0, offsetof(struct node, data));
  n->used = true;
  n->is_root = is_root;
  n->touch_ns = now;
  n->h = *h;
  memcpy(n->parent_mac, pmac, 6);
  n->parent_core = pcore;
  for (uint16_t i = 0; i < h->count; i++) {
    memcpy(n->members[i].mac, rest + i * PX_COLL_MEMBER_BYTES, 6);
    n->members[i].core = be16(rest + i * PX_COLL_MEMBER_BYTES + 6);
  }
  uint16_t dlen = carries_block(h->phase) ? h->data_len : 0;
  memcpy(n->data, rest + h->count * PX_COLL_MEMBER_BYTES, dlen);
  n->answered = 1;
  n->missing = NO_MEMBER;
  n->yes = node_act(d, n) ? 1 : 0;
  add_children_of(d, n, h->self, now);
  if (!n->nchild) node_complete(d, n);
  return n;
}

static void coll_down(struct dime *d, const struct pxmsg *m) {
  if (m->plen < PX_COLL_DOWN_REQ_LEN) return;
  struct coll_hdr h;
  read_hdr(m->payload, &h);
  if (!hdr_valid(&h, m->plen - PX_COLL_DOWN_REQ_LEN) || h.self >= h.count || h.self == 0) return;
  struct node *n = node_find(CD(d), h.op, h.phase);
  if (n) {
    /* a repeat: our answer was lost, or our parent died and its parent adopted us */
    memcpy(n->parent_mac, m->src_mac, 6);
    n->parent_core = m->src_core;
    n->touch_ns = now_ns();
    if (n->done) send_up(d, n);
    return;
  }
  node_start(d, &h, m->payload + PX_COLL_DOWN_REQ_LEN, m->src_mac, m->src_core, false);
}

static void coll_up(struct dime *d, const struct pxmsg *m) {
  if (m->plen < PX_COLL_UP_REQ_LEN) return;
  const uint8_t *p = m->payload;
  struct node *n = node_find(CD(d), be64(p + PX_COLL_UP_REQ_OP_OFF), p[PX_COLL_UP_REQ_PHASE_OFF]);
  if (!n || n->done) return;   /* late or repeated: already counted */
  uint16_t from = be16(p + PX_COLL_UP_REQ_SELF_OFF);
  for (uint16_t i = 0; i < n->nchild; i++) {
    if (n->child[i].idx != from) continue;
    n->answered += be16(p + PX_COLL_UP_REQ_ANSWERED_OFF);
    n->yes += be16(p + PX_COLL_UP_REQ_YES_OFF);
    uint16_t miss = be16(p + PX_COLL_UP_REQ_MISSING_OFF);
    if (miss < n->missing) n->missing = miss;
    n->child[i] = n->child[--n->nchild];
    n->touch_ns = now_ns();
    if (!n->nchild) node_complete(d, n);
    return;
  }
  /* from a child already given up as dead (its subtree answers us directly): ignored */
}

/* ---------------- the coordinator (member 0) ---------------- */

static void finish(struct dime *d, uint8_t outcome, uint16_t answered, uint16_t yes, uint16_t missing) {
  struct coll_dime *c = CD(d);
  struct coord *k = &c->coord;
  uint64_t op = be64(k->start + PX_COLL_START_REQ_OP_OFF);
  c->results[c->results_head++ % RESULT_RING] = (struct result){op, outcome, answered, yes, missing};
  uint8_t p[PX_COLL_START_RESP_LEN];
  memset(p, 0, sizeof p);
  p[PX_COLL_START_RESP_OUTCOME_OFF] = outcome;
  put_be16(p + PX_COLL_START_RESP_ANSWERED_OFF, answered);
  put_be16(p + PX_COLL_START_RESP_YES_OFF, yes);
  put_be16(p + PX_COLL_START_RESP_MISSING_OFF, missing);
  k->active = false;
  px_reply_to(d, k->req_mac, k->req_core, k->req_id, PX_SIG_COLL_START, PX_STATUS_OK, p, sizeof p);
}

static void launch_phase(struct dime *d, uint8_t phase) {
  struct coord *k = &CD(d)->coord;
  struct coll_hdr h;
  const uint8_t *s = k->start;
  h.op = be64(s + PX_COLL_START_REQ_OP_OFF);
  h.phase = phase;
  h.fanout = s[PX_COLL_START_REQ_FANOUT_OFF];
  h.count = be16(s + PX_COLL_START_REQ_COUNT_OFF);
  h.self = 0;
  h.event = be16(s + PX_COLL_START_REQ_EVENT_OFF);
  h.offset = be16(s + PX_COLL_START_REQ_OFFSET_OFF);
  h.data_len = be16(s + PX_COLL_START_REQ_DATA_LEN_OFF);
  h.var = s[PX_COLL_START_REQ_VAR_OFF];
  h.cmp = s[PX_COLL_START_REQ_CMP_OFF];
  h.write_var = s[PX_COLL_START_REQ_WRITE_VAR_OFF];
  h.timeout_ms = be16(s + PX_COLL_START_REQ_TIMEOUT_MS_OFF);
  if (!h.timeout_ms) h.timeout_ms = DEFAULT_TIMEOUT_MS;
  h.compare = be64(s + PX_COLL_START_REQ_COMPARE_OFF);
  h.value = be64(s + PX_COLL_START_REQ_VALUE_OFF);
  if (!node_start(d, &h, s + PX_COLL_START_REQ_MEMBERS_OFF, nic_mac, (uint16_t)d->index, true))
    finish(d, PX_COLL_OUTCOME_ABORTED, 0, 0, 0);
}

static void coord_phase_done(struct dime *d, struct node *n) {
  struct coord *k = &CD(d)->coord;
  uint16_t all = n->h.count;
  switch (n->h.phase) {
    case PX_COLL_PHASE_PREPARE:   /* all or none: the block is written only when every member holds it */
    case PX_COLL_PHASE_VERIFY:    /* all or none: started only when every member holds the whole image */
      k->answered = n->answered;   /* the vote's counts: the answer when the next phase undoes it */
      k->yes = n->yes;
      k->missing = n->missing;
      if (n->h.phase == PX_COLL_PHASE_PREPARE) launch_phase(d, n->yes == all ? PX_COLL_PHASE_COMMIT : PX_COLL_PHASE_ABORT);
      else launch_phase(d, n->yes == all ? PX_COLL_PHASE_START : PX_COLL_PHASE_DISCARD);
      break;
    case PX_COLL_PHASE_ABORT:
    case PX_COLL_PHASE_DISCARD:
      finish(d, PX_COLL_OUTCOME_ABORTED, k->answered, k->yes, k->missing);
      break;
    case PX_COLL_PHASE_COMPARE:
      if (n->answered < all) finish(d, PX_COLL_OUTCOME_ABORTED, n->answered, n->yes, n->missing);
      else if (n->yes == all) launch_phase(d, PX_COLL_PHASE_WRITE);
      else finish(d, PX_COLL_OUTCOME_FALSE, n->answered, n->yes, n->missing);
      break;
    case PX_COLL_PHASE_COMMIT:
    case PX_COLL_PHASE_WRITE:
    case PX_COLL_PHASE_START:
      finish(d, PX_COLL_OUTCOME_DONE, n->answered, n->yes, n->missing);
      break;
    case PX_COLL_PHASE_OPEN:
    case PX_COLL_PHASE_STAGE:
      finish(d, n->yes == all ? PX_COLL_OUTCOME_DONE : PX_COLL_OUTCOME_ABORTED, n->answered, n->yes, n->missing);
      break;
    default:
      finish(d, n->answered == all ? PX_COLL_OUTCOME_DONE : PX_COLL_OUTCOME_ABORTED, n->answered, n->yes, n->missing);
      break;
  }
}

static void coll_start(struct dime *d, const struct pxmsg *m) {
  struct coll_dime *c = CD(d);
  struct coord *k = &c->coord;
  if (m->plen < PX_COLL_START_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
  const uint8_t *p = m->payload;
  uint64_t op = be64(p + PX_COLL_START_REQ_OP_OFF);
  for (int i = 0; i < RESULT_RING; i++) {
    struct result *r = &c->results[i];
    if (!op || r->op != op) continue;
    uint8_t a[PX_COLL_START_RESP_LEN] = {0};
    a[PX_COLL_START_RESP_OUTCOME_OFF] = r->outcome;
    put_be16(a + PX_COLL_START_RESP_ANSWERED_OFF, r->answered);
    put_be16(a + PX_COLL_START_RESP_YES_OFF, r->yes);
    put_be16(a + PX_COLL_START_RESP_MISSING_OFF, r->missing);
    px_reply(d, m, PX_STATUS_OK, a, sizeof a);   /* a repeat of a finished operation: its outcome again */
    return;
  }
  if (k->active && be64(k->start + PX_COLL_START_REQ_OP_OFF) == op) {
    /* a repeat while it runs: answer that attempt when it is over */
    memcpy(k->req_mac, m->src_mac, 6);
    k->req_core = m->src_core;
    k->req_id = m->req_id;
    return;
  }
  if (k->active) { px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0); return; }   /* busy: one operation at a time */
  uint8_t kind = p[PX_COLL_START_REQ_KIND_OFF];
  uint16_t count = be16(p + PX_COLL_START_REQ_COUNT_OFF);
  uint16_t dlen = be16(p + PX_COLL_START_REQ_DATA_LEN_OFF);
  if ((uint32_t)count * PX_COLL_MEMBER_BYTES + dlen > (uint32_t)(m->plen - PX_COLL_START_REQ_LEN)) {
    px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0);
    return;
  }
  struct coll_hdr h;
  read_hdr(p, &h);   /* only for the range checks: op, count, data_len... */
  h.op = op;
  h.fanout = p[PX_COLL_START_REQ_FANOUT_OFF];
  h.count = count;
  h.event = be16(p + PX_COLL_START_REQ_EVENT_OFF);
  h.offset = be16(p + PX_COLL_START_REQ_OFFSET_OFF);
  h.data_len = dlen;
  h.var = p[PX_COLL_START_REQ_VAR_OFF];
  h.cmp = p[PX_COLL_START_REQ_CMP_OFF];
  h.write_var = p[PX_COLL_START_REQ_WRITE_VAR_OFF];
  const uint8_t *m0 = p + PX_COLL_START_REQ_MEMBERS_OFF;
  bool me_first = memcmp(m0, nic_mac, 6) == 0 && be16(m0 + 6) == d->index;
  if (kind < PX_COLL_KIND_XFER || kind > PX_COLL_KIND_LAUNCH_FINISH || !hdr_valid(&h, m->plen - PX_COLL_START_REQ_LEN) || !me_first) {
    px_reply(d, m, PX_STATUS_OUT_OF_RANGE, NULL, 0);
    return;
  }
  if (kind == PX_COLL_KIND_LAUNCH_OPEN) {
    /* the owner every member will take is the requester itself: nobody launches in another's name */
    const uint8_t *owner = m0 + (uint32_t)count * PX_COLL_MEMBER_BYTES + 16;
    if (dlen < 22 || memcmp(owner, m->src_mac, 6) != 0) {
      agent_refuse(d, m, "launch in another orchestrator's name");
      return;
    }
  }
  k->active = true;
  k->kind = kind;
  memcpy(k->req_mac, m->src_mac, 6);
  k->req_core = m->src_core;
  k->req_id = m->req_id;
  k->plen = m->plen;
  memcpy(k->start, p, m->plen);
  static const uint8_t first_phase[] = {
    [PX_COLL_KIND_XFER] = PX_COLL_PHASE_PREPARE, [PX_COLL_KIND_CAW] = PX_COLL_PHASE_COMPARE,
    [PX_COLL_KIND_BARRIER] = PX_COLL_PHASE_GATHER, [PX_COLL_KIND_LAUNCH_OPEN] = PX_COLL_PHASE_OPEN,
    [PX_COLL_KIND_LAUNCH_STAGE] = PX_COLL_PHASE_STAGE, [PX_COLL_KIND_LAUNCH_FINISH] = PX_COLL_PHASE_VERIFY,
  };
  launch_phase(d, first_phase[kind]);
}

/* ---------------- reading ---------------- */

static void test_event(struct dime *d, const struct pxmsg *m) {
  if (m->plen < PX_TEST_EVENT_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
  uint16_t ev = be16(m->payload + PX_TEST_EVENT_REQ_EVENT_OFF);
  if (ev >= PX_COLL_EVENTS) { px_reply(d, m, PX_STATUS_OUT_OF_RANGE, NULL, 0); return; }
  uint8_t a[PX_TEST_EVENT_RESP_LEN];
  put_be32(a + PX_TEST_EVENT_RESP_COUNT_OFF, __atomic_load_n(&CD(d)->events[ev], __ATOMIC_ACQUIRE));
  px_reply(d, m, PX_STATUS_OK, a, sizeof a);
}

static void coll_read(struct dime *d, const struct pxmsg *m) {
  if (m->plen < PX_COLL_READ_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
  uint16_t off = be16(m->payload + PX_COLL_READ_REQ_OFFSET_OFF), len = be16(m->payload + PX_COLL_READ_REQ_LEN_OFF);
  if (len > 1024 || (uint32_t)off + len > PX_COLL_MEM_BYTES) { px_reply(d, m, PX_STATUS_OUT_OF_RANGE, NULL, 0); return; }
  struct coll_dime *c = CD(d);
  uint8_t a[PX_COLL_READ_RESP_LEN + 1024];
  for (int i = 0; i < PX_COLL_VARS; i++) put_be64(a + PX_COLL_READ_RESP_VARS_OFF + 8 * i, c->vars[i]);
  put_be32(a + PX_COLL_READ_RESP_XFERS_OFF, c->xfers);
  put_be32(a + PX_COLL_READ_RESP_WRITES_OFF, c->writes);
  memcpy(a + PX_COLL_READ_RESP_DATA_OFF, c->mem + off, len);
  px_reply(d, m, PX_STATUS_OK, a, PX_COLL_READ_RESP_LEN + len);
}

/* ---------------- hooks into the agent ---------------- */

static const struct frame_route coll_routes[] = {
  /* tree traffic comes from DIMEs (network key between servers), never in an orchestrator's name */
  {true, PX_DATA_COLL_DOWN, ROUTE_FROM_DIME, coll_down, "collective frame not from a DIME"},
  {true, PX_DATA_COLL_UP, ROUTE_FROM_DIME, coll_up, "collective frame not from a DIME"},
  {false, PX_SIG_COLL_START, ROUTE_FROM_ORCHESTRATOR, coll_start, "DIMEs may not start collectives"},
  {false, PX_SIG_TEST_EVENT, ROUTE_FROM_ANY, test_event, NULL},
  {false, PX_SIG_COLL_READ, ROUTE_FROM_ANY, coll_read, NULL},
};

/* An authenticated frame for this DIME: true when it is a collective's (handled here). */
bool coll_handle(struct dime *d, const struct pxmsg *m, bool system_scope) {
  return agent_route(d, m, system_scope, coll_routes, ARRAY_LEN(coll_routes), NULL);
}

/* Local timer: resend what a child has not answered; give up on a child silent too long
 * and adopt its children. */
void coll_tick(struct dime *d, uint64_t now) {
  struct coll_dime *c = CD(d);
  for (int s = 0; s < NODE_SLOTS; s++) {
    struct node *n = &c->nodes[s];
    if (!n->used || n->done) continue;
    for (uint16_t i = 0; i < n->nchild;) {
      struct child *ch = &n->child[i];
      uint8_t shift = ch->tries < RTO_MAX_SHIFT ? ch->tries : RTO_MAX_SHIFT;
      if (now - ch->sent_ns < (RTO_NS << shift)) { i++; continue; }
      if (now - ch->first_ns >= ch->limit_ns) {
        uint16_t dead = ch->idx;
        if (dead < n->missing) n->missing = dead;
        n->child[i] = n->child[--n->nchild];
        add_children_of(d, n, dead, now);   /* appended after i: visited later, not resent now */
        continue;
      }
      ch->tries++;
      ch->sent_ns = now;
      send_down(d, n, ch->idx);
      i++;
    }
    if (!n->nchild) node_complete(d, n);
  }
}

/* ---------------- system calls (coll_syscall.h) ---------------- */

int64_t coll_syscall(struct dime *d, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2) {
  struct coll_dime *c = CD(d);
  switch (nr) {
    case SYS_COLL_EVENT:
      return a0 < PX_COLL_EVENTS ? (int64_t)__atomic_load_n(&c->events[a0], __ATOMIC_ACQUIRE) : -1;
    case SYS_COLL_READ:
      if (a0 > PX_COLL_MEM_BYTES || a2 > PX_COLL_MEM_BYTES - a0) return -1;
      memcpy((void *)a1, c->mem + a0, a2);
      return (int64_t)a2;
    case SYS_COLL_VAR:
      if (a0 >= PX_COLL_VARS) return -1;
      *(volatile uint64_t *)a1 = c->vars[a0];
      return 0;
    default:
      return -1;
  }
}
