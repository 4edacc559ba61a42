// Save and restore a core's architectural state as plain JSON-able data (v86-style state
// save/restore; devices do the same through Snapshotable). The field list is taken from a
// fresh CpuState, so a field added to the state is saved without touching this file.
// Caches (TLBs, decoded blocks) are not state: they are dropped on restore.

import type { Cpu } from './cpu.js';
import { CpuState } from './cpu-state.js';
import { rearmBreakpoints } from './debug-registers.js';

type Saved = Record<string, number | boolean | number[] | [number, [number, number]][] | { f64bits: number[] }>;

const FIELDS: string[] = Object.keys(new CpuState());

export interface CpuSnapshot {
  version: 1;
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
  return { version: 1, state };
}

export function restoreCpuState(cpu: Cpu, snap: CpuSnapshot): void {
  if (snap?.version !== 1 || typeof snap.state !== 'object') throw new Error('cpu snapshot: unknown format');
  const dst = cpu as unknown as Record<string, unknown>;
  for (const k of FIELDS) {
    if (!(k in snap.state)) continue;
    const v = snap.state[k];
    const cur = dst[k];
    if (cur instanceof Float64Array) new Int32Array(cur.buffer, cur.byteOffset, cur.length * 2).set((v as { f64bits: number[] }).f64bits);
    else if (ArrayBuffer.isView(cur)) (cur as unknown as { set(a: ArrayLike<number>): void }).set(v as number[]);
    else if (cur instanceof Map) {
      cur.clear();
      for (const [key, val] of v as [number, [number, number]][]) cur.set(key, val);
    } else dst[k] = Array.isArray(v) ? [...v] : v;
  }
  rearmBreakpoints(cpu); // (flushes the TLBs)
  cpu.flushBlocks();
  cpu.selectTlbSet();
  cpu.eventCheck = true;
}
