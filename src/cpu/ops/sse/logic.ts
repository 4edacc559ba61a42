// Bitwise SSE/SSE2 operations: ANDPS/ANDPD, ANDNPS/ANDNPD, ORPS/ORPD, XORPS/XORPD (0F 54-57)
// and PAND/PANDN/POR/PXOR (66 0F DB/DF/EB/EF). All are the same 128-bit operation whatever
// the data type. XOR of a register with itself (the zeroing idiom) takes no operand load.

import type { Cpu } from '../../cpu.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp, type PrefixRule } from '../../optable.js';
import { checkAligned16, read128, sseGate, B } from './xmm-access.js';

const AND = 0, ANDN = 1, OR = 2, XOR = 3;

function logic(kind: number): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    const x = cpu.xmm, d = ins.reg << 2;
    if (ins.hasMem) {
      const lin = ins.ea(cpu, ins);
      checkAligned16(cpu, lin);
      read128(cpu, lin, B);
    } else {
      const s = ins.rm << 2;
      if (s === d && kind === XOR) { x[d] = 0; x[d + 1] = 0; x[d + 2] = 0; x[d + 3] = 0; return; }
      B[0] = x[s]; B[1] = x[s + 1]; B[2] = x[s + 2]; B[3] = x[s + 3];
    }
    switch (kind) {
      case AND: for (let k = 0; k < 4; k++) x[d + k] &= B[k]; break;
      case ANDN: for (let k = 0; k < 4; k++) x[d + k] = ~x[d + k] & B[k]; break;
      case OR: for (let k = 0; k < 4; k++) x[d + k] |= B[k]; break;
      default: for (let k = 0; k < 4; k++) x[d + k] ^= B[k]; break;
    }
  };
}

const FORMS: [string, number, number, PrefixRule][] = [
  ['andps', 0x54, AND, 'np'], ['andpd', 0x54, AND, '66'], ['andnps', 0x55, ANDN, 'np'], ['andnpd', 0x55, ANDN, '66'],
  ['orps', 0x56, OR, 'np'], ['orpd', 0x56, OR, '66'], ['xorps', 0x57, XOR, 'np'], ['xorpd', 0x57, XOR, '66'],
  ['pand', 0xdb, AND, '66'], ['pandn', 0xdf, ANDN, '66'], ['por', 0xeb, OR, '66'], ['pxor', 0xef, XOR, '66'],
];
for (const [name, opcode, kind, prefix] of FORMS) {
  defineOp(MAP_0F, opcode, { name, exec: logic(kind), modrm: true, size: 'x' }, { prefix });
}
