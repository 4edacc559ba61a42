/* The local file store: a superblock, a directory of fixed file slots and one contiguous
 * extent per slot on the server's virtio-blk disk (docs/STORAGE.md has the byte layout).
 * Every DIME of the server shares it: the directory, the bounce buffer and the disk are
 * guarded by one lock in kernel memory (the kernel partition is mapped alike on every core).
 * What a DIME may touch is decided by its grants (STORE_GRANT from the orchestrator, kept
 * like parameters); a refused access is counted and raises a SECURITY alarm. Per-DIME state
 * (grants, handles, counters) is only touched by the DIME's own core with interrupts off. */
#include "dime.h"
#include "blk.h"
#include "store.h"
#include "rights.h"
#include "sdk_abi.h"
#include "e1000.h"

#define STORE_MAGIC "PXSTORE1"
#define STORE_VERSION 1
#define SLOTS 64
#define NAME_LEN 48                 /* with its NUL */
#define DIR_START 1
#define DIR_SECTORS (SLOTS * sizeof(struct dirent) / BLK_SECTOR)
#define DATA_START 32               /* first data sector (16 KiB in) */
#define MAX_HANDLES 8
_Static_assert(PX_STORE_GRANT_REQ_PREFIX_LEN == RIGHTS_KEY_LEN, "a grant's prefix is a rights key");

/* on disk, little-endian (read in place by x86 code and by src/orchestrator/local-store.ts on the host) */
struct superblock {
  char magic[8];
  uint32_t version, slots, dir_start, dir_sectors, data_start, slot_sectors;
  uint64_t disk_sectors;
  uint32_t crc;                     /* CRC-32 of the bytes before it */
} __attribute__((packed));
struct dirent {
  char name[NAME_LEN];              /* NUL-padded; "" = free slot */
  uint32_t size;                    /* bytes */
  uint32_t gen;                     /* bumped by every change of the entry */
  uint8_t reserved[72];
} __attribute__((packed));
_Static_assert(sizeof(struct dirent) == 128, "directory entry is 128 bytes");

struct handle { bool used, dirty; uint8_t mode; uint16_t slot; uint32_t pos; };
struct dime_store {
  struct rights_table grants;       /* key: a file-name prefix */
  struct handle h[MAX_HANDLES];
  struct file_counts io;
  uint32_t refused, errors;
};

static spinlock_t store_lock;
static uint8_t state = PX_STORE_STATE_NONE;
static struct superblock sb;
static struct dirent dir[SLOTS] __attribute__((aligned(4096)));
static uint8_t bounce[BLK_MAX_BYTES] __attribute__((aligned(4096)));
static struct dime_store per_dime[MAX_CPUS];

static inline struct dime_store *ds(struct dime *d) { return &per_dime[d->index]; }
static uint64_t slot_sector(uint32_t slot) { return sb.data_start + (uint64_t)slot * sb.slot_sectors; }
static uint32_t slot_bytes(void) { return sb.slot_sectors * BLK_SECTOR; }

/* ---------------- mount / format (boot core, before any service runs) ---------------- */

static bool write_dir_sector_of(uint32_t slot) {
  uint32_t per = BLK_SECTOR / sizeof(struct dirent);
  uint32_t first = slot / per * per;
  return blk_write(DIR_START + slot / per, &dir[first], 1);
}

