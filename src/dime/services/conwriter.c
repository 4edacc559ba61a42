/* conwriter: prints whatever arrives on its input as console lines. */
#include "dime.h"

int main(int dime, int cores) {
  static char buf[1024];
  for (;;) {
    long n = dime_read(buf, sizeof buf, DIME_FOREVER);
    if (n <= 0) continue;
    long start = 0;
    for (long i = 0; i < n; i++) {
      if (buf[i] == '\n') {
        dime_print(buf + start, (size_t)(i - start));
        start = i + 1;
      }
    }
    if (start < n) dime_print(buf + start, (size_t)(n - start));
  }
}
