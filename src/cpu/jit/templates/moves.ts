// Templates for data movement (semantics of src/cpu/ops/integer/mov.ts and xchg in atomic.ts):
// MOV in all integer forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG between registers, NOPs,
// CMOVcc, SETcc, CBW/CWDE/CDQE, CWD/CDQ/CQO and CLD/STD.

import type { Insn } from '../../insn.js';
import { MAP_0F, MAP_1B } from '../../insn.js';
import { DF, FS, GS, TWO32 } from '../../regs.js';
import type { Emitter } from '../emitter.js';
import { MODE_64, type TemplateSpec } from '../template.js';
import { immOf, lit, loadRm, opcodeReg } from './operands.js';

type Emit = (e: Emitter, ins: Insn, i: number) => void;

function plain(mayFault: boolean, emit: Emit): TemplateSpec {
  return { writes: 0, cc: -1, mayFault, emit };
}

export function movesFamily(ins: Insn, mode: number): TemplateSpec | null {
  const map = ins.opcode >> 8, opc = ins.opcode & 0xff;
  if (map === MAP_1B) {
    switch (opc) {
      case 0x88: case 0x89: return plain(ins.hasMem, movRmReg);
      case 0x8a: case 0x8b: return plain(ins.hasMem, movRegRm);
      case 0xc6: case 0xc7: return ins.lock ? null : plain(ins.hasMem, movRmImm);
      case 0xa0: case 0xa1: return plain(true, movAccMoffs);
      case 0xa2: case 0xa3: return plain(true, movMoffsAcc);
      case 0x8d: return plain(false, lea);
      case 0x63: return mode === MODE_64 ? plain(ins.hasMem, movsxd) : null;
      case 0x86: case 0x87: return ins.hasMem || ins.lock ? null : plain(false, xchgRegs);
      case 0x98: return plain(false, cbw);
      case 0x99: return plain(false, cwd);
      case 0xfc: return plain(false, (e) => e.line(`cpu.flags &= ${~DF};`));
      case 0xfd: return plain(false, (e) => e.line(`cpu.flags |= ${DF};`));
      default:
        if (opc >= 0xb0 && opc <= 0xb7) return plain(false, movR8Imm);
        if (opc >= 0xb8 && opc <= 0xbf) return plain(false, movRImm);
        if (opc >= 0x90 && opc <= 0x97) {
          if (ins.name === 'pause') return null; // a spin hint the routine acts on
          return opcodeReg(ins) === 0 ? plain(false, () => { /* nop */ }) : plain(false, xchgAcc);
        }
        return null;
    }
  }
  if (map === MAP_0F) {
    if (opc === 0xb6 || opc === 0xb7 || opc === 0xbe || opc === 0xbf) return plain(ins.hasMem, movExtend);
    if (opc >= 0x40 && opc <= 0x4f) return { writes: 0, cc: opc & 15, mayFault: ins.hasMem, emit: cmov };
    if (opc >= 0x90 && opc <= 0x9f) return { writes: 0, cc: opc & 15, mayFault: ins.hasMem, emit: setcc };
    if (opc >= 0x18 && opc <= 0x1f && ins.name === 'nop') return plain(false, () => { /* hint NOP */ });
  }
  return null;
}

// ------------------------------------------------------------------ MOV

function movRmReg(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize;
  const v = e.reg(size, ins.reg, ins.rex), vh = size === 8 ? `hi[${ins.reg}]` : '0';
  if (ins.hasMem) {
    e.faultPoint(i);
    e.line(e.store(size, e.ea(ins, i), v, vh));
  } else if (size === 8) {
    e.line(`lo[${ins.rm}] = lo[${ins.reg}]; hi[${ins.rm}] = hi[${ins.reg}];`);
  } else {
    e.line(e.setReg(size, ins.rm, ins.rex, v));
  }
}

