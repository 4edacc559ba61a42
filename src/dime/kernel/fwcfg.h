#ifndef DIME_FWCFG_H
#define DIME_FWCFG_H
#include "kernel.h"
/* bytes of fw_cfg file `name` read into buf (at most max), or -1 without fw_cfg or such a file */
int fwcfg_read_file(const char *name, uint8_t *buf, uint32_t max);
#endif
