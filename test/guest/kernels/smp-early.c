/* smp-early: the bootstrap processor starts every AP at once, as its very first act.
 * A machine must accept INIT and STARTUP IPIs for an AP from power-on: on real hardware the
 * APs' local APICs (and their IDs) exist before the BSP runs one instruction. Each AP runs a
 * few real-mode bytes that count it and halt, so no stack or long mode is involved. */
#include "guest.h"

#define EARLY_CODE 0x9000    /* SIPI vector 0x09 */
#define EARLY_COUNT 0x7000   /* 16-bit counter the APs increment */

/* real mode, CS = 0x0900, DS = 0: lock inc word [0x7000]; cli; 1: hlt; jmp 1b */
static const u8 ap_code[] = {0xf0, 0xff, 0x06, EARLY_COUNT & 0xff, EARLY_COUNT >> 8, 0xfa, 0xf4, 0xeb, 0xfd};

int kmain(void) {
  lapic_init();
  *(volatile u16 *)EARLY_COUNT = 0;
  memcpy((void *)EARLY_CODE, ap_code, sizeof ap_code);
  mfence();
  int aps = cpu_count() - 1;
  for (int i = 1; i <= aps; i++) lapic_send_ipi(cpu_apic_id[i], ICR_INIT | ICR_ASSERT | ICR_LEVEL);
  udelay(10000);
  for (int sipi = 0; sipi < 2; sipi++) {
    for (int i = 1; i <= aps; i++) lapic_send_ipi(cpu_apic_id[i], ICR_STARTUP | (EARLY_CODE >> 12));
    udelay(200);
  }
  /* generous: an emulator on a loaded host is slow, but it must not lose the IPIs */
  for (int t = 0; t < 5000 && *(volatile u16 *)EARLY_COUNT < aps; t++) udelay(1000);
  int got = *(volatile u16 *)EARLY_COUNT;
  printf("smp-early: %d of %d APs started by IPIs sent at power-on\n", got, aps);
  return got == aps ? 0 : 1;
}
