/* Central storage client: a service's file calls on "@name" become CSTORE_* requests to the
 * orchestrator that exports `name` (docs/STORAGE.md, "Central storage"). The protocol is
 * stateless and idempotent, AoE-like: every request names the export and the byte range, so
 * a request whose answer did not come is simply sent again (same reqId, new sequence number)
 * and the server answers a repeat from its cache. A call keeps at most PX_CSTORE_WINDOW
 * requests in flight, resends each after a timeout that doubles, and gives up (DIME_EIO)
 * after CSTORE_GIVE_UP_NS. Answers are taken by the agent on the DIME's own core (inbox IPI)
 * while the system call waits halted, so everything here is per DIME and lock-free. */
#include "dime.h"
#include "store.h"
#include "cstore.h"
#include "rights.h"
#include "sdk_abi.h"

#define MAX_CHANDLES 8
#define EXPORT_NAME_LEN RIGHTS_KEY_LEN
_Static_assert(PX_CSTORE_GRANT_REQ_NAME_LEN == RIGHTS_KEY_LEN, "an export's name is a rights key");
#define RTO_FIRST_NS 200000000ULL          /* first resend after 200 ms (an emulated LAN on a loaded host) */
#define RTO_MAX_NS 2000000000ULL
#define CSTORE_GIVE_UP_NS 20000000000ULL   /* 20 s without an answer to one request */

struct chandle { bool used; uint8_t mode, exp; uint64_t pos, size; };
struct request {
  volatile bool used, done;
  uint8_t type;
  uint32_t req_id;
  uint64_t off;
  uint32_t len;
  uint8_t *buf;                  /* the service's bytes (its window is mapped on this core) */
  uint64_t first_ns, sent_ns, rto_ns;
  volatile uint16_t status;
  volatile uint32_t got;
  volatile uint64_t size;
};
struct dime_cstore {
  struct rights_table exports;      /* key: the export's name, peer: its server */
  struct chandle h[MAX_CHANDLES];
  struct request req[PX_CSTORE_WINDOW];
  uint32_t next_req_id;
  struct file_counts io;
  uint32_t requests, resent, late, refused, errors;
};
static struct dime_cstore per_dime[MAX_CPUS];
static inline struct dime_cstore *cs(struct dime *d) { return &per_dime[d->index]; }

/* ---------------- configuration (agent) ---------------- */

void cstore_reset(struct dime *d) { rights_reset(&cs(d)->exports); }

uint16_t cstore_grant(struct dime *d, const uint8_t *req, uint16_t *exports) {
  struct rights_table *t = &cs(d)->exports;
  struct rights_entry *e;
  uint16_t st = rights_set(t, req + PX_CSTORE_GRANT_REQ_NAME_OFF, req[PX_CSTORE_GRANT_REQ_RIGHTS_OFF], true, &e);
  if (e) memcpy(e->peer, req + PX_CSTORE_GRANT_REQ_SERVER_OFF, 6);
  *exports = rights_count(t);
  return st;
}

void cstore_query(struct dime *d, uint8_t *p) {
  struct dime_cstore *s = cs(d);
  memset(p, 0, PX_QUERY_CSTORE_RESP_LEN);
  put_be16(p + PX_QUERY_CSTORE_RESP_DIME_OFF, (uint16_t)d->index);
  put_be16(p + PX_QUERY_CSTORE_RESP_EXPORTS_OFF, rights_count(&s->exports));
  file_counts_put(p, &s->io);
  put_be32(p + PX_QUERY_CSTORE_RESP_REQUESTS_OFF, s->requests);
  put_be32(p + PX_QUERY_CSTORE_RESP_RESENT_OFF, s->resent);
  put_be32(p + PX_QUERY_CSTORE_RESP_LATE_ANSWERS_OFF, s->late);
  put_be32(p + PX_QUERY_CSTORE_RESP_REFUSED_OFF, s->refused);
  put_be32(p + PX_QUERY_CSTORE_RESP_ERRORS_OFF, s->errors);
}

/* ---------------- answers (agent, on this core, while the call waits) ---------------- */

