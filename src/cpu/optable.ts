// The instruction table. Instruction families register their forms here (src/cpu/ops/*.ts);
// the decoder consults it to know whether a ModRM byte and which immediate follow, and which
// routine executes the form. One table drives decoding, so adding an instruction is one entry.

import type { Exec } from './insn.js';

/** Operand-size rule of a form. */
export type SizeKind =
  | 'b' // byte
  | 'v' // 16/32/64 by 66 and REX.W (default 32)
  | 'd64' // 16/64 in 64-bit mode (default 64: push/pop/near branches), 16/32 elsewhere
  | 'f64' // always 64 in 64-bit mode (near branches: 66 ignored as Intel does)
  | 'w' // always 16
  | 'd' // always 32
  | 'q' // always 64
  | 'x'; // not an integer operand (SSE/x87/system): osize left at the default

/** Immediate/operand-encoding kinds that follow the ModRM/SIB/displacement. */
export type ImmKind =
  | 'none'
  | 'Ib' // 8-bit, sign-extended into imm/immHi
  | 'Ibu' // 8-bit, zero-extended (shift counts, port numbers, INT n, ENTER level)
  | 'Iw' // 16-bit zero-extended (RET n, ENTER size)
  | 'Iz' // 16 (o16) or 32 bits, sign-extended to the operand size
  | 'Iv' // 16/32/64 by operand size (MOV r, imm64)
  | 'Jb' // rel8 -> target
  | 'Jz' // rel16/32 -> target
  | 'Ob' // moffs: address-size wide absolute address -> absAddr
  | 'Ap' // far pointer ptr16:16/32 (invalid in 64-bit): imm = offset, imm2 = selector
  | 'IwIb'; // ENTER: imm = size, imm2 = level

export type PrefixRule = 'any' | 'np' | '66' | 'F3' | 'F2';

export interface OpDef {
  name: string;
  exec: Exec;
  modrm?: boolean;
  imm?: ImmKind;
  size?: SizeKind;
  /** ends the block: control transfer, or anything that changes mode, paging, CS or IF state */
  ends?: boolean;
  /** #UD in 64-bit mode / only valid in 64-bit mode */
  inv64?: boolean;
  only64?: boolean;
  /** LOCK is allowed (only with a memory destination); otherwise LOCK raises #UD */
  lockable?: boolean;
  /** ModRM.mod is ignored: always a register operand, no displacement (MOV CR/DR) */
  modIgnored?: boolean;
}

export interface OpMatch {
  /** mandatory-prefix rule (SSE forms); default 'any' (66 is then the operand-size prefix) */
  prefix?: PrefixRule;
  /** ModRM.reg value for group opcodes */
  reg?: number;
  /** restrict to register (mod=3) or memory forms */
  mod?: 'reg' | 'mem';
  /** ModRM.rm value (register form) for opcodes like 0F 01 /7 */
  rm?: number;
  /** VEX-encoded form (the VEX pp field is its mandatory prefix); default: legacy encoding only */
  vex?: boolean;
}

export interface OpEntry extends OpDef, OpMatch {}

/** Candidates per (map, opcode byte): index = map * 256 + opcode. */
export const opTable: OpEntry[][] = Array.from({ length: 4 * 256 }, () => []);

/** Whether the opcode (by map/byte) takes a ModRM byte: decided by its registered forms. */
export function defineOp(map: number, opcode: number, def: OpDef, match: OpMatch = {}): void {
  const list = opTable[map * 256 + opcode];
  const entry: OpEntry = { ...def, ...match };
  const hasModrm = entry.modrm ?? false;
  for (const other of list) {
    if ((other.modrm ?? false) !== hasModrm) {
      throw new Error(`optable: ${def.name} disagrees with ${other.name} on ModRM for ${map}:${opcode.toString(16)}`);
    }
    if (sameMatch(other, entry)) {
      throw new Error(`optable: ${def.name} duplicates ${other.name} at ${map}:${opcode.toString(16)}`);
    }
  }
  list.push(entry);
}

function sameMatch(a: OpMatch, b: OpMatch): boolean {
  return (a.prefix ?? 'any') === (b.prefix ?? 'any') && a.reg === b.reg && a.mod === b.mod && a.rm === b.rm &&
    (a.vex ?? false) === (b.vex ?? false);
}

/** Define the same form for a run of opcodes (e.g. 0x50+r). */
export function defineRange(map: number, first: number, count: number, def: OpDef, match: OpMatch = {}): void {
  for (let i = 0; i < count; i++) defineOp(map, first + i, def, match);
}

export function hasModrm(map: number, opcode: number): boolean {
  const list = opTable[map * 256 + opcode];
  return list.length > 0 && (list[0].modrm ?? false);
}

/** Whether the opcode's ModRM always names registers (mod ignored, as MOV CR/DR). */
export function modIgnored(map: number, opcode: number): boolean {
  const list = opTable[map * 256 + opcode];
  return list.length > 0 && (list[0].modIgnored ?? false);
}

/**
 * Pick the form for a decoded instruction. `mand` is the mandatory prefix in effect
 * ('F3'/'F2' if one was the last of them, else '66' if present, else 'np').
 */
export function selectForm(map: number, opcode: number, mand: PrefixRule, modrm: number, vex = false): OpEntry | undefined {
  const list = opTable[map * 256 + opcode];
  if (list.length === 0) return undefined;
  const isReg = modrm >= 0 && (modrm >> 6) === 3;
  const reg = (modrm >> 3) & 7;
  const rm = modrm & 7;
  let best: OpEntry | undefined;
  let bestScore = -1;
  for (const e of list) {
    if ((e.vex ?? false) !== vex) continue;
    if (e.reg !== undefined && e.reg !== reg) continue;
    if (e.mod === 'reg' && !isReg) continue;
    if (e.mod === 'mem' && isReg) continue;
    if (e.rm !== undefined && (!isReg || e.rm !== rm)) continue;
    const p = e.prefix ?? 'any';
    let score: number;
    if (p === 'any') score = 0;
    else if (p === mand) score = 2;
    else if (p === 'np' && mand === '66') continue; // 66-only ops differ from np ones
    else continue;
    if (e.rm !== undefined) score += 1;
    if (score > bestScore) {
      best = e;
      bestScore = score;
    }
  }
  return best;
}
