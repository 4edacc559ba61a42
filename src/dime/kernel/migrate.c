/* Live migration of a running service to another DIME (docs/MIGRATION.md, after paper 003's
 * late migration): freeze it at a clean point, move what it is (memory chunks, registers,
 * routes, numbered-line state, pending input), and send what still reaches the old DIME on.
 *
 * Clean points, where everything the service is lives in its memory, its user registers and
 * the DIME's state, and nothing in the kernel stack:
 *   - returning to ring 3 (svc_user_return): the service was interrupted, or a system call is
 *     complete (its result is in rax);
 *   - blocked in a system call that can be restarted from scratch (read before it took any
 *     byte, sleep): the target re-executes `int 0x80` (rip - 2, rax still the call number).
 * A write waiting for room to hold its lines is not a clean point (part of its bytes are
 * numbered lines already): the freeze waits until the next stage acknowledges.
 *
 * Within a server the hand-over is a move of kernel state: the chunks change owner, they are
 * not copied. The target is left SUSPENDED with the frozen registers; the orchestrator rewires
 * the peers, then RESUMEs it. Frames that reach the old DIME afterwards (a peer not yet
 * rewired) are switched on to the new one unchanged: they were verified once, here. */
#include "dime.h"
#include "e1000.h"
#include "store.h"
#include "cstore.h"

static bool server_is_self(const uint8_t mac[6]) {
  static const uint8_t zero[6];
  return memcmp(mac, nic_mac, 6) == 0 || (!nic_present && memcmp(mac, zero, 6) == 0);
}

static void migrate_reply(struct dime *d, uint16_t status, const uint8_t *p, uint32_t plen) {
  uint8_t buf[PX_MAX_FRAME_LEN];
  uint32_t n = px_build(d, buf, d->mig.reply_mac, false, true, PX_SIG_MIGRATE_OUT, PX_FLAG_RESPONSE, d->mig.reply_core,
                        d->mig.reply_id, status, p, plen);
  px_send(d, buf, n);
}

/* Is DIME t free to take the service of d (idle, nothing loading, not owned by someone else)? */
static bool target_free(const struct dime *t, const struct dime *d) {
  return t != d && t->state == PX_STATE_IDLE && !t->exec_pending && !t->kill_pending &&
         (!t->owned || memcmp(t->owner_mac, d->owner_mac, 6) == 0);
}

/* MIGRATE_OUT, on the source DIME's agent. The answer is sent at the freeze. */
static void migrate_out(struct dime *d, const struct pxmsg *m) {
  const uint8_t *p = m->payload;
  const uint8_t *server = p + PX_MIGRATE_OUT_REQ_SERVER_OFF;
  uint16_t core = be16(p + PX_MIGRATE_OUT_REQ_CORE_OFF);
  if (d->mig.pending) {   /* asked again while freezing: answer the newer request */
    memcpy(d->mig.reply_mac, m->src_mac, 6);
    d->mig.reply_core = m->src_core;
    d->mig.reply_id = m->req_id;
    return;
  }
  if ((d->state != PX_STATE_RUNNING && d->state != PX_STATE_SUSPENDED) || d->exec_pending || d->kill_pending) {
    px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0);   /* nothing running here */
    return;
  }
  if (!server_is_self(server)) {   /* another server: frozen here, the orchestrator carries the state */
    memcpy(d->mig.reply_mac, m->src_mac, 6);
    d->mig.reply_core = m->src_core;
    d->mig.reply_id = m->req_id;
    d->mig.remote = true;
    d->mig.end = 0;
    d->mig.asked_ns = now_ns();
    d->mig.forwarded = 0;
    __atomic_store_n(&d->mig.pending, true, __ATOMIC_RELEASE);
    if (d->state == PX_STATE_SUSPENDED) lapic_send_ipi(d->cpu->apic_id, VEC_INBOX);
    return;
  }
  d->mig.remote = false;
  if (core >= ncpus) { px_reply(d, m, PX_STATUS_NOT_FOUND, NULL, 0); return; }
  struct dime *t = &dimes[core];
  uint32_t mine = d->index + 1, none = 0;
  if (!target_free(t, d) || !__atomic_compare_exchange_n(&t->mig.incoming, &none, mine, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0);   /* busy, or another service is moving there */
    return;
  }
  memcpy(d->mig.reply_mac, m->src_mac, 6);
  d->mig.reply_core = m->src_core;
  d->mig.reply_id = m->req_id;
  d->mig.target = core;
  d->mig.asked_ns = now_ns();
  d->mig.forwarded = 0;
  __atomic_store_n(&d->mig.pending, true, __ATOMIC_RELEASE);
  if (d->state == PX_STATE_SUSPENDED) lapic_send_ipi(d->cpu->apic_id, VEC_INBOX);   /* a suspended service is at a clean point */
}

