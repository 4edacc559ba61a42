/* The FCAPS agent of each DIME. It runs on the DIME's own core, from the inbox IPI and
 * the local timer, so management never waits for (or on) the service running there.
 *   F: heartbeats, fault alarms          C: load / execute / suspend / resume / stop / reset,
 *   A: call records                         parameters, memory limit, I/O routes
 *   P: CPU, memory, frame counters       S: tag + sequence checks, owner and route checks */
#include "dime.h"
#include "e1000.h"
#include "store.h"
#include "cstore.h"

struct dime dimes[MAX_CPUS];
static uint32_t default_hb_ms = 1000, default_perf_ms = 5000, default_memlimit = 8;

void agent_defaults(struct dime *d) {
  d->heartbeat_ms = default_hb_ms;
  d->perf_ms = default_perf_ms;
  d->mem_limit = (uint16_t)default_memlimit;
  d->out.kind = PX_ROUTE_CONSOLE;
  d->in.kind = PX_ROUTE_ANY;
  memset(d->params, 0, sizeof d->params);
  lines_reset(d);
  store_grants_reset(d);
  cstore_reset(d);
  d->owned = false;
  d->hb_muted = false;
  uint64_t now = now_ns();
  d->next_hb_ns = now + (uint64_t)d->heartbeat_ms * 1000000ULL;
  d->next_perf_ns = now + (uint64_t)d->perf_ms * 1000000ULL;
}

void dime_init(struct cpu *c) {
  struct dime *d = &dimes[c->index];
  static bool defaults_read;
  if (!defaults_read) {
    defaults_read = true;
    default_hb_ms = (uint32_t)cmdline_uint("hb", 1000);
    default_perf_ms = (uint32_t)cmdline_uint("perf", 5000);
    default_memlimit = (uint32_t)cmdline_uint("memlimit", 8);
    if (default_memlimit < 1) default_memlimit = 1;
    if (default_memlimit > MAX_USER_CHUNKS) default_memlimit = MAX_USER_CHUNKS;
  }
  d->index = c->index;
  d->cpu = c;
  d->state = PX_STATE_IDLE;
  d->exec_rec = -1;
  d->load_rec = -1;
  agent_defaults(d);
  d->hb_last_ns = d->perf_last_ns = now_ns();
}

/* ---------------- accounting ---------------- */

int32_t acct_open(struct dime *d, const struct pxmsg *m) {
  uint32_t seq = d->rec_total++;
  struct call_record *r = &d->rec[seq % ACCT_RECORDS];
  memset(r, 0, sizeof *r);
  r->seq = seq;
  memcpy(r->mac, m->src_mac, 6);
  r->core = m->src_core;
  r->channel = m->data;
  r->what = m->type;
  r->start_ns = now_ns();
  r->bytes_in = m->len;
  strlcpy(r->service, d->svc, sizeof r->service);
  return (int32_t)seq;
}

static struct call_record *acct_get(struct dime *d, int32_t seq) {
  if (seq < 0 || (uint32_t)seq >= d->rec_total || d->rec_total - (uint32_t)seq > ACCT_RECORDS) return NULL;
  struct call_record *r = &d->rec[(uint32_t)seq % ACCT_RECORDS];
  return r->seq == (uint32_t)seq ? r : NULL;
}

/* ---------------- performance ---------------- */

static uint16_t permille(uint64_t busy, uint64_t total) {
  if (!total) return 0;
  if (busy > total) busy = total;
  return (uint16_t)(busy * 1000 / total);
}

void perf_fill(struct dime *d, uint8_t *p, bool reset_window) {
  uint64_t now, halted;
  uint64_t busy = cpu_busy_since(d->cpu, d->perf_last_ns, d->perf_last_halted, &now, &halted);
  uint64_t window = now - d->perf_last_ns;
  memset(p, 0, PX_PERF_REQ_LEN);
  put_be16(p + PX_PERF_REQ_DIME_OFF, (uint16_t)d->index);
  p[PX_PERF_REQ_STATE_OFF] = (uint8_t)d->state;
  put_be16(p + PX_PERF_REQ_CPU_PERMILLE_OFF, permille(busy, window));
  uint64_t total_busy = now - cycles_to_ns(d->cpu->halted_cycles);
  put_be16(p + PX_PERF_REQ_CPU_PERMILLE_TOTAL_OFF, permille(total_busy, now));
  put_be16(p + PX_PERF_REQ_MEM_USED_OFF, (uint16_t)d->nchunks);
  put_be16(p + PX_PERF_REQ_MEM_LIMIT_OFF, d->mem_limit);
  put_be16(p + PX_PERF_REQ_POOL_FREE_OFF, (uint16_t)chunk_free_count);
  put_be16(p + PX_PERF_REQ_POOL_TOTAL_OFF, (uint16_t)chunk_total);
  put_be64(p + PX_PERF_REQ_WINDOW_NS_OFF, window);
  put_be32(p + PX_PERF_REQ_FRAMES_IN_OFF, (uint32_t)d->frames_in);
  put_be32(p + PX_PERF_REQ_FRAMES_OUT_OFF, (uint32_t)d->frames_out);
  put_be64(p + PX_PERF_REQ_BYTES_IN_OFF, d->bytes_in);
  put_be64(p + PX_PERF_REQ_BYTES_OUT_OFF, d->bytes_out);
  uint64_t svc_cpu = d->svc_cpu_ns;
  if (d->state == PX_STATE_RUNNING || d->state == PX_STATE_SUSPENDED) {
    uint64_t n2, h2;
    svc_cpu = cpu_busy_since(d->cpu, d->svc_start_ns, d->svc_start_halted, &n2, &h2);
  }
  put_be64(p + PX_PERF_REQ_SERVICE_CPU_NS_OFF, svc_cpu);
  put_be32(p + PX_PERF_REQ_INPUT_QUEUED_OFF, d->inq_head - d->inq_tail);
  if (reset_window) { d->perf_last_ns = now; d->perf_last_halted = halted; }
}

