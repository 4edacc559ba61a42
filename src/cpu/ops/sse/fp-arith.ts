// SSE/SSE2 floating-point arithmetic: ADD SUB MUL DIV MIN MAX SQRT in the PS/PD/SS/SD forms
// (0F 58-5F, 0F 51), and the approximations RCPPS/RCPSS/RSQRTPS/RSQRTSS (0F 53/52).
// Scalar forms keep the destination's upper lanes; every lane's exceptions are gathered before
// the destination is written (fp-lane.ts, mxcsr.ts).

import type { Cpu } from '../../cpu.js';
import type { Exec, Insn } from '../../insn.js';
import { MAP_0F } from '../../insn.js';
import { defineOp, type PrefixRule } from '../../optable.js';
import {
  fastInexact, fastScalarF64, fpBegin, fpx, laneF32, laneF64, OP_ADD, OP_DIV, OP_MAX, OP_MIN, OP_MUL, OP_SQRT, OP_SUB,
} from './fp-lane.js';
import { MX_PE, MXCSR_RESET, signalSimd } from './mxcsr.js';
import { A, B, getXmm, loadB128, loadB32, loadB64, R, setXmm, sseGate } from './xmm-access.js';

/** a packed form: `lane` (laneF64 or laneF32) over each of the `lanes` lanes of B op A */
function packed(lane: (op: number, k: number) => void, lanes: number): (op: number) => Exec {
  return (op) => (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    loadB128(cpu, ins);
    getXmm(cpu, ins.reg, A);
    fpBegin(cpu.mxcsr);
    for (let k = 0; k < lanes; k++) lane(op, k);
    if ((fpx.pre | fpx.post) !== 0) signalSimd(cpu, fpx.pre, fpx.post);
    setXmm(cpu, ins.reg, R);
  };
}
const packedDouble = packed(laneF64, 2);
const packedSingle = packed(laneF32, 4);

function scalarDouble(op: number): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    loadB64(cpu, ins);
    getXmm(cpu, ins.reg, A);
    if (cpu.mxcsr === MXCSR_RESET && fastScalarF64(op)) {
      const x = cpu.xmm, b = ins.reg << 2;
      x[b] = R[0];
      x[b + 1] = R[1];
      if (fastInexact) cpu.mxcsr = MXCSR_RESET | MX_PE;
      return;
    }
    fpBegin(cpu.mxcsr);
    laneF64(op, 0);
    if ((fpx.pre | fpx.post) !== 0) signalSimd(cpu, fpx.pre, fpx.post);
    const x = cpu.xmm, b = ins.reg << 2;
    x[b] = R[0];
    x[b + 1] = R[1];
  };
}

function scalarSingle(op: number): Exec {
  return (cpu: Cpu, ins: Insn): void => {
    sseGate(cpu);
    loadB32(cpu, ins);
    getXmm(cpu, ins.reg, A);
    fpBegin(cpu.mxcsr);
    laneF32(op, 0);
    if ((fpx.pre | fpx.post) !== 0) signalSimd(cpu, fpx.pre, fpx.post);
    cpu.xmm[ins.reg << 2] = R[0];
  };
}

const OPS: [string, number, number][] = [
  ['sqrt', 0x51, OP_SQRT], ['add', 0x58, OP_ADD], ['mul', 0x59, OP_MUL], ['sub', 0x5c, OP_SUB],
  ['min', 0x5d, OP_MIN], ['div', 0x5e, OP_DIV], ['max', 0x5f, OP_MAX],
];

const FORMS: [string, PrefixRule, (op: number) => Exec][] = [
  ['ps', 'np', packedSingle], ['pd', '66', packedDouble], ['ss', 'F3', scalarSingle], ['sd', 'F2', scalarDouble],
];

for (const [name, opcode, op] of OPS) {
  for (const [suffix, prefix, make] of FORMS) {
    defineOp(MAP_0F, opcode, { name: name + suffix, exec: make(op), modrm: true, size: 'x' }, { prefix });
  }
}

// ---------------------------------------------------------------- reciprocal approximations

// The hardware returns 12-bit approximations whose exact bits differ between vendors; we
// return the correctly rounded reciprocal, which is within the architectural error bound.
// Denormal inputs count as zero, results below the normal range flush to zero, no flags.

function approx(bits: number, rsqrt: boolean): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return bits | 0x400000;
  n32i[0] = bits;
  let x = n32[0];
  if ((bits & 0x7f800000) === 0) x = bits < 0 ? -0 : 0;
  let r: number;
  if (rsqrt) {
    if (x === 0) r = 1 / x;
    else if (x < 0) return 0xffc00000 | 0;
    else r = 1 / Math.sqrt(x);
  } else {
    r = 1 / x;
  }
  n32[0] = r;
  if ((n32i[0] & 0x7f800000) === 0) return n32i[0] & 0x80000000;
  return n32i[0];
}

const n32 = new Float32Array(1);
const n32i = new Int32Array(n32.buffer);

function approxPacked(rsqrt: boolean): Exec {
  return (cpu, ins) => {
    sseGate(cpu);
    loadB128(cpu, ins);
    for (let k = 0; k < 4; k++) R[k] = approx(B[k], rsqrt);
    setXmm(cpu, ins.reg, R);
  };
}

function approxScalar(rsqrt: boolean): Exec {
  return (cpu, ins) => {
    sseGate(cpu);
    loadB32(cpu, ins);
    cpu.xmm[ins.reg << 2] = approx(B[0], rsqrt);
  };
}

defineOp(MAP_0F, 0x52, { name: 'rsqrtps', exec: approxPacked(true), modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0x52, { name: 'rsqrtss', exec: approxScalar(true), modrm: true, size: 'x' }, { prefix: 'F3' });
defineOp(MAP_0F, 0x53, { name: 'rcpps', exec: approxPacked(false), modrm: true, size: 'x' }, { prefix: 'np' });
defineOp(MAP_0F, 0x53, { name: 'rcpss', exec: approxScalar(false), modrm: true, size: 'x' }, { prefix: 'F3' });