static bool cstore_type(uint8_t t) { return t >= PX_DATA_CSTORE_OPEN && t <= PX_DATA_CSTORE_FLUSH; }

bool cstore_response(struct dime *d, const struct pxmsg *m) {
  if (!m->data || !(m->flags & PX_FLAG_RESPONSE) || !cstore_type(m->type)) return false;
  struct dime_cstore *s = cs(d);
  /* only the export's server, signed with this server's key (the network key is every server's) */
  struct request *r = NULL;
  for (int i = 0; i < PX_CSTORE_WINDOW && !r; i++)
    if (s->req[i].used && !s->req[i].done && s->req[i].req_id == m->req_id && s->req[i].type == m->type) r = &s->req[i];
  struct rights_entry *e = NULL;
  if (r) for (int i = 0; i < RIGHTS_MAX && !e; i++) if (s->exports.e[i].rights && memcmp(s->exports.e[i].peer, m->src_mac, 6) == 0) e = &s->exports.e[i];
  if (!r || !e || m->origin != FROM_WIRE || m->tag_kind != PX_TAG_SERVER || m->src_core != PX_CORE_NONE) { s->late++; return true; }
  const uint8_t *p = m->payload;
  uint16_t st = m->status;
  if (st == PX_STATUS_OK) {
    switch (m->type) {
      case PX_DATA_CSTORE_OPEN:
        if (m->plen < PX_CSTORE_OPEN_RESP_LEN) { st = PX_STATUS_MALFORMED; break; }
        r->size = be64(p + PX_CSTORE_OPEN_RESP_SIZE_OFF);
        break;
      case PX_DATA_CSTORE_READ: {
        uint32_t n = m->plen >= PX_CSTORE_READ_RESP_LEN ? m->plen - PX_CSTORE_READ_RESP_LEN : 0;
        if (m->plen < PX_CSTORE_READ_RESP_LEN || be64(p + PX_CSTORE_READ_RESP_OFFSET_OFF) != r->off || n > r->len) { st = PX_STATUS_MALFORMED; break; }
        memcpy(r->buf, p + PX_CSTORE_READ_RESP_LEN, n);
        r->got = n;
        r->size = be64(p + PX_CSTORE_READ_RESP_SIZE_OFF);
        break;
      }
      case PX_DATA_CSTORE_WRITE:
        if (m->plen < PX_CSTORE_WRITE_RESP_LEN) { st = PX_STATUS_MALFORMED; break; }
        r->size = be64(p + PX_CSTORE_WRITE_RESP_SIZE_OFF);
        r->got = r->len;
        break;
      default:
        if (m->plen >= PX_CSTORE_FLUSH_RESP_LEN) r->size = be64(p + PX_CSTORE_FLUSH_RESP_SIZE_OFF);
        break;
    }
  }
  r->status = st;
  __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
  return true;
}

/* ---------------- requests (the system call, on this core) ---------------- */

_Static_assert(PX_CSTORE_WRITE_REQ_OFFSET_OFF == PX_CSTORE_READ_REQ_OFFSET_OFF && PX_CSTORE_WRITE_REQ_LEN_OFF == PX_CSTORE_READ_REQ_LEN_OFF &&
               PX_CSTORE_WRITE_REQ_NAME_OFF == PX_CSTORE_READ_REQ_NAME_OFF && PX_CSTORE_WRITE_REQ_NAME_LEN == PX_CSTORE_READ_REQ_NAME_LEN &&
               PX_CSTORE_WRITE_REQ_DATA_OFF == PX_CSTORE_READ_REQ_LEN && PX_CSTORE_WRITE_REQ_LEN == PX_CSTORE_READ_REQ_LEN,
               "READ and WRITE requests share their header");

