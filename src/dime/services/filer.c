/* filer: the local file store from a service, driven line by line on its input; every answer
 * is one line on its output route ("ok ...", "err N ..." with N a DIME_E* code).
 *   put NAME TEXT        create or truncate NAME, write TEXT, close (flushed)
 *   add NAME TEXT        append TEXT (creating NAME)
 *   get NAME             the whole file: "ok NAME <bytes>: <content>"
 *   ls                   the files this service may read, one "ok ls NAME SIZE" line each
 *   rm NAME              remove
 *   fill NAME N TAG      write N records "TAG-<i>;" one write each, then read them back and
 *                        check: concurrency between DIMEs ("ok fill NAME N sum X")
 *   gen NAME BYTES SEED  write BYTES of a seeded pattern (4 KiB writes, one open/close):
 *                        "ok gen NAME BYTES sum X" (FNV-1a of the bytes)
 *   sum NAME             read the whole file in 4 KiB reads: "ok sum NAME BYTES sum X"
 *   rread NAME COUNT     COUNT reads of 4 KiB at seeded 4 KiB-aligned offsets: "go rread NAME" when the
 *                        timed part starts, then "ok rread NAME COUNT ns T" (T in guest time)
 *   sread NAME           the whole file in 1 MiB reads: "go sread NAME", "ok sread NAME BYTES ns T"
 *                        (bench/storage.ts times between the two lines on the host)
 *   exit                 end the service (exit code 0)
 * NAME may be a central export ("@name"). */
#include "dime.h"

static char line[512];
static char buf[8192];
static char big[1 << 20];   /* sread: 1 MiB reads */

