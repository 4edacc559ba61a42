// Templates for the stack and near control transfers in 64-bit mode (semantics of
// src/cpu/ops/integer/stack.ts and branch.ts): PUSH/POP of registers and immediates, PUSH
// r/m, CALL/JMP (relative and r/m), RET, Jcc. In 64-bit mode the stack is always 8 bytes
// wide with no segment base, and branch targets are linear. Memory is touched before RSP
// changes, so a faulting push or pop leaves the registers as they were.
// Outside 64-bit mode these use the routines (stack width and CS base are run-time state).

import type { Insn } from '../../insn.js';
import { MAP_0F, MAP_1B } from '../../insn.js';
import { GP, SS_VEC, TWO32 } from '../../regs.js';
import type { Emitter } from '../emitter.js';
import { MODE_64, type TemplateSpec } from '../template.js';
import { lit, loadRm, opcodeReg } from './operands.js';

const CANON = 0x800000000000;

function canonical(t: number): boolean {
  return t < CANON && t >= -CANON;
}

function spec(emit: (e: Emitter, ins: Insn, i: number) => void, cc = -1): TemplateSpec {
  return { writes: 0, cc, mayFault: true, emit };
}

export function stackBranchFamily(ins: Insn, mode: number): TemplateSpec | null {
  if (mode !== MODE_64) return null;
  const map = ins.opcode >> 8, opc = ins.opcode & 0xff;
  if (map === MAP_0F) return opc >= 0x80 && opc <= 0x8f ? { writes: 0, cc: opc & 15, mayFault: !canonical(ins.target), emit: jcc } : null;
  if (map !== MAP_1B) return null;
  const size = ins.osize;
  if (opc >= 0x70 && opc <= 0x7f) return { writes: 0, cc: opc & 15, mayFault: !canonical(ins.target), emit: jcc };
  switch (opc) {
    case 0xeb: case 0xe9: return { writes: 0, cc: -1, mayFault: !canonical(ins.target), emit: jmpRel };
    case 0xe8: return spec(callRel);
    case 0xc3: case 0xc2: return size === 8 ? spec(ret) : null;
    case 0x68: case 0x6a: return size === 8 ? spec(pushImm) : null;
    case 0xff:
      if ((ins.reg & 7) === 6 && size === 8) return spec(pushRm);
      if ((ins.reg & 7) === 4) return spec(jmpRm);
      if ((ins.reg & 7) === 2) return spec(callRm);
      return null;
    default:
      if (opc >= 0x50 && opc <= 0x57 && size === 8) return spec(pushReg);
      if (opc >= 0x58 && opc <= 0x5f && size === 8) return spec(popReg);
      return null;
  }
}

// ------------------------------------------------------------------ push / pop

/** push an 8-byte value (expressions evaluated before RSP changes) */
function push(e: Emitter, i: number, v: string, vh: string): void {
  e.faultPoint(i);
  const sp = e.local(`sp${i}`);
  e.line(`${sp} = hi[4] * ${TWO32} + (lo[4] >>> 0) - 8;`);
  e.line(`if (${sp} >= ${CANON} || ${sp} < -${CANON}) cpu.fault(${SS_VEC}, 0);`);
  e.line(`cpu.write64(${sp}, ${v}, ${vh});`);
  e.line(`lo[4] = ${sp} | 0; hi[4] = Math.floor(${sp} / ${TWO32}) | 0;`);
}

function pushReg(e: Emitter, ins: Insn, i: number): void {
  const r = opcodeReg(ins);
  if (r === 4) {
    const v = e.local(`a${i}`), vh = e.local(`ah${i}`);
    e.line(`${v} = lo[4]; ${vh} = hi[4];`);
    push(e, i, v, vh);
  } else {
    push(e, i, `lo[${r}]`, `hi[${r}]`);
  }
}

function pushImm(e: Emitter, ins: Insn, i: number): void {
  push(e, i, lit(ins.imm | 0), lit((ins.imm | 0) >> 31));
}

