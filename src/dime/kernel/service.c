/* Services: one ring-3 program per DIME, no time slicing. Loading (network or built-in),
 * starting, ending (exit, stop, fault) and the system calls they make. */
#include "dime.h"
#include "sdk_abi.h"
#include "store.h"
#include "cstore.h"
#include "coll_syscall.h"

struct builtin { const char *name; const uint8_t *start, *end; };
extern const struct builtin builtin_services[];
extern const uint32_t builtin_service_count;

static uint64_t user_top(struct dime *d) { return USER_BASE + (uint64_t)d->nchunks * CHUNK_SIZE; }

/* Free every chunk of the DIME (its program's memory goes back to the pool). */
void svc_discard(struct dime *d) {
  if (this_cpu() == d->cpu) user_unmap_all(d->cpu);
  if (d->mig.stage) { chunk_free(d->index, d->mig.stage); d->mig.stage = 0; }
  d->mig.importing = false;
  for (uint32_t i = 0; i < d->nchunks; i++) chunk_free(d->index, d->chunk[i]);
  d->nchunks = 0;
  d->img_size = d->img_received = d->img_crc = 0;
  d->svc[0] = 0;
  d->load_rec = -1;
  d->exec_pending = false;
  d->state = PX_STATE_IDLE;
}

static bool grow(struct dime *d, uint32_t chunks) {
  if (d->nchunks + chunks > d->mem_limit) return false;
  for (uint32_t i = 0; i < chunks; i++) {
    uint64_t c = chunk_alloc(d->index);
    if (!c) return false;
    d->chunk[d->nchunks++] = c;
  }
  return true;
}

static uint16_t reserve_image(struct dime *d, uint32_t size, const char *name) {
  if (d->state == PX_STATE_RUNNING || d->state == PX_STATE_SUSPENDED || d->exec_pending || d->mig.incoming) return PX_STATUS_BAD_STATE;
  svc_discard(d);
  migrate_forget(d);
  if (size < PX_IMAGE_HEADER_LEN) return PX_STATUS_BAD_IMAGE;
  uint32_t chunks = (uint32_t)((size + CHUNK_SIZE - 1) / CHUNK_SIZE);
  if (chunks > d->mem_limit) return PX_STATUS_NO_MEMORY;
  if (!grow(d, chunks)) { svc_discard(d); return PX_STATUS_NO_MEMORY; }
  d->img_size = size;
  d->img_received = 0;
  strlcpy(d->svc, name, sizeof d->svc);
  return PX_STATUS_OK;
}

static void image_write(struct dime *d, uint32_t off, const uint8_t *src, uint32_t n) {
  while (n) {
    uint32_t ci = off / CHUNK_SIZE, co = off % CHUNK_SIZE;
    uint32_t take = CHUNK_SIZE - co < n ? CHUNK_SIZE - co : n;
    memcpy((uint8_t *)d->chunk[ci] + co, src, take);
    off += take; src += take; n -= take;
  }
}

static uint32_t image_crc(struct dime *d) {
  uint32_t crc = 0, left = d->img_size;
  for (uint32_t i = 0; left; i++) {
    uint32_t take = left < CHUNK_SIZE ? left : CHUNK_SIZE;
    crc = crc32_update(crc, (const void *)d->chunk[i], take);
    left -= take;
  }
  return crc;
}

uint16_t svc_load_begin(struct dime *d, uint32_t size, uint32_t crc, const char *name, uint16_t *chunks) {
  uint16_t st = reserve_image(d, size, name);
  if (st) return st;
  d->img_crc = crc;
  d->state = PX_STATE_LOADING;
  *chunks = (uint16_t)d->nchunks;
  return PX_STATUS_OK;
}

