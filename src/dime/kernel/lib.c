/* Freestanding C library pieces the kernel needs: memory, strings, formatting. */
#include "kernel.h"

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

struct outbuf { char *p; size_t n, len; };
static void ob_put(struct outbuf *o, char c) {
  if (o->len + 1 < o->n) o->p[o->len] = c;
  o->len++;
}
static void ob_num(struct outbuf *o, uint64_t v, unsigned base, int width, char pad, bool neg) {
  char tmp[24];
  int i = 0;
  do {
    unsigned d = (unsigned)(v % base);
    tmp[i++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= base;
  } while (v);
  if (neg) {
    if (pad == '0') { ob_put(o, '-'); width--; }
    else tmp[i++] = '-';
  }
  for (int w = i; w < width; w++) ob_put(o, pad);
  while (i) ob_put(o, tmp[--i]);
}

/* %d %i %u %x %p %s %c %%, with l/ll/z sizes, zero pad, width and '-' for strings */
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap) {
  struct outbuf o = {buf, n, 0};
  for (; *fmt; fmt++) {
    if (*fmt != '%') { ob_put(&o, *fmt); continue; }
    fmt++;
    char pad = ' ';
    bool left = false;
    int width = 0, lng = 0;
    if (*fmt == '-') { left = true; fmt++; }
    if (*fmt == '0') { pad = '0'; fmt++; }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l' || *fmt == 'z') { lng++; fmt++; }
    switch (*fmt) {
      case 'd': case 'i': {
        int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
        ob_num(&o, v < 0 ? (uint64_t)-v : (uint64_t)v, 10, width, pad, v < 0);
        break;
      }
      case 'u': ob_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad, false); break;
      case 'x': ob_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad, false); break;
      case 'p': ob_put(&o, '0'); ob_put(&o, 'x'); ob_num(&o, (uint64_t)va_arg(ap, void *), 16, width, pad, false); break;
      case 'c': ob_put(&o, (char)va_arg(ap, int)); break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (!s) s = "(null)";
        int len = (int)strlen(s);
        if (!left) for (int w = len; w < width; w++) ob_put(&o, ' ');
        while (*s) ob_put(&o, *s++);
        if (left) for (int w = len; w < width; w++) ob_put(&o, ' ');
        break;
      }
      case '%': ob_put(&o, '%'); break;
      case 0: fmt--; break;
      default: ob_put(&o, '%'); ob_put(&o, *fmt); break;
    }
  }
  if (n) buf[o.len < n ? o.len : n - 1] = 0;
  return (int)o.len;
}
int snprintf(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  return r;
}
