// Operand access shared by the SSE/SSE2 routines: the availability gate (CR0.EM/TS,
// CR4.OSFXSR), 16/8/4-byte memory operands with the TLB fast path, and three scratch vectors
// A (first operand = destination), B (second operand) and R (result) with float views.
//
// Routines copy their operands into the scratch vectors, compute into R and only then write the
// destination, so a fault (page fault, #XM) leaves the architectural state untouched and an
// operand that names the destination register twice needs no special case. One worker runs
// one core, so module-level scratch is never shared between cores.

import type { Cpu } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { CR0_EM, CR0_TS, CR4_OSFXSR, GP, NM, UD } from '../../regs.js';

export const A = new Int32Array(4);
export const B = new Int32Array(4);
export const R = new Int32Array(4);
export const AF32 = new Float32Array(A.buffer);
export const BF32 = new Float32Array(B.buffer);
export const RF32 = new Float32Array(R.buffer);
export const AF64 = new Float64Array(A.buffer);
export const BF64 = new Float64Array(B.buffer);
export const RF64 = new Float64Array(R.buffer);

/** #UD unless the OS enabled SSE state (and x87 emulation is off); #NM while CR0.TS is set. */
export function sseGate(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0 || (cpu.cr4 & CR4_OSFXSR) === 0) gateFault(cpu);
}

function gateFault(cpu: Cpu): never {
  if ((cpu.cr0 & CR0_EM) !== 0 || (cpu.cr4 & CR4_OSFXSR) === 0) cpu.fault(UD);
  cpu.fault(NM);
}

/** #GP(0) for a 16-byte operand that is not 16-byte aligned (MOVAPS, PADDD m128, ...). */
export function checkAligned16(cpu: Cpu, lin: number): void {
  if ((lin & 15) !== 0) cpu.fault(GP, 0);
}

/** Read 16 bytes at `lin` into `dst`. */
export function read128(cpu: Cpu, lin: number, dst: Int32Array): void {
  const off = cpu.readOffset(lin, 16);
  if (off >= 0) {
    const dv = cpu.dv;
    dst[0] = dv.getInt32(off, true);
    dst[1] = dv.getInt32(off + 4, true);
    dst[2] = dv.getInt32(off + 8, true);
    dst[3] = dv.getInt32(off + 12, true);
    return;
  }
  const l0 = cpu.read32(lin), l1 = cpu.read32(lin + 4), l2 = cpu.read32(lin + 8), l3 = cpu.read32(lin + 12);
  dst[0] = l0; dst[1] = l1; dst[2] = l2; dst[3] = l3;
}

/** Write 16 bytes from `src` (starting at lane `at`) to `lin`; nothing is written if any part faults. */
export function write128(cpu: Cpu, lin: number, src: Int32Array, at: number): void {
  const off = cpu.writeOffset(lin, 16);
  if (off >= 0) {
    const dv = cpu.dv;
    dv.setInt32(off, src[at], true);
    dv.setInt32(off + 4, src[at + 1], true);
    dv.setInt32(off + 8, src[at + 2], true);
    dv.setInt32(off + 12, src[at + 3], true);
    return;
  }
  cpu.probeWrite(lin, 16);
  cpu.write32(lin, src[at]);
  cpu.write32(lin + 4, src[at + 1]);
  cpu.write32(lin + 8, src[at + 2]);
  cpu.write32(lin + 12, src[at + 3]);
}

/** Write 8 bytes (two lanes of `src` from `at`) without a partial write on a fault. */
export function write64At(cpu: Cpu, lin: number, src: Int32Array, at: number): void {
  cpu.write64(lin, src[at], src[at + 1]);
}

/** Copy XMM register `r` into a scratch vector. */
export function getXmm(cpu: Cpu, r: number, dst: Int32Array): void {
  const x = cpu.xmm, b = r << 2;
  dst[0] = x[b]; dst[1] = x[b + 1]; dst[2] = x[b + 2]; dst[3] = x[b + 3];
}

/** Copy a scratch vector into XMM register `r`. */
export function setXmm(cpu: Cpu, r: number, src: Int32Array): void {
  const x = cpu.xmm, b = r << 2;
  x[b] = src[0]; x[b + 1] = src[1]; x[b + 2] = src[2]; x[b + 3] = src[3];
}

/** Second operand as a full 16-byte vector into B (memory operands must be aligned). */
export function loadB128(cpu: Cpu, ins: Insn): void {
  if (ins.hasMem) {
    const lin = ins.ea(cpu, ins);
    checkAligned16(cpu, lin);
    read128(cpu, lin, B);
  } else {
    getXmm(cpu, ins.rm, B);
  }
}

/** Second operand as a 16-byte vector into B, any alignment (MOVUPS, MOVDQU). */
export function loadB128u(cpu: Cpu, ins: Insn): void {
  if (ins.hasMem) read128(cpu, ins.ea(cpu, ins), B);
  else getXmm(cpu, ins.rm, B);
}

/** Second operand's low 8 bytes into B[0..1] (register: its low quadword; B[2..3] then hold its upper half). */
export function loadB64(cpu: Cpu, ins: Insn): void {
  if (ins.hasMem) {
    const lo = cpu.read64(ins.ea(cpu, ins));
    B[0] = lo; B[1] = cpu.vhi; B[2] = 0; B[3] = 0;
  } else {
    getXmm(cpu, ins.rm, B);
  }
}

/** Second operand's low 4 bytes into B[0]. */
export function loadB32(cpu: Cpu, ins: Insn): void {
  if (ins.hasMem) {
    B[0] = cpu.read32(ins.ea(cpu, ins)); B[1] = 0; B[2] = 0; B[3] = 0;
  } else {
    getXmm(cpu, ins.rm, B);
  }
}

// byte/word views of the scratch vectors for the packed-integer routines
export const A8 = new Int8Array(A.buffer), B8 = new Int8Array(B.buffer), R8 = new Int8Array(R.buffer);
export const AU8 = new Uint8Array(A.buffer), BU8 = new Uint8Array(B.buffer), RU8 = new Uint8Array(R.buffer);
export const A16 = new Int16Array(A.buffer), B16 = new Int16Array(B.buffer), R16 = new Int16Array(R.buffer);
export const AU16 = new Uint16Array(A.buffer), BU16 = new Uint16Array(B.buffer), RU16 = new Uint16Array(R.buffer);

/**
 * A routine of the usual two-operand shape: A = destination register, B = xmm/m128 (aligned),
 * `compute` fills R from A and B, R goes to the destination.
 */
export function binaryVector(compute: () => void): (cpu: Cpu, ins: Insn) => void {
  return (cpu, ins) => {
    sseGate(cpu);
    loadB128(cpu, ins);
    getXmm(cpu, ins.reg, A);
    compute();
    setXmm(cpu, ins.reg, R);
  };
}