uint16_t svc_load_chunk(struct dime *d, uint32_t off, const uint8_t *data, uint32_t n, uint32_t *received) {
  *received = d->img_received;
  if (d->state == PX_STATE_LOADED && off + n <= d->img_size) return PX_STATUS_OK;   /* late duplicate */
  if (d->state != PX_STATE_LOADING) return PX_STATUS_BAD_STATE;
  if (off + n > d->img_size || off + n < off) return PX_STATUS_OUT_OF_RANGE;
  if (off + n <= d->img_received) return PX_STATUS_OK;                              /* duplicate */
  if (off > d->img_received) return PX_STATUS_OUT_OF_RANGE;                          /* gap: resend from received */
  uint32_t skip = d->img_received - off;
  image_write(d, d->img_received, data + skip, n - skip);
  d->img_received += n - skip;
  *received = d->img_received;
  if (d->img_received == d->img_size) {
    if (image_crc(d) != d->img_crc) {
      kprintf("DIME %u: image '%s' failed its checksum, discarded\n", d->index, d->svc);
      svc_discard(d);
      return PX_STATUS_BAD_CHECKSUM;
    }
    d->state = PX_STATE_LOADED;
  }
  return PX_STATUS_OK;
}

uint16_t svc_load_builtin(struct dime *d, const char *name, uint32_t *size, uint32_t *crc) {
  for (uint32_t i = 0; i < builtin_service_count; i++) {
    const struct builtin *b = &builtin_services[i];
    if (strcmp(b->name, name) != 0) continue;
    uint32_t n = (uint32_t)(b->end - b->start);
    uint16_t st = reserve_image(d, n, name);
    if (st) return st;
    image_write(d, 0, b->start, n);
    d->img_received = n;
    d->img_crc = image_crc(d);
    d->state = PX_STATE_LOADED;
    *size = n;
    *crc = d->img_crc;
    return PX_STATUS_OK;
  }
  return PX_STATUS_NOT_FOUND;
}

/* LOADED -> RUNNING: check the header, reserve data + stack. The idle loop jumps in. */
uint16_t svc_execute(struct dime *d) {
  if (d->state != PX_STATE_LOADED || d->exec_pending) return PX_STATUS_BAD_STATE;
  const uint8_t *h = (const uint8_t *)d->chunk[0];
  uint32_t magic = *(const uint32_t *)(h + PX_IMAGE_MAGIC_OFF);
  uint64_t entry = *(const uint64_t *)(h + PX_IMAGE_ENTRY_OFF);
  uint32_t mem = *(const uint32_t *)(h + PX_IMAGE_MEM_LEN_OFF), stack = *(const uint32_t *)(h + PX_IMAGE_STACK_LEN_OFF);
  uint32_t ilen = *(const uint32_t *)(h + PX_IMAGE_IMAGE_LEN_OFF);
  if (magic != PX_IMAGE_MAGIC || ilen > d->img_size || mem < ilen || entry < USER_BASE + PX_IMAGE_HEADER_LEN ||
      entry >= USER_BASE + ilen || stack > 64u * 1024 * 1024)
    return PX_STATUS_BAD_IMAGE;
  uint32_t text = *(const uint32_t *)(h + PX_IMAGE_TEXT_LEN_OFF);
  if (text > ilen) return PX_STATUS_BAD_IMAGE;
  d->text_len = text ? text : ilen;   /* 0: an image from before NX, all of it code */
  uint64_t need = ALIGN_UP((uint64_t)mem, 4096) + ALIGN_UP((uint64_t)(stack ? stack : 65536), 4096);
  uint32_t chunks = (uint32_t)((need + CHUNK_SIZE - 1) / CHUNK_SIZE);
  if (chunks > d->mem_limit) return PX_STATUS_NO_MEMORY;
  if (chunks > d->nchunks && !grow(d, chunks - d->nchunks)) return PX_STATUS_NO_MEMORY;
  /* bytes past the file image were zeroed when the chunks were allocated, except a
   * reloaded image's tail: clear [image, mem) */
  for (uint32_t off = d->img_size; off < mem;) {
    uint32_t ci = off / CHUNK_SIZE, co = off % CHUNK_SIZE;
    uint32_t take = CHUNK_SIZE - co < mem - off ? CHUNK_SIZE - co : mem - off;
    memset((uint8_t *)d->chunk[ci] + co, 0, take);
    off += take;
  }
  /* fresh input queue now, not when the core gets there: input sent right after the
   * EXECUTE answer must reach the service */
  uint64_t f = spin_lock_irqsave(&d->inq_lock);
  d->inq_head = d->inq_tail = 0;
  spin_unlock_irqrestore(&d->inq_lock, f);
  d->svc_in = d->svc_out = 0;
  lines_reset(d);
  /* from this answer on the DIME reports the service running (whatever follows the answer
   * must see that on every machine, however slow); its core enters it from the idle loop */
  uint64_t now;
  cpu_busy_since(d->cpu, 0, 0, &now, &d->svc_start_halted);
  d->svc_start_ns = now;
  d->kill_pending = false;
  d->exec_pending = true;
  d->state = PX_STATE_RUNNING;
  return PX_STATUS_OK;
}

