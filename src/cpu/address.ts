// Effective-address routines, chosen per instruction at decode time so execution does no
// mode or form dispatch. Each returns a linear address as a Number: in 64-bit mode the signed
// canonical form (hi * 2^32 + lo with hi sign-extended), elsewhere 0..2^32-1. Non-canonical
// results are left for the page walker to fault on (#GP, or #SS for stack references).

import type { Cpu } from './cpu.js';
import type { EaFn, Insn } from './insn.js';
import { TWO32 } from './regs.js';

// ---- 64-bit address size ----
function ea64(cpu: Cpu, ins: Insn, withSeg: boolean): number {
  let s = ins.disp;
  let h = 0;
  if (ins.base >= 0) {
    s += cpu.lo[ins.base] >>> 0;
    h = cpu.hi[ins.base];
  }
  if (ins.index >= 0) {
    const il = cpu.lo[ins.index];
    const ih = cpu.hi[ins.index];
    const sc = ins.scale;
    s += (il >>> 0) * (1 << sc); // exact (< 2^35): its carry into the high half comes from the floor below
    h += ih << sc;
  }
  h = (h + Math.floor(s / TWO32)) | 0;
  const lin = h * TWO32 + (s >>> 0);
  return withSeg ? lin + cpu.segBase[ins.seg] : lin;
}
const ea64NoSeg: EaFn = (cpu, ins) => ea64(cpu, ins, false);
const ea64Seg: EaFn = (cpu, ins) => ea64(cpu, ins, true);
/** base + disp, the most common form, without index arithmetic */
const ea64BaseDisp: EaFn = (cpu, ins) => {
  const s = (cpu.lo[ins.base] >>> 0) + ins.disp;
  const h = (cpu.hi[ins.base] + Math.floor(s / TWO32)) | 0;
  return h * TWO32 + (s >>> 0);
};
/** RIP-relative or other decode-time constant address */
const eaAbs: EaFn = (_cpu, ins) => ins.absAddr;
const eaAbsSeg: EaFn = (cpu, ins) => ins.absAddr + cpu.segBase[ins.seg];

// ---- 32-bit address size (in any mode) ----
function ea32raw(cpu: Cpu, ins: Insn): number {
  let s = ins.disp;
  if (ins.base >= 0) s += cpu.lo[ins.base];
  if (ins.index >= 0) s += cpu.lo[ins.index] << ins.scale;
  return s >>> 0;
}
const ea32Seg: EaFn = (cpu, ins) => (ea32raw(cpu, ins) + cpu.segBase[ins.seg]) % TWO32;
/** 32-bit address size in 64-bit mode: zero-extended, FS/GS base added without wrapping */
const ea32Long: EaFn = (cpu, ins) => ea32raw(cpu, ins);
const ea32LongSeg: EaFn = (cpu, ins) => ea32raw(cpu, ins) + cpu.segBase[ins.seg];

// ---- 16-bit address size ----
const ea16: EaFn = (cpu, ins) => {
  let s = ins.disp;
  if (ins.base >= 0) s += cpu.lo[ins.base];
  if (ins.index >= 0) s += cpu.lo[ins.index];
  return ((s & 0xffff) + cpu.segBase[ins.seg]) % TWO32;
};

// SS-relative operands (RSP/RBP bases, SS override) with a non-canonical address raise #SS(0),
// not the #GP the page walker would raise.
function checkStackCanonical(cpu: Cpu, lin: number): number {
  if (lin >= 0x800000000000 || lin < -0x800000000000) cpu.fault(12, 0);
  return lin;
}
const ea64BaseDispSS: EaFn = (cpu, ins) => checkStackCanonical(cpu, ea64BaseDisp(cpu, ins));
const ea64NoSegSS: EaFn = (cpu, ins) => checkStackCanonical(cpu, ea64(cpu, ins, false));

/** Choose the routine for a decoded memory operand. */
export function chooseEa(ins: Insn, mode64: boolean): EaFn {
  const fsgs = ins.seg === 4 || ins.seg === 5;
  if (mode64) {
    if (ins.ripRel || (ins.base === -1 && ins.index === -1 && ins.asize === 8)) return fsgs ? eaAbsSeg : eaAbs;
    if (ins.asize === 8) {
      if (fsgs) return ea64Seg;
      if (ins.seg === 2) return ins.index === -1 ? ea64BaseDispSS : ea64NoSegSS;
      if (ins.index === -1) return ea64BaseDisp;
      return ea64NoSeg;
    }
    return fsgs ? ea32LongSeg : ea32Long;
  }
  if (ins.asize === 2) return ea16;
  return ea32Seg;
}

export const eaNone: EaFn = () => {
  throw new Error('internal: instruction has no memory operand');
};
