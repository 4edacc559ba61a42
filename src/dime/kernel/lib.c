/* Freestanding C library pieces the kernel needs: memory, strings, formatting. */
#include "kernel.h"
#include "format.h"

/* string instructions: one instruction for the whole block, cheap under emulation too */
void *memset(void *d, int c, size_t n) {
  void *p = d;
  if (!((uint64_t)d & 7) && !(n & 7)) {
    uint64_t v = (uint8_t)c * 0x0101010101010101ULL;
    size_t q = n / 8;
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(q) : "a"(v) : "memory");
  } else {
    __asm__ volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(c) : "memory");
  }
  return d;
}
void *memcpy(void *d, const void *s, size_t n) {
  void *dp = d;
  __asm__ volatile("rep movsb" : "+D"(dp), "+S"(s), "+c"(n) : : "memory");
  return d;
}
void *memmove(void *d, const void *s, size_t n) {
  uint8_t *dp = d;
  const uint8_t *sp = s;
  if (dp < sp) {
    while (n--) *dp++ = *sp++;
  } else {
    while (n--) dp[n] = sp[n];
  }
  return d;
}
int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}
size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}
size_t strnlen(const char *s, size_t max) {
  size_t n = 0;
  while (n < max && s[n]) n++;
  return n;
}
int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (uint8_t)*a - (uint8_t)*b;
}
int strncmp(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (a[i] != b[i] || !a[i]) return (uint8_t)a[i] - (uint8_t)b[i];
  }
  return 0;
}
void strlcpy(char *d, const char *s, size_t n) {
  if (!n) return;
  size_t i = 0;
  for (; i + 1 < n && s[i]; i++) d[i] = s[i];
  d[i] = 0;
}

/* decimal, or hex with a 0x prefix */
uint64_t parse_uint(const char *s, const char **end) {
  uint64_t v = 0;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2;
    for (;; s++) {
      int d;
      if (*s >= '0' && *s <= '9') d = *s - '0';
      else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
      else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
      else break;
      v = v * 16 + (uint64_t)d;
    }
  } else {
    while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
  }
  if (end) *end = s;
  return v;
}

/* the formatter the service SDK uses too (include/format.h) */
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap) { return dime_vformat(buf, n, fmt, ap); }
int snprintf(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  return r;
}
