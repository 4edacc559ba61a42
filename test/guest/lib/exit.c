/* Leaving the machine: isa-debug-exit (iobase 0xf4, 32-bit write), or a report then exit. */
#include <stdarg.h>
#include "guest.h"

#define DEBUG_EXIT_PORT 0xf4

int vprintf_guest(const char *fmt, va_list ap);

void exit(u32 code) {
  outl(DEBUG_EXIT_PORT, code);
  /* only reached when no exit device is present: stop this core for good */
  for (;;) {
    cli();
    hlt();
  }
}

void panic(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("PANIC on cpu %d: ", cpu_index());
  vprintf_guest(fmt, ap);
  va_end(ap);
  printf("\n");
  exit(EXIT_PANIC);
}
