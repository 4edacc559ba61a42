/* System call numbers shared by the kernel and the service SDK (int 0x80; number in rax,
 * arguments in rdi, rsi, rdx; result in rax, negative on error). */
#ifndef DIME_SDK_ABI_H
#define DIME_SDK_ABI_H
#define SYS_EXIT      0   /* (code) never returns */
#define SYS_PRINT     1   /* (buf, len) -> console line "[DIME n] ..." */
#define SYS_WRITE     2   /* (buf, len) -> the DIME's output route */
#define SYS_READ      3   /* (buf, max, timeout_ms) <- input route; 0 = poll, SYS_FOREVER = block */
#define SYS_GETPARAM  4   /* (key, buf, max) -> value length, -1 when unset */
#define SYS_TIME      5   /* () -> ns since boot */
#define SYS_SLEEP     6   /* (ms) */
#define SYS_INFO      7   /* () -> dime | cores << 16 */
#define SYS_MEMGROW   8   /* (chunks) -> address of the new memory, 0 when over the limit */
#define SYS_HB_MUTE   9   /* (on) stop / restart this DIME's heartbeats (fault-injection) */
/* the server's local file store (docs/STORAGE.md); negative results are DIME_E* */
#define SYS_FOPEN    10   /* (name, DIME_O_* mode) -> handle >= 0 */
#define SYS_FREAD    11   /* (handle, buf, max) -> bytes read at the handle's position, 0 at the end */
#define SYS_FWRITE   12   /* (handle, buf, len) -> bytes written at the handle's position */
#define SYS_FCLOSE   13   /* (handle) -> 0; a file written through it is on the disk (flushed) */
#define SYS_FLIST    14   /* (buf, max) -> bytes of "name size\n" lines: the files this service may read */
#define SYS_FREMOVE  15   /* (name) -> 0 */
#define SYS_FSEEK    16   /* (handle, offset) -> offset */
/* the collectives' state of this DIME (docs/COLLECTIVES.md): TEST-EVENT and global memory */
#define SYS_COLL_EVENT 40  /* (event) -> times it was signalled here (XFER-AND-SIGNAL, launch); -1: no such event */
#define SYS_COLL_READ  41  /* (offset, buf, len) -> len bytes of global memory copied; -1: out of range */
#define SYS_COLL_VAR   42  /* (i, uint64_t *out) -> 0, global variable i in *out; -1: no such variable */
#define DIME_O_READ   0x01
#define DIME_O_WRITE  0x02
#define DIME_O_CREATE 0x04   /* create when absent (needs the write right) */
#define DIME_O_TRUNC  0x08   /* empty it first */
#define DIME_O_APPEND 0x10   /* start at the end */
#define DIME_EACCES  (-1)    /* no grant for this file: refused, counted, alarmed */
#define DIME_ENOENT  (-2)
#define DIME_ENOSPC  (-3)    /* no free file slot, or past the largest file size */
#define DIME_EBADF   (-4)
#define DIME_EIO     (-5)
#define DIME_EINVAL  (-6)
#define DIME_ENODEV  (-7)    /* this server has no store */
#define DIME_EMFILE  (-8)    /* too many open handles */
#define SYS_FOREVER   0xFFFFFFFFull
#endif