function movRegRm(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize;
  if (!ins.hasMem) {
    if (size === 8) e.line(`lo[${ins.reg}] = lo[${ins.rm}]; hi[${ins.reg}] = hi[${ins.rm}];`);
    else e.line(e.setReg(size, ins.reg, ins.rex, e.reg(size, ins.rm, ins.rex)));
    return;
  }
  e.faultPoint(i);
  if (size === 8) {
    const v = e.local(`a${i}`);
    e.line(`${v} = ${e.load(8, e.ea(ins, i))}; lo[${ins.reg}] = ${v}; hi[${ins.reg}] = cpu.vhi;`);
  } else {
    e.line(e.setReg(size, ins.reg, ins.rex, e.load(size, e.ea(ins, i))));
  }
}

function movRmImm(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize;
  const imm = immOf(ins, size);
  if (ins.hasMem) {
    e.faultPoint(i);
    e.line(e.store(size, e.ea(ins, i), imm.v, imm.vh));
  } else {
    e.line(e.setReg(size, ins.rm, ins.rex, imm.v, imm.vh));
  }
}

function movR8Imm(e: Emitter, ins: Insn): void {
  e.line(e.setReg(1, opcodeReg(ins), ins.rex, lit(ins.imm | 0)));
}

function movRImm(e: Emitter, ins: Insn): void {
  const r = opcodeReg(ins);
  if (ins.osize === 2) e.line(e.setReg(2, r, ins.rex, lit(ins.imm | 0)));
  else e.line(`lo[${r}] = ${lit(ins.imm | 0)}; hi[${r}] = ${lit(ins.immHi | 0)};`);
}

/** linear address of a moffs operand (segment-offset.ts linearOf with a constant offset) */
function moffs(e: Emitter, ins: Insn): string {
  const off = ins.absAddr;
  if (e.mode64) return ins.seg === FS || ins.seg === GS ? `(${lit(off)} + sb[${ins.seg}])` : lit(off);
  return `((${lit(off)} + sb[${ins.seg}]) % ${TWO32})`;
}

function movAccMoffs(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize;
  e.faultPoint(i);
  const v = e.local(`a${i}`);
  e.line(`${v} = ${e.load(size, moffs(e, ins))};`);
  e.line(e.setReg(size, 0, 1, v, 'cpu.vhi'));
}

function movMoffsAcc(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize;
  e.faultPoint(i);
  e.line(e.store(size, moffs(e, ins), 'lo[0]', size === 8 ? 'hi[0]' : '0'));
}

// ------------------------------------------------------------------ LEA

function lea(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize;
  const d = ins.disp | 0;
  const r = e.local(`a${i}`), rh = e.local(`ah${i}`);
  if (ins.asize === 8) {
    if (ins.ripRel) {
      e.line(`${r} = ${ins.absAddr | 0}; ${rh} = ${Math.floor(ins.absAddr / TWO32) | 0};`);
    } else if (ins.index === -1 && ins.base >= 0) {
      const b = ins.base;
      e.line(`{ const s = (lo[${b}] >>> 0) + ${lit(d)}; ${r} = s | 0; ${rh} = (hi[${b}] + (s < 0 ? -1 : s > 4294967295 ? 1 : 0)) | 0; }`);
    } else {
      const parts = [lit(d)];
      let h = '0';
      if (ins.base >= 0) { parts.push(`(lo[${ins.base}] >>> 0)`); h = `hi[${ins.base}]`; }
      if (ins.index >= 0) {
        const x = ins.index, sc = ins.scale;
        parts.push(sc ? `(lo[${x}] >>> 0) * ${1 << sc}` : `(lo[${x}] >>> 0)`);
        h += sc ? ` + (hi[${x}] << ${sc})` : ` + hi[${x}]`;
      }
      e.line(`{ const s = ${parts.join(' + ')}; ${r} = s | 0; ${rh} = (${h} + Math.floor(s / ${TWO32})) | 0; }`);
    }
  } else {
    let s: string;
    if (ins.ripRel) s = String(ins.absAddr | 0);
    else {
      const parts = [lit(d)];
      if (ins.base >= 0) parts.push(`lo[${ins.base}]`);
      if (ins.index >= 0) parts.push(ins.asize === 4 && ins.scale ? `(lo[${ins.index}] << ${ins.scale})` : `lo[${ins.index}]`);
      s = parts.join(' + ');
    }
    e.line(`${r} = ${ins.asize === 4 ? `(${s}) | 0` : `(${s}) & 65535`}; ${rh} = 0;`);
  }
  e.line(e.setReg(size, ins.reg, ins.rex, r, rh));
}

