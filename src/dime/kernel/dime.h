/* A DIME: one core with its FCAPS agent state, inbox, service and accounting. */
#ifndef DIME_DIME_H
#define DIME_DIME_H
#include "kernel.h"
#include "mem.h"
#include "crypto.h"
#include "protocol.h"

#define INBOX_SLOTS 32
#define INQ_SIZE 8192
#define MAX_PARAMS 16
#define ACCT_RECORDS 64
#define REPLAY_PEERS 128
#define MAX_USER_CHUNKS 512

/* how an inbox frame got here, i.e. how much checking it still needs */
enum { FROM_WIRE = 0, FROM_LOCAL_DIME = 1, FROM_FANOUT = 2 };

struct inbox_slot {
  uint16_t len;
  uint8_t origin;
  uint8_t pad;
  uint8_t data[PX_MAX_FRAME_LEN + 4];
};

struct route { uint8_t kind; uint16_t core; uint8_t mac[6]; };
struct param { bool used; char key[16]; char value[64]; };

struct call_record {
  uint32_t seq;
  uint8_t mac[6];
  uint16_t core;
  uint8_t channel, what;
  uint16_t status;
  uint64_t start_ns, end_ns, cpu_ns;
  uint32_t bytes_in, bytes_out;
  char service[16];
};

/* numbered pipeline lines (lines.c) */
#define LINE_PENDING 128        /* input lines the service has not answered yet */
#define LINE_HELD 64            /* output lines held until acknowledged downstream */
#define LINE_HOLD_BYTES 8192
struct held_line { uint32_t line; uint32_t start; uint16_t len; };
struct line_state {
  spinlock_t lock;
  uint32_t stream;                      /* the numbered stream this DIME is a stage of; 0 = none */
  uint32_t next_in;                     /* next input line expected; 0 = none yet */
  uint8_t up_mac[6];                    /* the previous stage (acknowledgments go there) */
  uint16_t up_core;
  bool up_known, restart;
  uint32_t pend[LINE_PENDING], pend_head, pend_tail;
  uint32_t done;                        /* highest line done downstream */
  struct held_line held[LINE_HELD];
  uint32_t held_head, held_tail;
  uint8_t bytes[LINE_HOLD_BYTES];
  uint32_t bytes_head, bytes_tail;
  uint8_t partial[PX_MAX_PAYLOAD - PX_STREAM_SEQ_REQ_LEN];
  uint32_t partial_len;
  uint64_t progress_ns;                 /* last acknowledgment progress or resend */
  uint32_t misses;                      /* resends since the last progress (back-off) */
  uint32_t dups, gaps, refused, acks_refused;
};

/* live migration (migrate.c) */
struct migration {
  volatile bool pending;          /* MIGRATE_OUT taken: the service freezes at its next clean point */
  bool resume_ctx;                /* a migrated-in service: its core enters it with `ctx` */
  bool fwd;                       /* the service moved to fwd_core: stream frames go on there */
  volatile uint32_t incoming;     /* 1 + index of the DIME whose service is moving here */
  uint16_t target, fwd_core;
  uint8_t reply_mac[6];
  uint16_t reply_core;
  uint32_t reply_id;
  uint64_t asked_ns;
  uint32_t forwarded;
  struct irq_frame ctx;
  /* across servers (the orchestrator carries the frozen state): */
  bool remote;                    /* the pending freeze is an export */
  volatile bool frozen;           /* frozen for export: the core waits, MIGRATE_READ reads the state */
  volatile uint8_t end;           /* MIGRATE_END: 1 commit, 2 abort */
  bool importing;                 /* MIGRATE_IN: the state arrives by MIGRATE_CHUNK */
  bool gone_remote;               /* the service went to another server: late frames are dropped */
  uint64_t stage;                 /* a chunk holding the state's header, page map and page list */
  uint32_t state_len, meta_len, pages, received, crc;
};

struct peer_seq { bool used; uint8_t mac[6]; uint16_t core; uint16_t instance; uint64_t seq; uint64_t last_ns; };

/* parsed view of a received frame (points into the frame) */
struct pxmsg {
  const uint8_t *frame;
  uint32_t len;
  const uint8_t *dst_mac, *src_mac;
  bool data, scope_dime;
  uint8_t type, flags;
  uint16_t dst_core, src_core, plen, status, instance;
  uint64_t seq;
  uint32_t req_id;
  uint64_t epoch;
  const uint8_t *payload;
  uint8_t origin;
  uint8_t tag_kind;   /* PX_TAG_SERVER / PX_TAG_NET: which key verified it (wire frames) */
};

