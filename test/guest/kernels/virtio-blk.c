/* virtio-blk: a polled virtio 1.x driver, written from the specification, drives every
 * virtio block device on bus 0 in bus order: capabilities, feature negotiation, capacity,
 * reads of a known sector pattern (the test writes "PRLX-<tag>-<sector, 6 digits>" at the
 * start of each sector), GET_ID, a write + FLUSH + read-back, and the statuses of requests
 * a device must refuse (past the end, unknown type, a write to a read-only disk).
 * Only what QEMU and parallax-emu must agree on is printed: not slots, device IDs or the
 * features QEMU offers beyond ours. With `bench` on the command line it then times 4 KiB
 * random reads and 1 MiB sequential reads (TSC calibrated on the PIT) and prints BENCH lines. */
#include "guest.h"

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define QSIZE 64
#define F_RO 5
#define F_BLK_SIZE 6
#define F_FLUSH 9
#define F_VERSION_1 32

struct desc { u64 addr; u32 len; u16 flags; u16 next; };
struct avail { u16 flags, idx, ring[QSIZE], used_event; };
struct used_elem { u32 id, len; };
struct used { u16 flags, idx; struct used_elem ring[QSIZE]; u16 avail_event; };

static struct desc descs[QSIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static struct used used __attribute__((aligned(4096)));
static u8 header[16] __attribute__((aligned(16)));
static u8 status_byte;
static u8 data[1 << 20] __attribute__((aligned(4096)));

static volatile u8 *common, *isr, *devcfg, *notify_base;
static u32 notify_mul;
static u16 notify_off;
static u16 avail_idx, used_seen;

static u32 pci_read(int dev, int off) {
  outl(0xcf8, 0x80000000u | ((u32)dev << 11) | (off & 0xfc));
  return inl(0xcfc);
}
static void pci_write(int dev, int off, u32 v) {
  outl(0xcf8, 0x80000000u | ((u32)dev << 11) | (off & 0xfc));
  outl(0xcfc, v);
}
static u8 pci_read8(int dev, int off) { return (u8)(pci_read(dev, off) >> (8 * (off & 3))); }

static u64 bar_address(int dev, int bar) {
  u32 lo = pci_read(dev, 0x10 + 4 * bar);
  u64 a = lo & ~0xfull;
  if ((lo & 6) == 4) a |= (u64)pci_read(dev, 0x14 + 4 * bar) << 32;
  if (a >= (1ull << 32))
    for (u64 p = 0; p < 0x4000; p += 4096) map_page(a + p, a + p, PTE_P | PTE_W | PTE_PCD);
  return a;
}

#define C8(o) (*(volatile u8 *)(common + (o)))
#define C16(o) (*(volatile u16 *)(common + (o)))
#define C32(o) (*(volatile u32 *)(common + (o)))

static u64 device_features(void) {
  C32(0x00) = 0; u64 lo = C32(0x04);
  C32(0x00) = 1; u64 hi = C32(0x04);
  return lo | (hi << 32);
}

static int setup(int dev, u64 *features) {
  for (int p = pci_read8(dev, 0x34); p; p = pci_read8(dev, p + 1)) {
    if (pci_read8(dev, p) != 0x09) continue;
    int type = pci_read8(dev, p + 3);
    u64 base = bar_address(dev, pci_read8(dev, p + 4));
    u32 off = pci_read(dev, p + 8);
    volatile u8 *at = (volatile u8 *)(base + off);
    if (type == CAP_COMMON && !common) common = at;
    if (type == CAP_ISR && !isr) isr = at;
    if (type == CAP_DEVICE && !devcfg) devcfg = at;
    if (type == CAP_NOTIFY && !notify_base) { notify_base = at; notify_mul = pci_read(dev, p + 16); }
  }
  printf("  capabilities: common %s isr %s device %s notify %s\n", common ? "yes" : "no", isr ? "yes" : "no",
         devcfg ? "yes" : "no", notify_base ? "yes" : "no");
  if (!common || !isr || !devcfg || !notify_base) return -1;
  pci_write(dev, 0x04, pci_read(dev, 0x04) | 0x6); /* memory + bus master */
  C8(0x14) = 0;
  C8(0x14) = 1 | 2;
  u64 f = device_features();
  u64 want = (1ull << F_VERSION_1) | (f & ((1ull << F_FLUSH) | (1ull << F_RO) | (1ull << F_BLK_SIZE)));
  C32(0x08) = 0; C32(0x0c) = (u32)want;
  C32(0x08) = 1; C32(0x0c) = (u32)(want >> 32);
  C8(0x14) = 1 | 2 | 8;
  if (!(C8(0x14) & 8)) { printf("  FEATURES_OK refused\n"); return -1; }
  C16(0x16) = 0;
  if (C16(0x18) < QSIZE) { printf("  queue 0 too small: %u\n", C16(0x18)); return -1; }
  C16(0x18) = QSIZE;
  C32(0x20) = (u32)(u64)descs; C32(0x24) = 0;
  C32(0x28) = (u32)(u64)&avail; C32(0x2c) = 0;
  C32(0x30) = (u32)(u64)&used; C32(0x34) = 0;
  notify_off = C16(0x1e);
  C16(0x1c) = 1;
  memset(&avail, 0, sizeof avail);
  memset(&used, 0, sizeof used);
  avail_idx = used_seen = 0;
  avail.flags = 1; /* polled: no interrupts */
  C8(0x14) = 1 | 2 | 8 | 4;
  *features = want;
  return 0;
}

/* one request: header, optional data (device-writable for reads), status; returns the status */
static int request(u32 type, u64 sector, void *buf, u32 len, int device_writes, u32 *used_len) {
  *(u32 *)header = type;
  *(u32 *)(header + 4) = 0;
  *(u64 *)(header + 8) = sector;
  status_byte = 0xee;
  int n = 0;
  descs[n] = (struct desc){ (u64)header, 16, 1, 1 }; n++;
  if (len) { descs[n] = (struct desc){ (u64)buf, len, (u16)(1 | (device_writes ? 2 : 0)), 2 }; n++; }
  descs[n] = (struct desc){ (u64)&status_byte, 1, 2, 0 };
  avail.ring[avail_idx % QSIZE] = 0;
  __asm__ volatile("" ::: "memory");
  avail.idx = ++avail_idx;
  __asm__ volatile("mfence" ::: "memory");
  *(volatile u16 *)(notify_base + notify_off * notify_mul) = 0;
  while (*(volatile u16 *)&used.idx == used_seen) __asm__ volatile("pause");
  struct used_elem e = used.ring[used_seen % QSIZE];
  used_seen++;
  if (used_len) *used_len = e.len;
  return status_byte;
}

static u32 fnv(const u8 *p, u32 n) {
  u32 h = 2166136261u;
  for (u32 i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

static void tag(u64 sector) {
  u32 ul;
  int st = request(0, sector, data, 512, 1, &ul);
  char t[20];
  memcpy(t, data, 18);
  t[18] = 0;
  printf("  sector %lu: status %d used %u tag '%s'\n", sector, st, ul, st == 0 ? t : "-");
}

static u64 tsc_per_ms;
static u64 us_since(u64 t0) { return (rdtsc() - t0) * 1000 / tsc_per_ms; }

static void bench(u64 capacity) {
  u64 t0 = rdtsc();
  udelay(20000);
  tsc_per_ms = (rdtsc() - t0) / 20;
  u32 seed = 12345;
  const int N = 2000;
  u64 sectors4k = capacity / 8;
  /* the start and done lines let the host time each phase by their arrival too */
  printf("BENCH rand4k start\n");
  t0 = rdtsc();
  for (int i = 0; i < N; i++) {
    seed = seed * 1103515245u + 12345u;
    request(0, (u64)(seed % sectors4k) * 8, data, 4096, 1, 0);
  }
  printf("BENCH rand4k done reads=%d guest_us=%lu\n", N, us_since(t0));
  const int M = 32;
  printf("BENCH seq1m start\n");
  t0 = rdtsc();
  for (int i = 0; i < M; i++) request(0, ((u64)i * 2048) % (capacity - 2048), data, 1 << 20, 1, 0);
  printf("BENCH seq1m done reads=%d guest_us=%lu\n", M, us_since(t0));
}

int kmain(void) {
  pit_init();
  int found = 0;
  for (int dev = 0; dev < 32; dev++) {
    u32 id = pci_read(dev, 0);
    if ((id & 0xffff) != 0x1af4) continue;
    u32 did = id >> 16;
    u32 type = did >= 0x1040 ? did - 0x1040 : pci_read(dev, 0x2c) >> 16;
    if (type != 2) continue;
    printf("disk %d: virtio block device\n", found);
    common = isr = devcfg = notify_base = 0;
    u64 f;
    if (setup(dev, &f)) return 1;
    u64 capacity = *(volatile u32 *)devcfg | ((u64) * (volatile u32 *)(devcfg + 4) << 32);
    printf("  features: version_1 %d flush %d ro %d blk_size %d\n", (int)(f >> F_VERSION_1) & 1,
           (int)(f >> F_FLUSH) & 1, (int)(f >> F_RO) & 1, (int)(f >> F_BLK_SIZE) & 1);
    printf("  capacity %lu sectors, blk_size %u\n", capacity, (f >> F_BLK_SIZE) & 1 ? *(volatile u32 *)(devcfg + 0x14) : 512);
    tag(0);
    tag(1);
    tag(capacity - 1);
    u32 ul;
    int st = request(0, 0, data, 128 * 1024, 1, &ul);
    printf("  first 128 KiB: status %d used %u fnv %08x\n", st, ul, fnv(data, 128 * 1024));
    memset(data, 0, 20);
    st = request(8, 0, data, 20, 1, &ul);
    printf("  get_id: status %d serial '%s'\n", st, st == 0 ? (char *)data : "-");
    printf("  read past the end: status %d\n", request(0, capacity, data, 512, 1, 0));
    printf("  read across the end: status %d\n", request(0, capacity - 1, data, 1024, 1, 0));
    printf("  unknown type 99: status %d\n", request(99, 0, 0, 0, 0, 0));
    for (int i = 0; i < 1024; i++) data[i] = (u8)(i * 3 + found);
    memcpy(data, "WRITTEN-BY-GUEST", 16);
    printf("  write sectors 300-301: status %d\n", request(1, 300, data, 1024, 0, 0));
    printf("  flush: status %d\n", request(4, 0, 0, 0, 0, 0));
    memset(data, 0, 1024);
    st = request(0, 300, data, 1024, 1, &ul);
    printf("  read back: status %d used %u fnv %08x\n", st, ul, fnv(data, 1024));
    tag(300);
    if (boot_has_arg("bench")) bench(capacity);
    C8(0x14) = 0; /* reset: the device lets go of our rings */
    found++;
  }
  printf("virtio-blk: %d disk(s)\n", found);
  return 0;
}
