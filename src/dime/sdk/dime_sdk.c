/* Service-side helpers: strings and a tiny formatter over the DIME system calls. */
#include <stdarg.h>
#include "dime.h"

size_t sdk_strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
void *memcpy(void *d, const void *s, size_t n) { char *a = d; const char *b = s; while (n--) *a++ = *b++; return d; }
void *memset(void *d, int c, size_t n) { char *a = d; while (n--) *a++ = (char)c; return d; }
int sdk_strcmp(const char *a, const char *b) { while (*a && *a == *b) a++, b++; return (unsigned char)*a - (unsigned char)*b; }
long sdk_atol(const char *s) {
  long v = 0, sign = 1;
  if (*s == '-') { sign = -1; s++; }
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
  return v * sign;
}

static int vformat(char *buf, size_t n, const char *fmt, va_list ap) {
  size_t o = 0;
#define PUT(c) do { if (o + 1 < n) buf[o] = (c); o++; } while (0)
  for (; *fmt; fmt++) {
    if (*fmt != '%') { PUT(*fmt); continue; }
    fmt++;
    int lng = 0;
    while (*fmt == 'l') { lng = 1; fmt++; }
    char tmp[24];
    int t = 0;
    switch (*fmt) {
      case 'd': {
        long v = lng ? va_arg(ap, long) : va_arg(ap, int);
        unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
        do { tmp[t++] = (char)('0' + u % 10); u /= 10; } while (u);
        if (v < 0) PUT('-');
        while (t) PUT(tmp[--t]);
        break;
      }
      case 'u': case 'x': {
        unsigned long u = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
        unsigned base = *fmt == 'x' ? 16 : 10;
        do { unsigned dg = (unsigned)(u % base); tmp[t++] = (char)(dg < 10 ? '0' + dg : 'a' + dg - 10); u /= base; } while (u);
        while (t) PUT(tmp[--t]);
        break;
      }
      case 's': { const char *s = va_arg(ap, const char *); while (*s) PUT(*s++); break; }
      case 'c': PUT((char)va_arg(ap, int)); break;
      case '%': PUT('%'); break;
      default: PUT('%'); PUT(*fmt); break;
    }
  }
  if (n) buf[o < n ? o : n - 1] = 0;
  return (int)o;
#undef PUT
}

int sdk_format(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vformat(buf, n, fmt, ap);
  va_end(ap);
  return r;
}

void sdk_printf(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int r = vformat(buf, sizeof buf, fmt, ap);
  va_end(ap);
  dime_print(buf, (size_t)r < sizeof buf ? (size_t)r : sizeof buf - 1);
}

void sdk_writef(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int r = vformat(buf, sizeof buf, fmt, ap);
  va_end(ap);
  dime_write(buf, (size_t)r < sizeof buf ? (size_t)r : sizeof buf - 1);
}
