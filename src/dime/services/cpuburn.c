/* cpuburn: a CPU-bound worker. Param "ms": how long to compute (default 0 = forever);
 * reports the iterations done on its output route when it finishes. */
#include "dime.h"

int main(int dime, int cores) {
  char v[32];
  long ms = dime_param("ms", v, sizeof v) > 0 ? sdk_atol(v) : 0;
  uint64_t end = ms > 0 ? dime_time_ns() + (uint64_t)ms * 1000000ULL : 0;
  uint64_t x = 0x9E3779B97F4A7C15ULL ^ (uint64_t)dime, iters = 0;
  for (;;) {
    for (int i = 0; i < 100000; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
    iters++;
    if (end && dime_time_ns() >= end) break;
  }
  sdk_writef("cpuburn DIME %d: %u rounds, checksum %x\n", dime, (unsigned)iters, (unsigned)x);
  return 0;
}