static bool format(void) {
  if (blk_readonly) return false;
  uint64_t per = blk_sectors > DATA_START ? (blk_sectors - DATA_START) / SLOTS : 0;
  if (per > 0xFFFFFFFFull / BLK_SECTOR) per = 0xFFFFFFFFull / BLK_SECTOR;
  per &= ~7ull;                     /* whole 4 KiB blocks */
  if (per < 8) return false;
  memset(&sb, 0, sizeof sb);
  memcpy(sb.magic, STORE_MAGIC, 8);
  sb.version = STORE_VERSION;
  sb.slots = SLOTS;
  sb.dir_start = DIR_START;
  sb.dir_sectors = DIR_SECTORS;
  sb.data_start = DATA_START;
  sb.slot_sectors = (uint32_t)per;
  sb.disk_sectors = blk_sectors;
  sb.crc = crc32_update(0, &sb, offsetof(struct superblock, crc));
  memset(dir, 0, sizeof dir);
  if (!blk_write(DIR_START, dir, DIR_SECTORS)) return false;
  memset(bounce, 0, BLK_SECTOR);
  memcpy(bounce, &sb, sizeof sb);
  return blk_write(0, bounce, 1) && blk_flush();
}

void store_init(void) {
  if (!blk_init()) return;
  if (!blk_read(0, bounce, 1)) { state = PX_STORE_STATE_ERROR; kprintf("store: the disk does not answer\n"); return; }
  memcpy(&sb, bounce, sizeof sb);
  bool ours = memcmp(sb.magic, STORE_MAGIC, 8) == 0 && sb.crc == crc32_update(0, &sb, offsetof(struct superblock, crc)) &&
              sb.version == STORE_VERSION && sb.slots == SLOTS && sb.dir_start == DIR_START && sb.dir_sectors == DIR_SECTORS &&
              sb.data_start == DATA_START && sb.slot_sectors >= 8 &&
              sb.data_start + (uint64_t)SLOTS * sb.slot_sectors <= blk_sectors;
  bool blank = true;
  for (uint32_t i = 0; i < BLK_SECTOR; i++) blank = blank && bounce[i] == 0;
  const char *opt = cmdline_get("store");
  bool force = opt && strcmp(opt, "format") == 0;
  if (ours && !force) {
    if (!blk_read(DIR_START, dir, DIR_SECTORS)) { state = PX_STORE_STATE_ERROR; kprintf("store: directory unreadable\n"); return; }
    for (uint32_t i = 0; i < SLOTS; i++) {
      dir[i].name[NAME_LEN - 1] = 0;
      if (dir[i].size > slot_bytes()) dir[i].size = slot_bytes();   /* never read past the slot */
    }
  } else if (blank || force) {
    if (!format()) { state = PX_STORE_STATE_ERROR; kprintf("store: cannot format the disk (%lu sectors%s)\n", blk_sectors, blk_readonly ? ", read-only" : ""); return; }
    kprintf("store: formatted a blank disk\n");
  } else {
    state = PX_STORE_STATE_FOREIGN;
    kprintf("store: the disk holds something else; left untouched (store=format to reuse it)\n");
    return;
  }
  uint32_t files = 0;
  for (uint32_t i = 0; i < SLOTS; i++) files += dir[i].name[0] != 0;
  state = PX_STORE_STATE_READY;
  kprintf("store: %lu sectors, %u files, %u slots of %u KiB%s\n", blk_sectors, files, SLOTS, slot_bytes() / 1024,
          blk_readonly ? ", read-only" : "");
}

/* ---------------- grants (agent, on the DIME's own core) ---------------- */

void store_grants_reset(struct dime *d) { rights_reset(&ds(d)->grants); }

uint16_t store_grant(struct dime *d, const uint8_t *req, uint16_t *grants) {
  struct rights_table *t = &ds(d)->grants;
  struct rights_entry *e;
  uint16_t st = rights_set(t, req + PX_STORE_GRANT_REQ_PREFIX_OFF, req[PX_STORE_GRANT_REQ_RIGHTS_OFF], false, &e);
  *grants = rights_count(t);
  return st;
}

/* the union of the rights of every grant whose prefix `name` starts with */
static uint8_t rights_for(struct dime_store *s, const char *name) {
  uint8_t r = 0;
  for (int i = 0; i < RIGHTS_MAX; i++) {
    const struct rights_entry *g = &s->grants.e[i];
    if (g->rights && strncmp(name, g->key, strlen(g->key)) == 0) r |= g->rights;
  }
  return r;
}

