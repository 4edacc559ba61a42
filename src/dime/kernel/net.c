/* Parallax frames: parse, authenticate, build and sign; switch frames between DIMEs of
 * this server through their inboxes (shared memory + IPI), everything else via the NIC. */
#include "dime.h"
#include "e1000.h"

uint16_t px_base = PX_ETHERTYPE_BASE_DEFAULT;
uint32_t net_rx_ignored, net_rx_bad, net_rx_reports;
static uint64_t seq_epoch;

/* RTC seconds since 2000 (coarse): makes sequence numbers keep rising across reboots */
static uint8_t cmos(uint8_t r) { outb(0x70, r); return inb(0x71); }
static uint64_t rtc_seconds(void) {
  for (int i = 0; i < 100000 && (cmos(0x0A) & 0x80); i++) cpu_relax();
  uint8_t s = cmos(0), m = cmos(2), h = cmos(4), d = cmos(7), mo = cmos(8), y = cmos(9), b = cmos(0x0B);
  if (!(b & 4)) {
#define BCD(x) ((uint8_t)(((x) >> 4) * 10 + ((x) & 15)))
    s = BCD(s); m = BCD(m); h = BCD(h & 0x7F); d = BCD(d); mo = BCD(mo); y = BCD(y);
  }
  if (s > 59 || m > 59 || h > 23 || d < 1 || d > 31 || mo < 1 || mo > 12 || y > 99) return 0;
  uint64_t days = (uint64_t)y * 366 + (uint64_t)(mo - 1) * 31 + (uint64_t)(d - 1);   /* monotonic, not exact */
  return ((days * 24 + h) * 60 + m) * 60 + s;
}

void net_early_init(void) {
  const char *eb = cmdline_get("etherbase");
  if (eb && *eb) px_base = (uint16_t)(parse_uint(eb, NULL) & PX_ETHERTYPE_BLOCK_MASK);
  keys_read();
  seq_epoch = rtc_seconds() << 24;
  kprintf("protocol: EtherType block %04x-%04x, HMAC-SHA256 tags\n", px_base, px_base | 0xFF);
}

static uint64_t next_tx_seq(struct dime *d) {
  if (!d->tx_seq) d->tx_seq = seq_epoch;
  return ++d->tx_seq;
}

/* 0 when the frame is a well-formed Parallax frame, else the PX_MALFORMED_* reason */
uint8_t px_parse(const uint8_t *f, uint32_t len, struct pxmsg *m) {
  if (len < PX_ETH_HEADER_LEN + PX_HDR_LEN + PX_TAG_LEN) return PX_MALFORMED_SHORT;
  uint16_t et = be16(f + 12);
  const uint8_t *h = f + PX_ETH_HEADER_LEN;
  m->frame = f;
  m->len = len;
  m->dst_mac = f;
  m->src_mac = f + 6;
  m->data = (et & PX_ET_CHANNEL_DATA) != 0;
  m->scope_dime = (et & PX_ET_SCOPE_DIME) != 0;
  m->type = et & PX_ET_TYPE_MASK;
  m->flags = h[PX_HDR_FLAGS_OFF];
  m->dst_core = be16(h + PX_HDR_DST_CORE_OFF);
  m->src_core = be16(h + PX_HDR_SRC_CORE_OFF);
  m->plen = be16(h + PX_HDR_LENGTH_OFF);
  m->seq = be64(h + PX_HDR_SEQ_OFF);
  m->req_id = be32(h + PX_HDR_REQ_ID_OFF);
  m->status = be16(h + PX_HDR_STATUS_OFF);
  m->epoch = be64(h + PX_HDR_EPOCH_OFF);
  m->instance = be16(h + PX_HDR_INSTANCE_OFF);
  m->payload = h + PX_HDR_LEN;
  if (h[PX_HDR_VERSION_OFF] != PX_PROTOCOL_VERSION) return PX_MALFORMED_VERSION;
  /* frames may carry Ethernet padding after the tag, never less than header + payload + tag */
  if ((uint32_t)PX_ETH_HEADER_LEN + PX_HDR_LEN + m->plen + PX_TAG_LEN > len) return PX_MALFORMED_LENGTH;
  if (m->plen > PX_MAX_PAYLOAD) return PX_MALFORMED_LENGTH;
  return 0;
}


