/* A small printf: integers, strings, characters and pointers; one line of output is
 * formatted first and then written under the console lock so cores do not interleave. */
#include <stdarg.h>
#include "guest.h"

struct out {
  char *buf;
  size_t size, len;
};

static void emit(struct out *o, char c) {
  if (o->len + 1 < o->size) o->buf[o->len] = c;
  o->len++;
}

static void emit_number(struct out *o, u64 v, int base, int upper, int negative, int width,
                        char pad, int left) {
  char digits[24];
  const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  int n = 0;
  do {
    digits[n++] = set[v % (u64)base];
    v /= (u64)base;
  } while (v);
  int total = n + negative;
  if (negative && pad == '0') emit(o, '-');
  if (!left)
    for (int i = total; i < width; i++) emit(o, pad);
  if (negative && pad != '0') emit(o, '-');
  while (n) emit(o, digits[--n]);
  if (left)
    for (int i = total; i < width; i++) emit(o, ' ');
}

static void format(struct out *o, const char *fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      emit(o, *fmt);
      continue;
    }
    fmt++;
    int left = 0, width = 0, longs = 0;
    char pad = ' ';
    for (;; fmt++) {
      if (*fmt == '-') left = 1;
      else if (*fmt == '0') pad = '0';
      else break;
    }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') {
      longs++;
      fmt++;
    }
    if (left) pad = ' ';
    switch (*fmt) {
      case 'd':
      case 'i': {
        s64 v = longs ? va_arg(ap, s64) : va_arg(ap, int);
        emit_number(o, v < 0 ? (u64)-v : (u64)v, 10, 0, v < 0, width, pad, left);
        break;
      }
      case 'u':
        emit_number(o, longs ? va_arg(ap, u64) : va_arg(ap, u32), 10, 0, 0, width, pad, left);
        break;
      case 'x':
      case 'X':
        emit_number(o, longs ? va_arg(ap, u64) : va_arg(ap, u32), 16, *fmt == 'X', 0, width,
                    pad, left);
        break;
      case 'p':
        emit(o, '0');
        emit(o, 'x');
        emit_number(o, (u64)va_arg(ap, void *), 16, 0, 0, 16, '0', 0);
        break;
      case 'c':
        emit(o, (char)va_arg(ap, int));
        break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (!s) s = "(null)";
        size_t n = strlen(s);
        if (!left)
          for (size_t i = n; i < (size_t)width; i++) emit(o, ' ');
        while (*s) emit(o, *s++);
        if (left)
          for (size_t i = n; i < (size_t)width; i++) emit(o, ' ');
        break;
      }
      case '%':
        emit(o, '%');
        break;
      case 0:
        return;
      default: /* unknown conversion: show it rather than guess */
        emit(o, '%');
        emit(o, *fmt);
        break;
    }
  }
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
  struct out o = {buf, size, 0};
  va_list ap;
  va_start(ap, fmt);
  format(&o, fmt, ap);
  va_end(ap);
  if (size) buf[o.len < size ? o.len : size - 1] = 0;
  return (int)o.len;
}

static spinlock_t console_lock;
static volatile int console_owner = -1;

static void write_locked(const char *s, size_t n) {
  /* a core that faults while printing must still be able to report the fault */
  int me = cpu_index();
  int nested = console_owner == me;
  if (!nested) {
    spin_lock(&console_lock);
    console_owner = me;
  }
  for (size_t i = 0; i < n; i++) serial_putc(s[i]);
  if (!nested) {
    console_owner = -1;
    spin_unlock(&console_lock);
  }
}

int vprintf_guest(const char *fmt, va_list ap) {
  char buf[512];
  struct out o = {buf, sizeof buf, 0};
  format(&o, fmt, ap);
  size_t n = o.len < sizeof buf ? o.len : sizeof buf - 1;
  write_locked(buf, n);
  return (int)o.len;
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf_guest(fmt, ap);
  va_end(ap);
  return n;
}

void puts(const char *s) {
  write_locked(s, strlen(s));
  write_locked("\n", 1);
}

int check_line(int width, const char *what, int ok) {
  char fmt[16]; /* "%-<width>s %s\n": one printf, so the line is written whole */
  snprintf(fmt, sizeof fmt, "%%-%ds %%s\n", width);
  printf(fmt, what, ok ? "ok" : "FAIL");
  return ok;
}
