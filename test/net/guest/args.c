/* key=value words of the Multiboot command line. */
#include "args.h"

int arg_value(const char *key, char *out, size_t cap) {
  size_t klen = strlen(key);
  for (const char *s = boot_args(); *s;) {
    while (*s == ' ') s++;
    const char *w = s;
    while (*s && *s != ' ') s++;
    if ((size_t)(s - w) > klen && strncmp(w, key, klen) == 0 && w[klen] == '=') {
      const char *v = w + klen + 1;
      size_t n = 0;
      while (v + n < s && n + 1 < cap) {
        out[n] = v[n];
        n++;
      }
      out[n] = 0;
      return 1;
    }
  }
  return 0;
}
