// SSE2 packed shifts: PSRLW/D/Q, PSRAW/D, PSLLW/D/Q by the low quadword of xmm/m128
// (66 0F D1-D3, E1-E2, F1-F3) or by imm8 (66 0F 71/72/73 /2 /4 /6), and the byte shifts of the
// whole register PSRLDQ/PSLLDQ (66 0F 73 /3 /7). Counts beyond the lane width give zero
// (logical) or the sign fill (arithmetic).

import type { Cpu } from '../../cpu.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp } from '../../optable.js';
import { A, A16, AU16, AU8, B, getXmm, loadB128, R, R16, RU16, RU8, setXmm, sseGate } from './xmm-access.js';

const SRL = 0, SRA = 1, SLL = 2;

/** Shift the lanes of A by `n` (0..255; more than the width saturates) into R. */
export function shiftLanes(kind: number, width: number, n: number): void {
  if (width === 16) {
    for (let k = 0; k < 8; k++) {
      if (kind === SRL) RU16[k] = n > 15 ? 0 : AU16[k] >>> n;
      else if (kind === SRA) R16[k] = A16[k] >> (n > 15 ? 15 : n);
      else RU16[k] = n > 15 ? 0 : AU16[k] << n;
    }
  } else if (width === 32) {
    for (let k = 0; k < 4; k++) {
      if (kind === SRL) R[k] = n > 31 ? 0 : A[k] >>> n;
      else if (kind === SRA) R[k] = A[k] >> (n > 31 ? 31 : n);
      else R[k] = n > 31 ? 0 : A[k] << n;
    }
  } else {
    for (let k = 0; k < 4; k += 2) {
      const lo = A[k], hi = A[k + 1];
      if (n > 63) { R[k] = 0; R[k + 1] = 0; }
      else if (n === 0) { R[k] = lo; R[k + 1] = hi; }
      else if (kind === SRL) {
        if (n >= 32) { R[k] = hi >>> (n - 32); R[k + 1] = 0; }
        else { R[k] = (lo >>> n) | (hi << (32 - n)); R[k + 1] = hi >>> n; }
      } else if (n >= 32) { R[k] = 0; R[k + 1] = lo << (n - 32); }
      else { R[k] = lo << n; R[k + 1] = (hi << n) | (lo >>> (32 - n)); }
    }
  }
}

/** shift count from the low quadword of B, saturated to 255 */
function countOfB(): number {
  return B[1] !== 0 || (B[0] >>> 0) > 255 ? 255 : B[0];
}

function shiftByVector(kind: number, width: number): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    loadB128(cpu, ins);
    getXmm(cpu, ins.reg, A);
    shiftLanes(kind, width, countOfB());
    setXmm(cpu, ins.reg, R);
  };
}

function shiftByImm(kind: number, width: number): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    getXmm(cpu, ins.rm, A);
    shiftLanes(kind, width, ins.imm & 0xff);
    setXmm(cpu, ins.rm, R);
  };
}

/** PSRLDQ / PSLLDQ: the whole register by imm8 bytes */
function byteShift(left: boolean): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    getXmm(cpu, ins.rm, A);
    const n = ins.imm & 0xff;
    for (let k = 0; k < 16; k++) {
      const from = left ? k - n : k + n;
      RU8[k] = from >= 0 && from < 16 ? AU8[from] : 0;
    }
    setXmm(cpu, ins.rm, R);
  };
}

const BY_VECTOR: [string, number, number, number][] = [
  ['psrlw', 0xd1, SRL, 16], ['psrld', 0xd2, SRL, 32], ['psrlq', 0xd3, SRL, 64],
  ['psraw', 0xe1, SRA, 16], ['psrad', 0xe2, SRA, 32],
  ['psllw', 0xf1, SLL, 16], ['pslld', 0xf2, SLL, 32], ['psllq', 0xf3, SLL, 64],
];
for (const [name, opcode, kind, width] of BY_VECTOR) {
  defineOp(MAP_0F, opcode, { name, exec: shiftByVector(kind, width), modrm: true, size: 'x' }, { prefix: '66' });
}

const BY_IMM: [string, number, number, number, number][] = [
  ['psrlw', 0x71, 2, SRL, 16], ['psraw', 0x71, 4, SRA, 16], ['psllw', 0x71, 6, SLL, 16],
  ['psrld', 0x72, 2, SRL, 32], ['psrad', 0x72, 4, SRA, 32], ['pslld', 0x72, 6, SLL, 32],
  ['psrlq', 0x73, 2, SRL, 64], ['psllq', 0x73, 6, SLL, 64],
];
for (const [name, opcode, reg, kind, width] of BY_IMM) {
  defineOp(MAP_0F, opcode, { name, exec: shiftByImm(kind, width), modrm: true, imm: 'Ibu', size: 'x' },
    { prefix: '66', reg, mod: 'reg' });
}
defineOp(MAP_0F, 0x73, { name: 'psrldq', exec: byteShift(false), modrm: true, imm: 'Ibu', size: 'x' }, { prefix: '66', reg: 3, mod: 'reg' });
defineOp(MAP_0F, 0x73, { name: 'pslldq', exec: byteShift(true), modrm: true, imm: 'Ibu', size: 'x' }, { prefix: '66', reg: 7, mod: 'reg' });

export const SHIFT_SRL = SRL, SHIFT_SRA = SRA, SHIFT_SLL = SLL;
