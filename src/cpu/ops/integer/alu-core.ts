// The arithmetic of the eight ALU operations on 8/16/32-bit values (one Int32) and on 64-bit
// values (two Int32 halves), split from the flag recording so memory forms can write first.

import type { Cpu } from '../../cpu.js';
import { getCF, LF_ADC, LF_ADD, LF_SBB, LF_SUB, setArithFlags, setResultFlags } from '../../flags.js';

export const OP_ADD = 0, OP_OR = 1, OP_ADC = 2, OP_SBB = 3, OP_AND = 4, OP_SUB = 5, OP_XOR = 6, OP_CMP = 7;

// ------------------------------------------------------------------ core arithmetic

/** Result of `a op b` for 8/16/32-bit operands (bits above the size are don't-care). */
export function calcN(op: number, a: number, b: number, c: number): number {
  switch (op) {
    case OP_ADD: return (a + b) | 0;
    case OP_OR: return a | b;
    case OP_ADC: return (a + b + c) | 0;
    case OP_SBB: return (a - b - c) | 0;
    case OP_AND: return a & b;
    case OP_XOR: return a ^ b;
    default: return (a - b) | 0; // SUB, CMP
  }
}

/** Record the flags of `r = a op b` (narrow sizes). */
export function flagsN(cpu: Cpu, op: number, size: number, a: number, b: number, r: number, c: number): void {
  switch (op) {
    case OP_ADD: setArithFlags(cpu, LF_ADD, size, a, 0, b, 0, r, 0); return;
    case OP_ADC: setArithFlags(cpu, LF_ADC, size, a, 0, b, 0, r, 0, c); return;
    case OP_SBB: setArithFlags(cpu, LF_SBB, size, a, 0, b, 0, r, 0, c); return;
    case OP_SUB: case OP_CMP: setArithFlags(cpu, LF_SUB, size, a, 0, b, 0, r, 0); return;
    default: setResultFlags(cpu, size, r, 0, 0, 0);
  }
}

/** high half of the last calc64 result */
export let calcHi = 0;

/** Result of a 64-bit `a op b` (low half returned, high half in calcHi). */
export function calc64(op: number, al: number, ah: number, bl: number, bh: number, c: number): number {
  switch (op) {
    case OP_ADD: case OP_ADC: {
      const s = (al >>> 0) + (bl >>> 0) + c;
      calcHi = (ah + bh + (s > 0xffffffff ? 1 : 0)) | 0;
      return s | 0;
    }
    case OP_OR: calcHi = ah | bh; return al | bl;
    case OP_AND: calcHi = ah & bh; return al & bl;
    case OP_XOR: calcHi = ah ^ bh; return al ^ bl;
    default: { // SUB SBB CMP
      const s = (al >>> 0) - (bl >>> 0) - (op === OP_SBB ? c : 0);
      calcHi = (ah - bh - (s < 0 ? 1 : 0)) | 0;
      return s | 0;
    }
  }
}

export function flags64(cpu: Cpu, op: number, al: number, ah: number, bl: number, bh: number, rl: number, rh: number,
  c: number): void {
  switch (op) {
    case OP_ADD: setArithFlags(cpu, LF_ADD, 8, al, ah, bl, bh, rl, rh); return;
    case OP_ADC: setArithFlags(cpu, LF_ADC, 8, al, ah, bl, bh, rl, rh, c); return;
    case OP_SBB: setArithFlags(cpu, LF_SBB, 8, al, ah, bl, bh, rl, rh, c); return;
    case OP_SUB: case OP_CMP: setArithFlags(cpu, LF_SUB, 8, al, ah, bl, bh, rl, rh); return;
    default: setResultFlags(cpu, 8, rl, rh, 0, 0);
  }
}

/** CF as 0/1, with the commonest lazy cases (a 32-bit ADD or SUB/CMP) computed inline. */
export function carryFlag(cpu: Cpu): number {
  const op = cpu.lfOp;
  if (cpu.lfSize === 4) {
    if (op === LF_SUB) return (cpu.lfA >>> 0) < (cpu.lfB >>> 0) ? 1 : 0;
    if (op === LF_ADD) return (cpu.lfR >>> 0) < (cpu.lfA >>> 0) ? 1 : 0;
  }
  return getCF(cpu) ? 1 : 0;
}

export function carryIn(cpu: Cpu, op: number): number {
  return op === OP_ADC || op === OP_SBB ? carryFlag(cpu) : 0;
}
