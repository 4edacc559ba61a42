/* Guest driver of the MIPS workload: `-append "ITERATIONS"` runs the same workload code the
 * native driver links, prints the checksum and exits through isa-debug-exit. */
#include "guest.h"

u64 workload(u64 iterations);

int kmain(void) {
  const char *a = boot_args();
  u64 n = 0;
  while (*a == ' ') a++;
  while (*a >= '0' && *a <= '9') n = n * 10 + (u64)(*a++ - '0');
  printf("checksum=%016lx\n", workload(n));
  return 0;
}
