/* pingpong: round trips of one small message between two DIMEs, through their routes.
 *   role=echo (default)  every message read from the input route is written back unchanged
 *                        on the output route; runs until stopped.
 *   role=clock           lines=<k> ms=<gap>: prints "pp clock tsc=<hex> ns=<hex>" k times,
 *                        ms apart, and exits; the host times the lines to learn the TSC rate.
 *   role=ping            n=<count> measured round trips after the warm-up, size=<bytes> per
 *                        message (8..1024). Each sample is the guest TSC delta of one round
 *                        trip. The warm-up is at least warm=<count> round trips, then goes on
 *                        until the round trip has settled (settle=0: exactly warm): three
 *                        windows in a row of SETTLE_WINDOW round trips, each without a stall
 *                        (its mean within 5/4 of its median) and their medians within 15% of
 *                        one another (no longer getting faster: an emulator still translating
 *                        code), at most warm_max=<count> in all.
 *                        Results go to the console:
 *     "pp warm n=.. settled=0|1"        round trips the warm-up took, and whether it settled
 *     "pp begin"                        just before the first measured round trip
 *     "pp end"                          just after the last (the host times begin..end)
 *     "pp s <hex> <hex> ..."            samples in TSC ticks, 12 per line
 *     "pp done n=.. lost=.. stale=.. tsc=<hex> ns=<hex>"  totals of the measured loop by the
 *                                       TSC and by the kernel's clock (ns), for the TSC rate
 * A message carries its round number; a reply with another number (late after a timeout) is
 * counted as stale and read past. A round without a reply in 1 s is counted as lost. */
#include "dime.h"

#define MAX_SAMPLES 20000
#define PER_LINE 12
#define SETTLE_WINDOW 100
#define SETTLE_RUN 3

/* page-aligned, so no buffer shares a 4 KiB page with code: a write to a code page makes an
 * emulator with a block cache throw that page's translations away (and QEMU too) */
static uint32_t samples[MAX_SAMPLES] __attribute__((aligned(4096)));
static uint8_t msg[1024] __attribute__((aligned(4096)));
static uint8_t reply[2048] __attribute__((aligned(4096)));

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static long param_num(const char *key, long dflt) {
  char v[32];
  return dime_param(key, v, sizeof v) > 0 ? sdk_atol(v) : dflt;
}

static void echo(void) {
  for (;;) {
    long n = dime_read(reply, sizeof reply, DIME_FOREVER);
    if (n > 0) dime_write(reply, (size_t)n);
  }
}

/* one round trip numbered `round`: 1 when answered, 0 when lost */
static int round_trip(uint32_t round, size_t size, uint32_t *stale) {
  memcpy(msg, &round, sizeof round);
  dime_write(msg, size);
  for (;;) {
    long n = dime_read(reply, sizeof reply, 1000);
    if (n <= 0) return 0;
    uint32_t got;
    memcpy(&got, reply, sizeof got);
    if (n >= 4 && got == round) return 1;
    (*stale)++;
  }
}

/* median of a window (sorted in place: insertion sort of SETTLE_WINDOW elements) */
static uint64_t window_median(uint64_t *w, int n) {
  for (int i = 1; i < n; i++) {
    uint64_t v = w[i];
    int j = i - 1;
    while (j >= 0 && w[j] > v) { w[j + 1] = w[j]; j--; }
    w[j + 1] = v;
  }
  return w[n / 2];
}

/* Warm-up: at least `warm` round trips, then (when `settle`) windows of SETTLE_WINDOW until
 * SETTLE_RUN in a row are quiet (mean <= 5/4 median) and agree (largest median <= 23/20 of the
 * smallest), or `warm_max` in all. Returns the count; *settled says which. */
