// Bitwise SSE/SSE2 operations: ANDPS/ANDPD, ANDNPS/ANDNPD, ORPS/ORPD, XORPS/XORPD (0F 54-57)
// and PAND/PANDN/POR/PXOR (66 0F DB/DF/EB/EF). All are the same 128-bit operation whatever
// the data type. XOR of a register with itself (the zeroing idiom) takes no operand load.

import type { Cpu } from '../../cpu.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp, type PrefixRule } from '../../optable.js';
import { checkAligned16, read128, sseGate, B } from './xmm-access.js';

const AND = 0, ANDN = 1, OR = 2, XOR = 3;

/** second operand's base index in `x` (register) or -1 after loading B (memory) */
function source(cpu: Cpu, ins: Insn): number {
  if (!ins.hasMem) return ins.rm << 2;
  const lin = ins.ea(cpu, ins);
  checkAligned16(cpu, lin);
  read128(cpu, lin, B);
  return -1;
}

function pand(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, d = ins.reg << 2, s = source(cpu, ins);
  const v = s < 0 ? B : x, o = s < 0 ? 0 : s;
  x[d] &= v[o]; x[d + 1] &= v[o + 1]; x[d + 2] &= v[o + 2]; x[d + 3] &= v[o + 3];
}

function pandn(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, d = ins.reg << 2, s = source(cpu, ins);
  const v = s < 0 ? B : x, o = s < 0 ? 0 : s;
  x[d] = ~x[d] & v[o]; x[d + 1] = ~x[d + 1] & v[o + 1]; x[d + 2] = ~x[d + 2] & v[o + 2]; x[d + 3] = ~x[d + 3] & v[o + 3];
}

function por(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, d = ins.reg << 2, s = source(cpu, ins);
  const v = s < 0 ? B : x, o = s < 0 ? 0 : s;
  x[d] |= v[o]; x[d + 1] |= v[o + 1]; x[d + 2] |= v[o + 2]; x[d + 3] |= v[o + 3];
}

/** XOR of a register with itself (the zeroing idiom) needs no operand at all */
function pxor(cpu: Cpu, ins: Insn): void {
  sseGate(cpu);
  const x = cpu.xmm, d = ins.reg << 2, s = source(cpu, ins);
  if (s === d) { x[d] = 0; x[d + 1] = 0; x[d + 2] = 0; x[d + 3] = 0; return; }
  const v = s < 0 ? B : x, o = s < 0 ? 0 : s;
  x[d] ^= v[o]; x[d + 1] ^= v[o + 1]; x[d + 2] ^= v[o + 2]; x[d + 3] ^= v[o + 3];
}

const ROUTINES: Exec[] = [pand, pandn, por, pxor];

const FORMS: [string, number, number, PrefixRule][] = [
  ['andps', 0x54, AND, 'np'], ['andpd', 0x54, AND, '66'], ['andnps', 0x55, ANDN, 'np'], ['andnpd', 0x55, ANDN, '66'],
  ['orps', 0x56, OR, 'np'], ['orpd', 0x56, OR, '66'], ['xorps', 0x57, XOR, 'np'], ['xorpd', 0x57, XOR, '66'],
  ['pand', 0xdb, AND, '66'], ['pandn', 0xdf, ANDN, '66'], ['por', 0xeb, OR, '66'], ['pxor', 0xef, XOR, '66'],
];
for (const [name, opcode, kind, prefix] of FORMS) {
  defineOp(MAP_0F, opcode, { name, exec: ROUTINES[kind], modrm: true, size: 'x' }, { prefix });
}