static void send_request(struct dime *d, struct rights_entry *e, struct request *r, uint8_t mode) {
  uint8_t p[PX_MAX_PAYLOAD];
  uint32_t n;
  memset(p, 0, PX_CSTORE_WRITE_REQ_LEN);
  switch (r->type) {
    case PX_DATA_CSTORE_OPEN:
      p[PX_CSTORE_OPEN_REQ_MODE_OFF] = mode;
      strlcpy((char *)p + PX_CSTORE_OPEN_REQ_NAME_OFF, e->key, PX_CSTORE_OPEN_REQ_NAME_LEN);
      n = PX_CSTORE_OPEN_REQ_LEN;
      break;
    case PX_DATA_CSTORE_READ:
    case PX_DATA_CSTORE_WRITE:   /* one ranged header (asserted below); a WRITE carries the bytes after it */
      put_be64(p + PX_CSTORE_READ_REQ_OFFSET_OFF, r->off);
      put_be16(p + PX_CSTORE_READ_REQ_LEN_OFF, (uint16_t)r->len);
      strlcpy((char *)p + PX_CSTORE_READ_REQ_NAME_OFF, e->key, PX_CSTORE_READ_REQ_NAME_LEN);
      n = PX_CSTORE_READ_REQ_LEN;
      if (r->type == PX_DATA_CSTORE_WRITE) {
        memcpy(p + PX_CSTORE_WRITE_REQ_DATA_OFF, r->buf, r->len);
        n = PX_CSTORE_WRITE_REQ_DATA_OFF + r->len;
      }
      break;
    default:
      strlcpy((char *)p + PX_CSTORE_FLUSH_REQ_NAME_OFF, e->key, PX_CSTORE_FLUSH_REQ_NAME_LEN);
      n = PX_CSTORE_FLUSH_REQ_LEN;
      break;
  }
  uint8_t frame[PX_MAX_FRAME_LEN];
  /* a fresh sequence number every time: the server's replay guard drops a frame sent twice */
  uint32_t len = px_build(d, frame, e->peer, true, true, r->type, 0, PX_CORE_NONE, r->req_id, 0, p, n);
  px_send(d, frame, len);
  r->sent_ns = now_ns();
}

static void forget_requests(struct dime_cstore *s) {
  for (int i = 0; i < PX_CSTORE_WINDOW; i++) s->req[i].used = false;
}

static int64_t status_error(struct dime *d, struct rights_entry *e, uint16_t st, uint8_t want) {
  if (st == PX_STATUS_UNAUTHORIZED) {
    char name[EXPORT_NAME_LEN + 1] = "@";
    strlcpy(name + 1, e->key, EXPORT_NAME_LEN);
    cs(d)->refused++;
    return store_refuse_access(d, name, want);
  }
  if (st == PX_STATUS_NOT_FOUND) return DIME_ENOENT;
  if (st == PX_STATUS_OUT_OF_RANGE) return DIME_ENOSPC;
  if (st == PX_STATUS_MALFORMED) return DIME_EINVAL;
  return DIME_EIO;
}

/* One operation on export `e`: OPEN or FLUSH (one request), or READ/WRITE of [off, off+len)
 * in PX_CSTORE_CHUNK pieces, at most PX_CSTORE_WINDOW in flight. Returns the bytes done
 * (READ: up to the first short answer, the end of the export), or a DIME_E*. */
