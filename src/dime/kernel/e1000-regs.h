/* Intel 82540EM (e1000) registers, bits and legacy descriptors (8254x SDM chapters 3 and 13):
 * hardware facts shared by the DIME kernel's driver and the NIC test kernels' own driver
 * (test/net/guest/e1000.c), which stays a separate, polled driver on purpose: it exercises the
 * device model one step at a time, apart from the kernel it is compared with. */
#ifndef E1000_REGS_H
#define E1000_REGS_H
#include <stdint.h>

#define REG_CTRL   0x0000
#define REG_STATUS 0x0008
#define REG_EERD   0x0014
#define REG_ICR    0x00C0
#define REG_IMS    0x00D0
#define REG_IMC    0x00D8
#define REG_RCTL   0x0100
#define REG_TCTL   0x0400
#define REG_TIPG   0x0410
#define REG_RDBAL  0x2800
#define REG_RDBAH  0x2804
#define REG_RDLEN  0x2808
#define REG_RDH    0x2810
#define REG_RDT    0x2818
#define REG_TDBAL  0x3800
#define REG_TDBAH  0x3804
#define REG_TDLEN  0x3808
#define REG_TDH    0x3810
#define REG_TDT    0x3818
#define REG_MPC    0x4010   /* missed packets (no receive descriptor), clear on read */
#define REG_ROC    0x40AC   /* receive oversize count, clear on read */
#define REG_RUC 0x40A4   /* receive undersize count (clear on read) */
#define REG_MTA    0x5200
#define REG_RAL0   0x5400
#define REG_RAH0   0x5404

#define CTRL_ASDE (1u << 5)
#define CTRL_SLU  (1u << 6)
#define CTRL_RST  (1u << 26)
#define STATUS_LU (1u << 1)
#define EERD_START (1u << 0)
#define EERD_DONE (1u << 4)
#define RAH_AV (1u << 31)
#define RCTL_EN   (1u << 1)
#define RCTL_BAM  (1u << 15)
#define RCTL_SECRC (1u << 26) /* BSIZE 00 = 2048-byte buffers */
#define TCTL_EN   (1u << 1)
#define TCTL_PSP  (1u << 3)
#define ICR_LSC   (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO   (1u << 6)
#define ICR_RXT0  (1u << 7)
#define TX_CMD_EOP 0x01
#define TX_CMD_IFCS 0x02
#define TX_CMD_RS 0x08
#define DESC_DD 0x01
#define RX_EOP 0x02
/* receive buffer bytes with RCTL.BSIZE 00 (and no BSEX), the size both drivers use */
#define BUF_SIZE 2048

struct rx_desc { uint64_t addr; uint16_t len, csum; uint8_t status, errors; uint16_t special; } __attribute__((packed));
struct tx_desc { uint64_t addr; uint16_t len; uint8_t cso, cmd, status, css; uint16_t special; } __attribute__((packed));

#endif
