/* atomics: every core hammers shared counters with LOCK XADD / CMPXCHG / INC and an
 * XCHG spinlock, and pairs of cores run message-passing and store-buffering (with MFENCE)
 * litmus shapes. Totals must be exact and forbidden outcomes must never appear. */
#include "guest.h"

#define XADD_PER_CORE 1000000ul
#define LOCKED_PER_CORE 100000ul
#define CMPXCHG_PER_CORE 100000ul
#define INC_PER_CORE 500000ul
#define MP_MESSAGES 1000000ul
#define SB_ROUNDS 5000ul

static volatile u64 xadd_counter, locked_counter, cmpxchg_counter, inc_counter;
static spinlock_t counter_lock;
static volatile u64 cmpxchg_retries;

static volatile u32 barrier_count, barrier_gen;
static int ncores;
static volatile int aps_ready, aps_done;

/* message passing: writer stores data then flag; a reader that sees flag=f must see data>=f */
static volatile u64 mp_data[MAX_CPUS / 2][8] __attribute__((aligned(64)));
static volatile u64 mp_flag[MAX_CPUS / 2][8] __attribute__((aligned(64)));
static volatile u64 mp_violations;
/* store buffering with MFENCE: both reads returning 0 is forbidden */
static volatile u64 sb_x[8] __attribute__((aligned(64))), sb_y[8] __attribute__((aligned(64)));
static volatile u64 sb_r[2][SB_ROUNDS];
static volatile u64 sb_go_a, sb_go_b, sb_done_a, sb_done_b;

static void all_cores_barrier(void) {
  u32 gen = barrier_gen;
  if (__atomic_add_fetch(&barrier_count, 1, __ATOMIC_SEQ_CST) == (u32)ncores) {
    barrier_count = 0;
    __atomic_store_n(&barrier_gen, gen + 1, __ATOMIC_SEQ_CST);
  } else {
    while (__atomic_load_n(&barrier_gen, __ATOMIC_SEQ_CST) == gen) cpu_relax();
  }
}

static void run_xadd(void) {
  for (u64 i = 0; i < XADD_PER_CORE; i++) {
    u64 one = 1;
    __asm__ volatile("lock xaddq %0, %1" : "+r"(one), "+m"(xadd_counter) : : "memory");
  }
}

static void run_locked(void) {
  for (u64 i = 0; i < LOCKED_PER_CORE; i++) {
    spin_lock(&counter_lock);
    locked_counter = locked_counter + 1; /* plain load and store: only the lock protects it */
    spin_unlock(&counter_lock);
  }
}

static void run_cmpxchg(void) {
  u64 retries = 0;
  for (u64 i = 0; i < CMPXCHG_PER_CORE; i++) {
    u64 old = cmpxchg_counter;
    for (;;) {
      u64 expected = old;
      u8 ok;
      __asm__ volatile("lock cmpxchgq %3, %1\n\tsete %2"
                       : "+a"(expected), "+m"(cmpxchg_counter), "=q"(ok)
                       : "r"(old + 1)
                       : "memory", "cc");
      if (ok) break;
      old = expected; /* CMPXCHG left the current value in RAX */
      retries++;
    }
  }
  __atomic_fetch_add(&cmpxchg_retries, retries, __ATOMIC_SEQ_CST);
}

static void run_inc(void) {
  for (u64 i = 0; i < INC_PER_CORE; i++) __asm__ volatile("lock incq %0" : "+m"(inc_counter) : : "memory");
}

/* even cores write a stream, the next odd core reads it */
static void run_mp(int me) {
  int pair = me / 2;
  if (pair >= ncores / 2) return;
  if (me % 2 == 0) {
    for (u64 i = 1; i <= MP_MESSAGES; i++) {
      mp_data[pair][0] = i;
      mp_flag[pair][0] = i;
    }
  } else {
    u64 bad = 0, f = 0;
    while (f < MP_MESSAGES) {
      f = mp_flag[pair][0];
      u64 d = mp_data[pair][0];
      if (d < f) bad++;
    }
    __atomic_fetch_add(&mp_violations, bad, __ATOMIC_SEQ_CST);
  }
}

