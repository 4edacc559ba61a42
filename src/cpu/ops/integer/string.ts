// String instructions MOVS CMPS STOS LODS SCAS, with REP / REPE / REPNE. Index registers and
// the count are as wide as the address size; the source segment may be overridden, the
// destination is always ES. A repeated instruction runs at most REP_SLICE iterations per
// visit and then re-executes itself (rip = ins.rip), so interrupts stay responsive and a
// fault leaves rSI/rDI/rCX describing exactly the work done. Forward REP MOVS/STOS over RAM
// copy or fill whole page runs at a time.

import type { Cpu } from '../../cpu.js';
import { ACC_READ, ACC_WRITE } from '../../cpu-memory.js';
import { getZF, LF_SUB, setArithFlags } from '../../flags.js';
import type { Insn } from '../../insn.js';
import { MAP_1B, REP_E } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { DF, ES } from '../../regs.js';
import { ramOffset } from '../../../abi/memory-map.js';
import { calc64, calcHi, OP_SUB } from './alu-core.js';
import { addAddrReg, addrReg, linearOf } from './segment-offset.js';

const K_MOVS = 0, K_CMPS = 1, K_STOS = 2, K_LODS = 3, K_SCAS = 4;
/** iterations per visit of a repeated string instruction */
export const REP_SLICE = 4096;

// ------------------------------------------------------------------ count register

function countIsZero(cpu: Cpu, asize: number): boolean {
  if (asize === 8) return cpu.lo[1] === 0 && cpu.hi[1] === 0;
  if (asize === 4) return cpu.lo[1] === 0;
  return (cpu.lo[1] & 0xffff) === 0;
}

/** rCX as a Number (64-bit counts above 2^53 are clamped: no slice is that long anyway) */
function countOf(cpu: Cpu, asize: number): number {
  if (asize === 8) return cpu.hi[1] !== 0 ? Number.MAX_SAFE_INTEGER : cpu.lo[1] >>> 0;
  return asize === 4 ? cpu.lo[1] >>> 0 : cpu.lo[1] & 0xffff;
}

/** rCX -= n at the address size (32-bit writes clear the upper half) */
function subCount(cpu: Cpu, asize: number, n: number): void {
  addAddrReg(cpu, 1, asize, -n);
}

// ------------------------------------------------------------------ one iteration

function srcLin(cpu: Cpu, ins: Insn): number { return linearOf(cpu, ins.seg, addrReg(cpu, 6, ins.asize)); }
function dstLin(cpu: Cpu, ins: Insn): number { return linearOf(cpu, ES, addrReg(cpu, 7, ins.asize)); }

function compareFlags(cpu: Cpu, size: number, al: number, ah: number, bl: number, bh: number): void {
  if (size === 8) setArithFlags(cpu, LF_SUB, 8, al, ah, bl, bh, calc64(OP_SUB, al, ah, bl, bh, 0), calcHi);
  else setArithFlags(cpu, LF_SUB, size, al, 0, bl, 0, (al - bl) | 0, 0);
}

function iterate(cpu: Cpu, ins: Insn, kind: number): void {
  const es = ins.osize, as = ins.asize;
  const step = (cpu.flags & DF) !== 0 ? -es : es;
  switch (kind) {
    case K_MOVS: {
      const v = cpu.readMem(es, srcLin(cpu, ins)), vh = cpu.vhi;
      cpu.writeMem(es, dstLin(cpu, ins), v, vh);
      addAddrReg(cpu, 6, as, step);
      addAddrReg(cpu, 7, as, step);
      return;
    }
    case K_STOS:
      cpu.writeMem(es, dstLin(cpu, ins), cpu.lo[0], cpu.hi[0]);
      addAddrReg(cpu, 7, as, step);
      return;
    case K_LODS: {
      const v = cpu.readMem(es, srcLin(cpu, ins));
      cpu.writeReg(es, 0, 1, v, cpu.vhi);
      addAddrReg(cpu, 6, as, step);
      return;
    }
    case K_CMPS: {
      const a = cpu.readMem(es, srcLin(cpu, ins)), ah = cpu.vhi;
      const b = cpu.readMem(es, dstLin(cpu, ins)), bh = cpu.vhi;
      addAddrReg(cpu, 6, as, step);
      addAddrReg(cpu, 7, as, step);
      compareFlags(cpu, es, a, ah, b, bh);
      return;
    }
    default: { // SCAS
      const b = cpu.readMem(es, dstLin(cpu, ins)), bh = cpu.vhi;
      addAddrReg(cpu, 7, as, step);
      const a = cpu.readReg(es, 0, 1);
      compareFlags(cpu, es, a, cpu.hi[0], b, bh);
    }
  }
}

// ------------------------------------------------------------------ page-run fast paths

/** bytes from offset `off` (at the address size) before the index register wraps */
function bytesBeforeWrap(off: number, asize: number): number {
  if (asize === 8) return Number.MAX_SAFE_INTEGER;
  return (asize === 4 ? 0x100000000 : 0x10000) - off;
}

/** RAM offset of a linear address for an access kind, or -1 (MMIO: take the slow path) */
function ramOf(cpu: Cpu, lin: number, acc: number): number {
  const phys = cpu.translate(lin, acc, cpu.cpl === 3);
  return ramOffset(cpu.layout, phys);
}

