// The contract between the block compiler and its templates. A template family looks at one
// decoded instruction and, if it has a specialised form for it, returns a TemplateSpec: which
// flags the instruction reads and writes (for the liveness and fusion passes), whether it can
// fault, and the emitter that writes its JavaScript. No spec means the instruction's routine
// is called (the fallback).

import type { Insn } from '../insn.js';
import type { Emitter } from './emitter.js';

export interface TemplateSpec {
  /** arithmetic flags written by every execution (ARITH_FLAGS subset) */
  writes: number;
  /** INC/DEC: writes all but CF, and its lazy record carries CF along */
  keepsCarry?: boolean;
  /** condition code read (Jcc/SETcc/CMOVcc), or -1 */
  cc: number;
  /** reads CF as an input (ADC/SBB) */
  carryIn?: boolean;
  /** flags written only on some executions (a shift by CL that may be 0): treated as a lazy reader of all flags and always recorded */
  maybeWrites?: boolean;
  /** may throw (memory access, #GP/#SS checks) */
  mayFault: boolean;
  emit(e: Emitter, ins: Insn, i: number): void;
}

/** one family: returns a spec for the instructions it covers in the given code mode, else null */
export type TemplateFamily = (ins: Insn, mode: number) => TemplateSpec | null;

export const MODE_16 = 0, MODE_32 = 1, MODE_64 = 2;
