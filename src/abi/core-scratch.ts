// Guest RAM as a shared WebAssembly.Memory, so translated code (src/cpu/wasm/) loads and stores
// guest memory directly. Its `.buffer` is a SharedArrayBuffer: every existing view (CPU, DMA,
// loader) keeps working unchanged, and the Memory object itself can be posted to workers.
//
// Behind the RAM, each core gets a private scratch area in the same memory: its general
// registers (the interpreter's lo/hi arrays are views on it), its software-TLB tags and
// offsets (so translated code does the TLB check inline), and a few words the translated code
// and its JavaScript glue exchange (the lazy-flag record, the faulting instruction).
//
// Limits: a wasm32 memory holds at most 65,536 pages (4 GiB). When RAM plus the scratch areas
// do not fit (RAM close to the 4 GiB the machine accepts), RAM is a plain SharedArrayBuffer,
// the scratch arrays are private, and the WebAssembly tier is off for that machine (the other
// tiers run unchanged).

export const WASM_PAGE = 65536;
const MAX_PAGES = 65536;

/** bytes of scratch per core (two wasm pages) */
export const CORE_SCRATCH = 2 * WASM_PAGE;

// Byte offsets inside one core's scratch area.
export const S_LO = 0;
export const S_HI = 64;
/** lazy-flag record written by translated code: op size a ah b bh r rh carry over aux (i32 each) */
export const S_REC = 128;
/** 1 when translated code wrote a record the glue must copy into the CPU's lazy-flag fields */
export const S_REC_VALID = 176;
/** at a fault: instructions completed, and the index of the faulting instruction */
export const S_FAULT_DONE = 180;
export const S_FAULT_INDEX = 184;
/** high half of a value returned by a slow-path read */
export const S_VHI = 188;
/** linear RIP at which translated code left (i64) */
export const S_EXIT_RIP = 192;
/** tier-3 statistics of the core (f64 each): blocks translated, declined, ms translating+compiling, wasm bytes */
export const S_STATS = 200;
/** set by the glue of translated code (events, code writes, polls) to end a chain of blocks (i32) */
export const S_STOP = 232;
/** while blocks chain (src/cpu/wasm/chain.ts): table index of the running block, instructions retired before it (i32) */
export const S_CUR_INDEX = 236;
export const S_CHAIN_DONE = 240;
/** set by the slow-path glue of translated code when the access faulted (i32; the fault waits in the glue until `rethrow`) */
export const S_FAULTED = 244;
/**
 * TLB sets: 6 tables (supervisor r/w/x, user r/w/x); each holds TLB_ENTRIES f64 tags (page
 * numbers), then u32 RAM offsets (TLB_OFF), then i32 tags for translated code (TLB_TAG32: the page
 * number without its index bits)
 */
export const S_TLB = 256;
export const TLB_ENTRIES = 1024;
export const TLB_OFF = TLB_ENTRIES * 8;
export const TLB_TAG32 = TLB_ENTRIES * 12;
export const TLB_TABLE_BYTES = TLB_ENTRIES * 16;
/** after the TLBs: the chain hash of translated blocks, CHAIN_ENTRIES x (i64 RIP, i32 table index, i32 epoch) */
export const S_CHAIN = S_TLB + 6 * TLB_TABLE_BYTES;
export const CHAIN_ENTRIES = 1024;
/**
 * the general registers as 16 i64 while translated code runs (chain.ts fills them from S_LO/S_HI
 * when a chain starts and writes them back when it ends): one load or store per register at a
 * translated function's entry and exits instead of two halves, a shift and an or
 */
export const S_R64 = S_CHAIN + CHAIN_ENTRIES * 16;

export interface GuestMemory {
  ram: SharedArrayBuffer;
  /** null when RAM + scratch does not fit a wasm32 memory */
  wasmMemory: WebAssembly.Memory | null;
  /** byte offset of core 0's scratch area (cores follow at CORE_SCRATCH strides) */
  scratchBase: number;
  scratchCores: number;
}

export function allocateGuestMemory(ramBytes: number, cores: number): GuestMemory {
  const n = Math.max(1, cores | 0);
  const scratchBase = Math.ceil(ramBytes / WASM_PAGE) * WASM_PAGE;
  const pages = (scratchBase + n * CORE_SCRATCH) / WASM_PAGE;
  if (pages <= MAX_PAGES && typeof WebAssembly === 'object') {
    try {
      const wasmMemory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
      return { ram: wasmMemory.buffer as unknown as SharedArrayBuffer, wasmMemory, scratchBase, scratchCores: n };
    } catch { /* fall through: a plain buffer, no translated code */ }
  }
  return { ram: new SharedArrayBuffer(ramBytes), wasmMemory: null, scratchBase: 0, scratchCores: 0 };
}

/** Byte offset of a core's scratch area, or -1 when it has none (private arrays, no wasm tier). */
export function scratchOffset(m: { wasmMemory?: WebAssembly.Memory | null; scratchBase?: number; scratchCores?: number }, core: number): number {
  if (!m.wasmMemory || core < 0 || core >= (m.scratchCores ?? 0)) return -1;
  return (m.scratchBase ?? 0) + core * CORE_SCRATCH;
}