/* Runs in the idle loop of the DIME's own core. */
void svc_enter(struct dime *d) {
  struct cpu *c = d->cpu;
  d->exec_pending = false;
  if (d->kill_pending) svc_end(d, d->kill_reason, 0);   /* stopped before it got the core */
  for (uint32_t i = 0; i < d->nchunks; i++) user_map_chunk(c, i, d->chunk[i], d->text_len);
  if (d->mig.resume_ctx) {   /* migrated here: on where it was frozen (ring 3 only, IF on, IOPL 0) */
    d->mig.resume_ctx = false;
    d->mig.ctx.cs = SEL_UCODE | 3;
    d->mig.ctx.ss = SEL_UDATA | 3;
    d->mig.ctx.rflags = (d->mig.ctx.rflags & ~0x3000ULL) | 0x202;
    kprintf("DIME %u: resuming '%s' (migrated here)\n", d->index, d->svc);
    inbox_rearm(d);
    resume_user(&d->mig.ctx, c->kstack_top);
  }
  uint64_t entry = *(const uint64_t *)((const uint8_t *)d->chunk[0] + PX_IMAGE_ENTRY_OFF);
  kprintf("DIME %u: running '%s'\n", d->index, d->svc);
  inbox_rearm(d);
  enter_user(entry, user_top(d) & ~0xFULL, ((uint64_t)ncpus << 16) | d->index, c->kstack_top);
}

void svc_end(struct dime *d, uint8_t reason, int32_t code) {
  struct cpu *c = d->cpu;
  irq_disable();
  uint64_t now, halted;
  uint64_t cpu = cpu_busy_since(c, d->svc_start_ns, d->svc_start_halted, &now, &halted);
  d->svc_cpu_ns = cpu;
  uint8_t p[PX_SERVICE_EXIT_REQ_LEN];
  memset(p, 0, sizeof p);
  put_be16(p + PX_SERVICE_EXIT_REQ_DIME_OFF, (uint16_t)d->index);
  p[PX_SERVICE_EXIT_REQ_REASON_OFF] = reason;
  put_be32(p + PX_SERVICE_EXIT_REQ_EXIT_CODE_OFF, (uint32_t)code);
  put_be64(p + PX_SERVICE_EXIT_REQ_RUN_NS_OFF, now - d->svc_start_ns);
  put_be64(p + PX_SERVICE_EXIT_REQ_CPU_NS_OFF, cpu);
  put_be64(p + PX_SERVICE_EXIT_REQ_BYTES_IN_OFF, d->svc_in);
  put_be64(p + PX_SERVICE_EXIT_REQ_BYTES_OUT_OFF, d->svc_out);
  strlcpy((char *)p + PX_SERVICE_EXIT_REQ_SERVICE_OFF, d->svc, PX_SERVICE_EXIT_REQ_SERVICE_LEN);
  if (d->exec_rec >= 0 && (uint32_t)d->exec_rec < d->rec_total && d->rec_total - (uint32_t)d->exec_rec <= ACCT_RECORDS) {
    struct call_record *r = &d->rec[(uint32_t)d->exec_rec % ACCT_RECORDS];
    r->end_ns = now;
    r->cpu_ns = cpu;
    r->bytes_in = (uint32_t)d->svc_in;
    r->bytes_out = (uint32_t)d->svc_out;
    r->status = (uint16_t)(0x100 | reason);
  }
  d->exec_rec = -1;
  static const char *why[] = {"exited", "stopped", "faulted", "reset"};
  kprintf("DIME %u: '%s' %s (code %d), cpu %lu us, memory returned\n", d->index, d->svc, why[reason & 3], code, cpu / 1000);
  px_event(d, PX_SIG_SERVICE_EXIT, p, sizeof p);
  d->kill_pending = false;
  d->hb_muted = false;
  store_service_ended(d);
  cstore_service_ended(d);
  svc_discard(d);
  if (reason != PX_EXIT_REASON_RESET) d->owned = false;   /* a finished DIME goes back to the pool */
  inbox_rearm(d);
  restart_idle(c->kstack_top);
}

