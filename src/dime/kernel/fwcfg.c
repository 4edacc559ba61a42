/* QEMU's firmware configuration device, read the simplest way (selector 0x510, data 0x511):
 * how the host hands the kernel a file without putting it on the command line. */
#include "kernel.h"
#include "fwcfg.h"

#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_FILE_DIR 0x0019

static void fw_read(void *buf, uint32_t n) {
  uint8_t *p = buf;
  for (uint32_t i = 0; i < n; i++) p[i] = inb(FW_CFG_DATA);
}

int fwcfg_read_file(const char *name, uint8_t *buf, uint32_t max) {
  char sig[4];
  outw(FW_CFG_SEL, FW_CFG_SIGNATURE);
  fw_read(sig, 4);
  if (memcmp(sig, "QEMU", 4) != 0) return -1;
  uint8_t b[4];
  outw(FW_CFG_SEL, FW_CFG_FILE_DIR);
  fw_read(b, 4);
  uint32_t count = be32(b);
  if (count > 4096) return -1;
  for (uint32_t i = 0; i < count; i++) {
    uint8_t e[64];
    fw_read(e, sizeof e);   /* size u32, select u16, reserved u16, name[56], big-endian */
    e[63] = 0;
    if (strcmp((const char *)e + 8, name) != 0) continue;
    uint32_t size = be32(e);
    if (size > max) size = max;
    outw(FW_CFG_SEL, be16(e + 4));
    fw_read(buf, size);
    return (int)size;
  }
  return -1;
}