static int64_t run(struct dime *d, struct rights_entry *e, uint8_t type, uint8_t mode, uint64_t off, uint8_t *buf, uint64_t len,
                   uint64_t *size) {
  struct dime_cstore *s = cs(d);
  bool ranged = type == PX_DATA_CSTORE_READ || type == PX_DATA_CSTORE_WRITE;
  uint64_t chunks = ranged ? (len + PX_CSTORE_CHUNK - 1) / PX_CSTORE_CHUNK : 1;
  uint64_t issued = 0, finished = 0, short_chunk = chunks;
  uint32_t short_got = 0;
  uint16_t failed = PX_STATUS_OK;
  bool timed_out = false;
  while (finished < chunks && failed == PX_STATUS_OK && !timed_out) {
    for (int i = 0; i < PX_CSTORE_WINDOW && issued < chunks; i++) {
      struct request *r = &s->req[i];
      if (r->used) continue;
      uint64_t at = issued * PX_CSTORE_CHUNK;
      r->type = type;
      r->req_id = ++s->next_req_id;
      r->off = off + at;
      r->len = ranged ? (uint32_t)(len - at < PX_CSTORE_CHUNK ? len - at : PX_CSTORE_CHUNK) : 0;
      r->buf = buf + at;
      r->got = 0;
      r->status = PX_STATUS_OK;
      r->done = false;
      r->first_ns = now_ns();
      r->rto_ns = RTO_FIRST_NS;
      r->used = true;
      s->requests++;
      send_request(d, e, r, mode);
      issued++;
    }
    bool progress = false;
    uint64_t now = now_ns();
    for (int i = 0; i < PX_CSTORE_WINDOW; i++) {
      struct request *r = &s->req[i];
      if (!r->used) continue;
      if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
        uint64_t idx = (r->off - off) / PX_CSTORE_CHUNK;
        if (r->status != PX_STATUS_OK && failed == PX_STATUS_OK) failed = r->status;
        if (r->status == PX_STATUS_OK) {
          *size = r->size;
          if (type == PX_DATA_CSTORE_READ && r->got < r->len && idx < short_chunk) { short_chunk = idx; short_got = r->got; }
        }
        r->used = false;
        finished++;
        progress = true;
      } else if (now - r->sent_ns >= r->rto_ns) {
        if (now - r->first_ns >= CSTORE_GIVE_UP_NS) { timed_out = true; continue; }
        r->rto_ns = r->rto_ns * 2 > RTO_MAX_NS ? RTO_MAX_NS : r->rto_ns * 2;
        s->resent++;
        send_request(d, e, r, mode);
      }
    }
    if (!progress && finished < chunks && failed == PX_STATUS_OK && !timed_out) {
      if (d->kill_pending) { forget_requests(s); svc_end(d, d->kill_reason, 0); }
      cpu_halt_wait(d->cpu);
    }
  }
  forget_requests(s);   /* anything still in flight was given up: its answer will count as late */
  if (timed_out) { kprintf("DIME %u cstore: '%s' does not answer\n", d->index, e->key); return DIME_EIO; }
  if (failed != PX_STATUS_OK) {
    uint8_t want = type == PX_DATA_CSTORE_READ ? PX_STORE_RIGHT_READ : PX_STORE_RIGHT_WRITE;
    if (type == PX_DATA_CSTORE_OPEN) want = mode & (DIME_O_WRITE | DIME_O_CREATE | DIME_O_TRUNC) ? PX_STORE_RIGHT_WRITE : PX_STORE_RIGHT_READ;
    return status_error(d, e, failed, want);
  }
  if (type == PX_DATA_CSTORE_READ && short_chunk < chunks) return (int64_t)(short_chunk * PX_CSTORE_CHUNK + short_got);
  return (int64_t)len;
}

/* ---------------- system calls ---------------- */

static struct chandle *handle_of(struct dime *d, uint64_t h) {
  return h >= CSTORE_HANDLE_BASE && h < CSTORE_HANDLE_BASE + MAX_CHANDLES && cs(d)->h[h - CSTORE_HANDLE_BASE].used
             ? &cs(d)->h[h - CSTORE_HANDLE_BASE] : NULL;
}

bool cstore_claims(struct dime *d, uint64_t nr, uint64_t a0) {
  if (nr == SYS_FOPEN || nr == SYS_FREMOVE) return store_user_ok(d, a0, 1) && *(const char *)a0 == '@';
  if (nr == SYS_FREAD || nr == SYS_FWRITE || nr == SYS_FCLOSE || nr == SYS_FSEEK)
    return a0 >= CSTORE_HANDLE_BASE && a0 < CSTORE_HANDLE_BASE + MAX_CHANDLES;
  return false;
}

