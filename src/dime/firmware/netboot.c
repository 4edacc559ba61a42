/* Network boot firmware (docs/BOOT.md, "Network boot"): find the e1000, ask the LAN for a
 * kernel (BOOT_REQUEST to the boot multicast address), fetch it in chunks (BOOT_READ /
 * BOOT_DATA, resent until every chunk is in), check it (every frame tagged with this server's
 * key, which only the orchestrator's master secret derives; the epoch is our fresh nonce, so a
 * frame from an earlier request is a replay; the SHA-256 of the offer covers the whole image),
 * then load the Multiboot 1 image and enter it as the direct `--kernel` path does. Anything
 * refused is counted and reported on COM1; the firmware keeps asking. */
#include "kernel.h"
#include "crypto.h"
#include "e1000.h"
#include "keyfile.h"
#include "protocol.h"
#include "clock.h"
#include "entropy.h"

#define MB_LOADER_MAGIC 0x2BADB002
#define MB_HEADER_MAGIC 0x1BADB002
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_LOADER_NAME (1u << 9)
#define OFFER_WAIT_US 1000000
#define READ_WAIT_US 300000
#define READ_TRIES 20
#define KERNEL_LOW 0x100000        /* kernels go above the first MiB, as the loader requires */

void fw_handoff(uint32_t entry, uint32_t info) __attribute__((noreturn));
extern uint8_t __fw_start[], __fw_end[];

struct mb1_info {
  uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
  uint32_t syms[4], mmap_length, mmap_addr, drives_length, drives_addr, config_table, boot_loader_name;
} __attribute__((packed));

static const uint8_t boot_mcast[6] = PX_BOOT_MCAST_MAC;
static struct hmac_key key_server;       /* K_server(our MAC): the boot server tags with it */
static uint64_t nonce, seq;
static uint32_t req_id;
static struct { uint32_t forged, replayed, malformed, stale, resends, restarts, duplicates; } stats;

/* the offer being fetched */
static struct {
  bool have;
  uint8_t server[6];
  uint32_t size, chunk, nchunks, got;
  uint8_t sha256[32];
  char name[17], cmdline[PX_BOOT_MAX_CMDLINE + 1];
} offer;
static uint8_t *image;                   /* staging buffer, after our bss */
static uint64_t image_max;
static uint8_t have_chunk[(64u << 20) / PX_BOOT_CHUNK / 8];

/* ---- frames ---- */

static void send_frame(const uint8_t dst[6], uint8_t code, const uint8_t *payload, uint16_t plen) {
  static uint8_t f[PX_MAX_FRAME_LEN];
  uint8_t *h = f + PX_ETH_HEADER_LEN;
  memcpy(f, dst, 6);
  memcpy(f + 6, nic_mac, 6);
  put_be16(f + 12, PX_ETHERTYPE_BASE_DEFAULT | code);        /* signaling, system scope */
  memset(h, 0, PX_HDR_LEN);
  h[PX_HDR_VERSION_OFF] = PX_PROTOCOL_VERSION;
  put_be16(h + PX_HDR_DST_CORE_OFF, PX_CORE_NONE);
  put_be16(h + PX_HDR_SRC_CORE_OFF, 0);                      /* as DIME 0: tagged with our server key */
  put_be16(h + PX_HDR_LENGTH_OFF, plen);
  put_be64(h + PX_HDR_SEQ_OFF, ++seq);
  put_be32(h + PX_HDR_REQ_ID_OFF, ++req_id);
  put_be64(h + PX_HDR_EPOCH_OFF, nonce);
  memcpy(h + PX_HDR_LEN, payload, plen);
  uint32_t covered = PX_ETH_HEADER_LEN + PX_HDR_LEN + plen;
  hmac_sha256(&key_server, f, covered, f + covered);
  e1000_send(f, covered + PX_TAG_LEN);
}

