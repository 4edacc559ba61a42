/* gdb-target: a program for the gdb stub test (test/gdb/gdb-stub.test.ts), built with -g: a
 * function to break in, a global to read and watch, then a normal exit. Not in the transcript
 * list: its console output is only a progress mark. */
#include "guest.h"

volatile u64 counter;
volatile u64 steps;

__attribute__((noinline)) void tick(u64 i) {
  steps = steps + 1;
  counter = counter + i * i;
}

int kmain(void) {
  printf("gdb target\n");
  for (u64 i = 1; i <= 4; i++) tick(i);
  printf("counter=%lu steps=%lu\n", (unsigned long)counter, (unsigned long)steps);
  return 0;
}
