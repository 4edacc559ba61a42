/* The few libc memory/string routines the compiler and the tests need.
 * Kept apart from the DIME kernel's own copy on purpose: these kernels test the machine, and a
 * bug shared with the product kernel would hide from both (test/guest/README.md, Library). */
#include "guest.h"

void *memset(void *d, int c, size_t n) {
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}

void *memcpy(void *d, const void *s, size_t n) {
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

void *memmove(void *d, const void *s, size_t n) {
  u8 *p = d;
  const u8 *q = s;
  if (p < q) {
    while (n--) *p++ = *q++;
  } else {
    while (n) {
      n--;
      p[n] = q[n];
    }
  }
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const u8 *p = a, *q = b;
  for (size_t i = 0; i < n; i++)
    if (p[i] != q[i]) return p[i] < q[i] ? -1 : 1;
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (a[i] != b[i]) return (u8)a[i] < (u8)b[i] ? -1 : 1;
    if (!a[i]) return 0;
  }
  return 0;
}