static void send_request(void) {
  uint8_t p[PX_BOOT_REQUEST_REQ_LEN] = {0};
  put_be16(p + PX_BOOT_REQUEST_REQ_FIRMWARE_OFF, PX_BOOT_FIRMWARE_VERSION);
  put_be32(p + PX_BOOT_REQUEST_REQ_FORGED_OFF, stats.forged);
  put_be32(p + PX_BOOT_REQUEST_REQ_REPLAYED_OFF, stats.replayed);
  send_frame(boot_mcast, PX_SIG_BOOT_REQUEST, p, sizeof p);
}

static void send_read(uint32_t offset, uint32_t length) {
  uint8_t p[PX_BOOT_READ_REQ_LEN];
  put_be32(p + PX_BOOT_READ_REQ_OFFSET_OFF, offset);
  put_be32(p + PX_BOOT_READ_REQ_LENGTH_OFF, length);
  send_frame(offer.server, PX_SIG_BOOT_READ, p, sizeof p);
}

static void refused(const char *why, const uint8_t *f, uint32_t count) {
  if (count <= 4 || count % 64 == 0)
    kprintf("netboot: refused a boot frame from %02x:%02x:%02x:%02x:%02x:%02x: %s (%u so far)\n", f[6], f[7], f[8], f[9], f[10], f[11], why, count);
}

static void take_offer(const uint8_t *f, const uint8_t *p, uint16_t plen) {
  if (offer.have) return;   /* a second boot server's offer: the first one is being fetched */
  if (plen < PX_BOOT_REQUEST_RESP_LEN) { refused("short offer", f, ++stats.malformed); return; }
  uint32_t size = be32(p + PX_BOOT_REQUEST_RESP_SIZE_OFF), chunk = be16(p + PX_BOOT_REQUEST_RESP_CHUNK_OFF);
  if (size == 0 || size > image_max || size > sizeof have_chunk * 8ULL * chunk || chunk == 0 || chunk > PX_MAX_PAYLOAD - PX_BOOT_DATA_REQ_LEN) {
    refused("offer out of range (size or chunk)", f, ++stats.malformed);
    return;
  }
  memcpy(offer.server, f + 6, 6);
  offer.size = size;
  offer.chunk = chunk;
  offer.nchunks = (size + chunk - 1) / chunk;
  offer.got = 0;
  memcpy(offer.sha256, p + PX_BOOT_REQUEST_RESP_SHA256_OFF, 32);
  memcpy(offer.name, p + PX_BOOT_REQUEST_RESP_NAME_OFF, 16);
  offer.name[16] = 0;
  memcpy(offer.cmdline, p + PX_BOOT_REQUEST_RESP_CMDLINE_OFF, PX_BOOT_MAX_CMDLINE);
  offer.cmdline[PX_BOOT_MAX_CMDLINE] = 0;
  memset(have_chunk, 0, (offer.nchunks + 7) / 8);
  offer.have = true;
}

static void take_data(const uint8_t *f, const uint8_t *p, uint16_t plen) {
  if (!offer.have || memcmp(f + 6, offer.server, 6) != 0 || plen < PX_BOOT_DATA_REQ_LEN) { stats.stale++; return; }
  uint32_t off = be32(p + PX_BOOT_DATA_REQ_OFFSET_OFF), n = plen - PX_BOOT_DATA_REQ_LEN;
  uint32_t i = off / offer.chunk;
  uint32_t want = i + 1 == offer.nchunks ? offer.size - off : offer.chunk;
  if (off % offer.chunk || i >= offer.nchunks || n != want) { refused("chunk out of place", f, ++stats.malformed); return; }
  if (have_chunk[i / 8] & (1u << (i % 8))) { stats.duplicates++; return; }
  memcpy(image + off, p + PX_BOOT_DATA_REQ_LEN, n);
  have_chunk[i / 8] |= (uint8_t)(1u << (i % 8));
  offer.got++;
}