/* CPU exception in ring 3: contained. Alarm, end the service, the DIME goes idle. */
void svc_fault(struct dime *d, struct irq_frame *f) {
  uint64_t detail = f->vector == 14 ? read_cr2() : f->error;
  d->fault_alarms++;
  char text[32];
  snprintf(text, sizeof text, "%s at %lx", f->vector == 14 ? "page fault" : "exception", detail);
  kprintf("DIME %u: service '%s' fault: vector %lu, error %lx, rip %lx, address %lx (contained)\n", d->index, d->svc,
          f->vector, f->error, f->rip, detail);
  send_alarm(d, PX_ALARM_KIND_FAULT, (uint8_t)f->vector, detail, f->rip, NULL, PX_CORE_NONE, d->fault_alarms, text);
  svc_end(d, PX_EXIT_REASON_FAULT, -(int32_t)f->vector);
}

/* Before returning to ring 3: honour STOP/RESET and SUSPEND that arrived meanwhile. */
void svc_user_return(struct dime *d, struct irq_frame *f) {
  if (!frame_from_user(f)) return;
  while (d->state == PX_STATE_SUSPENDED && !d->kill_pending && !d->mig.pending) cpu_halt_wait(d->cpu);
  if (d->kill_pending) svc_end(d, d->kill_reason, 0);
  if (d->mig.pending) migrate_freeze(d, f, false);
}

/* ---------------- input queue ---------------- */

uint32_t inq_push(struct dime *d, const uint8_t *data, uint32_t n) {
  uint64_t f = spin_lock_irqsave(&d->inq_lock);
  uint32_t room = INQ_SIZE - (d->inq_head - d->inq_tail);
  if (n > room) n = room;
  for (uint32_t i = 0; i < n; i++) d->inq[(d->inq_head + i) % INQ_SIZE] = data[i];
  d->inq_head += n;
  spin_unlock_irqrestore(&d->inq_lock, f);
  return n;
}

static uint32_t inq_pop(struct dime *d, uint8_t *dst, uint32_t n) {
  uint64_t f = spin_lock_irqsave(&d->inq_lock);
  uint32_t have = d->inq_head - d->inq_tail;
  if (n > have) n = have;
  for (uint32_t i = 0; i < n; i++) dst[i] = d->inq[(d->inq_tail + i) % INQ_SIZE];
  d->inq_tail += n;
  spin_unlock_irqrestore(&d->inq_lock, f);
  return n;
}

/* Console bytes go to every DIME whose input route is the console (boot core's tick). */
void console_input_poll(void) {
  uint8_t buf[64];
  uint32_t n = 0;
  int ch;
  while (n < sizeof buf && (ch = serial_getc()) >= 0) buf[n++] = (uint8_t)ch;
  if (!n) return;
  for (uint32_t i = 0; i < ncpus; i++) {
    struct dime *d = &dimes[i];
    if (d->in.kind != PX_ROUTE_CONSOLE) continue;
    d->svc_in += inq_push(d, buf, n);
    lapic_send_ipi(d->cpu->apic_id, VEC_INBOX);   /* wake a blocked reader */
  }
}