/* The trust boundary (docs/PROTOCOL.md): a frame addressed to this server's own MAC (or,
 * without a NIC, to anything but broadcast) is switched in kernel memory by px_send. */
static bool px_stays_in_server(const uint8_t *frame) {
  return memcmp(frame, nic_mac, 6) == 0 || (!nic_present && memcmp(frame, BROADCAST_MAC, 6) != 0);
}

uint32_t px_build(struct dime *d, uint8_t *b, const uint8_t dst_mac[6], bool data, bool scope_dime, uint8_t type,
                  uint8_t flags, uint16_t dst_core, uint32_t req_id, uint16_t status, const uint8_t *payload, uint32_t plen) {
  if (plen > PX_MAX_PAYLOAD) plen = PX_MAX_PAYLOAD;
  memcpy(b, dst_mac, 6);
  memcpy(b + 6, nic_mac, 6);
  put_be16(b + 12, (uint16_t)(px_base | (data ? PX_ET_CHANNEL_DATA : 0) | (scope_dime ? PX_ET_SCOPE_DIME : 0) | (type & PX_ET_TYPE_MASK)));
  uint8_t *h = b + PX_ETH_HEADER_LEN;
  memset(h, 0, PX_HDR_LEN);
  h[PX_HDR_VERSION_OFF] = PX_PROTOCOL_VERSION;
  h[PX_HDR_FLAGS_OFF] = flags;
  put_be16(h + PX_HDR_DST_CORE_OFF, dst_core);
  put_be16(h + PX_HDR_SRC_CORE_OFF, (uint16_t)d->index);
  put_be16(h + PX_HDR_LENGTH_OFF, (uint16_t)plen);
  put_be64(h + PX_HDR_SEQ_OFF, next_tx_seq(d));
  put_be32(h + PX_HDR_REQ_ID_OFF, req_id);
  put_be16(h + PX_HDR_STATUS_OFF, status);
  put_be64(h + PX_HDR_EPOCH_OFF, px_epoch_now());
  if (plen) memcpy(h + PX_HDR_LEN, payload, plen);
  uint32_t covered = PX_ETH_HEADER_LEN + PX_HDR_LEN + plen;
  /* a frame switched between this server's DIMEs never leaves kernel memory and is never
   * verified (FROM_LOCAL_DIME): its tag would be ~12,000 instructions of work for nobody */
  if (px_stays_in_server(b)) memset(b + covered, 0, PX_TAG_LEN);
  else px_sign(b, covered);
  return covered + PX_TAG_LEN;
}

/* Local DIME destinations go through shared memory; the rest (and broadcasts) to the wire. */
void px_send(struct dime *d, const uint8_t *frame, uint32_t len) {
  d->frames_out++;
  d->bytes_out += len;
  bool to_self_server = px_stays_in_server(frame);
  uint16_t et = be16(frame + 12);
  uint16_t dst_core = be16(frame + PX_ETH_HEADER_LEN + PX_HDR_DST_CORE_OFF);
  if (to_self_server) {
    if ((et & PX_ET_SCOPE_DIME) && dst_core < ncpus) inbox_put(&dimes[dst_core], frame, len, FROM_LOCAL_DIME);
    return;
  }
  e1000_send(frame, len);
}

/* Unsolicited report from DIME d, broadcast on the signaling channel. */
void px_event(struct dime *d, uint8_t type, const uint8_t *payload, uint32_t plen) {
  uint8_t buf[PX_MAX_FRAME_LEN];
  uint32_t n = px_build(d, buf, BROADCAST_MAC, false, true, type, PX_FLAG_EVENT, PX_CORE_NONE, 0, 0, payload, plen);
  px_send(d, buf, n);
}