/* every received frame: ours, authentic, in this request's epoch, or counted and dropped */
static void deliver(const uint8_t *f, uint32_t len) {
  uint16_t et = be16(f + 12);
  if ((et & PX_ETHERTYPE_BLOCK_MASK) != PX_ETHERTYPE_BASE_DEFAULT) return;       /* not our protocol */
  if (memcmp(f, nic_mac, 6) != 0) return;                                       /* not to us */
  const uint8_t *h = f + PX_ETH_HEADER_LEN;
  if (len < PX_ETH_HEADER_LEN + PX_HDR_LEN + PX_TAG_LEN || h[PX_HDR_VERSION_OFF] != PX_PROTOCOL_VERSION) { refused("malformed", f, ++stats.malformed); return; }
  uint16_t plen = be16(h + PX_HDR_LENGTH_OFF);
  uint32_t covered = PX_ETH_HEADER_LEN + PX_HDR_LEN + plen;
  if (covered + PX_TAG_LEN > len) { refused("length beyond the frame", f, ++stats.malformed); return; }
  uint8_t tag[32];
  hmac_sha256(&key_server, f, covered, tag);
  if (be16(h + PX_HDR_SRC_CORE_OFF) != PX_CORE_NONE || !tag_equal(tag, f + covered, PX_TAG_LEN)) {
    refused("bad tag (not signed with this server's key: forged, or a boot server with another master key)", f, ++stats.forged);
    return;
  }
  if (be64(h + PX_HDR_EPOCH_OFF) != nonce) { refused("another epoch (replayed from an earlier request)", f, ++stats.replayed); return; }
  const uint8_t *p = h + PX_HDR_LEN;
  uint8_t code = et & PX_ET_TYPE_MASK;
  if (!(et & PX_ET_CHANNEL_DATA) && code == PX_SIG_BOOT_REQUEST && (h[PX_HDR_FLAGS_OFF] & PX_FLAG_RESPONSE)) take_offer(f, p, plen);
  else if ((et & PX_ET_CHANNEL_DATA) && code == PX_DATA_BOOT_DATA) take_data(f, p, plen);
  else stats.stale++;
}

static void poll_for(uint64_t us, bool (*done)(void)) {
  uint64_t end = clock_us() + us;
  while (clock_us() < end && !done()) {
    if (!e1000_poll_rx(deliver)) cpu_relax();
  }
}

static bool offered(void) { return offer.have; }
static uint32_t window_end;
static bool window_done(void) {
  for (uint32_t i = window_end - (window_end > PX_BOOT_WINDOW ? PX_BOOT_WINDOW : window_end); i < window_end; i++)
    if (!(have_chunk[i / 8] & (1u << (i % 8)))) return false;
  return true;
}

/* fetch every chunk of the offer; false when the boot server stopped answering */
static bool fetch(void) {
  uint32_t first = 0;
  uint32_t quiet = 0;
  while (offer.got < offer.nchunks) {
    while (have_chunk[first / 8] & (1u << (first % 8))) first++;
    window_end = first + PX_BOOT_WINDOW < offer.nchunks ? first + PX_BOOT_WINDOW : offer.nchunks;
    uint32_t before = offer.got;
    uint32_t off = first * offer.chunk;
    uint32_t end = window_end == offer.nchunks ? offer.size : window_end * offer.chunk;
    send_read(off, end - off);
    poll_for(READ_WAIT_US, window_done);
    if (offer.got == before) {
      if (++quiet >= READ_TRIES) return false;
    } else {
      quiet = 0;
    }
    if (!window_done()) stats.resends++;
  }
  return true;
}

/* ---- the image: Multiboot 1 in an ELF32 container, as the loader boots it ---- */

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* true when [a, a+n) stays inside RAM above 1 MiB and clear of the firmware and the staged image */
static bool placeable(uint64_t a, uint64_t n, uint64_t ram_end) {
  uint64_t fw0 = (uint64_t)__fw_start, fw1 = (uint64_t)image + offer.size;
  return a >= KERNEL_LOW && a + n <= ram_end && (a + n <= fw0 || a >= fw1);
}