/* ---------------- system calls (int 0x80) ---------------- */

static bool user_range_ok(struct dime *d, uint64_t p, uint64_t n) {
  return p >= USER_BASE && n <= user_top(d) - USER_BASE && p - USER_BASE <= user_top(d) - USER_BASE - n;
}

/* Output bytes to a route as they are: console lines, or plain STREAM frames. */
void output_plain(struct dime *d, const struct route *rp, const uint8_t *p, uint32_t n) {
  struct route r = *rp;
  if (r.kind == PX_ROUTE_CONSOLE) {
    char line[160];
    uint32_t i = 0;
    while (i < n) {
      uint32_t k = 0;
      int pre = snprintf(line, sizeof line, "DIME %u> ", d->index);
      while (i < n && k + (uint32_t)pre + 2 < sizeof line) {
        char ch = (char)p[i++];
        line[pre + k++] = ch;
        if (ch == '\n') break;
      }
      if (line[pre + k - 1] != '\n') line[pre + k++] = '\n';
      kputs_raw(line, (size_t)pre + k);
    }
    return;
  }
  if (r.kind != PX_ROUTE_DIME && r.kind != PX_ROUTE_ORCHESTRATOR) return;
  uint16_t dst_core = r.kind == PX_ROUTE_DIME ? r.core : PX_CORE_NONE;
  uint8_t buf[PX_MAX_FRAME_LEN];
  while (n) {
    uint32_t take = n < PX_MAX_PAYLOAD ? n : PX_MAX_PAYLOAD;
    uint32_t len = px_build(d, buf, r.mac, true, true, PX_DATA_STREAM, 0, dst_core, 0, 0, p, take);
    px_send(d, buf, len);
    p += take; n -= take;
  }
}

static bool wait_until(struct dime *d, uint64_t deadline_ns, bool (*ready)(struct dime *), struct irq_frame *restartable);

static struct route output_route(struct dime *d) {
  uint64_t f = spin_lock_irqsave(&d->inq_lock);
  struct route r = d->out;
  spin_unlock_irqrestore(&d->inq_lock, f);
  return r;
}

static void output_bytes(struct dime *d, const uint8_t *p, uint32_t n) {
  d->svc_out += n;
  for (;;) {
    struct route r = output_route(d);
    int64_t took = lines_output(d, &r, p, n);
    if (took < 0) { output_plain(d, &r, p, n); return; }
    p += took; n -= (uint32_t)took;
    if (!n) return;
    /* every held line is still unacknowledged: wait for the next stage (or a STOP) */
    wait_until(d, 0, lines_room, NULL);   /* not restartable: part of the bytes went out */
  }
}

/* Block in a system call. `restartable`: the user frame of a call that has done nothing yet,
 * so a migration may freeze the service here and re-issue the call on the target. */
static bool wait_until(struct dime *d, uint64_t deadline_ns, bool (*ready)(struct dime *), struct irq_frame *restartable) {
  for (;;) {
    if (d->kill_pending) svc_end(d, d->kill_reason, 0);
    if (restartable && d->mig.pending) migrate_freeze(d, restartable, true);
    if (ready && ready(d)) return true;
    if (deadline_ns && now_ns() >= deadline_ns) return false;
    cpu_halt_wait(d->cpu);
  }
}
static bool input_ready(struct dime *d) { return d->inq_head != d->inq_tail; }