/* ---------------- fault + security reports ---------------- */

void send_alarm(struct dime *d, uint8_t kind, uint8_t code, uint64_t detail, uint64_t rip, const uint8_t *peer_mac,
                uint16_t peer_core, uint32_t count, const char *text) {
  uint8_t p[PX_ALARM_REQ_LEN];
  memset(p, 0, sizeof p);
  put_be16(p + PX_ALARM_REQ_DIME_OFF, (uint16_t)d->index);
  p[PX_ALARM_REQ_KIND_OFF] = kind;
  p[PX_ALARM_REQ_CODE_OFF] = code;
  put_be64(p + PX_ALARM_REQ_DETAIL_OFF, detail);
  put_be64(p + PX_ALARM_REQ_RIP_OFF, rip);
  if (peer_mac) memcpy(p + PX_ALARM_REQ_PEER_MAC_OFF, peer_mac, 6);
  put_be16(p + PX_ALARM_REQ_PEER_CORE_OFF, peer_core);
  put_be32(p + PX_ALARM_REQ_COUNT_OFF, count);
  strlcpy((char *)p + PX_ALARM_REQ_TEXT_OFF, text, PX_ALARM_REQ_TEXT_LEN);
  px_event(d, PX_SIG_ALARM, p, sizeof p);
}

/* security alarms are rate-limited (at most 20 a second per DIME); every event is counted */
static void security_event(struct dime *d, const struct pxmsg *m, uint8_t code, uint32_t count, const char *what) {
  uint64_t now = now_ns();
  if (now - d->last_sec_alarm_ns < 50000000ULL && d->last_sec_alarm_ns) return;
  d->last_sec_alarm_ns = now;
  d->sec_alarms++;
  kprintf("DIME %u security: %s frame from %02x:%02x:%02x:%02x:%02x:%02x core %u (type %u) rejected\n", d->index, what,
          m->src_mac[0], m->src_mac[1], m->src_mac[2], m->src_mac[3], m->src_mac[4], m->src_mac[5], m->src_core, m->type);
  send_alarm(d, PX_ALARM_KIND_SECURITY, code, m->seq, 0, m->src_mac, m->src_core, count, what);
}

/* A frame that is not a well-formed Parallax frame: counted, and alarmed at the 1st, 2nd, 4th,
 * 8th... one (so garbage cannot be amplified into alarm traffic, and which frames raise an
 * alarm does not depend on timing); detail = the PX_MALFORMED_* reason. */
static void malformed_event(struct dime *d, const uint8_t *f, uint32_t len, uint8_t reason) {
  static const char *why[] = {"", "malformed: too short", "malformed: unknown version", "malformed: bad length",
                              "malformed: no such DIME"};
  uint32_t n = ++d->sec_malformed;
  if (n & (n - 1)) return;
  d->sec_alarms++;
  uint16_t core = len >= PX_ETH_HEADER_LEN + PX_HDR_SRC_CORE_OFF + 2 ? be16(f + PX_ETH_HEADER_LEN + PX_HDR_SRC_CORE_OFF) : PX_CORE_NONE;
  send_alarm(d, PX_ALARM_KIND_SECURITY, PX_SECURITY_CODE_MALFORMED, reason, 0, f + 6, core, n, reason < 5 ? why[reason] : "malformed");
}

/* A service image refused (corrupt, bad header, over the memory limit): a RESOURCE alarm whose
 * code is the status the request got. */
static void image_refused(struct dime *d, uint16_t status, uint64_t size, const char *name) {
  char text[32];
  strlcpy(text, "image refused: ", sizeof text);
  strlcpy(text + 15, name, sizeof text - 15);
  send_alarm(d, PX_ALARM_KIND_RESOURCE, (uint8_t)status, size, 0, NULL, PX_CORE_NONE, ++d->images_refused, text);
}

/* strictly increasing sequence per (sender MAC, sender core, sender instance); a new sender may start anywhere
 * within the current epoch */
static bool replay_check_and_update(struct dime *d, const struct pxmsg *m) {
  struct peer_seq *free_slot = NULL, *oldest = &d->peers[0];
  for (int i = 0; i < REPLAY_PEERS; i++) {
    struct peer_seq *p = &d->peers[i];
    if (!p->used) { if (!free_slot) free_slot = p; continue; }
    if (p->core == m->src_core && p->instance == m->instance && memcmp(p->mac, m->src_mac, 6) == 0) {
      if (m->seq <= p->seq) return false;
      p->seq = m->seq;
      p->last_ns = now_ns();
      return true;
    }
    if (p->last_ns < oldest->last_ns) oldest = p;
  }
  struct peer_seq *p = free_slot ? free_slot : oldest;
  /* forgetting a sender would let its captured frames in again: they die with the epoch */
  if (!free_slot) epoch_renew();
  p->used = true;
  memcpy(p->mac, m->src_mac, 6);
  p->core = m->src_core;
  p->instance = m->instance;
  p->seq = m->seq;
  p->last_ns = now_ns();
  return true;
}