static const char *load_image(const struct mb1_info *mbi, uint32_t *entry, uint32_t *end) {
  const uint8_t *img = image;
  uint32_t size = offer.size;
  bool mb = false;
  for (uint32_t o = 0; o + 12 <= size && o < 8192; o += 4) {
    if (rd32(img + o) == MB_HEADER_MAGIC && rd32(img + o) + rd32(img + o + 4) + rd32(img + o + 8) == 0) {
      if (rd32(img + o + 4) & (1u << 16)) return "Multiboot a.out-kludge address fields are not supported by this firmware";
      mb = true;
      break;
    }
  }
  if (!mb) return "not a Multiboot 1 image (this firmware boots Multiboot 1 ELF32 kernels, as the DIME kernel)";
  if (size < 52 || rd32(img) != 0x464C457F || img[4] != 1 || rd16(img + 18) != 3) return "not an ELF32 x86 image";
  uint32_t phoff = rd32(img + 28), phentsize = rd16(img + 42), phnum = rd16(img + 44);
  if (phentsize < 32 || phoff + (uint64_t)phnum * phentsize > size) return "program headers outside the image";
  uint64_t ram_end = KERNEL_LOW + (uint64_t)mbi->mem_upper * 1024;
  uint32_t e = rd32(img + 24), hi = 0;
  bool placed = false;
  for (uint32_t pass = 0; pass < 2; pass++) {     /* check every segment before writing any */
    for (uint32_t i = 0; i < phnum; i++) {
      const uint8_t *ph = img + phoff + i * phentsize;
      if (rd32(ph) != 1) continue;   /* PT_LOAD */
      uint32_t off = rd32(ph + 4), vaddr = rd32(ph + 8), paddr = rd32(ph + 12), filesz = rd32(ph + 16), memsz = rd32(ph + 20);
      if (filesz > memsz || off + (uint64_t)filesz > size) return "segment outside the image";
      if (!placeable(paddr, memsz, ram_end)) return "segment outside usable RAM or over the firmware";
      if (pass == 1) {
        memcpy((void *)(uint64_t)paddr, img + off, filesz);
        memset((void *)(uint64_t)paddr + filesz, 0, memsz - filesz);
        if (paddr + memsz > hi) hi = paddr + memsz;
        if (e >= vaddr && e < vaddr + memsz && !placed) { e = e - vaddr + paddr; placed = true; }
      }
    }
  }
  *entry = e;
  *end = hi;
  return NULL;
}

/* End of the loader's Multiboot structures that lie after the firmware (QEMU puts its information,
 * memory map and strings right after the image it loaded; ours puts only strings there): the
 * staging buffer starts above them, so the kernel still gets them intact. */
static uint64_t loader_data_end(const struct mb1_info *mbi) {
  uint64_t end = (uint64_t)__fw_end;
  uint64_t spans[4][2] = {
    {(uint64_t)(uintptr_t)mbi, sizeof *mbi},
    {mbi->mmap_addr, mbi->mmap_length},
    {mbi->cmdline, mbi->cmdline ? strnlen((const char *)(uint64_t)mbi->cmdline, 4096) + 1 : 0},
    {mbi->boot_loader_name, mbi->boot_loader_name ? strnlen((const char *)(uint64_t)mbi->boot_loader_name, 256) + 1 : 0},
  };
  for (int i = 0; i < 4; i++)
    if (spans[i][0] >= (uint64_t)__fw_start && spans[i][0] + spans[i][1] > end) end = spans[i][0] + spans[i][1];
  return end;
}

