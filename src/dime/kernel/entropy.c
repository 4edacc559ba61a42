/* Randomness without a hardware generator to rely on: everything cheap that differs between
 * boots and machines, hashed. */
#include "entropy.h"
#include "crypto.h"

static bool rdrand64(uint64_t *v) {
  uint32_t r[4];
  cpuid(1, 0, r);
  if (!(r[2] & (1u << 30))) return false;
  for (int i = 0; i < 10; i++) {
    uint8_t ok;
    __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
    if (ok) return true;
  }
  return false;
}

uint64_t entropy_u64(uint64_t prev, const uint8_t mac[6]) {
  struct sha256 s;
  sha256_init(&s);
  uint64_t v = 0;
  if (rdrand64(&v)) sha256_update(&s, &v, sizeof v);
  for (int i = 0; i < 64; i++) {
    uint64_t t0 = rdtsc();
    outb(0x70, 0x00);
    uint8_t sec = inb(0x71);
    uint64_t t1 = rdtsc();
    uint64_t sample = (t1 - t0) ^ (t1 << 8) ^ sec;
    sha256_update(&s, &sample, sizeof sample);
  }
  sha256_update(&s, &prev, sizeof prev);
  sha256_update(&s, mac, 6);
  uint8_t h[32];
  sha256_final(&s, h);
  uint64_t e = be64(h);
  return e ? e : 1;
}