static unsigned next_rand(unsigned *x) { *x ^= *x << 13; *x ^= *x >> 17; *x ^= *x << 5; return *x; }
static unsigned fnv(unsigned h, const char *p, long n) { for (long i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 16777619u; return h; }

static char *word(char **s) {
  while (**s == ' ') (*s)++;
  char *w = *s;
  while (**s && **s != ' ') (*s)++;
  if (**s) *(*s)++ = 0;
  return w;
}

static void put(char *name, char *text, int mode) {
  long h = dime_open(name, DIME_O_WRITE | DIME_O_CREATE | mode);
  if (h < 0) { sdk_writef("err %d open %s\n", (int)h, name); return; }
  long n = dime_fwrite(h, text, sdk_strlen(text));
  long c = dime_close(h);
  if (n < 0 || c < 0) sdk_writef("err %d write %s\n", (int)(n < 0 ? n : c), name);
  else sdk_writef("ok %s %d\n", name, (int)n);
}

static long slurp(char *name, char *out, size_t max) {
  long h = dime_open(name, DIME_O_READ);
  if (h < 0) return h;
  long got = 0, n;
  while ((size_t)got < max && (n = dime_fread(h, out + got, max - (size_t)got)) > 0) got += n;
  dime_close(h);
  return n < 0 ? n : got;
}

static void fill(char *name, long count, char *tag) {
  long h = dime_open(name, DIME_O_WRITE | DIME_O_READ | DIME_O_CREATE | DIME_O_TRUNC);
  if (h < 0) { sdk_writef("err %d open %s\n", (int)h, name); return; }
  long total = 0;
  for (long i = 0; i < count; i++) {
    char rec[64];
    int k = sdk_format(rec, sizeof rec, "%s-%d;", tag, (int)i);
    long n = dime_fwrite(h, rec, (size_t)k);
    if (n != k) { sdk_writef("err %d fill %s at %d\n", (int)n, name, (int)i); dime_close(h); return; }
    total += k;
  }
  dime_close(h);
  long got = slurp(name, buf, sizeof buf);
  if (got != total) { sdk_writef("err %d refill %s (%d bytes expected)\n", (int)got, name, (int)total); return; }
  /* the records must come back in order, each intact: nobody else wrote into this file */
  long at = 0;
  unsigned sum = 0;
  for (long i = 0; i < count; i++) {
    char rec[64];
    int k = sdk_format(rec, sizeof rec, "%s-%d;", tag, (int)i);
    for (int j = 0; j < k; j++) if (buf[at + j] != rec[j]) { sdk_writef("err -6 fill %s record %d differs\n", name, (int)i); return; }
    for (int j = 0; j < k; j++) sum = sum * 31 + (unsigned char)rec[j];
    at += k;
  }
  sdk_writef("ok fill %s %d sum %x\n", name, (int)count, sum);
}

static void gen(char *name, long bytes, unsigned seed) {
  long h = dime_open(name, DIME_O_WRITE | DIME_O_CREATE | DIME_O_TRUNC);
  if (h < 0) { sdk_writef("err %d open %s\n", (int)h, name); return; }
  unsigned x = seed ? seed : 1, sum = 2166136261u;
  for (long at = 0; at < bytes; at += 4096) {
    long k = bytes - at < 4096 ? bytes - at : 4096;
    for (long i = 0; i < k; i++) buf[i] = (char)next_rand(&x);
    long n = dime_fwrite(h, buf, (size_t)k);
    if (n != k) { sdk_writef("err %d gen %s at %d\n", (int)n, name, (int)at); dime_close(h); return; }
    sum = fnv(sum, buf, k);
  }
  long c = dime_close(h);
  if (c < 0) sdk_writef("err %d close %s\n", (int)c, name);
  else sdk_writef("ok gen %s %d sum %x\n", name, (int)bytes, sum);
}

static void sum_file(char *name) {
  long h = dime_open(name, DIME_O_READ);
  if (h < 0) { sdk_writef("err %d open %s\n", (int)h, name); return; }
  unsigned sum = 2166136261u;
  long total = 0, n;
  while ((n = dime_fread(h, buf, 4096)) > 0) { sum = fnv(sum, buf, n); total += n; }
  dime_close(h);
  if (n < 0) sdk_writef("err %d sum %s\n", (int)n, name);
  else sdk_writef("ok sum %s %d sum %x\n", name, (int)total, sum);
}

static void rread(char *name, long count) {
  long h = dime_open(name, DIME_O_READ);
  if (h < 0) { sdk_writef("err %d open %s\n", (int)h, name); return; }
  long size = 0, n;
  while ((n = dime_fread(h, big, sizeof big)) > 0) size += n;   /* learn the size (and warm nothing: reads go to the device) */
  long blocks = size / 4096;
  if (n < 0 || blocks < 1) { sdk_writef("err %d rread %s\n", (int)(n < 0 ? n : -6), name); dime_close(h); return; }
  unsigned x = 12345;
  sdk_writef("go rread %s\n", name);   /* the host times from this line to the answer */
  uint64_t t0 = dime_time_ns();
  for (long i = 0; i < count; i++) {
    dime_fseek(h, (size_t)(next_rand(&x) % (unsigned)blocks) * 4096);
    if ((n = dime_fread(h, buf, 4096)) != 4096) { sdk_writef("err %d rread %s\n", (int)n, name); dime_close(h); return; }
  }
  uint64_t t = dime_time_ns() - t0;
  dime_close(h);
  sdk_writef("ok rread %s %d ns %d\n", name, (int)count, (int)(t > 0x7FFFFFFF ? 0x7FFFFFFF : t));
}

static void sread(char *name) {
  long h = dime_open(name, DIME_O_READ);
  if (h < 0) { sdk_writef("err %d open %s\n", (int)h, name); return; }
  long total = 0, n;
  sdk_writef("go sread %s\n", name);
  uint64_t t0 = dime_time_ns();
  while ((n = dime_fread(h, big, sizeof big)) > 0) total += n;
  uint64_t t = dime_time_ns() - t0;
  dime_close(h);
  if (n < 0) sdk_writef("err %d sread %s\n", (int)n, name);
  else sdk_writef("ok sread %s %d ns %d\n", name, (int)total, (int)(t > 0x7FFFFFFF ? 0x7FFFFFFF : t));
}

static char *find_newline(char *s) {
  for (; *s; s++) if (*s == '\n') return s;
  return 0;
}

static void command(char *s) {
  char *op = word(&s);
  if (!sdk_strcmp(op, "put") || !sdk_strcmp(op, "add")) {
    char *name = word(&s);
    put(name, s, op[0] == 'p' ? DIME_O_TRUNC : DIME_O_APPEND);
  } else if (!sdk_strcmp(op, "get")) {
    char *name = word(&s);
    long got = slurp(name, buf, sizeof buf - 1);
    if (got < 0) sdk_writef("err %d get %s\n", (int)got, name);
    else { buf[got] = 0; sdk_writef("ok %s %d: %s\n", name, (int)got, buf); }
  } else if (!sdk_strcmp(op, "ls")) {
    long got = dime_list(buf, sizeof buf - 1);
    if (got < 0) { sdk_writef("err %d ls\n", (int)got); return; }
    buf[got] = 0;
    for (char *p = buf, *e; *p; p = e + 1) {
      e = find_newline(p);
      if (!e) break;
      *e = 0;
      sdk_writef("ok ls %s\n", p);
    }
    sdk_writef("ok ls end\n");
  } else if (!sdk_strcmp(op, "rm")) {
    char *name = word(&s);
    long r = dime_remove(name);
    if (r < 0) sdk_writef("err %d rm %s\n", (int)r, name); else sdk_writef("ok rm %s\n", name);
  } else if (!sdk_strcmp(op, "fill")) {
    char *name = word(&s);
    long count = sdk_atol(word(&s));
    fill(name, count, word(&s));
  } else if (!sdk_strcmp(op, "gen")) {
    char *name = word(&s);
    long bytes = sdk_atol(word(&s));
    gen(name, bytes, (unsigned)sdk_atol(word(&s)));
  } else if (!sdk_strcmp(op, "sum")) {
    sum_file(word(&s));
  } else if (!sdk_strcmp(op, "rread")) {
    char *name = word(&s);
    rread(name, sdk_atol(word(&s)));
  } else if (!sdk_strcmp(op, "sread")) {
    sread(word(&s));
  } else if (!sdk_strcmp(op, "exit")) {
    dime_exit(0);
  } else {
    sdk_writef("err -6 unknown %s\n", op);
  }
}

int main(int dime, int cores) {
  long have = 0;
  for (;;) {
    long n = dime_read(line + have, sizeof line - 1 - (size_t)have, DIME_FOREVER);
    if (n <= 0) continue;
    have += n;
    line[have] = 0;
    char *nl;
    while ((nl = find_newline(line))) {
      static char cmd[512];
      long len = nl - line;
      memcpy(cmd, line, (size_t)len);
      cmd[len] = 0;
      long rest = have - len - 1;
      for (long i = 0; i < rest; i++) line[i] = nl[1 + i];
      have = rest;
      line[have] = 0;
      command(cmd);
    }
    if ((size_t)have >= sizeof line - 1) have = 0;   /* a line too long: dropped */
  }
}