/* ---------------- replies ---------------- */

/* a response frame to (mac, core) answering req_id, sent at once */
static uint32_t respond(struct dime *d, const uint8_t *mac, bool data, uint8_t type, uint16_t core, uint32_t req_id,
                        uint16_t status, const uint8_t *payload, uint32_t plen) {
  uint8_t buf[PX_MAX_FRAME_LEN];
  uint32_t n = px_build(d, buf, mac, data, true, type, PX_FLAG_RESPONSE, core, req_id, status, payload, plen);
  px_send(d, buf, n);
  return n;
}

static uint32_t reply(struct dime *d, const struct pxmsg *m, uint16_t status, const uint8_t *payload, uint32_t plen) {
  return respond(d, m->src_mac, m->data, m->type, m->src_core, m->req_id, status, payload, plen);
}

uint32_t px_reply(struct dime *d, const struct pxmsg *m, uint16_t status, const uint8_t *payload, uint32_t plen) {
  return reply(d, m, status, payload, plen);
}

uint32_t px_reply_to(struct dime *d, const uint8_t *mac, uint16_t core, uint32_t req_id, uint8_t sig, uint16_t status,
                     const uint8_t *payload, uint32_t plen) {
  return respond(d, mac, false, sig, core, req_id, status, payload, plen);
}

static bool scope_allowed(uint32_t scopes, bool scope_dime) { return scope_dime ? (scopes & 2) : (scopes & 1); }

static void fill_discover(struct dime *d, uint8_t *p) {
  memset(p, 0, PX_DISCOVER_RESP_LEN);
  put_be16(p + PX_DISCOVER_RESP_DIME_OFF, (uint16_t)d->index);
  put_be16(p + PX_DISCOVER_RESP_CORES_OFF, (uint16_t)ncpus);
  put_be16(p + PX_DISCOVER_RESP_APIC_ID_OFF, (uint16_t)d->cpu->apic_id);
  p[PX_DISCOVER_RESP_STATE_OFF] = (uint8_t)d->state;
  p[PX_DISCOVER_RESP_FLAGS_OFF] = d->hb_muted ? 1 : 0;
  put_be16(p + PX_DISCOVER_RESP_MEM_LIMIT_OFF, d->mem_limit);
  put_be16(p + PX_DISCOVER_RESP_MEM_USED_OFF, (uint16_t)d->nchunks);
  put_be16(p + PX_DISCOVER_RESP_POOL_FREE_OFF, (uint16_t)chunk_free_count);
  put_be16(p + PX_DISCOVER_RESP_POOL_TOTAL_OFF, (uint16_t)chunk_total);
  put_be32(p + PX_DISCOVER_RESP_HEARTBEAT_MS_OFF, d->heartbeat_ms);
  put_be32(p + PX_DISCOVER_RESP_PERF_MS_OFF, d->perf_ms);
  put_be64(p + PX_DISCOVER_RESP_UPTIME_NS_OFF, now_ns());
  memcpy(p + PX_DISCOVER_RESP_SERVER_MAC_OFF, nic_mac, 6);
  p[PX_DISCOVER_RESP_PROTO_VERSION_OFF] = PX_PROTOCOL_VERSION;
  strlcpy((char *)p + PX_DISCOVER_RESP_SERVICE_OFF, d->svc, PX_DISCOVER_RESP_SERVICE_LEN);
}

/* a NUL-padded wire string into a C string of the same size (at most n-1 bytes kept) */
static void copy_str(char *dst, const uint8_t *src, size_t n) {
  size_t i = 0;
  for (; i + 1 < n && src[i]; i++) dst[i] = (char)src[i];
  dst[i] = 0;
}

static uint16_t set_interval(uint32_t *field, uint64_t *next, const uint8_t *p) {
  uint32_t ms = be32(p);
  if (ms != 0 && (ms < 10 || ms > 3600000)) return PX_STATUS_OUT_OF_RANGE;
  *field = ms;
  *next = now_ns() + (uint64_t)ms * 1000000ULL;
  return PX_STATUS_OK;
}

static bool needs_owner(const struct pxmsg *m) {
  if (m->data) return m->type == PX_DATA_LOAD_CHUNK;
  switch (m->type) {
    case PX_SIG_LOAD_BEGIN: case PX_SIG_LOAD_BUILTIN: case PX_SIG_EXECUTE: case PX_SIG_SUSPEND:
    case PX_SIG_RESUME: case PX_SIG_STOP: case PX_SIG_SET_PARAM: case PX_SIG_SET_MEMLIMIT:
    case PX_SIG_SET_ROUTE: case PX_SIG_RESET: case PX_SIG_STORE_GRANT:
      return true;
    default:
      return false;
  }
}

static bool input_allowed(struct dime *d, const struct pxmsg *m) {
  switch (d->in.kind) {
    case PX_ROUTE_ANY: return true;
    case PX_ROUTE_DIME: return m->src_core == d->in.core && memcmp(m->src_mac, d->in.mac, 6) == 0;
    case PX_ROUTE_ORCHESTRATOR: return m->src_core == PX_CORE_NONE && memcmp(m->src_mac, d->in.mac, 6) == 0;
    default: return false;
  }
}

