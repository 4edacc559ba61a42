/* Service-side helpers: strings, and the kernel's formatter (include/format.h) over the DIME system calls. */
#include <stdarg.h>
#include "dime.h"
#include "format.h"

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

int sdk_format(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = dime_vformat(buf, n, fmt, ap);
  va_end(ap);
  return r;
}

/* format into a line buffer of `cap` bytes and send what fits to the console or the output route */
static void send_formatted(bool console, size_t cap, const char *fmt, va_list ap) {
  char buf[512];
  size_t n = dime_vformat_fit(buf, cap, fmt, ap);
  if (console) dime_print(buf, n);
  else dime_write(buf, n);
}

void sdk_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  send_formatted(true, 256, fmt, ap);
  va_end(ap);
}

void sdk_writef(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  send_formatted(false, 512, fmt, ap);
  va_end(ap);
}
