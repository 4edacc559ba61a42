/* misbehave: fault injection for FCAPS tests. Param "mode":
 *   foreign  write into memory the DIME does not own (kernel partition) -> contained #PF
 *   wild     read past the end of its own memory                         -> contained #PF
 *   divide   divide by zero                                               -> contained #DE
 *   spin     loop forever, never calling the kernel (only STOP ends it)
 *   silent   stop this DIME's heartbeats, then idle forever
 *   hog      grab memory chunk by chunk until the limit refuses
 *   xstack / xdata  run code written into its stack / its data           -> contained #PF (NX)
 *   obey     behave (echo input to output) until told otherwise on its input:
 *            "mute" / "unmute" heartbeats, "spin", "fault", "exit", "?key" (prints the
 *            parameter's current value: parameters may change while it runs) */
#include "dime.h"

int main(int dime, int cores) {
  char mode[32];
  if (dime_param("mode", mode, sizeof mode) < 0) { mode[0] = 'f'; mode[1] = 0; }
  sdk_printf("misbehave: mode %s", mode);
  if (mode[0] == 'f') {
    *(volatile uint64_t *)0x100000 = 0xDEAD;                   /* kernel code, identity mapped */
  } else if (mode[0] == 'w') {
    volatile uint64_t *p = (volatile uint64_t *)(0x8000000000ULL + 0x40000000ULL);
    return (int)*p;
  } else if (mode[0] == 'd') {
    volatile int z = 0;
    return 10 / z;
  } else if (mode[0] == 's' && mode[1] == 'p') {
    for (;;) __asm__ volatile("" ::: "memory");
  } else if (mode[0] == 's') {
    dime_heartbeat_mute(1);
    for (;;) dime_sleep_ms(1000);
  } else if (mode[0] == 'o') {
    static char cmd[64];
    for (;;) {
      long n = dime_read(cmd, sizeof cmd - 1, DIME_FOREVER);
      if (n <= 0) continue;
      while (n > 0 && (cmd[n - 1] == '\n' || cmd[n - 1] == '\r')) n--;
      cmd[n] = 0;
      if (!sdk_strcmp(cmd, "mute")) dime_heartbeat_mute(1);
      else if (!sdk_strcmp(cmd, "unmute")) dime_heartbeat_mute(0);
      else if (!sdk_strcmp(cmd, "spin")) for (;;) __asm__ volatile("" ::: "memory");
      else if (!sdk_strcmp(cmd, "fault")) *(volatile uint64_t *)0x100000 = 1;
      else if (!sdk_strcmp(cmd, "exit")) return 7;
      else if (cmd[0] == '?' && cmd[1]) {   /* "?key": a parameter as it is now (changed at run time) */
        char v[64];
        if (dime_param(cmd + 1, v, sizeof v) < 0) { v[0] = '-'; v[1] = 0; }
        sdk_writef("%s=%s\n", cmd + 1, v);
        continue;
      }
      sdk_writef("ok %s\n", cmd);
    }
  } else if (mode[0] == 'x') {
    /* "mov eax, 42; ret" written where data lives, then called: NX must stop it */
    static unsigned char data_code[16];
    unsigned char stack_code[16];
    unsigned char *code = mode[1] == 's' ? stack_code : data_code;
    const unsigned char insn[] = {0xB8, 42, 0, 0, 0, 0xC3};
    for (unsigned i = 0; i < sizeof insn; i++) ((volatile unsigned char *)code)[i] = insn[i];
    int r = ((int (*)(void))(void *)code)();
    sdk_writef("executed data: %d\n", r);
    return r;
  } else if (mode[0] == 'h') {
    unsigned got = 0;
    while (dime_memgrow(1)) got++;
    sdk_writef("hog: got %u more chunks before the limit\n", got);
    return (int)got;
  }
  return 0;
}