static void take_owner(struct dime *d, const struct pxmsg *m) {
  d->owned = true;
  memcpy(d->owner_mac, m->src_mac, 6);
}

static void unauthorized(struct dime *d, const struct pxmsg *m, const char *why) {
  d->sec_unauth++;
  security_event(d, m, PX_SECURITY_CODE_UNAUTHORIZED, d->sec_unauth, why);
}

void agent_unauthorized(struct dime *d, const struct pxmsg *m, const char *why) { unauthorized(d, m, why); }

void agent_refuse(struct dime *d, const struct pxmsg *m, const char *why) {
  unauthorized(d, m, why);
  reply(d, m, PX_STATUS_UNAUTHORIZED, NULL, 0);
}

bool agent_route(struct dime *d, const struct pxmsg *m, bool system_scope, const struct frame_route *routes, size_t n,
                 uint32_t *refused) {
  const struct frame_route *r = NULL;
  for (size_t i = 0; i < n && !r; i++) if (routes[i].data == m->data && routes[i].type == m->type) r = &routes[i];
  if (!r) return false;
  if (system_scope) { if (!m->data) px_reply(d, m, PX_STATUS_UNSUPPORTED, NULL, 0); return true; }
  bool from_dime = m->src_core != PX_CORE_NONE;
  if (r->from == ROUTE_FROM_DIME ? !from_dime : r->from == ROUTE_FROM_ORCHESTRATOR && from_dime) {
    if (refused) (*refused)++;
    if (m->data) unauthorized(d, m, r->refusal);   /* a data frame is not answered */
    else agent_refuse(d, m, r->refusal);
    return true;
  }
  r->handle(d, m);
  return true;
}