static long warm_up(uint32_t *round, long warm, long warm_max, int settle, size_t size, uint32_t *stale, int *settled) {
  long done = 0;
  for (; done < warm; done++, (*round)++) round_trip(*round, size, stale);
  *settled = !settle;
  if (!settle) return done;
  static uint64_t w[SETTLE_WINDOW];
  uint64_t meds[SETTLE_RUN];
  int quiet = 0;
  while (done + SETTLE_WINDOW <= warm_max) {
    uint64_t sum = 0;
    int lost = 0;
    for (int k = 0; k < SETTLE_WINDOW; k++, done++, (*round)++) {
      uint64_t t0 = rdtsc();
      if (!round_trip(*round, size, stale)) lost = 1;
      w[k] = rdtsc() - t0;
      sum += w[k];
    }
    uint64_t med = window_median(w, SETTLE_WINDOW);
    if (lost || sum * 4 > med * SETTLE_WINDOW * 5) { quiet = 0; continue; }
    meds[quiet % SETTLE_RUN] = med;
    if (++quiet < SETTLE_RUN) continue;
    uint64_t lo = meds[0], hi = meds[0];
    for (int k = 1; k < SETTLE_RUN; k++) { if (meds[k] < lo) lo = meds[k]; if (meds[k] > hi) hi = meds[k]; }
    if (hi * 20 <= lo * 23) { *settled = 1; break; }
  }
  return done;
}

static void clock_lines(void) {
  long ms = param_num("ms", 100), lines = param_num("lines", 6);
  if (lines < 2) lines = 2;
  if (lines > 100) lines = 100;
  for (long i = 0; i < lines; i++) {
    if (i) dime_sleep_ms((uint64_t)ms);
    uint64_t tsc = rdtsc(), ns = dime_time_ns();
    sdk_printf("pp clock tsc=%lx ns=%lx", tsc, ns);
  }
}

int main(int dime, int cores) {
  char role[16];
  if (dime_param("role", role, sizeof role) > 0 && sdk_strcmp(role, "clock") == 0) { clock_lines(); return 0; }
  if (dime_param("role", role, sizeof role) <= 0 || sdk_strcmp(role, "ping") != 0) echo();
  long n = param_num("n", 1000), warm = param_num("warm", 100), size = param_num("size", 64);
  long warm_max = param_num("warm_max", 2000), settle = param_num("settle", 1);
  if (n < 1) n = 1;
  if (n > MAX_SAMPLES) n = MAX_SAMPLES;
  if (warm < 0) warm = 0;
  if (size < 8) size = 8;
  if (size > (long)sizeof msg) size = sizeof msg;
  memset(msg, 0x5a, sizeof msg);
  uint32_t lost = 0, stale = 0, round = 1;
  if (warm_max < warm) warm_max = warm;
  int settled;
  long warmed = warm_up(&round, warm, warm_max, settle != 0, (size_t)size, &stale, &settled);
  lost = 0;
  stale = 0;
  sdk_printf("pp warm n=%u settled=%u", (unsigned)warmed, (unsigned)settled);
  sdk_printf("pp begin");
  uint64_t ns0 = dime_time_ns(), tsc0 = rdtsc();
  for (long i = 0; i < n; i++, round++) {
    uint64_t t0 = rdtsc();
    int ok = round_trip(round, (size_t)size, &stale);
    uint64_t dt = rdtsc() - t0;
    if (!ok) { lost++; samples[i] = 0xFFFFFFFFu; continue; }
    samples[i] = dt > 0xFFFFFFFEull ? 0xFFFFFFFEu : (uint32_t)dt;
  }
  uint64_t tsc1 = rdtsc(), ns1 = dime_time_ns();
  sdk_printf("pp end");
  char line[160];
  for (long i = 0; i < n; i += PER_LINE) {
    int o = sdk_format(line, sizeof line, "pp s");
    for (long k = i; k < n && k < i + PER_LINE; k++) o += sdk_format(line + o, sizeof line - (size_t)o, " %x", samples[k]);
    dime_print(line, (size_t)o);
  }
  sdk_printf("pp done n=%u lost=%u stale=%u tsc=%lx ns=%lx", (unsigned)n, lost, stale, tsc1 - tsc0, ns1 - ns0);
  return 0;
}
