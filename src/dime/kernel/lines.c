/* Numbered pipeline lines (STREAM_SEQ / STREAM_ACK): at-least-once delivery between stages,
 * de-duplicated by line number, so a pipeline loses and repeats nothing when a stage dies
 * (docs/PROTOCOL.md, "Pipelines that lose nothing").
 *
 * A stage's state dies with it, so every line not yet done downstream is held UPSTREAM:
 *   - input: a numbered line is accepted only in order (line == next expected, or a sender's
 *     RESTART at or past it); earlier numbers are duplicates, later ones gaps: both dropped and
 *     counted. The numbers of accepted lines wait in `pend` until the service answers them.
 *   - output: output line n of the service takes the number of its input line n (a stage maps
 *     one line to one line) and is held here until the next stage acknowledges it.
 *   - an acknowledgment from downstream frees the held lines and goes on upstream with the same
 *     number: a line is acknowledged to a stage only once everything after it has it.
 *   - the held lines are sent again, first with RESTART, when the output route changes (the
 *     next stage was re-instantiated elsewhere) and when acknowledgments stall (lost frames).
 * Everything runs on the DIME's own core (agent, timer, system calls); the lock keeps the
 * agent's interrupts out of a system call's update. */
#include "dime.h"

#define RETRANSMIT_NS 500000000ULL   /* no acknowledgment progress for this long: send again, */
#define RETRANSMIT_BACKOFF 3          /* then after 2x, 4x, 8x as long while nothing comes back */
#define RESEND_BURST 16              /* lines per resend (a receiver's inbox is 32 frames) */

static struct line_state *L(struct dime *d) { return &d->lines; }

void lines_reset(struct dime *d) {
  struct line_state *s = L(d);
  uint64_t f = spin_lock_irqsave(&s->lock);
  s->stream = 0;
  s->next_in = 0;
  s->up_known = false;
  s->pend_head = s->pend_tail = 0;
  s->done = 0;
  s->held_head = s->held_tail = 0;
  s->bytes_head = s->bytes_tail = 0;
  s->partial_len = 0;
  s->restart = true;
  spin_unlock_irqrestore(&s->lock, f);
}

/* Takes over a moved service's line state `from` (its old DIME's, or the migration image's) under
 * d's own lock, which d keeps. `other_clock`: the state comes from another server, whose clock
 * means nothing here, so the retransmit timer and its backoff start again. */
void lines_take_over(struct dime *d, const struct line_state *from, bool other_clock) {
  struct line_state *s = L(d);
  uint64_t f = spin_lock_irqsave(&s->lock);
  spinlock_t keep = s->lock;
  memcpy(s, from, sizeof *s);
  s->lock = keep;
  if (other_clock) {
    s->progress_ns = now_ns();
    s->misses = 0;
  }
  spin_unlock_irqrestore(&s->lock, f);
}

static void send_ack(struct dime *d, const uint8_t mac[6], uint16_t core, uint32_t stream, uint32_t up_to) {
  uint8_t p[PX_STREAM_ACK_REQ_LEN], buf[PX_MAX_FRAME_LEN];
  put_be32(p + PX_STREAM_ACK_REQ_STREAM_OFF, stream);
  put_be32(p + PX_STREAM_ACK_REQ_UP_TO_OFF, up_to);
  uint32_t n = px_build(d, buf, mac, true, true, PX_DATA_STREAM_ACK, 0, core, 0, 0, p, sizeof p);
  px_send(d, buf, n);
}

/* lines up to `up_to` are done downstream: tell whoever sent them to us */
static void done_upto(struct dime *d, uint32_t up_to) {
  struct line_state *s = L(d);
  if (up_to <= s->done) return;
  s->done = up_to;
  if (s->up_known) send_ack(d, s->up_mac, s->up_core, s->stream, up_to);
}

uint32_t lines_held(struct dime *d) { return L(d)->held_head - L(d)->held_tail; }

/* ---------------- input ---------------- */

