/* DIME service SDK: what a ring-3 service can ask of its DIME.
 * A service is `int main(int dime, int cores)`; returning from main exits. */
#ifndef DIME_SDK_H
#define DIME_SDK_H
#include <stdint.h>
#include <stddef.h>
#include "sdk_abi.h"

#define DIME_FOREVER SYS_FOREVER

static inline long dime_syscall3(long nr, long a, long b, long c) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "memory");
  return r;
}

static inline __attribute__((noreturn)) void dime_exit(int code) {
  dime_syscall3(SYS_EXIT, code, 0, 0);
  for (;;) {}
}
/* a console line, tagged with this DIME's number */
static inline long dime_print(const char *s, size_t n) { return dime_syscall3(SYS_PRINT, (long)s, (long)n, 0); }
/* bytes to this DIME's output route (console, another DIME, or the orchestrator) */
static inline long dime_write(const void *p, size_t n) { return dime_syscall3(SYS_WRITE, (long)p, (long)n, 0); }
/* bytes from the input route; waits up to timeout_ms (0 = don't wait, DIME_FOREVER) */
static inline long dime_read(void *p, size_t max, uint64_t timeout_ms) { return dime_syscall3(SYS_READ, (long)p, (long)max, (long)timeout_ms); }
/* parameter set by the orchestrator; length, or -1 when unset */
static inline long dime_param(const char *key, char *buf, size_t max) { return dime_syscall3(SYS_GETPARAM, (long)key, (long)buf, (long)max); }
static inline uint64_t dime_time_ns(void) { return (uint64_t)dime_syscall3(SYS_TIME, 0, 0, 0); }
static inline void dime_sleep_ms(uint64_t ms) { dime_syscall3(SYS_SLEEP, (long)ms, 0, 0); }
static inline long dime_info(void) { return dime_syscall3(SYS_INFO, 0, 0, 0); }
/* more memory in 2 MiB chunks (within the DIME's limit): address, or NULL */
static inline void *dime_memgrow(unsigned chunks) { return (void *)dime_syscall3(SYS_MEMGROW, chunks, 0, 0); }
/* fault injection: stop (1) or restart (0) this DIME's heartbeats */
static inline void dime_heartbeat_mute(int on) { dime_syscall3(SYS_HB_MUTE, on, 0, 0); }

/* the server's local file store (docs/STORAGE.md): only files this DIME's service was granted;
 * results < 0 are DIME_E* (DIME_EACCES: refused, counted and alarmed by the kernel) */
/* a name starting with '@' is a central export of the orchestrator (docs/STORAGE.md, "Central
 * storage"): same calls, handles from 16, no APPEND, no remove */
static inline long dime_open(const char *name, int mode) { return dime_syscall3(SYS_FOPEN, (long)name, mode, 0); }
static inline long dime_fread(long h, void *p, size_t max) { return dime_syscall3(SYS_FREAD, h, (long)p, (long)max); }
static inline long dime_fwrite(long h, const void *p, size_t n) { return dime_syscall3(SYS_FWRITE, h, (long)p, (long)n); }
static inline long dime_fseek(long h, size_t off) { return dime_syscall3(SYS_FSEEK, h, (long)off, 0); }
/* a file written through `h` is on the disk when this returns 0 */
static inline long dime_close(long h) { return dime_syscall3(SYS_FCLOSE, h, 0, 0); }
/* "name size\n" lines of the files this service may read */
static inline long dime_list(char *buf, size_t max) { return dime_syscall3(SYS_FLIST, (long)buf, (long)max, 0); }
static inline long dime_remove(const char *name) { return dime_syscall3(SYS_FREMOVE, (long)name, 0, 0); }

/* the collectives (docs/COLLECTIVES.md): TEST-EVENT (non-blocking: poll it) and this DIME's
 * global memory and variables, as XFER-AND-SIGNAL and COMPARE-AND-WRITE left them */
static inline long dime_test_event(unsigned event) { return dime_syscall3(SYS_COLL_EVENT, event, 0, 0); }
static inline long dime_global_read(unsigned offset, void *buf, size_t len) { return dime_syscall3(SYS_COLL_READ, offset, (long)buf, (long)len); }
static inline long dime_global_var(unsigned i, uint64_t *out) { return dime_syscall3(SYS_COLL_VAR, i, (long)out, 0); }

/* small helpers (dime_sdk.c) */
size_t sdk_strlen(const char *s);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int sdk_strcmp(const char *a, const char *b);
long sdk_atol(const char *s);
/* format into buf, as the kernel formats (include/format.h: %d %i %u %x %p %s %c %%, sizes, width, pad) */
int sdk_format(char *buf, size_t n, const char *fmt, ...);
/* print a formatted console line */
void sdk_printf(const char *fmt, ...);
/* print a formatted string to the output route */
void sdk_writef(const char *fmt, ...);
#endif