/* Handle one authenticated frame addressed to this DIME. */
static void handle(struct dime *d, const struct pxmsg *m, bool system_scope) {
  uint8_t out[PX_MAX_PAYLOAD];
  uint32_t olen = 0;
  uint16_t st = PX_STATUS_OK;
  uint64_t t0 = rdtsc();

  if (migrate_handle(d, m)) return;   /* migrate.c: MIGRATE_*, and frames for a service that moved */
  if (m->data && m->type == PX_DATA_STREAM) {
    if (!input_allowed(d, m)) { unauthorized(d, m, "input route refuses sender"); return; }
    uint32_t n = inq_push(d, m->payload, m->plen);
    d->svc_in += n;
    return;
  }
  if (m->data && m->type == PX_DATA_STREAM_SEQ) {
    if (!input_allowed(d, m)) { unauthorized(d, m, "input route refuses sender"); return; }
    lines_input(d, m);
    return;
  }
  if (m->data && m->type == PX_DATA_STREAM_ACK) { lines_ack(d, m); return; }
  if (coll_handle(d, m, system_scope)) return;   /* collectives.c */
  if (names_handle(d, m, system_scope)) return;  /* names.c */

  uint32_t scopes, from_orch_only, req_len;
  if (m->data) {
    if (m->type != PX_DATA_LOAD_CHUNK) { reply(d, m, PX_STATUS_UNSUPPORTED, NULL, 0); return; }
    scopes = PX_LOAD_CHUNK_SCOPES; from_orch_only = PX_LOAD_CHUNK_FROM_ORCHESTRATOR_ONLY; req_len = PX_LOAD_CHUNK_REQ_LEN;
  } else {
    switch (m->type) {
#define CASE(N) case PX_SIG_##N: scopes = PX_##N##_SCOPES; from_orch_only = PX_##N##_FROM_ORCHESTRATOR_ONLY; req_len = PX_##N##_REQ_LEN; break;
      CASE(DISCOVER) CASE(SET_HEARTBEAT) CASE(SET_PERF_INTERVAL) CASE(LOAD_BEGIN) CASE(LOAD_BUILTIN)
      CASE(EXECUTE) CASE(SUSPEND) CASE(RESUME) CASE(STOP) CASE(RESET) CASE(SET_PARAM) CASE(SET_MEMLIMIT)
      CASE(SET_ROUTE) CASE(QUERY_ACCOUNTING) CASE(QUERY_PERF) CASE(QUERY_SECURITY) CASE(PING) CASE(SHUTDOWN)
      CASE(STORE_GRANT) CASE(QUERY_STORAGE) CASE(CSTORE_GRANT) CASE(QUERY_CSTORE)
#undef CASE
      default:
        reply(d, m, PX_STATUS_UNSUPPORTED, NULL, 0);
        return;
    }
  }
  if (!scope_allowed(scopes, !system_scope)) { reply(d, m, PX_STATUS_UNSUPPORTED, NULL, 0); return; }
  if (m->plen < req_len) { reply(d, m, PX_STATUS_MALFORMED, NULL, 0); return; }   /* counted as accepted: it was authentic */
  if (from_orch_only && m->src_core != PX_CORE_NONE) { agent_refuse(d, m, "DIMEs may not configure DIMEs"); return; }
  /* the owner lock: whoever loaded the service configures it (a system-scope RESET overrides) */
  bool override = system_scope && !m->data && m->type == PX_SIG_RESET;
  if (d->owned && needs_owner(m) && !override && memcmp(m->src_mac, d->owner_mac, 6) != 0) {
    agent_refuse(d, m, "not the owner of this DIME");
    return;
  }

  const uint8_t *p = m->payload;
  int32_t rec = -1;
  bool chunk = m->data;
  if (!chunk) rec = acct_open(d, m);

  if (chunk) {
    uint32_t received = 0;
    char name[16];
    strlcpy(name, d->svc, sizeof name);   /* a failed checksum discards the image and its name */
    st = svc_load_chunk(d, be32(p + PX_LOAD_CHUNK_REQ_OFFSET_OFF), p + PX_LOAD_CHUNK_REQ_LEN, m->plen - PX_LOAD_CHUNK_REQ_LEN, &received);
    put_be32(out, received);
    olen = PX_LOAD_CHUNK_RESP_LEN;
    uint32_t sent = reply(d, m, st, out, olen);
    if (st == PX_STATUS_BAD_CHECKSUM) image_refused(d, st, received, name);
    struct call_record *r = acct_get(d, d->load_rec);
    if (r) { r->bytes_in += m->len; r->bytes_out += sent; r->end_ns = now_ns(); r->cpu_ns += cycles_to_ns(rdtsc() - t0); r->status = st; }
    return;
  }

  switch (m->type) {
    case PX_SIG_DISCOVER:
      fill_discover(d, out);
      olen = PX_DISCOVER_RESP_LEN;
      break;
    case PX_SIG_SET_HEARTBEAT:
      st = set_interval(&d->heartbeat_ms, &d->next_hb_ns, p);
      break;
    case PX_SIG_SET_PERF_INTERVAL:
      st = set_interval(&d->perf_ms, &d->next_perf_ns, p);
      break;
    case PX_SIG_LOAD_BEGIN: {
      char name[16];
      copy_str(name, p + PX_LOAD_BEGIN_REQ_NAME_OFF, sizeof name);
      uint16_t chunks = 0;
      st = svc_load_begin(d, be32(p + PX_LOAD_BEGIN_REQ_SIZE_OFF), be32(p + PX_LOAD_BEGIN_REQ_CRC32_OFF), name, &chunks);
      if (st == PX_STATUS_OK) { take_owner(d, m); d->load_rec = rec; strlcpy(d->rec[rec % ACCT_RECORDS].service, name, 16); }
      put_be16(out, chunks);
      olen = PX_LOAD_BEGIN_RESP_LEN;
      break;
    }
    case PX_SIG_LOAD_BUILTIN: {
      char name[16];
      copy_str(name, p + PX_LOAD_BUILTIN_REQ_NAME_OFF, sizeof name);
      uint32_t size = 0, crc = 0;
      st = svc_load_builtin(d, name, &size, &crc);
      if (st == PX_STATUS_OK) { take_owner(d, m); strlcpy(d->rec[rec % ACCT_RECORDS].service, name, 16); }
      put_be32(out + PX_LOAD_BUILTIN_RESP_SIZE_OFF, size);
      put_be32(out + PX_LOAD_BUILTIN_RESP_CRC32_OFF, crc);
      olen = PX_LOAD_BUILTIN_RESP_LEN;
      break;
    }
    case PX_SIG_EXECUTE:
      st = svc_execute(d);
      if (st == PX_STATUS_OK) { take_owner(d, m); d->exec_rec = rec; }
      break;
    case PX_SIG_SUSPEND:
      if (d->state != PX_STATE_RUNNING) st = PX_STATUS_BAD_STATE;
      else d->state = PX_STATE_SUSPENDED;
      break;
    case PX_SIG_RESUME:
      if (d->state != PX_STATE_SUSPENDED) st = PX_STATUS_BAD_STATE;
      else d->state = PX_STATE_RUNNING;
      break;
    case PX_SIG_STOP:
      if (d->state == PX_STATE_RUNNING || d->state == PX_STATE_SUSPENDED) { d->kill_reason = PX_EXIT_REASON_STOPPED; d->kill_pending = true; }
      else if (d->state == PX_STATE_LOADING || d->state == PX_STATE_LOADED) { svc_discard(d); d->owned = false; }
      else if (d->exec_pending) { d->exec_pending = false; svc_discard(d); d->owned = false; }
      else st = PX_STATUS_BAD_STATE;
      break;
    case PX_SIG_RESET:
      if (d->state == PX_STATE_RUNNING || d->state == PX_STATE_SUSPENDED) { d->kill_reason = PX_EXIT_REASON_RESET; d->kill_pending = true; }
      else { d->exec_pending = false; svc_discard(d); }
      agent_defaults(d);
      break;
    case PX_SIG_SET_PARAM: {
      char key[16], value[64];
      copy_str(key, p + PX_SET_PARAM_REQ_KEY_OFF, sizeof key);
      copy_str(value, p + PX_SET_PARAM_REQ_VALUE_OFF, sizeof value);
      if (!key[0]) { st = PX_STATUS_MALFORMED; break; }
      struct param *slot = NULL, *free_slot = NULL;
      for (int i = 0; i < MAX_PARAMS; i++) {
        if (d->params[i].used && strcmp(d->params[i].key, key) == 0) slot = &d->params[i];
        else if (!d->params[i].used && !free_slot) free_slot = &d->params[i];
      }
      if (!value[0]) { if (slot) slot->used = false; else st = PX_STATUS_NOT_FOUND; break; }
      if (!slot) slot = free_slot;
      if (!slot) { st = PX_STATUS_NO_MEMORY; break; }
      strlcpy(slot->key, key, sizeof slot->key);
      strlcpy(slot->value, value, sizeof slot->value);
      __atomic_store_n(&slot->used, true, __ATOMIC_RELEASE);
      break;
    }
    case PX_SIG_SET_MEMLIMIT: {
      uint16_t c = be16(p);
      if (c < 1 || c > MAX_USER_CHUNKS) st = PX_STATUS_OUT_OF_RANGE;
      else d->mem_limit = c;
      break;
    }
    case PX_SIG_SET_ROUTE: {
      uint8_t dir = p[PX_SET_ROUTE_REQ_DIRECTION_OFF], kind = p[PX_SET_ROUTE_REQ_KIND_OFF];
      struct route r = {kind, be16(p + PX_SET_ROUTE_REQ_CORE_OFF), {0}};
      memcpy(r.mac, p + PX_SET_ROUTE_REQ_MAC_OFF, 6);
      bool ok = dir == PX_ROUTE_DIR_OUTPUT ? (kind <= PX_ROUTE_ORCHESTRATOR) : (dir == PX_ROUTE_DIR_INPUT && kind <= PX_ROUTE_ANY);
      if (!ok) { st = PX_STATUS_OUT_OF_RANGE; break; }
      uint64_t f = spin_lock_irqsave(&d->inq_lock);   /* readers of the route run on other cores too */
      if (dir == PX_ROUTE_DIR_OUTPUT) d->out = r; else d->in = r;
      spin_unlock_irqrestore(&d->inq_lock, f);
      if (dir == PX_ROUTE_DIR_OUTPUT) lines_route_changed(d);   /* the next stage moved: what it lacks goes there */
      break;
    }
    case PX_SIG_QUERY_ACCOUNTING: {
      uint32_t from = be32(p);
      uint32_t oldest = d->rec_total > ACCT_RECORDS ? d->rec_total - ACCT_RECORDS : 0;
      if (from < oldest) from = oldest;
      put_be32(out + PX_QUERY_ACCOUNTING_RESP_TOTAL_OFF, d->rec_total);
      put_be32(out + PX_QUERY_ACCOUNTING_RESP_OLDEST_OFF, oldest);
      olen = PX_QUERY_ACCOUNTING_RESP_LEN;
      /* the record for this very query is still open: report only earlier ones */
      for (uint32_t s = from; s + 1 < d->rec_total && olen + PX_QUERY_ACCOUNTING_RESP_REC_LEN <= PX_MAX_PAYLOAD; s++) {
        struct call_record *r = &d->rec[s % ACCT_RECORDS];
        uint8_t *q = out + olen;
        memset(q, 0, PX_QUERY_ACCOUNTING_RESP_REC_LEN);
        put_be32(q + PX_QUERY_ACCOUNTING_RESP_REC_SEQ_OFF, r->seq);
        memcpy(q + PX_QUERY_ACCOUNTING_RESP_REC_WHO_MAC_OFF, r->mac, 6);
        put_be16(q + PX_QUERY_ACCOUNTING_RESP_REC_WHO_CORE_OFF, r->core);
        q[PX_QUERY_ACCOUNTING_RESP_REC_CHANNEL_OFF] = r->channel;
        q[PX_QUERY_ACCOUNTING_RESP_REC_WHAT_OFF] = r->what;
        put_be16(q + PX_QUERY_ACCOUNTING_RESP_REC_STATUS_OFF, r->status);
        put_be64(q + PX_QUERY_ACCOUNTING_RESP_REC_START_NS_OFF, r->start_ns);
        put_be64(q + PX_QUERY_ACCOUNTING_RESP_REC_END_NS_OFF, r->end_ns);
        uint64_t cpu = r->cpu_ns;
        if ((int32_t)s == d->exec_rec && (d->state == PX_STATE_RUNNING || d->state == PX_STATE_SUSPENDED)) {
          uint64_t n2, h2;
          cpu = cpu_busy_since(d->cpu, d->svc_start_ns, d->svc_start_halted, &n2, &h2);
        }
        put_be64(q + PX_QUERY_ACCOUNTING_RESP_REC_CPU_NS_OFF, cpu);
        put_be32(q + PX_QUERY_ACCOUNTING_RESP_REC_BYTES_IN_OFF, r->bytes_in);
        put_be32(q + PX_QUERY_ACCOUNTING_RESP_REC_BYTES_OUT_OFF, r->bytes_out);
        strlcpy((char *)q + PX_QUERY_ACCOUNTING_RESP_REC_SERVICE_OFF, r->service, PX_QUERY_ACCOUNTING_RESP_REC_SERVICE_LEN);
        olen += PX_QUERY_ACCOUNTING_RESP_REC_LEN;
      }
      break;
    }
    case PX_SIG_QUERY_PERF:
      perf_fill(d, out, true);
      olen = PX_QUERY_PERF_RESP_LEN;
      break;
    case PX_SIG_QUERY_SECURITY:
      put_be32(out + PX_QUERY_SECURITY_RESP_ACCEPTED_OFF, d->sec_accepted);
      put_be32(out + PX_QUERY_SECURITY_RESP_FORGED_OFF, d->sec_forged);
      put_be32(out + PX_QUERY_SECURITY_RESP_REPLAYED_OFF, d->sec_replayed);
      put_be32(out + PX_QUERY_SECURITY_RESP_UNAUTHORIZED_OFF, d->sec_unauth);
      put_be32(out + PX_QUERY_SECURITY_RESP_MALFORMED_OFF, d->sec_malformed);
      e1000_fold_stats();
      put_be32(out + PX_QUERY_SECURITY_RESP_NIC_OVERSIZE_OFF, (uint32_t)nic_stats.rx_oversize);
      put_be32(out + PX_QUERY_SECURITY_RESP_NIC_MISSED_OFF, (uint32_t)nic_stats.rx_missed);
      put_be32(out + PX_QUERY_SECURITY_RESP_ALARMS_OFF, d->sec_alarms);
      put_be32(out + PX_QUERY_SECURITY_RESP_CHALLENGED_OFF, d->sec_challenged);
      put_be32(out + PX_QUERY_SECURITY_RESP_REPORTS_OFF, net_rx_reports);
      put_be32(out + PX_QUERY_SECURITY_RESP_INBOX_DROPPED_OFF, d->inbox_dropped);
      put_be32(out + PX_QUERY_SECURITY_RESP_IGNORED_OFF, net_rx_ignored);
      put_be32(out + PX_QUERY_SECURITY_RESP_EPOCH_CHANGES_OFF, px_epoch_changes);
      put_be64(out + PX_QUERY_SECURITY_RESP_EPOCH_NOW_OFF, px_epoch_now());
      put_be32(out + PX_QUERY_SECURITY_RESP_NIC_RUNTS_OFF, (uint32_t)nic_stats.rx_runts);
      put_be32(out + PX_QUERY_SECURITY_RESP_LINE_DUPLICATES_OFF, d->lines.dups);
      put_be32(out + PX_QUERY_SECURITY_RESP_LINE_GAPS_OFF, d->lines.gaps);
      put_be32(out + PX_QUERY_SECURITY_RESP_LINE_REFUSED_OFF, d->lines.refused);
      put_be32(out + PX_QUERY_SECURITY_RESP_LINE_ACKS_REFUSED_OFF, d->lines.acks_refused);
      put_be32(out + PX_QUERY_SECURITY_RESP_LINES_HELD_OFF, lines_held(d));
      put_be32(out + PX_QUERY_SECURITY_RESP_STORAGE_REFUSED_OFF, store_refused(d));
      olen = PX_QUERY_SECURITY_RESP_LEN;
      break;
    case PX_SIG_STORE_GRANT: {
      uint16_t grants = 0;
      st = store_grant(d, p, &grants);
      put_be16(out + PX_STORE_GRANT_RESP_GRANTS_OFF, grants);
      olen = PX_STORE_GRANT_RESP_LEN;
      break;
    }
    case PX_SIG_QUERY_STORAGE:
      store_query(d, out);
      olen = PX_QUERY_STORAGE_RESP_LEN;
      break;
    case PX_SIG_CSTORE_GRANT: {
      uint16_t exports = 0;
      st = cstore_grant(d, p, &exports);
      put_be16(out + PX_CSTORE_GRANT_RESP_EXPORTS_OFF, exports);
      olen = PX_CSTORE_GRANT_RESP_LEN;
      break;
    }
    case PX_SIG_QUERY_CSTORE:
      cstore_query(d, out);
      olen = PX_QUERY_CSTORE_RESP_LEN;
      break;
    case PX_SIG_PING:
      memcpy(out, p, 8);
      olen = PX_PING_RESP_LEN;
      break;
    case PX_SIG_SHUTDOWN:
      reply(d, m, PX_STATUS_OK, NULL, 0);
      kprintf("DIME shutdown requested (code %u)\n", p[0]);
      delay_us(20000);   /* let the NIC put the answer on the wire */
      debug_exit(p[0]);
      break;
  }
  uint32_t sent = reply(d, m, st, out, olen);
  if ((st == PX_STATUS_NO_MEMORY || st == PX_STATUS_BAD_IMAGE) &&
      (m->type == PX_SIG_LOAD_BEGIN || m->type == PX_SIG_LOAD_BUILTIN || m->type == PX_SIG_EXECUTE))
    image_refused(d, st, m->type == PX_SIG_LOAD_BEGIN ? be32(p + PX_LOAD_BEGIN_REQ_SIZE_OFF) : d->img_size,
                  m->type == PX_SIG_LOAD_BEGIN ? (const char *)"(network)" : d->svc);
  struct call_record *r = acct_get(d, rec);
  if (r) {
    r->status = st;
    r->bytes_out = sent;
    r->cpu_ns = cycles_to_ns(rdtsc() - t0);
    r->end_ns = now_ns();
    if (m->type == PX_SIG_EXECUTE && st == PX_STATUS_OK) { r->end_ns = 0; r->bytes_in = 0; r->bytes_out = 0; }
  }
}

