// One decoded instruction. Decoded once (per linear address and mode) and kept in a Block, so
// everything derivable at decode time — operand size, the effective-address routine, the
// constant target of a relative branch, the next RIP — is computed here, not at execution.

import type { Cpu } from './cpu.js';

export type Exec = (cpu: Cpu, ins: Insn) => void;
/** Computes the linear address of the memory operand (segment base included). */
export type EaFn = (cpu: Cpu, ins: Insn) => number;

export const MAP_1B = 0, MAP_0F = 1, MAP_0F38 = 2, MAP_0F3A = 3;

export const REP_NONE = 0, REP_E = 1 /* F3 */, REP_NE = 2 /* F2 */;

export class Insn {
  exec: Exec;
  name = '';
  /** linear address of this instruction and of the next one */
  rip = 0;
  nextRip = 0;
  len = 0;
  /** (map << 8) | opcode byte */
  opcode = 0;
  /** operand size in bytes (1, 2, 4, 8) and address size in bytes (2, 4, 8) */
  osize = 4;
  asize = 4;
  rep = REP_NONE;
  lock = false;
  /** raw REX byte (0 when absent): decides SPL/BPL/SIL/DIL vs AH/CH/DH/BH */
  rex = 0;
  /** VEX-encoded: the extra register operand (VEX.vvvv, un-inverted) and VEX.L */
  vex = false;
  vvvv = 0;
  vexL = 0;
  /** mandatory/legacy prefixes seen (for SSE forms) */
  p66 = false;
  pF2 = false;
  pF3 = false;
  /** ModRM fields, REX-extended: reg 0..15, rm 0..15 (register when !hasMem) */
  modrm = -1;
  mod = 0;
  reg = 0;
  rm = 0;
  hasMem = false;
  /** memory operand: segment (after overrides), base/index registers (-1 none), scale shift, disp */
  seg = 3;
  base = -1;
  index = -1;
  scale = 0;
  disp = 0;
  /** RIP-relative operand; its address is the decode-time constant absAddr */
  ripRel = false;
  /** set when the address is a decode-time constant (RIP-relative or absolute moffs) */
  absAddr = 0;
  ea: EaFn;
  /** immediate (sign- or zero-extended as the form requires): low and high 32 bits */
  imm = 0;
  immHi = 0;
  /** second immediate (ENTER's level, far pointer selector) */
  imm2 = 0;
  /** constant branch target for relative jumps/calls (linear address) */
  target = 0;
  /** this instruction ends its block (control transfer, mode change, HLT, ...) */
  ends = false;

  constructor(exec: Exec, ea: EaFn) {
    this.exec = exec;
    this.ea = ea;
  }
}