/* Counted always; alarmed at the 1st, 2nd, 4th, 8th... refusal of this DIME (as malformed
 * frames are): a service hammering files it may not touch cannot flood the LAN with alarms,
 * and which refusals raise one does not depend on timing. */
int64_t store_refuse(struct dime *d, const char *name, uint8_t want, const char *what) {
  struct dime_store *s = ds(d);
  uint32_t n = ++s->refused;
  kprintf("DIME %u storage: %s of '%s' refused (no grant)\n", d->index, what, name);
  if (!(n & (n - 1))) {
    d->sec_alarms++;
    char text[32];
    snprintf(text, sizeof text, "storage %s: %s", what, name);
    send_alarm(d, PX_ALARM_KIND_SECURITY, PX_SECURITY_CODE_UNAUTHORIZED, want, 0, nic_mac, (uint16_t)d->index, n, text);
  }
  return DIME_EACCES;
}

/* ---------------- accounting ---------------- */

uint32_t store_refused(struct dime *d) { return ds(d)->refused; }

_Static_assert(PX_QUERY_CSTORE_RESP_OPENS_OFF == PX_QUERY_STORAGE_RESP_OPENS_OFF &&
               PX_QUERY_CSTORE_RESP_READS_OFF == PX_QUERY_STORAGE_RESP_READS_OFF &&
               PX_QUERY_CSTORE_RESP_WRITES_OFF == PX_QUERY_STORAGE_RESP_WRITES_OFF &&
               PX_QUERY_CSTORE_RESP_BYTES_READ_OFF == PX_QUERY_STORAGE_RESP_BYTES_READ_OFF &&
               PX_QUERY_CSTORE_RESP_BYTES_WRITTEN_OFF == PX_QUERY_STORAGE_RESP_BYTES_WRITTEN_OFF,
               "QUERY_STORAGE and QUERY_CSTORE carry the file-call counters alike");

void file_counts_put(uint8_t *p, const struct file_counts *c) {
  put_be32(p + PX_QUERY_STORAGE_RESP_OPENS_OFF, c->opens);
  put_be32(p + PX_QUERY_STORAGE_RESP_READS_OFF, c->reads);
  put_be32(p + PX_QUERY_STORAGE_RESP_WRITES_OFF, c->writes);
  put_be64(p + PX_QUERY_STORAGE_RESP_BYTES_READ_OFF, c->bytes_read);
  put_be64(p + PX_QUERY_STORAGE_RESP_BYTES_WRITTEN_OFF, c->bytes_written);
}

void store_query(struct dime *d, uint8_t *p) {
  struct dime_store *s = ds(d);
  memset(p, 0, PX_QUERY_STORAGE_RESP_LEN);
  put_be16(p + PX_QUERY_STORAGE_RESP_DIME_OFF, (uint16_t)d->index);
  p[PX_QUERY_STORAGE_RESP_STORE_OFF] = state;
  p[PX_QUERY_STORAGE_RESP_GRANTS_OFF] = (uint8_t)rights_count(&s->grants);
  file_counts_put(p, &s->io);
  put_be32(p + PX_QUERY_STORAGE_RESP_REFUSED_OFF, s->refused);
  put_be32(p + PX_QUERY_STORAGE_RESP_ERRORS_OFF, s->errors);
  uint64_t f = spin_lock_irqsave(&store_lock);
  uint16_t files = 0;
  for (uint32_t i = 0; i < SLOTS; i++) files += dir[i].name[0] != 0;
  bool ready = state == PX_STORE_STATE_READY;
  put_be64(p + PX_QUERY_STORAGE_RESP_DISK_SECTORS_OFF, blk_sectors);
  put_be16(p + PX_QUERY_STORAGE_RESP_FILES_OFF, ready ? files : 0);
  put_be16(p + PX_QUERY_STORAGE_RESP_SLOTS_OFF, ready ? SLOTS : 0);
  put_be32(p + PX_QUERY_STORAGE_RESP_SLOT_BYTES_OFF, ready ? slot_bytes() : 0);
  put_be64(p + PX_QUERY_STORAGE_RESP_DISK_REQUESTS_OFF, blk_stats.requests);
  put_be32(p + PX_QUERY_STORAGE_RESP_DISK_ERRORS_OFF, blk_stats.errors);
  spin_unlock_irqrestore(&store_lock, f);
}

