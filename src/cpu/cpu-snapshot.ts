// Save and restore a core's architectural state as plain JSON-able data (v86-style state
// save/restore; devices do the same through Snapshotable). The field list is taken from a
// fresh CpuState, so a field added to the state is saved without touching this file.
// Caches (TLBs, decoded blocks) are not state: they are dropped on restore.

import type { Cpu } from './cpu.js';
import { CpuState } from './cpu-state.js';
import { rearmBreakpoints } from './debug-registers.js';
import { fromF64 } from './ops/x87/f80-convert.js';
import { setReg } from './ops/x87/fpu-state.js';

type Saved = Record<string, number | boolean | number[] | [number, [number, number]][] | { f64bits: number[] }>;

const FIELDS: string[] = Object.keys(new CpuState());

/** 2: x87 registers in the 80-bit format (fpr = 3 words per register); 1 kept them as binary64 */
export interface CpuSnapshot {
  version: 1 | 2;
  state: Saved;
}

export function saveCpuState(cpu: Cpu): CpuSnapshot {
  const state: Saved = {};
  const src = cpu as unknown as Record<string, unknown>;
  for (const k of FIELDS) {
    const v = src[k];
    // doubles go as raw bits: JSON has no NaN payloads or -0, and MMX registers live in fpr
    if (v instanceof Float64Array) state[k] = { f64bits: Array.from(new Int32Array(v.buffer, v.byteOffset, v.length * 2)) };
    else if (ArrayBuffer.isView(v)) state[k] = Array.from(v as unknown as ArrayLike<number>);
    else if (v instanceof Map) state[k] = [...(v as Map<number, [number, number]>).entries()];
    else if (Array.isArray(v)) state[k] = [...v];
    else if (typeof v === 'number' || typeof v === 'boolean') state[k] = v;
  }
  return { version: 2, state };
}

export function restoreCpuState(cpu: Cpu, snap: CpuSnapshot): void {
  if ((snap?.version !== 1 && snap?.version !== 2) || typeof snap.state !== 'object') throw new Error('cpu snapshot: unknown format');
  const dst = cpu as unknown as Record<string, unknown>;
  for (const k of FIELDS) {
    if (!(k in snap.state) || (snap.version === 1 && k === 'fpr')) continue;
    const v = snap.state[k];
    const cur = dst[k];
    if (cur instanceof Float64Array) new Int32Array(cur.buffer, cur.byteOffset, cur.length * 2).set((v as { f64bits: number[] }).f64bits);
    else if (ArrayBuffer.isView(cur)) (cur as unknown as { set(a: ArrayLike<number>): void }).set(v as number[]);
    else if (cur instanceof Map) {
      cur.clear();
      for (const [key, val] of v as [number, [number, number]][]) cur.set(key, val);
    } else dst[k] = Array.isArray(v) ? [...v] : v;
  }
  if (snap.version === 1) restoreBinary64Registers(cpu, snap.state.fpr as { f64bits: number[] } | undefined);
  rearmBreakpoints(cpu); // (flushes the TLBs)
  cpu.flushBlocks();
  cpu.selectTlbSet();
  cpu.eventCheck = true;
}

/**
 * A version-1 image kept the x87 registers as binary64 bits (exact in the 80-bit format), and a
 * register MMX had written (internal tag 2) as its raw 64 bits.
 */
function restoreBinary64Registers(cpu: Cpu, saved: { f64bits: number[] } | undefined): void {
  if (!saved || !Array.isArray(saved.f64bits) || saved.f64bits.length !== 16) throw new Error('cpu snapshot: version 1 without x87 registers');
  const b = saved.f64bits;
  for (let p = 0; p < 8; p++) {
    if (((cpu.fpTag >> (p * 2)) & 3) === 2) {
      setReg(cpu, p, { se: 0xffff, sig: (BigInt(b[p * 2 + 1] >>> 0) << 32n) | BigInt(b[p * 2] >>> 0) });
      cpu.fpTag &= ~(3 << (p * 2));
    } else setReg(cpu, p, fromF64(b[p * 2], b[p * 2 + 1]).v);
  }
}
