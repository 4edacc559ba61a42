/* Keys and freshness (docs/PROTOCOL.md, "Security design"). The host hands this server its key
 * file through fw_cfg (never the command line): the server's own secret and the network
 * secret, both derived from the orchestrators' master secret; the tag keys are derived from
 * them with HKDF. px_sign / px_check_tag are the only places frames are signed or verified.
 * The epoch is this server's freshness value: random at boot, renewed when a replay table
 * must forget a sender; commands from orchestrators must carry it. */
#include "dime.h"
#include "e1000.h"
#include "fwcfg.h"
#include "keyfile.h"
#include "entropy.h"

#define KDF_SALT "parallax/2"
#define LAB_MASTER "parallax lab mode: public insecure key"
#define KEY_FILE_MAGIC "parallax-server-key 1"

static struct hmac_key key_server, key_net;
static bool have_keys, file_read;
static uint8_t file_server[32], file_network[32];
volatile uint64_t px_epoch;
uint32_t px_epoch_changes;

/* never 0 (0 means "unknown" on the wire); the previous epoch and the MAC mixed in */
static uint64_t fresh_random(void) { return entropy_u64(px_epoch, nic_mac); }

void epoch_renew(void) {
  __atomic_store_n(&px_epoch, fresh_random(), __ATOMIC_RELEASE);
  if (have_keys) px_epoch_changes++;
}

/* The VM generation counter (parallax-emu: fw_cfg opt/parallax/vmgenid holds its address). It
 * changes when the machine is restored from a snapshot: this memory then holds an epoch and
 * sequence numbers that peers may already have seen after the snapshot was taken, so the
 * epoch is renewed before the next frame is stamped or checked (docs/PROTOCOL.md, "Snapshots"). */
static const volatile uint64_t *vmgenid;
static uint64_t vmgenid_seen;
static spinlock_t vmgenid_lock;

uint64_t px_epoch_now(void) {
  if (vmgenid && *vmgenid != __atomic_load_n(&vmgenid_seen, __ATOMIC_ACQUIRE)) {
    bool renewed = false;
    uint64_t f = spin_lock_irqsave(&vmgenid_lock);
    uint64_t g = *vmgenid;
    if (g != vmgenid_seen) {
      epoch_renew();
      __atomic_store_n(&vmgenid_seen, g, __ATOMIC_RELEASE);
      renewed = true;
    }
    spin_unlock_irqrestore(&vmgenid_lock, f);
    if (renewed) kprintf("security: restored from a snapshot (VM generation changed): new epoch\n");
  }
  return __atomic_load_n(&px_epoch, __ATOMIC_ACQUIRE);
}

static void vmgenid_find(void) {
  uint8_t a[8];
  if (fwcfg_read_file("opt/parallax/vmgenid", a, sizeof a) != 8) return;
  uint64_t addr = 0;
  for (int i = 7; i >= 0; i--) addr = addr << 8 | a[i];
  if (addr == 0 || addr >= 0x100000 || (addr & 7)) return; /* only the reserved BIOS area is believed */
  vmgenid = (const volatile uint64_t *)(uintptr_t)addr;
  vmgenid_seen = *vmgenid;
}

/* Early (before any frame): read the key file, pick the first epoch. */
void keys_read(void) {
  if (cmdline_get("key"))
    kprintf("security: key= on the command line is ignored (a command line is visible and echoed); give the server key file through fw_cfg %s\n", "opt/parallax/key");
  enum keyfile_result r = keyfile_read(file_server, file_network);
  file_read = r == KEYFILE_OK;
  if (r == KEYFILE_INVALID) kprintf("security: WARNING the key file in fw_cfg opt/parallax/key is not a server key file (%s)\n", KEY_FILE_MAGIC);
  vmgenid_find();
  epoch_renew();
}

static void tag_key_of(const uint8_t secret[32], struct hmac_key *k) { keyfile_tag_key(secret, k); }