bool inbox_put(struct dime *t, const uint8_t *frame, uint32_t len, uint8_t origin) {
  if (len > PX_MAX_FRAME_LEN + 4) len = PX_MAX_FRAME_LEN + 4;
  uint64_t f = spin_lock_irqsave(&t->inbox_lock);
  bool ok = t->ib_head - t->ib_tail < INBOX_SLOTS;
  if (ok) {
    struct inbox_slot *s = &t->inbox[t->ib_head % INBOX_SLOTS];
    memcpy(s->data, frame, len);
    s->len = (uint16_t)len;
    s->origin = origin;
    __atomic_store_n(&t->ib_head, t->ib_head + 1, __ATOMIC_RELEASE);
  } else if (origin == FROM_WIRE) {
    t->inbox_dropped++;   /* a frame from the network lost: reported in QUERY_SECURITY */
  } else {
    net_rx_bad++;         /* an internal copy lost (fan-out, local switching) */
  }
  spin_unlock_irqrestore(&t->inbox_lock, f);
  if (ok && t->cpu && t->cpu->online) lapic_send_ipi(t->cpu->apic_id, VEC_INBOX);
  return ok;
}

/* Frames left in this DIME's own inbox (the agent paused for a service start or end): an
 * inbox IPI to itself, taken as soon as interrupts are enabled again. */
void inbox_rearm(struct dime *d) {
  if (d->ib_tail != __atomic_load_n(&d->ib_head, __ATOMIC_ACQUIRE)) lapic_send_ipi(d->cpu->apic_id, VEC_INBOX);
}

/* NIC receive path (boot core): pick the DIME that should see the frame. Checks that
 * need the key (tag, sequence) happen in that DIME's own agent, off this path. */
void net_rx_frame(const uint8_t *frame, uint32_t len) {
  if (len < 14) { net_rx_ignored++; return; }   /* a runt: not even an Ethernet header */
  uint16_t et = be16(frame + 12);
  if ((et & PX_ETHERTYPE_BLOCK_MASK) != px_base) { net_rx_ignored++; return; }
  if (memcmp(frame + 6, nic_mac, 6) == 0) { net_rx_ignored++; return; }   /* our own broadcast looped back */
  /* malformed frames go to DIME 0's agent, which counts them and raises the alarms */
  if (len < PX_ETH_HEADER_LEN + PX_HDR_LEN) { inbox_put(&dimes[0], frame, len, FROM_WIRE); return; }
  const uint8_t *h = frame + PX_ETH_HEADER_LEN;
  /* reports are for orchestrators; the one exception, an export server's answer to a DIME's
   * central storage request (cstore.c), goes to that DIME, whose agent checks it like a command */
  uint8_t type = (uint8_t)(et & PX_ET_TYPE_MASK);
  bool cstore_answer = (et & PX_ET_CHANNEL_DATA) && (et & PX_ET_SCOPE_DIME) && type >= PX_DATA_CSTORE_OPEN &&
                       type <= PX_DATA_CSTORE_FLUSH && !(h[PX_HDR_FLAGS_OFF] & PX_FLAG_EVENT);
  if ((h[PX_HDR_FLAGS_OFF] & (PX_FLAG_RESPONSE | PX_FLAG_EVENT)) && !cstore_answer) { net_rx_reports++; return; }
  uint16_t dst_core = be16(h + PX_HDR_DST_CORE_OFF);
  struct dime *t = &dimes[0];
  if ((et & PX_ET_SCOPE_DIME) && dst_core < ncpus) t = &dimes[dst_core];
  inbox_put(t, frame, len, FROM_WIRE);
}

void net_poll(void) { e1000_poll_rx(net_rx_frame); }
