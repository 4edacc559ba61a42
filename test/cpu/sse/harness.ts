// Test scaffolding for the SSE and x87 unit tests: a machine-less core in 64-bit mode at CPL 0
// (the system tests' long-mode environment) with SSE enabled the way an OS does it, a runner
// that assembles GNU-syntax code and stops at the first fault, and XMM/x87 accessors.

import { Cpu, RUN_FAULT, RUN_HALTED } from '../../../src/cpu/cpu.js';
import { CR0_MP, CR4_OSFXSR, CR4_OSXMMEXCPT } from '../../../src/cpu/regs.js';
import { assemble, enterLongMode, load, makeCore, type TestCore } from '../system/harness.js';

export { RUN_FAULT, RUN_HALTED };
export type { TestCore };

export const CODE = 0x10000;
/** scratch data area (16-byte aligned), identity-mapped */
export const DATA = 0x30000;

export function sseCore(): TestCore {
  const t = makeCore({ ramMiB: 4 });
  enterLongMode(t, CODE);
  t.cpu.cr0 |= CR0_MP;
  t.cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
  t.cpu.stopOnFault = true;
  return t;
}

/** Assemble `src` (+ hlt) at CODE and run it; returns RUN_HALTED or RUN_FAULT. */
export function run(t: TestCore, src: string, budget = 100_000): number {
  const code = assemble(src + '\nhlt', CODE);
  load(t, CODE, code);
  t.cpu.rip = CODE;
  t.cpu.halted = false;
  t.cpu.flushBlocks();
  return t.cpu.run(budget);
}

/** Vector of the fault that stopped the last run (-1 if none). */
export function faultOf(t: TestCore, rc: number): number {
  return rc === RUN_FAULT ? t.cpu.faultVector : -1;
}

const buf = new DataView(new ArrayBuffer(16));

/** Set XMM r from a 128-bit unsigned BigInt. */
export function setX(cpu: Cpu, r: number, v: bigint): void {
  for (let k = 0; k < 4; k++) cpu.xmm[r * 4 + k] = Number(BigInt.asIntN(32, v >> BigInt(32 * k)));
}

export function getX(cpu: Cpu, r: number): bigint {
  let v = 0n;
  for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(cpu.xmm[r * 4 + k] >>> 0);
  return v;
}

/** XMM r's low quadword / lane k as a double */
export function getSd(cpu: Cpu, r: number, k = 0): number {
  buf.setInt32(0, cpu.xmm[r * 4 + 2 * k], true);
  buf.setInt32(4, cpu.xmm[r * 4 + 2 * k + 1], true);
  return buf.getFloat64(0, true);
}

export function setSd(cpu: Cpu, r: number, a: number, b = 0): void {
  buf.setFloat64(0, a, true);
  buf.setFloat64(8, b, true);
  for (let k = 0; k < 4; k++) cpu.xmm[r * 4 + k] = buf.getInt32(4 * k, true);
}

export function getSs(cpu: Cpu, r: number, k = 0): number {
  buf.setInt32(0, cpu.xmm[r * 4 + k], true);
  return buf.getFloat32(0, true);
}

export function setPs(cpu: Cpu, r: number, v: number[]): void {
  for (let k = 0; k < 4; k++) {
    buf.setFloat32(0, v[k] ?? 0, true);
    cpu.xmm[r * 4 + k] = buf.getInt32(0, true);
  }
}

/** bits of a double / float */
export function f64bits(x: number): bigint {
  buf.setFloat64(0, x, true);
  return buf.getBigUint64(0, true);
}

export function f32bits(x: number): number {
  buf.setFloat32(0, x, true);
  return buf.getUint32(0, true);
}

export function fromF64bits(b: bigint): number {
  buf.setBigUint64(0, b, true);
  return buf.getFloat64(0, true);
}

/** 64-bit GPR as unsigned BigInt */
export function gpr(cpu: Cpu, r: number): bigint {
  return (BigInt(cpu.hi[r] >>> 0) << 32n) | BigInt(cpu.lo[r] >>> 0);
}

export function setGpr(cpu: Cpu, r: number, v: bigint): void {
  cpu.lo[r] = Number(BigInt.asIntN(32, v));
  cpu.hi[r] = Number(BigInt.asIntN(32, v >> 32n));
}
