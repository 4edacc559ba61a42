/* A fresh random 64-bit value for epochs and nonces (the kernel's keys.c, the boot firmware). */
#ifndef DIME_ENTROPY_H
#define DIME_ENTROPY_H
#include "kernel.h"
/* RDRAND when the CPU has it, TSC jitter of port reads, the RTC, `prev` and the MAC through
 * SHA-256; never 0 (0 means "unknown" on the wire) */
uint64_t entropy_u64(uint64_t prev, const uint8_t mac[6]);
#endif
