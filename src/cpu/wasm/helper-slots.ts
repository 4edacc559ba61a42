// The slow paths translated code calls (memory through the JavaScript TLB, faults, polls,
// flags from the state at entry): where they sit in the core's function table, and their types.
//
// Why a table and not function imports: V8 (Node 20) compiles and instantiates a wrapper for
// every JavaScript function a module imports, per module. With nine imports that was ~0.3 ms
// of `new WebAssembly.Module` and ~0.2 ms of instantiation for every translated block, against
// ~0.04 ms for a module that imports only the memory and a table (docs/CPU.md, "Slow paths
// through the table"). So each core's dispatcher instance imports the JavaScript functions
// once and puts wasm functions that call them in a small table of the core's own (chain.ts
// `helperTable`, never the growing table of translated functions); translated code reaches
// them with call_indirect.

import { F64, I32, type FuncType } from './wasm-binary.js';

export const F_READ = 0, F_WRITE = 1, F_FAULT = 2, F_POLL = 3, F_CC = 4, F_CF = 5, F_CO = 6, F_DF = 7, F_RETHROW = 8;

/** in helper-table order (the slot of a helper is its F_ index) */
export const HELPERS: readonly { name: string; type: FuncType }[] = [
  // read `size | flags` bytes at a linear address: the low 32 bits (the high ones in scratch S_VHI)
  { name: 'rd', type: { params: [I32, F64], results: [I32] } },
  // write; returns 1 when the write changed the calling block's own code
  { name: 'wr', type: { params: [I32, F64, I32, I32], results: [I32] } },
  { name: 'fault', type: { params: [I32, I32], results: [] } },
  { name: 'poll', type: { params: [], results: [I32] } },
  { name: 'cc', type: { params: [I32], results: [I32] } },
  { name: 'cf', type: { params: [], results: [I32] } },
  // a rotate over flags from the state at entry: materialise them, then set CF and OF
  { name: 'co', type: { params: [I32, I32], results: [] } },
  // DF (REP MOVS/STOS): it lives in the JavaScript flags word
  { name: 'df', type: { params: [], results: [I32] } },
  // throw the fault `rd`, `wr` or `fault` caught (they return normally and set S_FAULTED)
  { name: 'rethrow', type: { params: [], results: [] } },
];

/** the distinct helper types, in first-use order: a module declares them first (wasm-binary dedupes the same way) */
export const HELPER_TYPES: FuncType[] = [];
/** per helper, its type's index among HELPER_TYPES */
export const HELPER_TYPE_INDEX: number[] = HELPERS.map((h) => {
  const key = JSON.stringify(h.type);
  let at = HELPER_TYPES.findIndex((t) => JSON.stringify(t) === key);
  if (at < 0) at = HELPER_TYPES.push(h.type) - 1;
  return at;
});