/* Frames for a service that moved away: on to where it is now (same server), or dropped and
 * counted while it is frozen for export or after it went to another server: their senders
 * hold them (numbered lines) and send them again to the new place once rewired. */
static bool migrate_forward(struct dime *d, const struct pxmsg *m) {
  if (!m->data || (m->type != PX_DATA_STREAM && m->type != PX_DATA_STREAM_SEQ && m->type != PX_DATA_STREAM_ACK)) return false;
  if (m->flags & (PX_FLAG_RESPONSE | PX_FLAG_EVENT)) return false;
  if (d->mig.frozen || (d->mig.gone_remote && d->state == PX_STATE_IDLE)) { d->mig.forwarded++; return true; }
  if (!d->mig.fwd || d->state != PX_STATE_IDLE) return false;
  d->mig.forwarded++;
  inbox_put(&dimes[d->mig.fwd_core], m->frame, m->len, FROM_LOCAL_DIME);
  return true;
}

/* the other instructions: MIGRATE_IN / MIGRATE_CHUNK on the target, MIGRATE_READ / MIGRATE_END on the source */
static void migrate_transfer(struct dime *d, const struct pxmsg *m) {
  const uint8_t *p = m->payload;
  uint8_t out[PX_MAX_PAYLOAD];
  if (m->data && m->type == PX_DATA_MIGRATE_READ) {
    if (m->plen < PX_MIGRATE_READ_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
    uint32_t off = be32(p + PX_MIGRATE_READ_REQ_OFFSET_OFF), want = be16(p + PX_MIGRATE_READ_REQ_LENGTH_OFF);
    if (want > PX_MAX_PAYLOAD - PX_MIGRATE_READ_RESP_LEN) want = PX_MAX_PAYLOAD - PX_MIGRATE_READ_RESP_LEN;
    if (!d->mig.frozen) { px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0); return; }
    put_be32(out + PX_MIGRATE_READ_RESP_OFFSET_OFF, off);
    uint32_t n = mig_read(d, off, out + PX_MIGRATE_READ_RESP_LEN, want);
    px_reply(d, m, off > d->mig.state_len ? PX_STATUS_OUT_OF_RANGE : PX_STATUS_OK, out, PX_MIGRATE_READ_RESP_LEN + n);
    return;
  }
  if (m->data) {   /* MIGRATE_CHUNK */
    if (m->plen < PX_MIGRATE_CHUNK_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
    uint32_t received = 0;
    uint16_t st = mig_import_chunk(d, be32(p + PX_MIGRATE_CHUNK_REQ_OFFSET_OFF), p + PX_MIGRATE_CHUNK_REQ_LEN,
                                   m->plen - PX_MIGRATE_CHUNK_REQ_LEN, &received);
    put_be32(out, received);
    px_reply(d, m, st, out, PX_MIGRATE_CHUNK_RESP_LEN);
    return;
  }
  if (m->type == PX_SIG_MIGRATE_IN) {
    if (m->plen < PX_MIGRATE_IN_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
    uint16_t st = mig_import_begin(d, be32(p + PX_MIGRATE_IN_REQ_STATE_LEN_OFF), be32(p + PX_MIGRATE_IN_REQ_CRC32_OFF));
    if (st == PX_STATUS_OK) { d->owned = true; memcpy(d->owner_mac, m->src_mac, 6); }
    put_be16(out, st == PX_STATUS_OK ? 1 : 0);
    px_reply(d, m, st, out, PX_MIGRATE_IN_RESP_LEN);
    return;
  }
  /* MIGRATE_END */
  if (m->plen < PX_MIGRATE_END_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }
  bool commit = p[PX_MIGRATE_END_REQ_COMMIT_OFF] == 1;
  put_be32(out, d->mig.forwarded);
  if (d->mig.frozen) {
    d->mig.end = commit ? 1 : 2;   /* the parked core acts on it when this handler returns */
    px_reply(d, m, PX_STATUS_OK, out, PX_MIGRATE_END_RESP_LEN);
  } else {
    px_reply(d, m, commit && d->mig.gone_remote ? PX_STATUS_OK : PX_STATUS_BAD_STATE, out, PX_MIGRATE_END_RESP_LEN);   /* a repeat */
  }
}

bool migrate_handle(struct dime *d, const struct pxmsg *m) {
  if (migrate_forward(d, m)) return true;
  bool ours = m->data ? (m->type == PX_DATA_MIGRATE_READ || m->type == PX_DATA_MIGRATE_CHUNK)
                      : (m->type == PX_SIG_MIGRATE_OUT || m->type == PX_SIG_MIGRATE_IN || m->type == PX_SIG_MIGRATE_END);
  if (!ours || (m->flags & (PX_FLAG_RESPONSE | PX_FLAG_EVENT))) return false;
  if (!m->scope_dime) { px_reply(d, m, PX_STATUS_UNSUPPORTED, NULL, 0); return true; }   /* one DIME at a time */
  if (m->src_core != PX_CORE_NONE) { agent_refuse(d, m, "DIMEs may not configure DIMEs"); return true; }
  if (m->type != PX_SIG_MIGRATE_OUT || m->data) {
    bool free_target = !m->data && m->type == PX_SIG_MIGRATE_IN && !d->owned;
    bool gone = !m->data && m->type == PX_SIG_MIGRATE_END && d->mig.gone_remote;
    if (!free_target && !gone && (!d->owned || memcmp(m->src_mac, d->owner_mac, 6) != 0)) {
      agent_refuse(d, m, "not the owner of this DIME");
      return true;
    }
    migrate_transfer(d, m);
    return true;
  }
  if (m->plen < PX_MIGRATE_OUT_REQ_LEN) { px_reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return true; }
  if ((d->state != PX_STATE_RUNNING && d->state != PX_STATE_SUSPENDED) || d->exec_pending || d->kill_pending) {
    px_reply(d, m, PX_STATUS_BAD_STATE, NULL, 0);   /* nothing running here */
    return true;
  }
  if (!d->owned || memcmp(m->src_mac, d->owner_mac, 6) != 0) {
    agent_refuse(d, m, "not the owner of this DIME");
    return true;
  }
  migrate_out(d, m);
  return true;
}

/* The source's service leaves: everything it was, on DIME t (same server). */
static void hand_over(struct dime *d, struct dime *t, const struct irq_frame *ctx) {
  for (uint32_t i = 0; i < d->nchunks; i++) {
    chunk_give(d->index, t->index, d->chunk[i]);
    t->chunk[i] = d->chunk[i];
  }
  t->nchunks = d->nchunks;
  t->mem_limit = d->mem_limit > t->mem_limit ? d->mem_limit : t->mem_limit;
  memcpy(t->svc, d->svc, sizeof t->svc);
  t->img_size = t->img_received = d->img_size;
  t->img_crc = d->img_crc;
  t->text_len = d->text_len;
  memcpy(t->params, d->params, sizeof t->params);
  t->owned = true;
  memcpy(t->owner_mac, d->owner_mac, 6);
  uint64_t f = spin_lock_irqsave(&t->inq_lock);
  t->out = d->out;
  t->in = d->in;
  memcpy(t->inq, d->inq, sizeof t->inq);
  t->inq_head = d->inq_head;
  t->inq_tail = d->inq_tail;
  spin_unlock_irqrestore(&t->inq_lock, f);
  lines_take_over(t, &d->lines, false);
  t->svc_in = d->svc_in;
  t->svc_out = d->svc_out;
  t->hb_muted = d->hb_muted;
  t->mig.ctx = *ctx;
  t->mig.resume_ctx = true;
  t->mig.fwd = false;
  t->mig.gone_remote = false;
  t->exec_rec = -1;
  t->kill_pending = false;
  uint64_t now;
  cpu_busy_since(t->cpu, 0, 0, &now, &t->svc_start_halted);
  t->svc_start_ns = now;
  t->state = PX_STATE_SUSPENDED;   /* RESUME (after the peers are rewired) lets its core enter it */
  __atomic_store_n(&t->exec_pending, true, __ATOMIC_RELEASE);
  __atomic_store_n(&t->mig.incoming, 0, __ATOMIC_RELEASE);
}

/* The source DIME once its service has moved away (to another DIME here or to another server):
 * the service's record closes, its files close, the memory it still holds goes back to the pool
 * and the DIME is unowned again, with default routes, an empty inbox and no numbered lines. */
static void release_source(struct dime *d) {
  if (d->exec_rec >= 0 && (uint32_t)d->exec_rec < d->rec_total && d->rec_total - (uint32_t)d->exec_rec <= ACCT_RECORDS) {
    struct call_record *r = &d->rec[(uint32_t)d->exec_rec % ACCT_RECORDS];
    r->end_ns = now_ns();
    r->status = PX_STATUS_OK;
  }
  d->exec_rec = -1;
  store_service_ended(d);
  cstore_service_ended(d);
  svc_discard(d);
  d->owned = false;
  memset(d->params, 0, sizeof d->params);
  uint64_t fl = spin_lock_irqsave(&d->inq_lock);
  d->inq_head = d->inq_tail = 0;
  d->out.kind = PX_ROUTE_CONSOLE;
  d->in.kind = PX_ROUTE_ANY;
  spin_unlock_irqrestore(&d->inq_lock, fl);
  lines_reset(d);
}

/* The source's side of a migration across servers, on its own core, at the clean point: pack
 * the state, answer, and wait right here (the agent serves MIGRATE_READ meanwhile) until
 * MIGRATE_END says commit (the service's memory is returned) or abort (it goes on here). */
static void freeze_for_export(struct dime *d, struct irq_frame *ctx, bool restart_syscall) {
  uint64_t frozen = now_ns();
  uint32_t len = mig_pack(d, ctx);
  if (!len) { migrate_reply(d, PX_STATUS_NO_MEMORY, NULL, 0); return; }
  uint8_t p[PX_MIGRATE_OUT_RESP_LEN];
  memset(p, 0, sizeof p);
  p[PX_MIGRATE_OUT_RESP_MODE_OFF] = PX_MIGRATE_MODE_EXPORT;
  p[PX_MIGRATE_OUT_RESP_RESTARTED_OFF] = restart_syscall;
  put_be16(p + PX_MIGRATE_OUT_RESP_CHUNKS_OFF, (uint16_t)d->nchunks);
  put_be32(p + PX_MIGRATE_OUT_RESP_STATE_LEN_OFF, len);
  put_be32(p + PX_MIGRATE_OUT_RESP_FREEZE_US_OFF, (uint32_t)((frozen - d->mig.asked_ns) / 1000));
  put_be32(p + PX_MIGRATE_OUT_RESP_PAGES_OFF, d->mig.pages);
  kprintf("DIME %u: '%s' frozen for migration (%u bytes, %u pages)\n", d->index, d->svc, len, d->mig.pages);
  d->mig.end = 0;
  d->mig.frozen = true;
  migrate_reply(d, PX_STATUS_OK, p, sizeof p);
  while (!d->mig.end && !d->kill_pending) cpu_halt_wait(d->cpu);
  d->mig.frozen = false;
  if (d->kill_pending) svc_end(d, d->kill_reason, 0);
  if (d->mig.end == 2) {   /* aborted: as if nothing happened */
    chunk_free(d->index, d->mig.stage);
    d->mig.stage = 0;
    kprintf("DIME %u: migration aborted, '%s' goes on here\n", d->index, d->svc);
    return;
  }
  kprintf("DIME %u: '%s' migrated to another server, memory returned\n", d->index, d->svc);
  release_source(d);   /* frees the chunks and the stage */
  d->mig.fwd = false;
  d->mig.gone_remote = true;
  inbox_rearm(d);
  restart_idle(d->cpu->kstack_top);
}

void migrate_freeze(struct dime *d, struct irq_frame *f, bool restart_syscall) {
  irq_disable();
  d->mig.pending = false;
  if (d->mig.remote) {
    struct irq_frame ctx = *f;
    if (restart_syscall) ctx.rip -= 2;
    freeze_for_export(d, &ctx, restart_syscall);
    return;
  }
  struct dime *t = &dimes[d->mig.target];
  uint64_t frozen = now_ns();
  if (!target_free(t, d)) {   /* the target was taken meanwhile: nothing moves, the service goes on here */
    __atomic_store_n(&t->mig.incoming, 0, __ATOMIC_RELEASE);
    migrate_reply(d, PX_STATUS_BAD_STATE, NULL, 0);
    return;
  }
  struct irq_frame ctx = *f;
  if (restart_syscall) ctx.rip -= 2;   /* `int 0x80` again on the target; rax is still the call number */
  uint8_t p[PX_MIGRATE_OUT_RESP_LEN];
  memset(p, 0, sizeof p);
  p[PX_MIGRATE_OUT_RESP_MODE_OFF] = PX_MIGRATE_MODE_LOCAL;
  p[PX_MIGRATE_OUT_RESP_RESTARTED_OFF] = restart_syscall;
  put_be16(p + PX_MIGRATE_OUT_RESP_CHUNKS_OFF, (uint16_t)d->nchunks);
  put_be32(p + PX_MIGRATE_OUT_RESP_FREEZE_US_OFF, (uint32_t)((frozen - d->mig.asked_ns) / 1000));
  kprintf("DIME %u: '%s' migrating to DIME %u (%u chunks)\n", d->index, d->svc, t->index, d->nchunks);
  user_unmap_all(d->cpu);
  hand_over(d, t, &ctx);
  /* the source: its service's record closes, its files close, it goes back to the pool */
  d->nchunks = 0;   /* the chunks are t's now */
  release_source(d);
  d->mig.gone_remote = false;
  d->mig.fwd = true;
  d->mig.fwd_core = t->index;
  migrate_reply(d, PX_STATUS_OK, p, sizeof p);
  inbox_rearm(d);
  restart_idle(d->cpu->kstack_top);
}

/* The DIME takes a new service: whatever moved away from here is no longer forwarded. */
void migrate_forget(struct dime *d) { d->mig.fwd = false; d->mig.gone_remote = false; }