void lines_input(struct dime *d, const struct pxmsg *m) {
  struct line_state *s = L(d);
  if (m->plen < PX_STREAM_SEQ_REQ_LEN) { s->refused++; return; }
  const uint8_t *p = m->payload;
  uint32_t stream = be32(p + PX_STREAM_SEQ_REQ_STREAM_OFF), line = be32(p + PX_STREAM_SEQ_REQ_LINE_OFF);
  bool restart = p[PX_STREAM_SEQ_REQ_LINE_FLAGS_OFF] & PX_LINE_FLAG_RESTART;
  const uint8_t *data = p + PX_STREAM_SEQ_REQ_LEN;
  uint32_t n = m->plen - PX_STREAM_SEQ_REQ_LEN;
  uint32_t newlines = 0;
  for (uint32_t i = 0; i < n; i++) newlines += data[i] == '\n';
  if (!stream || !line || !n || newlines != 1 || data[n - 1] != '\n') { s->refused++; return; }

  uint64_t f = spin_lock_irqsave(&s->lock);
  if (stream != s->stream && s->stream && !restart) { s->gaps++; goto out; }   /* another stream: only from its start */
  if (stream != s->stream) {   /* this DIME joins the stream (a fresh stage, or a new pipeline) */
    s->stream = stream;
    s->next_in = 0;
    s->pend_head = s->pend_tail = 0;
    s->done = 0;
  }
  if (s->next_in && line < s->next_in) {
    /* seen already (a replay after failover, or a resend): dropped; tell the sender how far
     * we are again, so it can forget what it holds even if an earlier acknowledgment was lost */
    s->dups++;
    if (s->done) send_ack(d, m->src_mac, m->src_core, stream, s->done);
    goto out;
  }
  if (!restart && line != s->next_in) { s->gaps++; goto out; }   /* an earlier line is missing */
  if (s->pend_head - s->pend_tail >= LINE_PENDING || INQ_SIZE - (d->inq_head - d->inq_tail) < n) { s->refused++; goto out; }
  inq_push(d, data, n);
  d->svc_in += n;
  s->pend[s->pend_head++ % LINE_PENDING] = line;
  s->next_in = line + 1;
  memcpy(s->up_mac, m->src_mac, 6);
  s->up_core = m->src_core;
  s->up_known = true;
out:
  spin_unlock_irqrestore(&s->lock, f);
}

/* ---------------- output ---------------- */

static void send_line(struct dime *d, const struct route *r, uint32_t line, const uint8_t *data, uint32_t n) {
  struct line_state *s = L(d);
  uint8_t p[PX_MAX_PAYLOAD], buf[PX_MAX_FRAME_LEN];
  memset(p, 0, PX_STREAM_SEQ_REQ_LEN);
  put_be32(p + PX_STREAM_SEQ_REQ_STREAM_OFF, s->stream);
  put_be32(p + PX_STREAM_SEQ_REQ_LINE_OFF, line);
  p[PX_STREAM_SEQ_REQ_LINE_FLAGS_OFF] = s->restart ? PX_LINE_FLAG_RESTART : 0;
  s->restart = false;
  memcpy(p + PX_STREAM_SEQ_REQ_LEN, data, n);
  uint16_t core = r->kind == PX_ROUTE_DIME ? r->core : PX_CORE_NONE;
  uint32_t len = px_build(d, buf, r->mac, true, true, PX_DATA_STREAM_SEQ, 0, core, 0, 0, p, PX_STREAM_SEQ_REQ_LEN + n);
  px_send(d, buf, len);
}

static void held_bytes(struct line_state *s, const struct held_line *h, uint8_t *dst) {
  for (uint32_t i = 0; i < h->len; i++) dst[i] = s->bytes[(h->start + i) % LINE_HOLD_BYTES];
}

/* Send held lines again from the oldest, the first one marked RESTART. Lock held. */
static void resend(struct dime *d) {
  struct line_state *s = L(d);
  struct route r = d->out;
  s->progress_ns = now_ns();
  if (r.kind != PX_ROUTE_DIME && r.kind != PX_ROUTE_ORCHESTRATOR) return;
  s->restart = true;
  uint8_t line[PX_MAX_PAYLOAD];
  for (uint32_t i = s->held_tail; i != s->held_head && i - s->held_tail < RESEND_BURST; i++) {
    struct held_line *h = &s->held[i % LINE_HELD];
    held_bytes(s, h, line);
    send_line(d, &r, h->line, line, h->len);
  }
}

bool lines_room(struct dime *d) {
  struct line_state *s = L(d);
  return s->held_head - s->held_tail < LINE_HELD && LINE_HOLD_BYTES - (s->bytes_head - s->bytes_tail) >= PX_MAX_PAYLOAD;
}

/* One complete output line. Returns false when it must wait for room to hold it. */
static bool line_out(struct dime *d, const struct route *r, const uint8_t *data, uint32_t n) {
  struct line_state *s = L(d);
  if (s->pend_head == s->pend_tail) return true;   /* answers no input line: see lines_output */
  uint32_t line = s->pend[s->pend_tail % LINE_PENDING];
  if (!lines_room(d)) return false;
  s->pend_tail++;
  struct held_line *h = &s->held[s->held_head++ % LINE_HELD];
  h->line = line;
  h->start = s->bytes_head;
  h->len = (uint16_t)n;
  for (uint32_t i = 0; i < n; i++) s->bytes[(s->bytes_head + i) % LINE_HOLD_BYTES] = data[i];
  s->bytes_head += n;
  if (s->held_head - s->held_tail == 1) { s->progress_ns = now_ns(); s->misses = 0; }
  send_line(d, r, line, data, n);
  return true;
}