struct dime {
  uint32_t index;
  struct cpu *cpu;
  volatile uint32_t state;            /* PX_STATE_* */
  volatile uint32_t in_agent;

  spinlock_t inbox_lock;
  volatile uint32_t ib_head, ib_tail;
  uint32_t inbox_dropped;
  struct inbox_slot inbox[INBOX_SLOTS];

  /* fault + performance management */
  uint32_t heartbeat_ms, perf_ms;
  uint64_t next_hb_ns, next_perf_ns;
  uint32_t beats;
  volatile bool hb_muted;
  uint64_t hb_last_ns, hb_last_halted;
  uint64_t perf_last_ns, perf_last_halted;

  /* configuration */
  uint16_t mem_limit;
  struct route out, in;
  struct param params[MAX_PARAMS];
  bool owned;
  uint8_t owner_mac[6];

  /* service */
  char svc[16];
  uint32_t img_size, img_crc, img_received;
  uint32_t text_len;                  /* code bytes of the running image (executable); the rest is NX */
  int32_t load_rec;
  uint32_t nchunks;
  uint64_t chunk[MAX_USER_CHUNKS];
  volatile bool exec_pending, kill_pending;
  uint8_t kill_reason;
  uint64_t svc_start_ns, svc_start_tsc, svc_start_halted;
  uint64_t svc_cpu_ns, svc_in, svc_out;
  int32_t exec_rec;
  spinlock_t inq_lock;
  uint32_t inq_head, inq_tail;
  uint8_t inq[INQ_SIZE];
  struct line_state lines;
  struct migration mig;

  /* accounting */
  struct call_record rec[ACCT_RECORDS];
  uint32_t rec_total;

  /* performance counters */
  uint64_t frames_in, frames_out, bytes_in, bytes_out;

  /* security */
  struct peer_seq peers[REPLAY_PEERS];
  uint64_t tx_seq;
  uint32_t sec_accepted, sec_forged, sec_replayed, sec_unauth, sec_malformed, sec_alarms, sec_challenged;
  uint64_t last_sec_alarm_ns;
  uint32_t fault_alarms;
  uint32_t images_refused;
};

