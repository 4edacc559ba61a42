/* Kernel command line: "name key=value key2 ..." (the first word is the kernel's name). */
#include "kernel.h"

char cmdline[512];

void cmdline_init(const char *src) {
  if (src) strlcpy(cmdline, src, sizeof cmdline);
}

static char value_buf[8][128];
static uint32_t value_next;

const char *cmdline_get(const char *key) {
  size_t klen = strlen(key);
  const char *p = cmdline;
  bool first = true;
  while (*p) {
    while (*p == ' ') p++;
    const char *w = p;
    while (*p && *p != ' ') p++;
    if (first) { first = false; continue; }   /* skip the kernel's name */
    size_t wlen = (size_t)(p - w);
    if (wlen >= klen && strncmp(w, key, klen) == 0 && (wlen == klen || w[klen] == '=')) {
      char *out = value_buf[value_next++ % 8];
      size_t vlen = wlen == klen ? 0 : wlen - klen - 1;
      if (vlen > 127) vlen = 127;
      memcpy(out, w + klen + (wlen == klen ? 0 : 1), vlen);
      out[vlen] = 0;
      return out;
    }
  }
  return NULL;
}

uint64_t cmdline_uint(const char *key, uint64_t dflt) {
  const char *v = cmdline_get(key);
  if (!v || !*v) return dflt;
  return parse_uint(v, NULL);
}

/* The command line as printed: the value of any key= replaced (a key must never reach a console). */
void cmdline_redacted(char *out, size_t n) {
  size_t o = 0;
  const char *p = cmdline;
  while (*p && o + 1 < n) {
    bool word_start = p == cmdline || p[-1] == ' ';
    if (word_start && strncmp(p, "key=", 4) == 0) {
      const char *r = "key=<redacted>";
      while (*r && o + 1 < n) out[o++] = *r++;
      while (*p && *p != ' ') p++;
      continue;
    }
    out[o++] = *p++;
  }
  out[o] = 0;
}