function pushRm(e: Emitter, ins: Insn, i: number): void {
  const v = loadRm(e, ins, i, 8, 'a');
  push(e, i, v.v, v.vh);
}

/** top-of-stack address (canonical check as stackAddr) into local sp<i> */
function stackTop(e: Emitter, i: number): string {
  e.faultPoint(i);
  const sp = e.local(`sp${i}`);
  e.line(`${sp} = hi[4] * ${TWO32} + (lo[4] >>> 0);`);
  e.line(`if (${sp} >= ${CANON} || ${sp} < -${CANON}) cpu.fault(${SS_VEC}, 0);`);
  return sp;
}

function setSp(e: Emitter, v: string): void {
  e.line(`{ const n = ${v}; lo[4] = n | 0; hi[4] = Math.floor(n / ${TWO32}) | 0; }`);
}

function popReg(e: Emitter, ins: Insn, i: number): void {
  const r = opcodeReg(ins);
  const sp = stackTop(e, i);
  const v = e.local(`a${i}`);
  e.line(`${v} = cpu.read64(${sp});`);
  setSp(e, `${sp} + 8`);
  e.line(`lo[${r}] = ${v}; hi[${r}] = cpu.vhi;`);
}

// ------------------------------------------------------------------ branches

function jumpConst(e: Emitter, i: number, t: number): string {
  if (canonical(t)) return `cpu.rip = ${lit(t)};`;
  return `k = ${i}; cpu.fault(${GP}, 0);`;
}

function jcc(e: Emitter, ins: Insn, i: number): void {
  e.line(`if (${e.cond(i, ins.opcode & 15)}) { ${jumpConst(e, i, ins.target)} }`);
}

function jmpRel(e: Emitter, ins: Insn, i: number): void {
  if (!canonical(ins.target)) e.faultPoint(i);
  e.line(jumpConst(e, i, ins.target));
}

function callRel(e: Emitter, ins: Insn, i: number): void {
  if (!canonical(ins.target)) {
    e.faultPoint(i);
    e.line(`cpu.fault(${GP}, 0);`);
    return;
  }
  const r = ins.nextRip;
  push(e, i, lit(r | 0), lit(Math.floor(r / TWO32) | 0));
  e.line(`cpu.rip = ${lit(ins.target)};`);
}

/** target read from r/m (8 bytes) into local t<i>, checked canonical */
function rmTarget(e: Emitter, ins: Insn, i: number): string {
  const v = loadRm(e, ins, i, 8, 'a');
  e.faultPoint(i);
  const t = e.local(`t${i}`);
  e.line(`${t} = ${v.vh} * ${TWO32} + (${v.v} >>> 0);`);
  e.line(`if (${t} >= ${CANON} || ${t} < -${CANON}) cpu.fault(${GP}, 0);`);
  return t;
}

function jmpRm(e: Emitter, ins: Insn, i: number): void {
  const t = rmTarget(e, ins, i);
  e.line(`cpu.rip = ${t};`);
}

function callRm(e: Emitter, ins: Insn, i: number): void {
  const t = rmTarget(e, ins, i);
  const r = ins.nextRip;
  push(e, i, lit(r | 0), lit(Math.floor(r / TWO32) | 0));
  e.line(`cpu.rip = ${t};`);
}

function ret(e: Emitter, ins: Insn, i: number): void {
  const sp = stackTop(e, i);
  const t = e.local(`t${i}`);
  e.line(`{ const l = cpu.read64(${sp}); ${t} = cpu.vhi * ${TWO32} + (l >>> 0); }`);
  e.line(`if (${t} >= ${CANON} || ${t} < -${CANON}) cpu.fault(${GP}, 0);`);
  setSp(e, `${sp} + ${8 + (ins.imm & 0xffff)}`);
  e.line(`cpu.rip = ${t};`);
}