extern struct dime dimes[MAX_CPUS];
extern uint16_t px_base;
extern uint32_t tick_hz;
static const uint8_t BROADCAST_MAC[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
static inline struct dime *this_dime(void) { return &dimes[this_cpu()->index]; }

/* main.c / interrupts.c */
void dime_init(struct cpu *c);
void devices_init(void);
void cpu_halt_wait(struct cpu *c);
uint64_t cpu_busy_since(struct cpu *c, uint64_t since_ns, uint64_t since_halted, uint64_t *now_out, uint64_t *halted_out);

/* net.c */
void net_early_init(void);
uint8_t px_parse(const uint8_t *frame, uint32_t len, struct pxmsg *m);
/* keys.c: the only places frames are signed and verified */
enum { PX_TAG_BAD = 0, PX_TAG_SERVER = 1, PX_TAG_NET = 2 };
void keys_read(void);
void keys_init(void);
void epoch_renew(void);
/* the current epoch, renewed first when the machine was restored from a snapshot */
uint64_t px_epoch_now(void);
void px_sign(uint8_t *frame, uint32_t covered);
int px_check_tag(const struct pxmsg *m);
extern volatile uint64_t px_epoch;
extern uint32_t px_epoch_changes;
uint32_t px_build(struct dime *d, uint8_t *buf, const uint8_t dst_mac[6], bool data, bool scope_dime, uint8_t type,
                  uint8_t flags, uint16_t dst_core, uint32_t req_id, uint16_t status, const uint8_t *payload, uint32_t plen);
void px_send(struct dime *d, const uint8_t *frame, uint32_t len);
void px_event(struct dime *d, uint8_t type, const uint8_t *payload, uint32_t plen);
void net_rx_frame(const uint8_t *frame, uint32_t len);
bool inbox_put(struct dime *t, const uint8_t *frame, uint32_t len, uint8_t origin);
void inbox_rearm(struct dime *d);
void net_poll(void);
extern uint32_t net_rx_ignored, net_rx_bad, net_rx_reports;

/* agent.c */
void agent_inbox(struct dime *d);
void agent_tick(struct dime *d);
void agent_defaults(struct dime *d);
void send_alarm(struct dime *d, uint8_t kind, uint8_t code, uint64_t detail, uint64_t rip, const uint8_t *peer_mac,
                uint16_t peer_core, uint32_t count, const char *text);
int32_t acct_open(struct dime *d, const struct pxmsg *m);
uint32_t px_reply(struct dime *d, const struct pxmsg *m, uint16_t status, const uint8_t *payload, uint32_t plen);
/* a deferred signaling reply: to a request remembered as (mac, core, req_id) of type sig */
uint32_t px_reply_to(struct dime *d, const uint8_t *mac, uint16_t core, uint32_t req_id, uint8_t sig, uint16_t status,
                     const uint8_t *payload, uint32_t plen);
void agent_unauthorized(struct dime *d, const struct pxmsg *m, const char *why);
/* a request refused: agent_unauthorized, and the answer UNAUTHORIZED */
void agent_refuse(struct dime *d, const struct pxmsg *m, const char *why);
/* The frames of a kernel service that talks to other kernels and is configured by the
 * orchestrator (names.c, collectives.c): one table each, one rule for who may send what. */
enum { ROUTE_FROM_ANY, ROUTE_FROM_DIME, ROUTE_FROM_ORCHESTRATOR };
struct frame_route {
  bool data;                        /* channel */
  uint8_t type;
  uint8_t from;                     /* ROUTE_FROM_DIME: traffic between kernels (network key), never in an
                                     * orchestrator's name; ROUTE_FROM_ORCHESTRATOR: configuration */
  void (*handle)(struct dime *d, const struct pxmsg *m);
  const char *refusal;              /* the security event's text when the sender may not send it */
};
/* Take m if it is one of routes[0..n) (true): in system scope a request is answered UNSUPPORTED;
 * from a sender the route does not allow it is a security event (counted in *refused when
 * given), a request answered UNAUTHORIZED; otherwise the route's handler runs. */
bool agent_route(struct dime *d, const struct pxmsg *m, bool system_scope, const struct frame_route *routes, size_t n,
                 uint32_t *refused);

/* collectives.c */
bool coll_handle(struct dime *d, const struct pxmsg *m, bool system_scope);
void coll_tick(struct dime *d, uint64_t now);
bool names_handle(struct dime *d, const struct pxmsg *m, bool system_scope);   /* names.c */
void names_tick(struct dime *d, uint64_t now);
/* the name fleet's DIME-to-DIME data frames (network key between servers, like STREAM) */
static inline bool names_frame_type(uint32_t t) {
  return t == PX_DATA_NAME_APPEND || t == PX_DATA_NAME_ACK || t == PX_DATA_NAME_QUERY || t == PX_DATA_NAME_ANSWER;
}
void perf_fill(struct dime *d, uint8_t *p, bool reset_window);

/* service.c */
uint16_t svc_load_begin(struct dime *d, uint32_t size, uint32_t crc, const char *name, uint16_t *chunks);
uint16_t svc_load_chunk(struct dime *d, uint32_t off, const uint8_t *data, uint32_t n, uint32_t *received);
uint16_t svc_load_builtin(struct dime *d, const char *name, uint32_t *size, uint32_t *crc);
uint16_t svc_execute(struct dime *d);
void svc_discard(struct dime *d);
void svc_enter(struct dime *d) __attribute__((noreturn));
void svc_end(struct dime *d, uint8_t reason, int32_t code) __attribute__((noreturn));
void svc_fault(struct dime *d, struct irq_frame *f) __attribute__((noreturn));
void svc_user_return(struct dime *d, struct irq_frame *f);
void svc_syscall(struct dime *d, struct irq_frame *f);
uint32_t inq_push(struct dime *d, const uint8_t *data, uint32_t n);
void output_plain(struct dime *d, const struct route *r, const uint8_t *p, uint32_t n);

/* migrate.c */
bool migrate_handle(struct dime *d, const struct pxmsg *m);
void migrate_freeze(struct dime *d, struct irq_frame *f, bool restart_syscall);   /* returns only if nothing moved */
void migrate_forget(struct dime *d);
/* migrate_state.c: the frozen state carried between servers */
uint32_t mig_pack(struct dime *d, const struct irq_frame *ctx);
uint32_t mig_read(struct dime *d, uint32_t off, uint8_t *dst, uint32_t n);
uint16_t mig_import_begin(struct dime *d, uint32_t len, uint32_t crc);
uint16_t mig_import_chunk(struct dime *d, uint32_t off, const uint8_t *p, uint32_t n, uint32_t *received);

/* lines.c */
void lines_reset(struct dime *d);
void lines_take_over(struct dime *d, const struct line_state *from, bool other_clock);
void lines_input(struct dime *d, const struct pxmsg *m);
void lines_ack(struct dime *d, const struct pxmsg *m);
int64_t lines_output(struct dime *d, const struct route *r, const uint8_t *p, uint32_t n);
bool lines_room(struct dime *d);
uint32_t lines_held(struct dime *d);
void lines_route_changed(struct dime *d);
void lines_tick(struct dime *d, uint64_t now);
void console_input_poll(void);
#endif
