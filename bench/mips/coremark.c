// A CoreMark-class workload (our own code, in the spirit of EEMBC CoreMark's kernels): linked
// list search/reverse/merge sort (pointer chasing), 16-bit matrix multiply and bit extraction,
// CRC-16 (bitwise) and CRC-32 (table), and a character-classifying state machine. Freestanding
// (no libc), compiled -O2 once and linked into the native driver and the guest kernel
// (build.sh), so every peer runs the same machine code; returns a checksum.

#include <stdint.h>
#include <stddef.h>

#define LIST_NODES 512u
#define MAT_N 24u
#define TEXT_BYTES 2048u

struct node { struct node *next; int32_t value; uint16_t index; uint16_t pad; };

static struct node nodes[LIST_NODES];
static int16_t mat_a[MAT_N * MAT_N], mat_b[MAT_N * MAT_N];
static int32_t mat_c[MAT_N * MAT_N];
static char text[TEXT_BYTES];
static uint32_t crc_table[256];
static uint32_t seed_state;

static uint32_t lcg(void) { seed_state = seed_state * 1103515245u + 12345u; return seed_state >> 8; }

static uint16_t crc16_byte(uint8_t data, uint16_t crc) {
  for (int i = 0; i < 8; i++) {
    uint16_t mix = (uint16_t)((data ^ crc) & 1);
    crc >>= 1;
    if (mix) crc ^= 0xa001;
    data >>= 1;
  }
  return crc;
}
static uint16_t crc16_u32(uint32_t v, uint16_t crc) {
  for (int k = 0; k < 4; k++) crc = crc16_byte((uint8_t)(v >> (8 * k)), crc);
  return crc;
}

