// Native driver of the MIPS workload: `mips-native ITERATIONS` prints the checksum.
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

uint64_t workload(uint64_t iterations);

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], 0, 10) : 1;
  printf("checksum=%016llx\n", (unsigned long long)workload(n));
  return 0;
}
