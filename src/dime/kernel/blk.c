/* virtio-blk driver: the first virtio block device on PCI bus 0, virtio 1.x interface
 * (vendor capabilities into a memory BAR; no legacy I/O BAR), one virtqueue, polled: requests
 * are short and the store issues them one at a time under its lock, so no interrupt is needed.
 * The same image drives QEMU's transitional virtio-blk-pci (0x1001) and a modern-only device
 * (0x1042, as parallax-emu's). Any core may call in; one request is in flight at a time. */
#include "kernel.h"
#include "pci.h"
#include "blk.h"

#define VIRTIO_VENDOR 0x1AF4
#define CAP_VENDOR 0x09
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_DEVICE 4
#define F_RO 5
#define F_FLUSH 9
#define F_VERSION_1 32
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define D_NEXT 1
#define D_WRITE 2
#define QSIZE 16

/* common configuration registers (virtio 1.x, 4.1.4.3) */
#define C_DFSEL 0x00
#define C_DF 0x04
#define C_GFSEL 0x08
#define C_GF 0x0C
#define C_STATUS 0x14
#define C_QSEL 0x16
#define C_QSIZE 0x18
#define C_QENABLE 0x1C
#define C_QNOTIFY 0x1E
#define C_QDESC 0x20
#define C_QAVAIL 0x28
#define C_QUSED 0x30

struct vq_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct vq_avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct vq_used { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSIZE]; uint16_t avail_event; };

static struct vq_desc desc[QSIZE] __attribute__((aligned(4096)));
static struct vq_avail avail __attribute__((aligned(4096)));
static struct vq_used used __attribute__((aligned(4096)));
static struct { uint32_t type, reserved; uint64_t sector; } req_hdr __attribute__((aligned(16)));
static volatile uint8_t req_status;

static spinlock_t blk_lock;
static uint64_t common, notify_at, devcfg;
static uint16_t avail_idx, used_seen;
static bool has_flush;
struct blk_stats blk_stats;
uint64_t blk_sectors;
bool blk_readonly;

static inline uint8_t c8(uint32_t o) { return *(volatile uint8_t *)(common + o); }
static inline void w8(uint32_t o, uint8_t v) { *(volatile uint8_t *)(common + o) = v; }
static inline uint16_t c16(uint32_t o) { return *(volatile uint16_t *)(common + o); }
static inline void w16(uint32_t o, uint16_t v) { *(volatile uint16_t *)(common + o) = v; }
static inline uint32_t c32(uint32_t o) { return mmio_read32(common + o); }
static inline void w32(uint32_t o, uint32_t v) { mmio_write32(common + o, v); }
/* 64-bit registers as two 32-bit halves (the spec allows it; not every machine takes 8-byte MMIO) */
static inline void w64(uint32_t o, uint64_t v) { w32(o, (uint32_t)v); w32(o + 4, (uint32_t)(v >> 32)); }

static uint8_t cfg8(const struct pci_addr *a, uint32_t off) { return (uint8_t)(pci_read32(a->bus, a->dev, a->fn, off) >> (8 * (off & 3))); }

/* the memory address of BAR `bar`; 0 when it is not a usable memory BAR below 4 GiB (the identity map) */
static uint64_t bar_base(const struct pci_addr *a, uint32_t bar) {
  if (bar > 5) return 0;
  uint32_t lo = pci_read32(a->bus, a->dev, a->fn, 0x10 + 4 * bar);
  if (lo & 1) return 0;
  uint64_t base = lo & ~0xFULL;
  if (((lo >> 1) & 3) == 2 && bar < 5) base |= (uint64_t)pci_read32(a->bus, a->dev, a->fn, 0x14 + 4 * bar) << 32;
  return base && base < (4ULL << 30) ? base : 0;
}

/* bus 0 only: the machines we run on put their devices there, and a full scan of 256 buses
 * costs boot time on every server without a disk */
static bool find_disk(struct pci_addr *out) {
  for (uint32_t dev = 0; dev < 32; dev++) {
    uint32_t id = pci_read32(0, dev, 0, 0);
    if ((id & 0xFFFF) != VIRTIO_VENDOR) continue;
    uint16_t did = (uint16_t)(id >> 16);
    bool blk = did == 0x1042 || (did == 0x1001 && (pci_read32(0, dev, 0, 0x2C) >> 16) == 2);
    if (!blk) continue;
    out->bus = 0; out->dev = dev; out->fn = 0; out->device = did;
    return true;
  }
  return false;
}

