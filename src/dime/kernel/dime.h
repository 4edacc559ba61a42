#include "mem.h"
void dime_init(struct cpu *c);
void net_early_init(void);
void devices_init(void);
