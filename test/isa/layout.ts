// Where generated cases put things inside the data window (offsets from SNIPPET_DATA_BASE).

/** memory operands are addressed around here: base register = DATA_BASE + MEM_AREA + small adjustment */
export const MEM_AREA = 0x4000;
/** RSP starts a few slots below this */
export const STACK_TOP = 0x8000;
/** SSE cases end with STMXCSR to this slot so the final MXCSR is compared as data */
export const MXCSR_SLOT = 0xfff0;
/** ranges filled with random bytes (everything else starts zero) */
export const RANDOM_RANGES: readonly [number, number][] = [[MEM_AREA - 0x200, MEM_AREA + 0x200], [STACK_TOP - 0x200, STACK_TOP + 0x100]];