/**
 * Forward REP STOS over one page run. Returns the elements stored (0: do one element the
 * slow way, e.g. at a page-straddling element or MMIO).
 */
function fastStos(cpu: Cpu, ins: Insn, maxElems: number): number {
  const es = ins.osize, as = ins.asize;
  const di = addrReg(cpu, 7, as);
  const lin = linearOf(cpu, ES, di);
  const inPage = 4096 - (lin & 0xfff);
  let n = Math.min(maxElems, countOf(cpu, as), Math.floor(inPage / es), Math.floor(bytesBeforeWrap(di, as) / es));
  if (n <= 1) return 0;
  const off = ramOf(cpu, lin, ACC_WRITE);
  if (off < 0) return 0;
  const bytes = n * es;
  cpu.noteCodeWrite(off, bytes);
  const lo = cpu.lo[0], hi = cpu.hi[0];
  if (es === 1) cpu.ram.fill(lo & 0xff, off, off + bytes);
  else if (es === 4 && (off & 3) === 0) cpu.i32.fill(lo, off >> 2, (off >> 2) + n);
  else if (es === 8 && lo === hi && (off & 3) === 0) cpu.i32.fill(lo, off >> 2, (off >> 2) + 2 * n);
  else {
    const dv = cpu.dv;
    for (let k = 0; k < n; k++) {
      const o = off + k * es;
      if (es === 2) dv.setUint16(o, lo & 0xffff, true);
      else if (es === 4) dv.setInt32(o, lo, true);
      else { dv.setInt32(o, lo, true); dv.setInt32(o + 4, hi, true); }
    }
  }
  addAddrReg(cpu, 7, as, bytes);
  subCount(cpu, as, n);
  return n;
}

/** Forward REP MOVS over one page run of both source and destination. */
function fastMovs(cpu: Cpu, ins: Insn, maxElems: number): number {
  const es = ins.osize, as = ins.asize;
  const si = addrReg(cpu, 6, as), di = addrReg(cpu, 7, as);
  const sLin = linearOf(cpu, ins.seg, si), dLin = linearOf(cpu, ES, di);
  let n = Math.min(maxElems, countOf(cpu, as),
    Math.floor((4096 - (sLin & 0xfff)) / es), Math.floor((4096 - (dLin & 0xfff)) / es),
    Math.floor(bytesBeforeWrap(si, as) / es), Math.floor(bytesBeforeWrap(di, as) / es));
  if (n <= 1) return 0;
  const sOff = ramOf(cpu, sLin, ACC_READ);
  if (sOff < 0) return 0;
  const dOff = ramOf(cpu, dLin, ACC_WRITE);
  if (dOff < 0) return 0;
  // a forward element-by-element copy onto an overlapping later destination replicates the
  // source pattern: copy at most one distance's worth at a time
  const dist = dOff - sOff;
  if (dist > 0 && dist < n * es) {
    n = Math.floor(dist / es);
    if (n === 0) return 0;
  }
  const bytes = n * es;
  cpu.noteCodeWrite(dOff, bytes);
  cpu.ram.copyWithin(dOff, sOff, sOff + bytes);
  addAddrReg(cpu, 6, as, bytes);
  addAddrReg(cpu, 7, as, bytes);
  subCount(cpu, as, n);
  return n;
}

// ------------------------------------------------------------------ the instructions

function single(kind: number) {
  return (cpu: Cpu, ins: Insn): void => iterate(cpu, ins, kind);
}

function repeated(kind: number) {
  const conditional = kind === K_CMPS || kind === K_SCAS;
  const fast = kind === K_MOVS ? fastMovs : kind === K_STOS ? fastStos : null;
  return (cpu: Cpu, ins: Insn): void => {
    const as = ins.asize;
    let done = 0;
    while (done < REP_SLICE) {
      if (countIsZero(cpu, as)) return;
      if (fast !== null && (cpu.flags & DF) === 0) {
        const n = fast(cpu, ins, REP_SLICE - done);
        if (n > 0) { done += n; continue; }
      }
      iterate(cpu, ins, kind);
      subCount(cpu, as, 1);
      done++;
      if (conditional && getZF(cpu) !== (ins.rep === REP_E)) return;
    }
    if (!countIsZero(cpu, as)) cpu.rip = ins.rip; // more to do: run this instruction again
  };
}

const NAMES = ['movs', 'cmps', 'stos', 'lods', 'scas'];
const OPCODES = [0xa4, 0xa6, 0xaa, 0xac, 0xae];
for (let kind = 0; kind < 5; kind++) {
  const name = NAMES[kind];
  const rep = repeated(kind);
  for (let w = 0; w < 2; w++) {
    const size = w === 0 ? 'b' as const : 'v' as const;
    const opcode = OPCODES[kind] + w;
    defineOp(MAP_1B, opcode, { name, exec: single(kind), size });
    defineOp(MAP_1B, opcode, { name: 'rep ' + name, exec: rep, size, ends: true }, { prefix: 'F3' });
    defineOp(MAP_1B, opcode, { name: 'repne ' + name, exec: rep, size, ends: true }, { prefix: 'F2' });
  }
}
