/* arp-probe: asks "who-has 10.0.2.2 tell 10.0.2.15" through the e1000 and prints who answers.
 * On a LAN with QEMU's user network (slirp) the gateway answers with slirp's MAC, whether the
 * kernel runs in parallax-emu joined to the LAN or in a QEMU VM with -device e1000. */
#include "guest.h"
#include "e1000.h"

#define ARP_ETHERTYPE 0x0806
#define RETRY_MS 200
#define GIVE_UP_MS 15000
#define LINK_WAIT_MS 10000

static const u8 my_ip[4] = {10, 0, 2, 15};
static const u8 gateway_ip[4] = {10, 0, 2, 2};
static u8 frame[ETH_MAX_FRAME];

static u32 build_request(const struct nic *n, u8 *f) {
  memset(f, 0, 42);
  memset(f, 0xff, 6);
  memcpy(f + 6, n->mac, 6);
  f[12] = ARP_ETHERTYPE >> 8;
  f[13] = ARP_ETHERTYPE & 0xff;
  const u8 fixed[8] = {0, 1, 0x08, 0x00, 6, 4, 0, 1}; /* Ethernet, IPv4, request */
  memcpy(f + 14, fixed, 8);
  memcpy(f + 22, n->mac, 6);
  memcpy(f + 28, my_ip, 4);
  memcpy(f + 38, gateway_ip, 4); /* target hardware address stays zero */
  return 42;
}

/* an ARP reply from the gateway to us */
static int is_gateway_reply(const struct nic *n, const u8 *f, u32 len) {
  if (len < 42) return 0;
  if (f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 2) return 0;
  return memcmp(f + 28, gateway_ip, 4) == 0 && memcmp(f + 38, my_ip, 4) == 0 && memcmp(f, n->mac, 6) == 0;
}

int kmain(void) {
  struct nic n;
  char mac[18];
  int err = nic_init(&n);
  if (err) {
    printf("e1000: init failed (%d)\n", err);
    return 2;
  }
  format_mac(mac, n.mac);
  printf("e1000: mac %s (EEPROM)\n", mac);
  for (int ms = 0; !nic_link_up(&n); ms++) {
    if (ms >= LINK_WAIT_MS) {
      printf("e1000: no link\n");
      return 3;
    }
    udelay(1000);
  }
  printf("e1000: link up\n");
  printf("arp: who-has 10.0.2.2 tell 10.0.2.15\n");
  u8 request[42];
  u32 rlen = build_request(&n, request);
  for (int ms = 0; ms < GIVE_UP_MS; ms++) {
    if (ms % RETRY_MS == 0 && nic_send(&n, request, rlen) != 0) {
      printf("e1000: transmit descriptor not written back\n");
      return 4;
    }
    u32 len;
    while ((len = nic_poll(&n, frame, sizeof(frame))) != 0) {
      if (!is_gateway_reply(&n, frame, len)) continue;
      char sender[18], target[18];
      format_mac(sender, frame + 22);
      format_mac(target, frame + 32);
      printf("arp: reply 10.0.2.2 is-at %s (to %s, frame from ", sender, target);
      format_mac(sender, frame + 6);
      printf("%s)\n", sender);
      return 0;
    }
    udelay(1000);
  }
  printf("arp: no reply\n");
  return 5;
}
