#ifndef DIME_PIT_H
#define DIME_PIT_H
#include "kernel.h"
/* busy-wait `us` microseconds on the 8254's channel 0 (reprogrammed: mode 2, full period) */
void pit_wait_us(uint64_t us);
#endif