bool blk_init(void) {
  struct pci_addr a;
  if (!find_disk(&a)) return false;
  if (!(pci_read32(a.bus, a.dev, a.fn, 0x04) & (1u << 20))) { kprintf("virtio-blk: no capability list\n"); return false; }
  uint32_t notify_mul = 0;
  uint64_t notify_base = 0;
  for (uint32_t p = cfg8(&a, 0x34) & 0xFC, guard = 0; p && guard < 48; p = cfg8(&a, p + 1) & 0xFC, guard++) {
    if (cfg8(&a, p) != CAP_VENDOR) continue;
    uint8_t type = cfg8(&a, p + 3);
    uint64_t base = bar_base(&a, cfg8(&a, p + 4));
    if (!base) continue;
    uint64_t at = base + pci_read32(a.bus, a.dev, a.fn, p + 8);
    if (type == CFG_COMMON && !common) common = at;
    else if (type == CFG_DEVICE && !devcfg) devcfg = at;
    else if (type == CFG_NOTIFY && !notify_base) { notify_base = at; notify_mul = pci_read32(a.bus, a.dev, a.fn, p + 16); }
  }
  if (!common || !devcfg || !notify_base) { kprintf("virtio-blk: no virtio 1.x interface below 4 GiB\n"); return false; }
  pci_write32(a.bus, a.dev, a.fn, 0x04, (pci_read32(a.bus, a.dev, a.fn, 0x04) & 0xFFFF) | 0x6);   /* memory + bus master */

  w8(C_STATUS, 0);                       /* reset */
  for (int i = 0; i < 100000 && c8(C_STATUS); i++) cpu_relax();
  w8(C_STATUS, S_ACK);
  w8(C_STATUS, S_ACK | S_DRIVER);
  w32(C_DFSEL, 0);
  uint64_t f = c32(C_DF);
  w32(C_DFSEL, 1);
  f |= (uint64_t)c32(C_DF) << 32;
  if (!(f & (1ULL << F_VERSION_1))) { kprintf("virtio-blk: device lacks VERSION_1\n"); w8(C_STATUS, 0x80); return false; }
  uint64_t want = (1ULL << F_VERSION_1) | (f & ((1ULL << F_FLUSH) | (1ULL << F_RO)));
  w32(C_GFSEL, 0); w32(C_GF, (uint32_t)want);
  w32(C_GFSEL, 1); w32(C_GF, (uint32_t)(want >> 32));
  w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
  if (!(c8(C_STATUS) & S_FEATURES_OK)) { kprintf("virtio-blk: features refused\n"); w8(C_STATUS, 0x80); return false; }
  w16(C_QSEL, 0);
  uint16_t max = c16(C_QSIZE);
  if (max < QSIZE) { kprintf("virtio-blk: queue of %u entries is too small\n", max); w8(C_STATUS, 0x80); return false; }
  w16(C_QSIZE, QSIZE);
  memset(desc, 0, sizeof desc);
  memset(&avail, 0, sizeof avail);
  memset(&used, 0, sizeof used);
  avail.flags = 1;                       /* VIRTQ_AVAIL_F_NO_INTERRUPT: polled */
  w64(C_QDESC, (uint64_t)desc);
  w64(C_QAVAIL, (uint64_t)&avail);
  w64(C_QUSED, (uint64_t)&used);
  notify_at = notify_base + (uint64_t)c16(C_QNOTIFY) * notify_mul;
  w16(C_QENABLE, 1);
  w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  has_flush = (want >> F_FLUSH) & 1;
  blk_readonly = (want >> F_RO) & 1;
  blk_sectors = (uint64_t)mmio_read32(devcfg) | (uint64_t)mmio_read32(devcfg + 4) << 32;
  return true;
}

/* One request: header, optional data, status; waits for the device (5 s at most). */
static bool request(uint32_t type, uint64_t sector, void *buf, uint32_t len, bool device_writes) {
  if (!blk_sectors) return false;
  uint64_t fl = spin_lock_irqsave(&blk_lock);
  req_hdr.type = type;
  req_hdr.reserved = 0;
  req_hdr.sector = sector;
  req_status = 0xFF;
  uint16_t n = 0;
  desc[n] = (struct vq_desc){(uint64_t)&req_hdr, sizeof req_hdr, D_NEXT, 1}; n++;
  if (len) { desc[n] = (struct vq_desc){(uint64_t)buf, len, (uint16_t)(D_NEXT | (device_writes ? D_WRITE : 0)), 2}; n++; }
  desc[n] = (struct vq_desc){(uint64_t)&req_status, 1, D_WRITE, 0};
  avail.ring[avail_idx % QSIZE] = 0;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  avail.idx = ++avail_idx;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  *(volatile uint16_t *)notify_at = 0;
  uint64_t until = now_ns() + 5000000000ULL;
  bool done = false;
  for (;;) {
    if (__atomic_load_n(&used.idx, __ATOMIC_ACQUIRE) != used_seen) { done = true; break; }
    if (now_ns() > until) break;
    cpu_relax();
  }
  bool ok = false;
  if (done) {
    used_seen++;
    ok = req_status == 0;
  } else {
    /* the device kept our descriptors: no more requests to it (a reset would be needed) */
    blk_sectors = 0;
  }
  blk_stats.requests++;
  if (!ok) blk_stats.errors++;
  spin_unlock_irqrestore(&blk_lock, fl);
  return ok;
}

bool blk_read(uint64_t sector, void *buf, uint32_t count) {
  if (!count || count * BLK_SECTOR > BLK_MAX_BYTES || sector + count > blk_sectors) return false;
  return request(T_IN, sector, buf, count * BLK_SECTOR, true);
}

bool blk_write(uint64_t sector, const void *buf, uint32_t count) {
  if (blk_readonly || !count || count * BLK_SECTOR > BLK_MAX_BYTES || sector + count > blk_sectors) return false;
  return request(T_OUT, sector, (void *)buf, count * BLK_SECTOR, false);
}

/* Without FLUSH the device writes through (virtio 1.x 5.2.6.2): nothing to do. */
bool blk_flush(void) { return has_flush ? request(T_FLUSH, 0, NULL, 0, false) : blk_sectors != 0; }
