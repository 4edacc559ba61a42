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
#define SYS_FOREVER   0xFFFFFFFFull
#endif
