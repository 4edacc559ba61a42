/* cpuburn: a CPU-bound worker. Params: "rounds" = a fixed amount of work (its checksum is the
 * same on every correct x86-64 machine); else "ms" = compute for that long (0 or unset =
 * forever). Reports on its output route when it finishes; the report never depends on how
 * fast the machine is, so transcripts of two machines can be compared. */
#include "dime.h"

int main(int dime, int cores) {
  char v[32];
  long rounds = dime_param("rounds", v, sizeof v) > 0 ? sdk_atol(v) : 0;
  long ms = dime_param("ms", v, sizeof v) > 0 ? sdk_atol(v) : 0;
  uint64_t end = ms > 0 ? dime_time_ns() + (uint64_t)ms * 1000000ULL : 0;
  uint64_t x = 0x9E3779B97F4A7C15ULL ^ (uint64_t)dime;
  long done = 0;
  for (;;) {
    for (int i = 0; i < 100000; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
    done++;
    if (rounds > 0 ? done >= rounds : end && dime_time_ns() >= end) break;
  }
  __asm__ volatile("" ::"r"(x));
  if (rounds > 0) sdk_writef("cpuburn DIME %d: %ld rounds, checksum %x\n", dime, done, (unsigned)x);
  else sdk_writef("cpuburn DIME %d: computed for %ld ms\n", dime, ms);
  (void)cores;
  return 0;
}
