/* conreader: reads its input (route it from the console) a line at a time and sends each
 * line to its output route. */
#include "dime.h"

int main(int dime, int cores) {
  static char line[512];
  size_t len = 0;
  for (;;) {
    char c;
    if (dime_read(&c, 1, DIME_FOREVER) != 1) continue;
    if (c == '\r') c = '\n';
    if (len < sizeof line - 1) line[len++] = c;
    if (c == '\n' || len == sizeof line - 1) {
      dime_write(line, len);
      len = 0;
    }
  }
}
