/* QEMU fw_cfg over I/O ports: selector 0x510 (16-bit), data 0x511 (byte stream). */
#include "guest.h"

#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_NB_CPUS 0x05

static void fwcfg_read(u16 key, void *buf, u32 n) {
  outw(FW_CFG_SELECTOR, key);
  u8 *p = buf;
  for (u32 i = 0; i < n; i++) p[i] = inb(FW_CFG_DATA);
}

int fwcfg_present(void) {
  char sig[4];
  fwcfg_read(FW_CFG_SIGNATURE, sig, 4);
  return memcmp(sig, "QEMU", 4) == 0;
}

int fwcfg_cpu_count(void) {
  if (!fwcfg_present()) return -1;
  u16 n;
  fwcfg_read(FW_CFG_NB_CPUS, &n, 2); /* little-endian 16-bit */
  return n;
}