/* cores 0 and 1: x=1; mfence; r=y  against  y=1; mfence; r=x, one round at a time */
static void run_sb(int me) {
  if (me > 1) return;
  for (u64 i = 0; i < SB_ROUNDS; i++) {
    if (me == 0) {
      sb_x[0] = 0;
      sb_y[0] = 0;
      __atomic_store_n(&sb_go_b, i + 1, __ATOMIC_SEQ_CST);
      while (__atomic_load_n(&sb_go_a, __ATOMIC_SEQ_CST) != i + 1) cpu_relax();
      sb_x[0] = 1;
      mfence();
      sb_r[0][i] = sb_y[0];
      __atomic_store_n(&sb_done_a, i + 1, __ATOMIC_SEQ_CST);
      while (__atomic_load_n(&sb_done_b, __ATOMIC_SEQ_CST) != i + 1) cpu_relax();
    } else {
      while (__atomic_load_n(&sb_go_b, __ATOMIC_SEQ_CST) != i + 1) cpu_relax();
      __atomic_store_n(&sb_go_a, i + 1, __ATOMIC_SEQ_CST);
      sb_y[0] = 1;
      mfence();
      sb_r[1][i] = sb_x[0];
      __atomic_store_n(&sb_done_b, i + 1, __ATOMIC_SEQ_CST);
      while (__atomic_load_n(&sb_done_a, __ATOMIC_SEQ_CST) != i + 1) cpu_relax();
    }
  }
}

static void run_all(int me) {
  all_cores_barrier();
  run_xadd();
  all_cores_barrier();
  run_locked();
  all_cores_barrier();
  run_cmpxchg();
  all_cores_barrier();
  run_inc();
  all_cores_barrier();
  run_mp(me);
  all_cores_barrier();
  run_sb(me);
  all_cores_barrier();
}

static void ap_main(int index) {
  __atomic_fetch_add(&aps_ready, 1, __ATOMIC_SEQ_CST);
  while (ncores == 0) cpu_relax();
  run_all(index);
  __atomic_fetch_add(&aps_done, 1, __ATOMIC_SEQ_CST);
}

static int failures;

static void report(const char *what, u64 per_core, u64 got) {
  u64 want = per_core * (u64)ncores;
  printf("%-22s %d cores x %lu = %lu %s\n", what, ncores, per_core, got, got == want ? "ok" : "FAIL");
  if (got != want) failures++;
}

int kmain(void) {
  printf("atomics: start\n");
  lapic_init();
  int up = smp_start_aps(ap_main);
  for (int t = 0; t < 1000 && aps_ready < up - 1; t++) udelay(1000);
  __atomic_store_n(&ncores, up, __ATOMIC_SEQ_CST);
  printf("%d cores up\n", up);

  run_all(0);

  report("lock xadd:", XADD_PER_CORE, xadd_counter);
  report("xchg spinlock:", LOCKED_PER_CORE, locked_counter);
  report("lock cmpxchg:", CMPXCHG_PER_CORE, cmpxchg_counter);
  report("lock inc:", INC_PER_CORE, inc_counter);
  if (ncores >= 2) {
    printf("message passing:       %d pair(s) x %lu messages, data older than flag: %lu %s\n",
           ncores / 2, MP_MESSAGES, mp_violations, mp_violations == 0 ? "ok" : "FAIL");
    if (mp_violations) failures++;
    u64 both_zero = 0;
    for (u64 i = 0; i < SB_ROUNDS; i++) both_zero += sb_r[0][i] == 0 && sb_r[1][i] == 0;
    printf("store buffering+mfence: %lu rounds, both reads 0: %lu %s\n", SB_ROUNDS, both_zero,
           both_zero == 0 ? "ok" : "FAIL");
    if (both_zero) failures++;
  }
  printf("atomics: %d failure(s)\n", failures);
  return failures ? 1 : 0;
}