/* Once the NIC's MAC is known (lab mode derives this server's secret from it). */
void keys_init(void) {
  if (file_read) {
    tag_key_of(file_server, &key_server);
    tag_key_of(file_network, &key_net);
    memset(file_server, 0, sizeof file_server);
    memset(file_network, 0, sizeof file_network);
    have_keys = true;
    kprintf("security: server key from fw_cfg, HMAC-SHA256 tags with HKDF-derived keys\n");
  } else if (cmdline_get("labkey")) {
    char info[32];
    snprintf(info, sizeof info, "server %02x:%02x:%02x:%02x:%02x:%02x", nic_mac[0], nic_mac[1], nic_mac[2], nic_mac[3], nic_mac[4], nic_mac[5]);
    uint8_t s[32];
    hkdf_sha256(KDF_SALT, (const uint8_t *)LAB_MASTER, strlen(LAB_MASTER), info, s);
    tag_key_of(s, &key_server);
    hkdf_sha256(KDF_SALT, (const uint8_t *)LAB_MASTER, strlen(LAB_MASTER), "network", s);
    tag_key_of(s, &key_net);
    have_keys = true;
    kprintf("security: LAB MODE: INSECURE built-in public key; anyone on this LAN can command this server\n");
  } else {
    kprintf("security: WARNING no key file (fw_cfg opt/parallax/key) and no labkey: every frame from the network is refused\n");
  }
}

/* Which key tags this frame (the rule of keys.ts tagKeyChoice); NULL: not one of ours. */
static const struct hmac_key *tag_key(const uint8_t *f, bool for_sending) {
  const uint8_t *h = f + PX_ETH_HEADER_LEN;
  uint16_t et = be16(f + 12);
  uint16_t src_core = be16(h + PX_HDR_SRC_CORE_OFF), dst_core = be16(h + PX_HDR_DST_CORE_OFF);
  if (src_core == PX_CORE_NONE) {
    if (memcmp(f, BROADCAST_MAC, 6) == 0) return &key_net;
    return memcmp(f, nic_mac, 6) == 0 || !for_sending ? &key_server : NULL;
  }
  bool dime_stream = (et & PX_ET_CHANNEL_DATA) && ((et & PX_ET_TYPE_MASK) == PX_DATA_STREAM || (et & PX_ET_TYPE_MASK) == PX_DATA_STREAM_SEQ ||
                      (et & PX_ET_TYPE_MASK) == PX_DATA_STREAM_ACK ||
                      (et & PX_ET_TYPE_MASK) == PX_DATA_COLL_DOWN || (et & PX_ET_TYPE_MASK) == PX_DATA_COLL_UP ||
                      names_frame_type(et & PX_ET_TYPE_MASK)) && dst_core != PX_CORE_NONE &&
                     !(h[PX_HDR_FLAGS_OFF] & (PX_FLAG_RESPONSE | PX_FLAG_EVENT));
  if (dime_stream) return &key_net;
  return memcmp(f + 6, nic_mac, 6) == 0 ? &key_server : NULL;
}

void px_sign(uint8_t *frame, uint32_t covered) {
  const struct hmac_key *k = tag_key(frame, true);
  if (!k || !have_keys) { memset(frame + covered, 0, PX_TAG_LEN); return; }
  hmac_sha256(k, frame, covered, frame + covered);
}

int px_check_tag(const struct pxmsg *m) {
  if (!have_keys) return PX_TAG_BAD;
  const struct hmac_key *k = tag_key(m->frame, false);
  if (!k) return PX_TAG_BAD;
  uint8_t tag[32];
  uint32_t covered = PX_ETH_HEADER_LEN + PX_HDR_LEN + m->plen;
  hmac_sha256(k, m->frame, covered, tag);
  if (!tag_equal(tag, m->frame + covered, PX_TAG_LEN)) return PX_TAG_BAD;
  return k == &key_net ? PX_TAG_NET : PX_TAG_SERVER;
}