static int64_t do_open(struct dime *d, uint64_t uname, uint64_t mode) {
  struct dime_cstore *s = cs(d);
  char name[STORE_NAME_LEN];
  if (!store_user_name(d, uname, name) || strlen(name) < 2 || strlen(name) > EXPORT_NAME_LEN || (mode & ~0x1Full) ||
      !(mode & (DIME_O_READ | DIME_O_WRITE)) || (mode & DIME_O_APPEND))
    return DIME_EINVAL;   /* APPEND is not idempotent: not offered centrally */
  uint8_t want = store_open_rights(mode);
  int ei = -1;
  for (int i = 0; i < RIGHTS_MAX && ei < 0; i++) if (s->exports.e[i].rights && strcmp(s->exports.e[i].key, name + 1) == 0) ei = i;
  if (ei < 0 || (s->exports.e[ei].rights & want) != want) { s->refused++; return store_refuse_access(d, name, want); }
  int hi = -1;
  for (int i = 0; i < MAX_CHANDLES && hi < 0; i++) if (!s->h[i].used) hi = i;
  if (hi < 0) return DIME_EMFILE;
  uint64_t size = 0;
  int64_t r = run(d, &s->exports.e[ei], PX_DATA_CSTORE_OPEN, (uint8_t)mode, 0, NULL, 0, &size);
  if (r < 0) return r;
  s->h[hi] = (struct chandle){true, (uint8_t)mode, (uint8_t)ei, 0, size};
  s->io.opens++;
  return CSTORE_HANDLE_BASE + hi;
}

static int64_t do_io(struct dime *d, uint64_t h, uint64_t buf, uint64_t len, bool write) {
  struct dime_cstore *s = cs(d);
  struct chandle *hp = handle_of(d, h);
  if (!hp || !(hp->mode & (write ? DIME_O_WRITE : DIME_O_READ))) return DIME_EBADF;
  if (!store_user_ok(d, buf, len) || len > (1u << 30)) return DIME_EINVAL;
  struct rights_entry *e = &s->exports.e[hp->exp];
  if (!e->rights) return DIME_EBADF;   /* the export was withdrawn */
  if (!write && hp->pos + len > hp->size) {
    /* ask only for what the export held at the last answer; at its end, one request to see whether it grew */
    uint64_t room = hp->size > hp->pos ? hp->size - hp->pos : 0;
    len = room ? room : (len < PX_CSTORE_CHUNK ? len : PX_CSTORE_CHUNK);
  }
  uint64_t size = hp->size;
  int64_t r = run(d, e, write ? PX_DATA_CSTORE_WRITE : PX_DATA_CSTORE_READ, hp->mode, hp->pos, (uint8_t *)buf, len, &size);
  if (r < 0) return r;
  hp->size = size;
  hp->pos += (uint64_t)r;
  file_counts_io(&s->io, write, (uint64_t)r);
  return r;
}

static int64_t do_close(struct dime *d, uint64_t h) {
  struct dime_cstore *s = cs(d);
  struct chandle *hp = handle_of(d, h);
  if (!hp) return DIME_EBADF;
  int64_t r = 0;
  if ((hp->mode & DIME_O_WRITE) && s->exports.e[hp->exp].rights) {
    uint64_t size = 0;
    r = run(d, &s->exports.e[hp->exp], PX_DATA_CSTORE_FLUSH, 0, 0, NULL, 0, &size);
  }
  hp->used = false;
  return r < 0 ? r : 0;
}

int64_t cstore_syscall(struct dime *d, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2) {
  int64_t r;
  switch (nr) {
    case SYS_FOPEN: r = do_open(d, a0, a1); break;
    case SYS_FREAD: r = do_io(d, a0, a1, a2, false); break;
    case SYS_FWRITE: r = do_io(d, a0, a1, a2, true); break;
    case SYS_FCLOSE: r = do_close(d, a0); break;
    case SYS_FSEEK: {
      struct chandle *hp = handle_of(d, a0);
      r = hp ? (int64_t)(hp->pos = a1) : DIME_EBADF;
      break;
    }
    default: r = DIME_EINVAL; break;   /* removing an export is the orchestrator's business */
  }
  if (r < 0 && r != DIME_EACCES) cs(d)->errors++;
  return r;
}

void cstore_service_ended(struct dime *d) {
  struct dime_cstore *s = cs(d);
  for (int i = 0; i < MAX_CHANDLES; i++) s->h[i].used = false;
  forget_requests(s);
}
