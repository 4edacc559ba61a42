#ifndef FW_CLOCK_H
#define FW_CLOCK_H
#include <stdint.h>
void clock_init(void);
uint64_t clock_us(void);   /* microseconds of TSC time (arbitrary origin) */
#endif
