// The breakpoints DR7 arms, decoded from DR0-DR3/DR7 by rearmBreakpoints()
// (src/cpu/debug-registers.ts). Derived state: not saved in snapshots (re-derived on restore).
// Kept in one small object so the core's hot fields are not pushed around by it.

export class BreakpointState {
  /** DR7 enables a breakpoint: blocks run one checked instruction at a time */
  armed = false;
  /** armed instruction breakpoints (bit n: DRn) */
  exec = 0;
  /** armed data breakpoints (bit n: DRn), and those that watch writes only */
  watch = 0;
  writeOnly = 0;
  /** watched ranges: start (aligned to the length) and length */
  readonly lin = new Float64Array(4);
  readonly len = new Int32Array(4);
  /** data breakpoints the current instruction matched */
  hits = 0;
}