void svc_syscall(struct dime *d, struct irq_frame *f) {
  uint64_t nr = f->rax, a0 = f->rdi, a1 = f->rsi, a2 = f->rdx;
  int64_t ret = -1;
  switch (nr) {
    case SYS_EXIT:
      svc_end(d, PX_EXIT_REASON_EXITED, (int32_t)a0);
    case SYS_PRINT:
      if (!user_range_ok(d, a0, a1) || a1 > 4096) break;
      {
        char line[200];
        int pre = snprintf(line, sizeof line, "[DIME %u] ", d->index);
        uint32_t n = (uint32_t)a1 < sizeof line - (uint32_t)pre - 2 ? (uint32_t)a1 : (uint32_t)(sizeof line - (size_t)pre - 2);
        memcpy(line + pre, (const void *)a0, n);
        if (!n || line[pre + n - 1] != '\n') line[pre + n++] = '\n';
        kputs_raw(line, (size_t)pre + n);
      }
      ret = (int64_t)a1;
      break;
    case SYS_WRITE:
      if (!user_range_ok(d, a0, a1) || a1 > (1u << 20)) break;
      output_bytes(d, (const uint8_t *)a0, (uint32_t)a1);
      ret = (int64_t)a1;
      break;
    case SYS_READ: {
      if (!user_range_ok(d, a0, a1)) break;
      uint64_t deadline = a2 == SYS_FOREVER ? 0 : now_ns() + a2 * 1000000ULL;
      if (a2 == 0 || wait_until(d, a2 == SYS_FOREVER ? 0 : deadline, input_ready, f) || input_ready(d))
        ret = inq_pop(d, (uint8_t *)a0, (uint32_t)(a1 > 0xFFFFFFFF ? 0xFFFFFFFF : a1));
      else
        ret = 0;
      break;
    }
    case SYS_GETPARAM: {
      char key[16];
      if (!user_range_ok(d, a0, 1) || !user_range_ok(d, a1, a2)) break;
      uint64_t maxk = user_top(d) - a0 < sizeof key ? user_top(d) - a0 : sizeof key;
      strlcpy(key, (const char *)a0, maxk);
      for (int i = 0; i < MAX_PARAMS; i++) {
        struct param *p = &d->params[i];
        if (!p->used || strcmp(p->key, key) != 0) continue;
        uint64_t n = strlen(p->value);
        if (a2) {
          uint64_t c = n < a2 - 1 ? n : a2 - 1;
          memcpy((void *)a1, p->value, c);
          ((char *)a1)[c] = 0;
        }
        ret = (int64_t)n;
        break;
      }
      break;
    }
    case SYS_TIME:
      ret = (int64_t)now_ns();
      break;
    case SYS_SLEEP:
      wait_until(d, now_ns() + a0 * 1000000ULL + 1, NULL, f);
      ret = 0;
      break;
    case SYS_INFO:
      ret = (int64_t)(((uint64_t)ncpus << 16) | d->index);
      break;
    case SYS_MEMGROW: {
      uint64_t old = user_top(d);
      if (a0 == 0) { ret = (int64_t)old; break; }
      if (a0 > MAX_USER_CHUNKS || !grow(d, (uint32_t)a0)) { ret = 0; break; }
      for (uint32_t i = 0; i < d->nchunks; i++) user_map_chunk(d->cpu, i, d->chunk[i], d->text_len);
      ret = (int64_t)old;
      break;
    }
    case SYS_HB_MUTE:
      d->hb_muted = a0 != 0;
      ret = 0;
      break;
    case SYS_COLL_EVENT:
      ret = coll_syscall(d, nr, a0, a1, a2);
      break;
    case SYS_COLL_READ:
      if (user_range_ok(d, a1, a2)) ret = coll_syscall(d, nr, a0, a1, a2);
      break;
    case SYS_COLL_VAR:
      if (user_range_ok(d, a1, 8)) ret = coll_syscall(d, nr, a0, a1, a2);
      break;
    case SYS_FOPEN: case SYS_FREAD: case SYS_FWRITE: case SYS_FCLOSE: case SYS_FLIST: case SYS_FREMOVE: case SYS_FSEEK:
      ret = cstore_claims(d, nr, a0) ? cstore_syscall(d, nr, a0, a1, a2) : store_syscall(d, nr, a0, a1, a2);
      break;
    default:
      break;
  }
  f->rax = (uint64_t)ret;
}
