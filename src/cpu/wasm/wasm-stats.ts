// The --stats line of tier 3 for one core, from the counters its worker keeps in the core's
// scratch area (src/abi/core-scratch.ts), read on the main thread.

import { S_STATS, scratchOffset } from '../../abi/core-scratch.js';
/** A core's tier-3 counters as --stats prints them, or '' when it translated nothing. */
export function wasmStatsLine(m: { ram: SharedArrayBuffer; wasmMemory?: WebAssembly.Memory | null; scratchBase?: number; scratchCores?: number },
  core: number, wallMs: number): string {
  const at = scratchOffset(m, core);
  if (at < 0) return '';
  const [translated, declined, ms, bytes] = new Float64Array(m.ram, at + S_STATS, 4);
  if (translated + declined === 0) return '';
  return `core ${core}: tier 3 (wasm) ${translated} blocks translated, ${declined} declined (tier 2 instead), ` +
    `${(ms / Math.max(1, translated + declined) * 1000).toFixed(0)} µs per block on this core (translating and compiling here, or asking the compile service and instantiating), ` +
    `${ms.toFixed(1)} ms = ${(100 * ms / Math.max(1, wallMs)).toFixed(1)}% of run time, ${Math.round(bytes / Math.max(1, translated))} bytes per module`;
}
