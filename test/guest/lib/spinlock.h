/* A test-and-test-and-set spinlock on XCHG (implicitly locked). */
#ifndef GUEST_SPINLOCK_H
#define GUEST_SPINLOCK_H

#include "types.h"

typedef struct {
  volatile u32 locked;
} spinlock_t;

static inline void spin_lock(spinlock_t *l) {
  for (;;) {
    u32 v = 1;
    __asm__ volatile("xchg %0, %1" : "+r"(v), "+m"(l->locked) : : "memory");
    if (v == 0) return;
    while (l->locked) __asm__ volatile("pause" ::: "memory");
  }
}

static inline void spin_unlock(spinlock_t *l) {
  /* a plain store releases under x86-TSO; the compiler barrier keeps it after the section */
  __asm__ volatile("" ::: "memory");
  l->locked = 0;
}

#endif