/* Check and dispatch one inbox frame. */
static void agent_frame(struct dime *d, struct inbox_slot *s) {
  struct pxmsg m;
  uint8_t bad = px_parse(s->data, s->len, &m);
  if (!bad && s->origin == FROM_WIRE && m.scope_dime && m.dst_core != d->index) bad = PX_MALFORMED_NO_SUCH_DIME;
  if (bad) { malformed_event(d, s->data, s->len, bad); return; }
  m.origin = s->origin;
  if (s->origin == FROM_WIRE) {
    m.tag_kind = (uint8_t)px_check_tag(&m);
    if (m.tag_kind == PX_TAG_BAD) { d->sec_forged++; security_event(d, &m, PX_SECURITY_CODE_FORGED, d->sec_forged, "forged (bad tag)"); return; }
    if (m.tag_kind == PX_TAG_SERVER && m.epoch != px_epoch_now()) {
      /* not for this boot / table generation: not executed; the answer tells the current epoch */
      if (m.epoch == 0) d->sec_challenged++;
      else { d->sec_replayed++; security_event(d, &m, PX_SECURITY_CODE_REPLAYED, d->sec_replayed, "replayed (stale epoch)"); }
      reply(d, &m, PX_STATUS_STALE_EPOCH, NULL, 0);
      return;
    }
    if (!replay_check_and_update(d, &m)) { d->sec_replayed++; security_event(d, &m, PX_SECURITY_CODE_REPLAYED, d->sec_replayed, "replayed (old sequence)"); return; }
  }
  /* an export server's answer to this DIME's central storage request (cstore.c) */
  if (cstore_response(d, &m)) { d->sec_accepted++; d->frames_in++; d->bytes_in += m.len; return; }
  if (m.flags & (PX_FLAG_RESPONSE | PX_FLAG_EVENT)) { net_rx_reports++; return; }   /* reports are for orchestrators */
  if (s->origin != FROM_FANOUT) d->sec_accepted++;
  /* the network key (held by every server) may only ask read-only questions in an orchestrator's name */
  if (s->origin == FROM_WIRE && m.tag_kind == PX_TAG_NET && m.src_core == PX_CORE_NONE &&
      (m.data || (m.type != PX_SIG_DISCOVER && m.type != PX_SIG_PING))) {
    agent_refuse(d, &m, "network key: read-only");
    return;
  }
  if (!m.scope_dime && s->origin != FROM_FANOUT) {
    /* whole-system instruction, checked once here on DIME 0, then one copy per DIME */
    if (!m.data && m.type == PX_SIG_SHUTDOWN) { handle(d, &m, true); return; }
    for (uint32_t i = 0; i < ncpus; i++) inbox_put(&dimes[i], s->data, s->len, FROM_FANOUT);
    return;
  }
  d->frames_in++;
  d->bytes_in += m.len;
  handle(d, &m, !m.scope_dime);
}

