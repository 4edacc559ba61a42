/* globals: shows a service reading the collectives' state of its DIME (docs/COLLECTIVES.md):
 * waits (polling TEST-EVENT, up to 20 s) until event `event` (parameter, default 0) was
 * signalled, then prints `len` bytes of global memory from `offset` and global variable `var`,
 * and whether out-of-range requests are refused. */
#include "dime.h"

static long param_or(const char *key, long dflt) {
  char v[24];
  return dime_param(key, v, sizeof v) > 0 ? sdk_atol(v) : dflt;
}

int main(int dime, int cores) {
  (void)cores;
  unsigned event = (unsigned)param_or("event", 0), offset = (unsigned)param_or("offset", 0);
  unsigned len = (unsigned)param_or("len", 32), var = (unsigned)param_or("var", 0);
  long count = 0;
  for (int i = 0; i < 2000 && (count = dime_test_event(event)) < 1; i++) dime_sleep_ms(10);
  static char text[257];
  if (len > 256) len = 256;
  long got = dime_global_read(offset, text, len);
  text[got > 0 ? got : 0] = 0;
  for (long i = 0; i < got; i++) if (text[i] < 32 || text[i] > 126) text[i] = '.';
  uint64_t v = 0;
  long vr = dime_global_var(var, &v);
  uint64_t dummy;
  int refused = dime_test_event(16) == -1 && dime_global_read(4090, text + 200, 10) == -1 && dime_global_var(8, &dummy) == -1;
  sdk_printf("globals on DIME %d: event %u signalled %d time(s); memory at %u: '%s'; var %u = %u (%d); out of range refused: %s",
             dime, event, (int)count, offset, text, var, (unsigned)v, (int)vr, refused ? "yes" : "no");
  return 0;
}