/* Service output while this DIME is part of a numbered stream. Returns how many bytes it took
 * (fewer than n: no room to hold a line, the caller waits for an acknowledgment and calls
 * again); -1: not in a stream (plain STREAM output). A line that answers no input line (the
 * service said more than it was asked) or that does not fit one frame goes out unnumbered. */
int64_t lines_output(struct dime *d, const struct route *r, const uint8_t *p, uint32_t n) {
  struct line_state *s = L(d);
  uint64_t f = spin_lock_irqsave(&s->lock);
  if (!s->stream) { spin_unlock_irqrestore(&s->lock, f); return -1; }
  if (r->kind != PX_ROUTE_DIME && r->kind != PX_ROUTE_ORCHESTRATOR) {
    /* console / none: a line shown or discarded is done, here */
    for (uint32_t i = 0; i < n; i++)
      if (p[i] == '\n' && s->pend_head != s->pend_tail) done_upto(d, s->pend[s->pend_tail++ % LINE_PENDING]);
    spin_unlock_irqrestore(&s->lock, f);
    return -1;
  }
  uint32_t i = 0;
  for (; i < n; i++) {
    s->partial[s->partial_len++] = p[i];
    bool full = s->partial_len == sizeof s->partial;
    if (p[i] != '\n' && !full) continue;
    if (p[i] == '\n' && s->pend_head != s->pend_tail) {
      if (!line_out(d, r, s->partial, s->partial_len)) { s->partial_len--; break; }
      s->partial_len = 0;
      continue;
    }
    /* unnumbered: as plain STREAM output */
    uint8_t copy[sizeof s->partial];
    uint32_t len = s->partial_len;
    memcpy(copy, s->partial, len);
    s->partial_len = 0;
    spin_unlock_irqrestore(&s->lock, f);
    output_plain(d, r, copy, len);
    f = spin_lock_irqsave(&s->lock);
  }
  spin_unlock_irqrestore(&s->lock, f);
  return i;
}

/* ---------------- acknowledgments, route changes, resends ---------------- */

void lines_ack(struct dime *d, const struct pxmsg *m) {
  struct line_state *s = L(d);
  if (m->plen < PX_STREAM_ACK_REQ_LEN) { s->acks_refused++; return; }
  uint64_t f = spin_lock_irqsave(&s->lock);
  struct route r = d->out;
  bool from_next = (r.kind == PX_ROUTE_DIME && m->src_core == r.core && memcmp(m->src_mac, r.mac, 6) == 0) ||
                   (r.kind == PX_ROUTE_ORCHESTRATOR && m->src_core == PX_CORE_NONE && memcmp(m->src_mac, r.mac, 6) == 0);
  uint32_t stream = be32(m->payload + PX_STREAM_ACK_REQ_STREAM_OFF), up_to = be32(m->payload + PX_STREAM_ACK_REQ_UP_TO_OFF);
  if (!from_next || !s->stream || stream != s->stream) { s->acks_refused++; goto out; }
  bool freed = false;
  while (s->held_tail != s->held_head && s->held[s->held_tail % LINE_HELD].line <= up_to) {
    struct held_line *h = &s->held[s->held_tail % LINE_HELD];
    s->bytes_tail = h->start + h->len;
    s->held_tail++;
    freed = true;
  }
  if (freed) { s->progress_ns = now_ns(); s->misses = 0; }
  done_upto(d, up_to);
out:
  spin_unlock_irqrestore(&s->lock, f);
}

void lines_route_changed(struct dime *d) {
  struct line_state *s = L(d);
  uint64_t f = spin_lock_irqsave(&s->lock);
  s->restart = true;
  s->misses = 0;
  if (s->held_head != s->held_tail) resend(d);
  spin_unlock_irqrestore(&s->lock, f);
}

void lines_tick(struct dime *d, uint64_t now) {
  struct line_state *s = L(d);
  if (s->held_head == s->held_tail || now - s->progress_ns < (RETRANSMIT_NS << s->misses)) return;
  uint64_t f = spin_lock_irqsave(&s->lock);
  if (s->held_head != s->held_tail) {
    resend(d);
    if (s->misses < RETRANSMIT_BACKOFF) s->misses++;
  }
  spin_unlock_irqrestore(&s->lock, f);
}
