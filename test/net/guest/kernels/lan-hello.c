/* lan-hello: several servers on one virtual LAN find each other with raw Ethernet frames.
 * Each broadcasts "PXHELLO <name>" (EtherType 0x88B5, IEEE local experimental) every 100 ms
 * and answers every HELLO with a unicast "PXACK <name>". A server is done when it has heard
 * the HELLO of `peers=` others and each of them has acknowledged its own HELLO: then frames
 * have crossed the LAN in both directions, broadcast and unicast. It keeps answering for a
 * while afterwards, so a slower peer still gets its ACK. Command line: name=NAME peers=N. */
#include "guest.h"
#include "e1000.h"

#define HELLO_ETHERTYPE 0x88b5
#define NAME_MAX 24
#define PAYLOAD_LEN 32
#define MAX_PEERS 8
#define HELLO_EVERY_MS 100
#define GRACE_MS 600
#define GIVE_UP_MS 20000
#define LINK_WAIT_MS 10000

struct peer {
  char name[NAME_MAX];
  u8 mac[ETH_ALEN];
  int heard_hello, got_ack;
};

static struct peer peers[MAX_PEERS];
static int npeers;
static u8 frame[ETH_MAX_FRAME];
static char my_name[NAME_MAX] = "anon";

static u32 build(const struct nic *n, u8 *f, const u8 *dst, const char *word) {
  memset(f, 0, ETH_HLEN + PAYLOAD_LEN);
  memcpy(f, dst, 6);
  memcpy(f + 6, n->mac, 6);
  f[12] = HELLO_ETHERTYPE >> 8;
  f[13] = HELLO_ETHERTYPE & 0xff;
  snprintf((char *)f + ETH_HLEN, PAYLOAD_LEN, "%s %s", word, my_name);
  return ETH_HLEN + PAYLOAD_LEN;
}

static struct peer *peer_for(const char *name, const u8 *mac) {
  for (int i = 0; i < npeers; i++)
    if (strncmp(peers[i].name, name, NAME_MAX) == 0) return &peers[i];
  if (npeers == MAX_PEERS) return NULL;
  struct peer *p = &peers[npeers++];
  memcpy(p->name, name, NAME_MAX);
  memcpy(p->mac, mac, ETH_ALEN);
  return p;
}

static int done(int want) {
  int complete = 0;
  for (int i = 0; i < npeers; i++) complete += peers[i].heard_hello && peers[i].got_ack;
  return complete >= want;
}

/* handles one received frame; answers HELLOs */
static void receive(struct nic *n, const u8 *f, u32 len) {
  if (len < ETH_HLEN + PAYLOAD_LEN || f[12] != (HELLO_ETHERTYPE >> 8) || f[13] != (HELLO_ETHERTYPE & 0xff)) return;
  char text[PAYLOAD_LEN + 1];
  memcpy(text, f + ETH_HLEN, PAYLOAD_LEN);
  text[PAYLOAD_LEN] = 0;
  int hello = strncmp(text, "PXHELLO ", 8) == 0;
  int ack = strncmp(text, "PXACK ", 6) == 0;
  if (!hello && !ack) return;
  const char *name = text + (hello ? 8 : 6);
  char padded[NAME_MAX];
  memset(padded, 0, sizeof(padded));
  for (int i = 0; name[i] && i + 1 < NAME_MAX; i++) padded[i] = name[i];
  if (strncmp(padded, my_name, NAME_MAX) == 0) return; /* our own name: not a peer */
  if (ack && memcmp(f, n->mac, 6) != 0) return; /* somebody else's acknowledgement */
  struct peer *p = peer_for(padded, f + 6);
  if (!p) return;
  if (hello) {
    p->heard_hello = 1;
    u8 reply[ETH_HLEN + PAYLOAD_LEN];
    u32 rlen = build(n, reply, f + 6, "PXACK");
    nic_send(n, reply, rlen);
  } else {
    p->got_ack = 1;
  }
}

int kmain(void) {
  struct nic n;
  char mac[18], want_text[8] = "1";
  boot_arg_value("name", my_name, sizeof(my_name));
  boot_arg_value("peers", want_text, sizeof(want_text));
  int want = want_text[0] - '0';
  if (want < 1 || want > MAX_PEERS) want = 1;

  int err = nic_bring_up(&n, LINK_WAIT_MS);
  if (err) return err;
  printf("hello: I am %s, waiting for %d peer(s)\n", my_name, want);

  static const u8 broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  u8 hello[ETH_HLEN + PAYLOAD_LEN];
  u32 hlen = build(&n, hello, broadcast, "PXHELLO");
  int finished_at = -1;
  for (int ms = 0; ms < GIVE_UP_MS; ms++) {
    if (finished_at < 0 && ms % HELLO_EVERY_MS == 0 && nic_send(&n, hello, hlen) != 0) {
      printf("e1000: transmit descriptor not written back\n");
      return 4;
    }
    u32 len;
    while ((len = nic_poll(&n, frame, sizeof(frame))) != 0) receive(&n, frame, len);
    if (finished_at < 0 && done(want)) finished_at = ms;
    if (finished_at >= 0 && ms - finished_at >= GRACE_MS) break;
    udelay(1000);
  }
  /* peers in name order, so the transcript does not depend on who started first */
  for (int i = 0; i < npeers; i++)
    for (int j = i + 1; j < npeers; j++)
      if (strncmp(peers[j].name, peers[i].name, NAME_MAX) < 0) {
        struct peer t = peers[i];
        peers[i] = peers[j];
        peers[j] = t;
      }
  for (int i = 0; i < npeers; i++) {
    format_mac(mac, peers[i].mac);
    printf("peer %s at %s: %s, %s\n", peers[i].name, mac, peers[i].heard_hello ? "heard its HELLO" : "never heard its HELLO",
           peers[i].got_ack ? "it acknowledged ours" : "no acknowledgement");
  }
  if (!done(want)) {
    printf("hello: gave up\n");
    return 5;
  }
  printf("hello: done\n");
  return 0;
}