static void crc32_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}
static uint32_t crc32(const uint8_t *p, size_t n, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

// ---------------------------------------------------------------- list

static struct node *list_build(void) {
  for (uint32_t i = 0; i < LIST_NODES; i++) {
    nodes[i].value = (int32_t)(lcg() & 0xffff) - 0x8000;
    nodes[i].index = (uint16_t)i;
    nodes[i].next = i + 1 < LIST_NODES ? &nodes[i + 1] : NULL;
  }
  return &nodes[0];
}

static struct node *list_reverse(struct node *l) {
  struct node *prev = NULL;
  while (l) { struct node *n = l->next; l->next = prev; prev = l; l = n; }
  return prev;
}

static struct node *list_find(struct node *l, int32_t value, uint16_t index) {
  while (l && l->value != value && l->index != index) l = l->next;
  return l;
}

/** merge sort by (value, index) or by index alone */
static struct node *list_sort(struct node *l, int by_value) {
  for (size_t width = 1;; width *= 2) {
    struct node *p = l, *tail = NULL;
    l = NULL;
    size_t merges = 0;
    while (p) {
      merges++;
      struct node *q = p;
      size_t psize = 0;
      for (size_t i = 0; i < width && q; i++) { psize++; q = q->next; }
      size_t qsize = width;
      while (psize > 0 || (qsize > 0 && q)) {
        struct node *e;
        int take_p;
        if (psize == 0) take_p = 0;
        else if (qsize == 0 || !q) take_p = 1;
        else if (by_value) take_p = p->value < q->value || (p->value == q->value && p->index <= q->index);
        else take_p = p->index <= q->index;
        if (take_p) { e = p; p = p->next; psize--; } else { e = q; q = q->next; qsize--; }
        if (tail) tail->next = e; else l = e;
        tail = e;
      }
      p = q;
    }
    tail->next = NULL;
    if (merges <= 1) return l;
  }
}

static uint16_t list_work(uint16_t crc, uint32_t round) {
  struct node *l = list_build();
  int32_t found = 0, missed = 0;
  for (uint32_t k = 0; k < 64; k++) {
    struct node *f = list_find(l, nodes[(k * 37 + round) % LIST_NODES].value, (uint16_t)(0xffff - k));
    if (f) { found += f->index; crc = crc16_u32((uint32_t)f->value, crc); } else missed++;
  }
  l = list_reverse(l);
  l = list_sort(l, 1);
  for (struct node *p = l; p; p = p->next) crc = crc16_u32((uint32_t)p->value ^ p->index, crc);
  l = list_sort(l, 0);
  crc = crc16_u32((uint32_t)(found ^ (missed << 20)), crc);
  return crc16_u32(l->index, crc);
}

// ---------------------------------------------------------------- matrix

static uint16_t matrix_work(uint16_t crc, uint32_t round) {
  for (uint32_t i = 0; i < MAT_N * MAT_N; i++) {
    mat_a[i] = (int16_t)((lcg() & 0x3ff) - 0x200 + round);
    mat_b[i] = (int16_t)((lcg() & 0x3ff) - 0x200);
  }
  for (uint32_t i = 0; i < MAT_N; i++)
    for (uint32_t j = 0; j < MAT_N; j++) {
      int32_t s = 0;
      for (uint32_t k = 0; k < MAT_N; k++) s += (int32_t)mat_a[i * MAT_N + k] * mat_b[k * MAT_N + j];
      mat_c[i * MAT_N + j] = s;
    }
  int32_t acc = 0;
  for (uint32_t i = 0; i < MAT_N * MAT_N; i++) {
    int32_t v = mat_c[i] + (int32_t)(round & 0xff);
    acc += (v >> 2) & 0xf0f;
    acc ^= (v * 5) >> 6;
  }
  for (uint32_t i = 0; i < MAT_N * MAT_N; i++) mat_a[i] = (int16_t)(mat_a[i] * 3 + (int16_t)round);
  for (uint32_t i = 0; i < MAT_N * MAT_N; i += 7) acc += mat_a[i];
  return crc16_u32((uint32_t)acc, crc);
}

// ---------------------------------------------------------------- state machine

enum state { S_START, S_INT, S_FRAC, S_EXP_SIGN, S_EXP, S_INVALID };

static uint16_t state_work(uint16_t crc, uint32_t round) {
  static const char alphabet[] = "0123456789.e+-,x9";
  for (uint32_t i = 0; i < TEXT_BYTES - 1; i++) text[i] = alphabet[(lcg() + round) % (sizeof alphabet - 1)];
  text[TEXT_BYTES - 1] = 0;
  uint32_t counts[6] = {0, 0, 0, 0, 0, 0};
  enum state s = S_START;
  for (const char *p = text; *p; p++) {
    char c = *p;
    if (c == ',') { counts[s]++; s = S_START; continue; }
    switch (s) {
      case S_START: s = (c >= '0' && c <= '9') || c == '+' || c == '-' ? S_INT : c == '.' ? S_FRAC : S_INVALID; break;
      case S_INT: if (c == '.') s = S_FRAC; else if (c == 'e') s = S_EXP_SIGN; else if (!(c >= '0' && c <= '9')) s = S_INVALID; break;
      case S_FRAC: if (c == 'e') s = S_EXP_SIGN; else if (!(c >= '0' && c <= '9')) s = S_INVALID; break;
      case S_EXP_SIGN: s = (c == '+' || c == '-' || (c >= '0' && c <= '9')) ? S_EXP : S_INVALID; break;
      case S_EXP: if (!(c >= '0' && c <= '9')) s = S_INVALID; break;
      default: break;
    }
  }
  counts[s]++;
  for (int k = 0; k < 6; k++) crc = crc16_u32(counts[k], crc);
  return crc;
}

uint64_t workload(uint64_t iterations) {
  seed_state = 0x12345678u;
  crc32_init();
  uint16_t crc = 0;
  uint32_t c32 = 0;
  for (uint64_t it = 0; it < iterations; it++) {
    crc = list_work(crc, (uint32_t)it);
    crc = matrix_work(crc, (uint32_t)it);
    crc = state_work(crc, (uint32_t)it);
    c32 = crc32((const uint8_t *)text, TEXT_BYTES, c32);
    c32 = crc32((const uint8_t *)mat_c, sizeof mat_c, c32);
  }
  return ((uint64_t)c32 << 32) | ((uint64_t)crc << 16) | (iterations & 0xffff);
}
