/* upper: a filter; input bytes come out upper-cased on the output route. Runs until stopped. */
#include "dime.h"

int main(int dime, int cores) {
  static char buf[2048];
  for (;;) {
    long n = dime_read(buf, sizeof buf, DIME_FOREVER);
    for (long i = 0; i < n; i++)
      if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] = (char)(buf[i] - 'a' + 'A');
    if (n > 0) dime_write(buf, (size_t)n);
  }
}
