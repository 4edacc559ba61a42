/* A small polled driver for the Intel 82540EM, written from Intel's 8254x manual: the same
 * steps run under QEMU's e1000 and parallax-emu's, so their transcripts can be compared. */
#ifndef NIC_GUEST_E1000_H
#define NIC_GUEST_E1000_H

#include "guest.h"

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_MAX_FRAME 1514

struct nic {
  volatile u8 *mmio;
  u8 mac[ETH_ALEN];
  u32 rx_next; /* next receive descriptor to look at */
  u32 tx_next; /* next free transmit descriptor */
};

/* finds the 82540EM on bus 0, enables it, resets it, reads the MAC from the EEPROM and sets
 * up both rings (polled: every interrupt masked). Returns 0, or a negative error. */
int nic_init(struct nic *n);
int nic_link_up(struct nic *n);
/* sends one frame (padded to 60 bytes by the NIC) and waits until the NIC has taken it;
 * returns 0, or -1 when the descriptor is not written back in time */
int nic_send(struct nic *n, const void *frame, u32 len);
/* copies the next received frame into buf; returns its length, or 0 when none is waiting */
u32 nic_poll(struct nic *n, u8 *buf, u32 cap);

void format_mac(char *out, const u8 *mac); /* "aa:bb:cc:dd:ee:ff" */

#endif
