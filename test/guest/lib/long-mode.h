/* Assembly only: the climb from 32-bit protected mode (paging off) into IA-32e mode, shared by
 * the boot core's entry (boot.S) and the application cores' trampoline (trampoline.S).
 * PAE on, CR3 = `pml4` (any 32-bit source operand), EFER.LME and NXE, then PG, WP and PE with
 * EM and TS clear. The far jump to 64-bit code that completes the switch is the caller's. */
.macro ENTER_LONG_MODE pml4
  mov %cr4, %eax
  or $(1 << 5), %eax /* PAE */
  mov %eax, %cr4
  mov \pml4, %eax
  mov %eax, %cr3
  mov $0xc0000080, %ecx
  rdmsr
  or $((1 << 8) | (1 << 11)), %eax /* LME, NXE */
  wrmsr
  mov %cr0, %eax
  or $((1 << 31) | (1 << 16) | 1), %eax /* PG, WP, PE */
  and $~((1 << 2) | (1 << 3)), %eax /* no EM, no TS */
  mov %eax, %cr0
.endm
