// CPU-bound workload for the MIPS benchmark, compiled once and linked both into a native
// program and into a guest kernel, so all three runs execute the same machine code.
// Freestanding: no libc. Mixes integer arithmetic, pointer chasing, memory copies and
// string scanning; returns a checksum that must agree everywhere.

#include <stdint.h>
#include <stddef.h>

#define CHASE_NODES 65536u
#define BLOCK 16384u

static uint32_t chase_next[CHASE_NODES];
static uint8_t buf_a[BLOCK], buf_b[BLOCK];
static char text[4096];

static uint64_t rng_state;

static uint64_t rng(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  rng_state = x;
  return x;
}

static void setup(void) {
  rng_state = 0x9e3779b97f4a7c15ull;
  for (uint32_t i = 0; i < CHASE_NODES; i++) chase_next[i] = i;
  // Sattolo's shuffle: one cycle through every node
  for (uint32_t i = CHASE_NODES - 1; i > 0; i--) {
    uint32_t j = (uint32_t)(rng() % i);
    uint32_t t = chase_next[i];
    chase_next[i] = chase_next[j];
    chase_next[j] = t;
  }
  for (uint32_t i = 0; i < BLOCK; i++) buf_a[i] = (uint8_t)rng();
  for (uint32_t i = 0; i < sizeof text - 1; i++) text[i] = (char)('a' + rng() % 26);
  text[sizeof text - 1] = 0;
}

static uint64_t integer_mix(uint64_t seed, unsigned rounds) {
  uint64_t h = seed;
  for (unsigned i = 0; i < rounds; i++) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    h += (h << 7) | (uint64_t)i;
    if (h & 1) h = h / 3 + 1;
  }
  return h;
}

static uint64_t chase(unsigned steps, uint32_t start) {
  uint32_t p = start;
  uint64_t sum = 0;
  for (unsigned i = 0; i < steps; i++) {
    p = chase_next[p];
    sum += p;
  }
  return sum ^ p;
}

static uint64_t memory_work(unsigned round) {
  for (uint32_t i = 0; i < BLOCK; i++) buf_b[i] = (uint8_t)(buf_a[i] + round);
  uint64_t *w = (uint64_t *)buf_b;
  uint64_t s = 0;
  for (uint32_t i = 0; i < BLOCK / 8; i++) s += w[i] ^ (s << 1);
  for (uint32_t i = 0; i < BLOCK; i += 64) buf_a[i] ^= (uint8_t)s;
  return s;
}

static size_t my_strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static int my_strcmp(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return (unsigned char)*a - (unsigned char)*b;
}

static uint64_t string_work(unsigned round) {
  uint64_t s = my_strlen(text + (round & 1023));
  for (unsigned i = 0; i < 32; i++) s += (uint64_t)(my_strcmp(text + i * 7, text + i * 11) + 1000);
  unsigned count = 0;
  for (const char *p = text; *p; p++) count += (*p == (char)('a' + (round % 26)));
  return s * 31 + count;
}

uint64_t workload(uint64_t iterations) {
  setup();
  uint64_t check = 0;
  uint32_t pos = 1;
  for (uint64_t it = 0; it < iterations; it++) {
    check += integer_mix(check + it, 2000);
    uint64_t c = chase(4000, pos);
    pos = (uint32_t)(c % CHASE_NODES);
    check ^= c;
    check += memory_work((unsigned)it);
    check = check * 1099511628211ull + string_work((unsigned)it);
  }
  return check;
}