/* ---------------- byte I/O on a slot (store lock held) ---------------- */

/* bytes [off, off+n) of slot `slot` to/from kernel-visible memory `p` (the service's buffer:
 * its window is mapped on this core) through the bounce buffer */
static bool slot_io(uint32_t slot, uint32_t off, uint8_t *p, uint32_t n, bool write) {
  while (n) {
    uint32_t first = off / BLK_SECTOR, head = off % BLK_SECTOR;
    uint32_t take = BLK_MAX_BYTES - head < n ? BLK_MAX_BYTES - head : n;
    uint32_t count = (head + take + BLK_SECTOR - 1) / BLK_SECTOR;
    uint64_t at = slot_sector(slot) + first;
    if (write) {
      bool partial = head || (head + take) % BLK_SECTOR;
      if (partial && !blk_read(at, bounce, count)) return false;
      memcpy(bounce + head, p, take);
      if (!blk_write(at, bounce, count)) return false;
    } else {
      if (!blk_read(at, bounce, count)) return false;
      memcpy(p, bounce + head, take);
    }
    off += take; p += take; n -= take;
  }
  return true;
}

/* ---------------- system calls ---------------- */

static uint64_t user_top(struct dime *d) { return USER_BASE + (uint64_t)d->nchunks * CHUNK_SIZE; }
bool store_user_ok(struct dime *d, uint64_t p, uint64_t n) {
  return p >= USER_BASE && n <= user_top(d) - USER_BASE && p - USER_BASE <= user_top(d) - USER_BASE - n;
}

/* a file name from the service: 1..47 printable characters without spaces */
bool store_user_name(struct dime *d, uint64_t p, char *name) {
  if (!store_user_ok(d, p, 1)) return false;
  uint64_t room = user_top(d) - p;
  uint32_t i = 0;
  for (; i < NAME_LEN && i < room; i++) {
    char c = ((const char *)p)[i];
    name[i] = c;
    if (!c) break;
    if (c <= ' ' || c > '~') return false;
  }
  return i > 0 && i < NAME_LEN && i < room;
}

static int32_t find(const char *name) {
  for (uint32_t i = 0; i < SLOTS; i++) if (dir[i].name[0] && strcmp(dir[i].name, name) == 0) return (int32_t)i;
  return -1;
}

static void handles_of_slot_reset(uint32_t slot) {
  for (uint32_t c = 0; c < MAX_CPUS; c++)
    for (int i = 0; i < MAX_HANDLES; i++)
      if (per_dime[c].h[i].used && per_dime[c].h[i].slot == slot) per_dime[c].h[i].pos = 0;
}