// ------------------------------------------------------------------ MOVZX / MOVSX / MOVSXD

function movExtend(e: Emitter, ins: Insn, i: number): void {
  const opc = ins.opcode & 0xff;
  const srcSize = opc === 0xb6 || opc === 0xbe ? 1 : 2;
  const signed = opc >= 0xbe;
  const v = e.local(`a${i}`);
  let src: string;
  if (ins.hasMem) {
    e.faultPoint(i);
    src = e.load(srcSize, e.ea(ins, i));
  } else {
    src = e.reg(srcSize, ins.rm, ins.rex);
  }
  if (signed) e.line(`${v} = ${src} << ${srcSize === 1 ? 24 : 16} >> ${srcSize === 1 ? 24 : 16};`);
  else e.line(`${v} = ${src};`);
  e.line(e.setReg(ins.osize, ins.reg, ins.rex, v, signed ? `${v} >> 31` : '0'));
}

function movsxd(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize;
  const v = loadRm(e, ins, i, size === 8 ? 4 : size, 'a');
  e.line(e.setReg(size, ins.reg, ins.rex, v.v, size === 8 ? `${v.v} >> 31` : '0'));
}

// ------------------------------------------------------------------ XCHG, CBW, CWD

function xchgRegs(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize;
  const a = e.local(`a${i}`), b = e.local(`b${i}`), ah = e.local(`ah${i}`), bh = e.local(`bh${i}`);
  e.line(`${a} = ${e.reg(size, ins.rm, ins.rex)}; ${ah} = hi[${ins.rm}]; ${b} = ${e.reg(size, ins.reg, ins.rex)}; ${bh} = hi[${ins.reg}];`);
  e.line(e.setReg(size, ins.rm, ins.rex, b, bh));
  e.line(e.setReg(size, ins.reg, ins.rex, a, ah));
}

function xchgAcc(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize, r = opcodeReg(ins);
  const a = e.local(`a${i}`), b = e.local(`b${i}`), ah = e.local(`ah${i}`), bh = e.local(`bh${i}`);
  e.line(`${a} = ${e.reg(size, 0, 1)}; ${ah} = hi[0]; ${b} = ${e.reg(size, r, 1)}; ${bh} = hi[${r}];`);
  e.line(e.setReg(size, 0, 1, b, bh));
  e.line(e.setReg(size, r, 1, a, ah));
}

function cbw(e: Emitter, ins: Insn): void {
  const size = ins.osize;
  if (size === 2) e.line(e.setReg(2, 0, 1, '(lo[0] << 24 >> 24)'));
  else if (size === 4) e.line('lo[0] = lo[0] << 16 >> 16; hi[0] = 0;');
  else e.line('hi[0] = lo[0] >> 31;');
}

function cwd(e: Emitter, ins: Insn): void {
  const size = ins.osize;
  if (size === 2) e.line(e.setReg(2, 2, 1, '(lo[0] << 16 >> 31)'));
  else if (size === 4) e.line('lo[2] = lo[0] >> 31; hi[2] = 0;');
  else e.line('{ const s = hi[0] >> 31; lo[2] = s; hi[2] = s; }');
}

// ------------------------------------------------------------------ CMOVcc / SETcc

function cmov(e: Emitter, ins: Insn, i: number): void {
  const size = ins.osize;
  const v = loadRm(e, ins, i, size, 'a'); // the source is read (and may fault) either way
  const cond = e.cond(i, ins.opcode & 15);
  const els = size === 4 ? ` else { hi[${ins.reg}] = 0; }` : '';
  e.line(`if (${cond}) { ${e.setReg(size, ins.reg, ins.rex, v.v, v.vh)} }${els}`);
}

function setcc(e: Emitter, ins: Insn, i: number): void {
  const v = e.local(`a${i}`);
  e.line(`${v} = ${e.cond(i, ins.opcode & 15)} ? 1 : 0;`);
  if (ins.hasMem) {
    e.faultPoint(i);
    e.line(e.store(1, e.ea(ins, i), v));
  } else {
    e.line(e.setReg(1, ins.rm, ins.rex, v));
  }
}

