/* e1000 (82540EM) NIC driver interface. */
#ifndef DIME_E1000_H
#define DIME_E1000_H
#include "kernel.h"
struct nic_stats { uint64_t rx_frames, rx_dropped, tx_frames, tx_dropped, rx_oversize, rx_missed, rx_runts; };
extern struct nic_stats nic_stats;
extern bool nic_present;
extern uint8_t nic_mac[6];
extern uint8_t nic_irq_line;
bool e1000_init(void);
bool e1000_send(const uint8_t *frame, uint32_t len);
uint32_t e1000_poll_rx(void (*deliver)(const uint8_t *frame, uint32_t len));
void e1000_fold_stats(void);
void e1000_stop(void);
#endif