static int64_t do_open(struct dime *d, uint64_t uname, uint64_t mode) {
  struct dime_store *s = ds(d);
  char name[NAME_LEN];
  if (!store_user_name(d, uname, name) || (mode & ~0x1Full) || !(mode & (DIME_O_READ | DIME_O_WRITE))) return DIME_EINVAL;
  uint8_t want = store_open_rights(mode);
  if ((rights_for(s, name) & want) != want) return store_refuse_access(d, name, want);
  int hi = -1;
  for (int i = 0; i < MAX_HANDLES && hi < 0; i++) if (!s->h[i].used) hi = i;
  if (hi < 0) return DIME_EMFILE;
  uint64_t f = spin_lock_irqsave(&store_lock);
  int64_t ret;
  int32_t slot = find(name);
  if (slot < 0 && (mode & DIME_O_CREATE)) {
    for (uint32_t i = 0; i < SLOTS && slot < 0; i++) if (!dir[i].name[0]) slot = (int32_t)i;
    if (slot < 0) { ret = DIME_ENOSPC; goto out; }
    memset(&dir[slot], 0, sizeof dir[slot]);
    strlcpy(dir[slot].name, name, NAME_LEN);
    dir[slot].gen = 1;
    if (!write_dir_sector_of((uint32_t)slot)) { memset(&dir[slot], 0, sizeof dir[slot]); ret = DIME_EIO; goto out; }
  } else if (slot < 0) {
    ret = DIME_ENOENT; goto out;
  } else if (mode & DIME_O_TRUNC) {
    dir[slot].size = 0;
    dir[slot].gen++;
    if (!write_dir_sector_of((uint32_t)slot)) { ret = DIME_EIO; goto out; }
    handles_of_slot_reset((uint32_t)slot);
  }
  s->h[hi] = (struct handle){true, (mode & DIME_O_TRUNC) != 0, (uint8_t)mode, (uint16_t)slot, mode & DIME_O_APPEND ? dir[slot].size : 0};
  s->io.opens++;
  ret = hi;
out:
  spin_unlock_irqrestore(&store_lock, f);
  return ret;
}

static struct handle *handle_of(struct dime *d, uint64_t h) {
  return h < MAX_HANDLES && ds(d)->h[h].used ? &ds(d)->h[h] : NULL;
}

static int64_t do_read(struct dime *d, uint64_t h, uint64_t buf, uint64_t max) {
  struct handle *hp = handle_of(d, h);
  if (!hp || !(hp->mode & DIME_O_READ)) return DIME_EBADF;
  if (!store_user_ok(d, buf, max)) return DIME_EINVAL;
  uint64_t f = spin_lock_irqsave(&store_lock);
  uint32_t size = dir[hp->slot].size;
  uint32_t n = hp->pos >= size ? 0 : (size - hp->pos < max ? size - hp->pos : (uint32_t)max);
  bool ok = !n || slot_io(hp->slot, hp->pos, (uint8_t *)buf, n, false);
  spin_unlock_irqrestore(&store_lock, f);
  if (!ok) return DIME_EIO;
  hp->pos += n;
  file_counts_io(&ds(d)->io, false, n);
  return n;
}

static int64_t do_write(struct dime *d, uint64_t h, uint64_t buf, uint64_t len) {
  struct handle *hp = handle_of(d, h);
  if (!hp || !(hp->mode & DIME_O_WRITE)) return DIME_EBADF;
  if (!store_user_ok(d, buf, len)) return DIME_EINVAL;
  if (blk_readonly) return DIME_EIO;
  uint64_t f = spin_lock_irqsave(&store_lock);
  int64_t ret;
  if (hp->mode & DIME_O_APPEND) hp->pos = dir[hp->slot].size;
  if ((uint64_t)hp->pos + len > slot_bytes()) { ret = DIME_ENOSPC; goto out; }
  /* data first, then the entry that makes it visible */
  if (len && !slot_io(hp->slot, hp->pos, (uint8_t *)buf, (uint32_t)len, true)) { ret = DIME_EIO; goto out; }
  hp->pos += (uint32_t)len;
  hp->dirty = true;
  if (hp->pos > dir[hp->slot].size) {
    dir[hp->slot].size = hp->pos;
    dir[hp->slot].gen++;
    if (!write_dir_sector_of(hp->slot)) { ret = DIME_EIO; goto out; }
  }
  ret = (int64_t)len;
out:
  spin_unlock_irqrestore(&store_lock, f);
  if (ret >= 0) file_counts_io(&ds(d)->io, true, (uint64_t)ret);
  return ret;
}

static int64_t do_close(struct dime *d, uint64_t h) {
  struct handle *hp = handle_of(d, h);
  if (!hp) return DIME_EBADF;
  bool ok = true;
  if (hp->dirty) {
    uint64_t f = spin_lock_irqsave(&store_lock);
    ok = blk_flush();
    spin_unlock_irqrestore(&store_lock, f);
  }
  hp->used = false;
  return ok ? 0 : DIME_EIO;
}

