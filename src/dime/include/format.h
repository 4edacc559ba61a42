/* The printf-style formatter of both DIME programs: the kernel's vsnprintf (kernel/lib.c) and
 * the service SDK's sdk_format/sdk_printf/sdk_writef (sdk/dime_sdk.c). One implementation, so
 * a service line and a kernel line format alike. Self-contained (no libc calls): include it in
 * one source file of each program.
 * %d %i %u %x %p %s %c %%, with l/ll/z sizes, zero pad, width and '-' for strings. */
#ifndef DIME_FORMAT_H
#define DIME_FORMAT_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct format_out { char *p; size_t n, len; };
static void format_put(struct format_out *o, char c) {
  if (o->len + 1 < o->n) o->p[o->len] = c;
  o->len++;
}
static void format_num(struct format_out *o, uint64_t v, unsigned base, int width, char pad, bool neg) {
  char tmp[24];
  int i = 0;
  do {
    unsigned d = (unsigned)(v % base);
    tmp[i++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= base;
  } while (v);
  if (neg) {
    if (pad == '0') { format_put(o, '-'); width--; }
    else tmp[i++] = '-';
  }
  for (int w = i; w < width; w++) format_put(o, pad);
  while (i) format_put(o, tmp[--i]);
}

/* like vsnprintf: writes at most n bytes with the terminating 0, returns the full length */
static int dime_vformat(char *buf, size_t n, const char *fmt, va_list ap) {
  struct format_out o = {buf, n, 0};
  for (; *fmt; fmt++) {
    if (*fmt != '%') { format_put(&o, *fmt); continue; }
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
        format_num(&o, v < 0 ? (uint64_t)-v : (uint64_t)v, 10, width, pad, v < 0);
        break;
      }
      case 'u': format_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad, false); break;
      case 'x': format_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad, false); break;
      case 'p': format_put(&o, '0'); format_put(&o, 'x'); format_num(&o, (uint64_t)va_arg(ap, void *), 16, width, pad, false); break;
      case 'c': format_put(&o, (char)va_arg(ap, int)); break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (!s) s = "(null)";
        int len = 0;
        while (s[len]) len++;
        if (!left) for (int w = len; w < width; w++) format_put(&o, ' ');
        while (*s) format_put(&o, *s++);
        if (left) for (int w = len; w < width; w++) format_put(&o, ' ');
        break;
      }
      case '%': format_put(&o, '%'); break;
      case 0: fmt--; break;
      default: format_put(&o, '%'); format_put(&o, *fmt); break;
    }
  }
  if (n) buf[o.len < n ? o.len : n - 1] = 0;
  return (int)o.len;
}

/* dime_vformat, returning the bytes that landed in buf (at most n - 1): what to print */
static inline size_t dime_vformat_fit(char *buf, size_t n, const char *fmt, va_list ap) {
  int r = dime_vformat(buf, n, fmt, ap);
  return (size_t)r < n ? (size_t)r : n - 1;
}
#endif
