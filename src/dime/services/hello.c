/* hello: greets on the console and on its output route, then exits. */
#include "dime.h"

int main(int dime, int cores) {
  char who[64];
  if (dime_param("name", who, sizeof who) < 0) who[0] = 0;
  sdk_printf("hello from DIME %d of %d%s%s", dime, cores, who[0] ? ", dear " : "", who);
  sdk_writef("hello from DIME %d\n", dime);
  return 0;
}
