// The shape of one instruction-table entry (test/isa/table.ts) and of the contexts the
// generator hands to an entry's setup and build hooks.

import type { Insn, MemRef } from './encoder.js';
import type { Prng } from './prng.js';

export type OpSize = 8 | 16 | 32 | 64;

/** CPU features a form needs; the differential run keeps only those both CPUs advertise. */
export type Feature =
  | 'cx8' | 'cmov' | 'sse2' | 'sse3' | 'ssse3' | 'sse41' | 'sse42' | 'popcnt' | 'cx16' | 'movbe'
  | 'lahf64' | 'lzcnt' | 'bmi1' | 'bmi2' | 'adx' | 'fpu' | 'mmx' | 'fxsr' | 'clflush' | 'rdtscp';

/**
 * How an instruction changes RFLAGS. `w`: flags it writes (defined or not); `u`: the subset the
 * SDM leaves undefined. A rule with w = 0 and u != 0 means "may or may not write these": the
 * generator then keeps everything undefined that already was, and adds u.
 */
export interface FlagEffect {
  w: number;
  u: number;
}

export interface FlagCtx {
  size: OpSize;
  /** the raw shift/rotate count when the generator knows it (immediate, implied 1, or CL at position 0) */
  count?: number;
  /** the RCX value before the instruction when known (REP string forms at position 0) */
  rcx?: bigint;
}

export type FlagRule = FlagEffect | ((k: FlagCtx) => FlagEffect);

/**
 * Operand layouts:
 *  none      opcode only (operand size still chosen by 66/REX.W)
 *  rm        ModRM /digit, one GPR-or-memory operand
 *  r_rm      ModRM reg = GPR, rm = GPR or memory
 *  opreg     GPR in the low bits of the opcode
 *  acc_imm   AL/AX/EAX/RAX implied, immediate
 *  xmm_xmmrm ModRM reg = XMM, rm = XMM or memory
 *  xmm_gprm  ModRM reg = XMM, rm = GPR or memory (MOVD, CVTSI2SD, PINSRW)
 *  gpr_xmmrm ModRM reg = GPR, rm = XMM or memory (CVTTSD2SI, PMOVMSKB, PEXTRW)
 *  xmm_digit ModRM /digit, rm = XMM (PSRLW xmm, imm8 ...)
 *  vex       VEX-encoded GPR instruction: reg, vvvv and rm roles given by `vex`
 *  custom    the entry's build() lays out the bytes (control flow, prefixes as data)
 */
export type Shape = 'none' | 'rm' | 'r_rm' | 'opreg' | 'acc_imm' | 'xmm_xmmrm' | 'xmm_gprm' | 'gpr_xmmrm'
  | 'xmm_digit' | 'vex' | 'custom';

/** b: imm8; w: imm16; z: imm16/32 by operand size; v: imm16/32/64 (MOV r, imm) */
export type ImmKind = 'b' | 'w' | 'z' | 'v';

export interface Form {
  /** unique, human readable: also what --group matches */
  name: string;
  /** reporting group (several forms share one) */
  group: string;
  shape: Shape;
  /** GPR operand sizes the form exists in (8 uses opcode8) */
  sizes: OpSize[];
  opcode: number[];
  opcode8?: number[];
  /** mandatory prefix (66, F2, F3) emitted right before REX/opcode */
  prefix?: number;
  digit?: number;
  /** where the ModRM rm operand may point */
  rm?: 'reg' | 'mem' | 'both';
  /** size of the rm operand when it differs from the operand size (MOVZX, MOVSXD, BT...) */
  rmSize?: OpSize;
  imm?: ImmKind;
  /** where a shift/rotate count comes from, so the flag rule can see it */
  count?: 'imm' | 'cl' | 'one';
  /** how to choose the immediate, when plain edge values are wrong */
  immPick?: (rng: Prng, size: OpSize) => bigint;
  /** the operand size defaults to 64 (PUSH/POP): 64 needs no REX.W, 32 does not exist */
  default64?: boolean;
  flags: FlagRule;
  /** flags the instruction reads (it must not follow an instruction that left them undefined) */
  reads?: number;
  feature?: Feature;
  /** a LOCK prefix is legal with a memory destination */
  lockable?: boolean;
  /** needs the XMM state (the case then carries XMM registers and MXCSR) */
  sse?: boolean;
  /** bytes the memory operand touches, when not the operand size */
  memBytes?: number;
  /** alignment a memory operand must have (misalignment raises #GP) */
  align?: number;
  /** VEX fields and what vvvv holds */
  vex?: { map: 1 | 2 | 3; pp: 0 | 1 | 2 | 3; vvvv: 'reg' | 'unused' };
  /** uses the stack (never inside a called body) */
  stack?: boolean;
  /** writes RCX implicitly (never inside a LOOP body) */
  writesRcx?: boolean;
  /** only ever a case of its own (it ends the run: the #UD forms) */
  alone?: boolean;
  /** must be first in its case: its setup() fixes register or memory values it depends on */
  firstOnly?: boolean;
  /** position-0 hook: adjusts the initial state so the instruction is meaningful/defined */
  setup?: (s: SetupCtx) => void;
  /** custom layout (shape 'custom') */
  build?: (b: BuildCtx) => Built;
}

/** What a setup hook sees: the operands the generator chose and the initial state it may change. */
export interface SetupCtx {
  rng: Prng;
  size: OpSize;
  /** reg-field GPR (r_rm, gpr_xmmrm, vex) or opcode register */
  reg?: number;
  /** VEX.vvvv GPR */
  vvvv?: number;
  /** rm operand: a GPR number, or the data-window offset of the memory operand */
  rmReg?: number;
  rmOffset?: number;
  getReg(num: number): bigint;
  setReg(num: number, value: bigint): void;
  /** writes bytes of the initial data window (offset within the window) */
  setMem(offset: number, bytes: Uint8Array): void;
  getMem(offset: number, size: number): bigint;
  /** window offset the stack pointer starts at */
  stackOffset: number;
  /** window offset of the memory area string instructions and pointers may use */
  memArea: number;
}

/** What a custom build hook gets to lay out control flow. */
export interface BuildCtx {
  rng: Prng;
  /** position of this instruction within the case (0 = first) */
  position: number;
  /** offset in the code window where these bytes will start */
  codeOffset: number;
  /** one encoded, straight-line instruction for a branch body (never a stack user; RCX left alone when noRcx) */
  body(opts: { noRcx?: boolean }): Piece;
  /** a GPR the case may freely overwrite (not RSP, not the memory base/index) */
  freeReg(opts?: { noRcx?: boolean }): number;
  setReg(num: number, value: bigint): void;
  getReg(num: number): bigint;
  setMem(offset: number, bytes: Uint8Array): void;
  getMem(offset: number, size: number): bigint;
  /** RFLAGS the case starts with */
  initFlags(): number;
}

export interface Piece {
  bytes: Uint8Array;
  text: string;
  effect: FlagEffect;
  reads: number;
}

export interface Built {
  bytes: Uint8Array;
  text: string;
  effect: FlagEffect;
  reads: number;
}

export type { Insn, MemRef };