static int64_t do_list(struct dime *d, uint64_t buf, uint64_t max) {
  if (!store_user_ok(d, buf, max)) return DIME_EINVAL;
  char *out = (char *)buf;
  uint64_t n = 0;
  uint64_t f = spin_lock_irqsave(&store_lock);
  for (uint32_t i = 0; i < SLOTS; i++) {
    if (!dir[i].name[0] || !(rights_for(ds(d), dir[i].name) & PX_STORE_RIGHT_READ)) continue;
    char line[NAME_LEN + 16];
    int k = snprintf(line, sizeof line, "%s %u\n", dir[i].name, dir[i].size);
    if (n + (uint64_t)k > max) break;
    memcpy(out + n, line, (size_t)k);
    n += (uint64_t)k;
  }
  spin_unlock_irqrestore(&store_lock, f);
  return (int64_t)n;
}

static int64_t do_remove(struct dime *d, uint64_t uname) {
  char name[NAME_LEN];
  if (!store_user_name(d, uname, name)) return DIME_EINVAL;
  if (!(rights_for(ds(d), name) & PX_STORE_RIGHT_WRITE)) return store_refuse(d, name, PX_STORE_RIGHT_WRITE, "remove");
  uint64_t f = spin_lock_irqsave(&store_lock);
  int64_t ret = 0;
  int32_t slot = find(name);
  bool open = false;
  for (uint32_t c = 0; c < MAX_CPUS && slot >= 0; c++)
    for (int i = 0; i < MAX_HANDLES; i++) open = open || (per_dime[c].h[i].used && per_dime[c].h[i].slot == (uint32_t)slot);
  if (slot < 0) ret = DIME_ENOENT;
  else if (open) ret = DIME_EINVAL;   /* someone still has it open */
  else {
    memset(&dir[slot], 0, sizeof dir[slot]);
    if (!write_dir_sector_of((uint32_t)slot) || !blk_flush()) ret = DIME_EIO;
  }
  spin_unlock_irqrestore(&store_lock, f);
  return ret;
}

static int64_t do_seek(struct dime *d, uint64_t h, uint64_t off) {
  struct handle *hp = handle_of(d, h);
  if (!hp) return DIME_EBADF;
  if (off > slot_bytes()) return DIME_EINVAL;
  hp->pos = (uint32_t)off;
  return (int64_t)off;
}

int64_t store_syscall(struct dime *d, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2) {
  if (state != PX_STORE_STATE_READY) { ds(d)->errors++; return DIME_ENODEV; }
  int64_t r;
  switch (nr) {
    case SYS_FOPEN: r = do_open(d, a0, a1); break;
    case SYS_FREAD: r = do_read(d, a0, a1, a2); break;
    case SYS_FWRITE: r = do_write(d, a0, a1, a2); break;
    case SYS_FCLOSE: r = do_close(d, a0); break;
    case SYS_FLIST: r = do_list(d, a0, a1); break;
    case SYS_FREMOVE: r = do_remove(d, a0); break;
    case SYS_FSEEK: r = do_seek(d, a0, a1); break;
    default: r = DIME_EINVAL; break;
  }
  if (r < 0 && r != DIME_EACCES) ds(d)->errors++;
  return r;
}

void store_service_ended(struct dime *d) {
  struct dime_store *s = ds(d);
  bool dirty = false;
  for (int i = 0; i < MAX_HANDLES; i++) { dirty = dirty || (s->h[i].used && s->h[i].dirty); s->h[i].used = false; }
  if (dirty && state == PX_STORE_STATE_READY) {
    uint64_t f = spin_lock_irqsave(&store_lock);
    blk_flush();
    spin_unlock_irqrestore(&store_lock, f);
  }
}