void fw_main(uint32_t magic, uint32_t info) {
  serial_init();
  kprintf("netboot: parallax network boot firmware %u\n", PX_BOOT_FIRMWARE_VERSION);
  if (magic != MB_LOADER_MAGIC) { kprintf("netboot: not started by a Multiboot loader (EAX %x): stopping\n", magic); return; }
  struct mb1_info *mbi = (struct mb1_info *)(uint64_t)info;
  clock_init();
  uint8_t srv[32], net[32];
  enum keyfile_result kr = keyfile_read(srv, net);
  if (kr != KEYFILE_OK) {
    kprintf("netboot: no server key file in fw_cfg %s%s: a boot server cannot be verified, so nothing is booted\n", KEYFILE_FWCFG_NAME, kr == KEYFILE_INVALID ? " (not a server key file)" : "");
    return;
  }
  keyfile_tag_key(srv, &key_server);
  memset(srv, 0, sizeof srv);
  memset(net, 0, sizeof net);
  if (!e1000_init()) { kprintf("netboot: no e1000 NIC: nothing to boot from\n"); return; }
  image = (uint8_t *)ALIGN_UP(loader_data_end(mbi), 4096);
  uint64_t ram_end = KERNEL_LOW + (uint64_t)mbi->mem_upper * 1024;
  image_max = ram_end > (uint64_t)image ? ram_end - (uint64_t)image : 0;
  if (image_max > sizeof have_chunk * 8ULL * PX_BOOT_CHUNK) image_max = sizeof have_chunk * 8ULL * PX_BOOT_CHUNK;
  seq = rdtsc();
  uint64_t t_start = clock_us();
  for (uint32_t attempt = 1;; attempt++) {
    nonce = entropy_u64(nonce, nic_mac);   /* a fresh nonce per request */
    offer.have = false;
    send_request();
    uint64_t wait = OFFER_WAIT_US * (attempt < 4 ? attempt : 4);
    poll_for(wait, offered);
    if (!offer.have) {
      if (attempt <= 3 || attempt % 10 == 0) kprintf("netboot: no boot server answered (attempt %u, refused so far: %u forged, %u replayed); asking again\n", attempt, stats.forged, stats.replayed);
      continue;
    }
    kprintf("netboot: offer from %02x:%02x:%02x:%02x:%02x:%02x: %s, %u bytes, command line \"%s\"\n", offer.server[0], offer.server[1], offer.server[2],
            offer.server[3], offer.server[4], offer.server[5], offer.name, offer.size, offer.cmdline);
    if (!fetch()) { kprintf("netboot: the boot server stopped answering (%u of %u chunks); asking again\n", offer.got, offer.nchunks); stats.restarts++; continue; }
    uint8_t d[32];
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, image, offer.size);
    sha256_final(&s, d);
    if (!tag_equal(d, offer.sha256, 32)) { kprintf("netboot: image SHA-256 does not match the signed offer: refused; asking again\n"); stats.restarts++; continue; }
    uint32_t entry, end;
    const char *why = load_image(mbi, &entry, &end);
    if (why) { kprintf("netboot: image refused: %s; asking again\n", why); stats.restarts++; continue; }
    /* the command line, the (empty) module list and the loader name after the kernel, as the loader places them */
    char *p = (char *)ALIGN_UP((uint64_t)end, 4096);
    snprintf(p, PX_BOOT_MAX_CMDLINE + 20, "%s %s", offer.name, offer.cmdline);
    char *loader = p + strlen(p) + 1;
    strlcpy(loader, "qemu", 5);
    mbi->cmdline = (uint32_t)(uint64_t)p;
    mbi->mods_count = 0;
    mbi->mods_addr = (uint32_t)(uint64_t)p;
    mbi->boot_loader_name = (uint32_t)(uint64_t)loader;
    mbi->flags |= MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_LOADER_NAME;
    kprintf("netboot: image verified (SHA-256, %u chunks, %u resent windows, %u duplicates) in %u ms; refused %u forged, %u replayed, %u malformed; entering %x\n",
            offer.nchunks, stats.resends, stats.duplicates, (uint32_t)((clock_us() - t_start) / 1000), stats.forged, stats.replayed, stats.malformed, entry);
    e1000_stop();
    outb(0x3F8 + 1, 0);   /* COM1 interrupts off again, as at reset */
    fw_handoff(entry, info);
  }
}
