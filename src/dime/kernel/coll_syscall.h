/* The service system calls on this DIME's collective state (collectives.c; sdk_abi.h SYS_COLL_*).
 * Pointers were checked against the service's memory by the caller. */
#pragma once
#include "dime.h"

int64_t coll_syscall(struct dime *d, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2);