/* VEC_INBOX: drain this DIME's inbox. */
void agent_inbox(struct dime *d) {
  if (d->in_agent) return;   /* a nested wake-up; the outer loop will see the new frames */
  d->in_agent = 1;
  while (d->ib_tail != __atomic_load_n(&d->ib_head, __ATOMIC_ACQUIRE)) {
    agent_frame(d, &d->inbox[d->ib_tail % INBOX_SLOTS]);
    __atomic_store_n(&d->ib_tail, d->ib_tail + 1, __ATOMIC_RELEASE);
    /* a service about to start or to end: let that happen before the next frame, so whatever
     * follows the answer sees it done on every machine (svc_enter / svc_end re-raise the inbox) */
    if (d->kill_pending || (d->exec_pending && d->state == PX_STATE_RUNNING)) break;
  }
  d->in_agent = 0;
}

/* Local timer: heartbeats and performance broadcasts of this DIME. */
void agent_tick(struct dime *d) {
  uint64_t now = now_ns();
  lines_tick(d, now);
  coll_tick(d, now);
  names_tick(d, now);
  if (d->heartbeat_ms && now >= d->next_hb_ns) {
    d->next_hb_ns += (uint64_t)d->heartbeat_ms * 1000000ULL;
    if (d->next_hb_ns <= now) d->next_hb_ns = now + (uint64_t)d->heartbeat_ms * 1000000ULL;
    if (!d->hb_muted) {
      uint8_t p[PX_HEARTBEAT_REQ_LEN];
      memset(p, 0, sizeof p);
      uint64_t n2, halted;
      uint64_t busy = cpu_busy_since(d->cpu, d->hb_last_ns, d->hb_last_halted, &n2, &halted);
      put_be16(p + PX_HEARTBEAT_REQ_DIME_OFF, (uint16_t)d->index);
      p[PX_HEARTBEAT_REQ_STATE_OFF] = (uint8_t)d->state;
      put_be32(p + PX_HEARTBEAT_REQ_BEAT_OFF, ++d->beats);
      put_be64(p + PX_HEARTBEAT_REQ_UPTIME_NS_OFF, now);
      put_be32(p + PX_HEARTBEAT_REQ_INTERVAL_MS_OFF, d->heartbeat_ms);
      put_be16(p + PX_HEARTBEAT_REQ_CPU_PERMILLE_OFF, permille(busy, n2 - d->hb_last_ns));
      put_be16(p + PX_HEARTBEAT_REQ_MEM_USED_OFF, (uint16_t)d->nchunks);
      strlcpy((char *)p + PX_HEARTBEAT_REQ_SERVICE_OFF, d->svc, PX_HEARTBEAT_REQ_SERVICE_LEN);
      d->hb_last_ns = n2;
      d->hb_last_halted = halted;
      px_event(d, PX_SIG_HEARTBEAT, p, sizeof p);
    }
  }
  if (d->perf_ms && now >= d->next_perf_ns) {
    d->next_perf_ns += (uint64_t)d->perf_ms * 1000000ULL;
    if (d->next_perf_ns <= now) d->next_perf_ns = now + (uint64_t)d->perf_ms * 1000000ULL;
    uint8_t p[PX_PERF_REQ_LEN];
    perf_fill(d, p, true);
    px_event(d, PX_SIG_PERF, p, sizeof p);
  }
}
