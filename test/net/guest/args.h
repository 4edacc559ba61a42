/* key=value words of the Multiboot command line. */
#ifndef NIC_GUEST_ARGS_H
#define NIC_GUEST_ARGS_H

#include "guest.h"

/* copies the value of `key=` into out (NUL-terminated); returns 1 when present, else 0 */
int arg_value(const char *key, char *out, size_t cap);

#endif
