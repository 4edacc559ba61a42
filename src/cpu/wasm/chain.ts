// Chaining of translated blocks: once a tier-3 function returns, its exit RIP is looked up in a
// small hash in the core's scratch area and, when a translated block is known there, that
// block's function is called at once through a funcref table (call_indirect) — all inside one
// WebAssembly dispatcher, so a chain of hot blocks never returns to JavaScript. Without it every
// block paid a wasm->JS->wasm round trip, the run loop's checks and a lookup (about 40% of
// CoreMark's run time on tier 3).
//
// The dispatcher asks the run loop's questions in cheaper forms:
//   * budget and local-timer deadline: one limit computed at entry (as for self-looping blocks);
//   * events, exit requests, code pages created or written anywhere: `poll()` every POLL_EVERY
//     chained blocks, and the slow-path glue sets S_STOP when a device access raised an event or
//     a write invalidated code, so the chain ends after that block;
//   * validity of a hash entry: it carries an epoch, bumped whenever the TLB generation (CR3,
//     INVLPG, privilege switch), the count of code invalidations (G_CODE_WRITES) or the core's
//     block cache changed — so an entry is valid exactly as long as a run-loop link would be.
// The hash is filled by the run loop (Cpu.run) whenever it reaches a translated block after a
// return to JavaScript; only 64-bit blocks are translated, and nothing inside a chain changes
// the code mode or the privilege level.

import type { Block, Cpu } from '../cpu.js';
import { IF } from '../regs.js';
import { C_PENDING, G_CODE_GEN, G_CODE_WRITES, P_WAKES_WITH_IF_OFF } from '../../abi/control-block.js';
import {
  CHAIN_ENTRIES, S_CHAIN, S_CHAIN_DONE, S_CUR_INDEX, S_EXIT_RIP, S_FAULTED, S_HI, S_LO, S_R64, S_REC, S_REC_VALID, S_STOP, WASM_PAGE,
} from '../../abi/core-scratch.js';
import { buildModule, Bytes, I32, I64, Op, VOID, type FuncType } from './wasm-binary.js';
import { F_POLL, HELPERS } from './helper-slots.js';
import { slowPaths } from './slow-paths.js';
import type { CodePagesRef } from './wasm-tier.js';

/** the signature of every translated function: run(lim, scratch, tlb) -> retired */
export const RUN_TYPE: FuncType = { params: [I32, I32, I32], results: [I32] };
/** chained blocks between two polls of events and code changes */
const POLL_EVERY = 16;
/** PARALLAX_JIT_CHAIN=0: every translated block returns to the run loop (measurements) */
const CHAINING = process.env.PARALLAX_JIT_CHAIN !== '0';

type GoFn = (index: number, lim: number, scratch: number, tlb: number, epoch: number) => number;

/** Per core: the function table, the dispatcher and what makes hash entries valid. */
export class Chain {
  /** the translated functions, by chain index (only the dispatcher imports this table) */
  readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: 64 });
  private used = 0;
  /**
   * the slow-path helpers (helper-slots.ts), the one table translated code imports. Kept apart
   * from `table` on purpose: V8 gives every instance that imports a table its own copy of the
   * table's dispatch entries and updates all copies on every set and grow, so thousands of
   * translations importing the growing table cost O(translations x table size) memory (a Linux
   * boot reached 5 GB); this one never changes after the core's chain is built.
   */
  readonly helperTable = new WebAssembly.Table({ element: 'anyfunc', initial: HELPERS.length });
  /** RIP of each instruction of each registered function (for the faulting instruction) */
  readonly rips: number[][] = [];
  /** the code pages each registered function was translated from (a write to them ends it) */
  readonly codePages: CodePagesRef[] = [];
  readonly go: GoFn;
  readonly s32: Int32Array;
  /** the i64 register file as (low, high) pairs */
  private readonly r64: Int32Array;
  private readonly vals: Int32Array;
  private readonly ctl: Int32Array;
  private readonly pend: number;
  epoch = 1;
  private tlbGen = -1;
  private codeWrites = -1;
  private blockEpoch = -1;
  /** G_CODE_GEN and G_CODE_WRITES when the current chain was entered */
  private cg0 = 0;
  private cw0 = 0;

  constructor(private readonly cpu: Cpu) {
    const sc = cpu.scratch, buf = cpu.shared.ram;
    this.s32 = new Int32Array(buf, sc, 64);
    this.r64 = new Int32Array(buf, sc + S_R64, 32);
    this.vals = new Int32Array(buf, sc + S_CHAIN, CHAIN_ENTRIES * 4);
    this.emptyHash(); // a previous core object's entries die
    this.ctl = cpu.shared.ctl;
    this.pend = cpu.ctlBase + C_PENDING;
    const memory = cpu.shared.wasmMemory as WebAssembly.Memory;
    const module = dispatcherModule(memory.buffer.byteLength / WASM_PAGE);
    const e: Record<string, unknown> = {};
    slowPaths(cpu, this).forEach((f, k) => { e[HELPERS[k].name] = f; });
    const exports = new WebAssembly.Instance(module, { e, m: { mem: memory, tab: this.table } }).exports;
    this.go = exports.go as GoFn;
    HELPERS.forEach((h, k) => this.helperTable.set(k, exports[h.name] as (...args: unknown[]) => unknown));
  }

  /** Put a translated function into the table; returns its index. */
  register(run: (lim: number, sc: number, tlb: number) => number, rips: number[], pages: CodePagesRef): number {
    const index = this.used++;
    if (index >= this.table.length) this.table.grow(this.table.length);
    this.table.set(index, run);
    this.rips[index] = rips;
    this.codePages[index] = pages;
    return index;
  }

  /** every hash entry empty: a key no exit can carry (exits are canonical RIPs) */
  private emptyHash(): void {
    for (let k = 0; k < CHAIN_ENTRIES; k++) { this.vals[4 * k] = 0; this.vals[4 * k + 1] = 0x7fffffff; }
  }

  /** the epoch valid now (a new one when anything that invalidates links changed) */
  private currentEpoch(): number {
    const c = this.cpu, cw = this.ctl[G_CODE_WRITES];
    if (c.tlbGen !== this.tlbGen || cw !== this.codeWrites || c.blockEpoch !== this.blockEpoch) {
      // every block dropped (a loaded snapshot may also have brought back old scratch bytes): empty the hash
      if (c.blockEpoch !== this.blockEpoch) this.emptyHash();
      this.epoch = (this.epoch + 1) | 0;
      this.tlbGen = c.tlbGen; this.codeWrites = cw; this.blockEpoch = c.blockEpoch;
    }
    return this.epoch;
  }

  /** chains entered from the run loop (tests compare it with the blocks run) */
  entries = 0;

  /** Before a chain starts: reset the exchange words; returns the epoch entries must carry. */
  enter(): number {
    this.entries++;
    const ep = this.currentEpoch();
    this.cg0 = this.ctl[G_CODE_GEN];
    this.cw0 = this.codeWrites;
    this.s32[S_STOP >> 2] = 0;
    this.s32[S_REC_VALID >> 2] = 0;
    this.s32[S_FAULTED >> 2] = 0;
    return CHAINING ? ep : 0;
  }

  /** The run loop reached translated `block` at its RIP: chains may jump to it from now on. */
  note(block: Block): void {
    const ep = this.currentEpoch();
    // a write racing the lookup: the block must still be current under this epoch's count
    const cg = this.cpu.shared.codeGen;
    if (cg[block.physPage] !== block.gen || (block.physPage2 >= 0 && cg[block.physPage2] !== block.gen2)) return;
    const rip = block.rip, r = rip | 0;
    const slot = (r ^ (r >>> 10)) & (CHAIN_ENTRIES - 1);
    this.vals[4 * slot] = r; this.vals[4 * slot + 1] = Math.floor(rip / 2 ** 32);
    this.vals[4 * slot + 2] = block.chainIndex;
    this.vals[4 * slot + 3] = ep;
  }

  /** chain.go left by an exception: the registers translated code stored as i64 (S_R64) back into the CPU's halves */
  registersOut(): void {
    const c = this.cpu, r = this.r64;
    for (let n = 0; n < 16; n++) { c.lo[n] = r[2 * n]; c.hi[n] = r[2 * n + 1]; }
  }

  /** chain.go faulted: instructions completed over the chain, and the faulting block's RIPs */
  faultDone(): number { return this.s32[S_CHAIN_DONE >> 2]; }
  faultRips(): number[] { return this.rips[this.s32[S_CUR_INDEX >> 2]]; }
  exitRip(): number { return (this.s32[S_EXIT_RIP >> 2] >>> 0) + this.s32[(S_EXIT_RIP >> 2) + 1] * 2 ** 32; }

  /** end the chain after the current block when a slow-path access raised an event or invalidated code */
  afterAccess(): void {
    const c = this.cpu;
    if (c.eventCheck || c.exitReason !== 0 || this.ctl[G_CODE_WRITES] !== this.cw0) this.s32[S_STOP >> 2] = 1;
  }

  /** events, exit requests and code changes since the chain was entered: 1 ends it */
  readonly poll = (): number => {
    const c = this.cpu, ctl = this.ctl, p = ctl[this.pend];
    if ((p !== 0 && ((p & P_WAKES_WITH_IF_OFF) !== 0 || (c.flags & IF) !== 0)) || c.eventCheck || c.exitReason !== 0 ||
      ctl[G_CODE_GEN] !== this.cg0 || ctl[G_CODE_WRITES] !== this.cw0) {
      this.s32[S_STOP >> 2] = 1;
      return 1;
    }
    return 0;
  };

  /** the lazy-flag record the last translated block left, into the CPU's fields */
  copyRecord(): void {
    const s32 = this.s32, c = this.cpu;
    if (s32[S_REC_VALID >> 2] === 0) return;
    const r = S_REC >> 2;
    c.lfOp = s32[r]; c.lfSize = s32[r + 1];
    c.lfA = s32[r + 2]; c.lfAh = s32[r + 3];
    c.lfB = s32[r + 4]; c.lfBh = s32[r + 5];
    c.lfR = s32[r + 6]; c.lfRh = s32[r + 7];
    c.lfCarry = s32[r + 8]; c.lfOver = s32[r + 9]; c.lfAux = s32[r + 10];
  }
}

export function chainOf(cpu: Cpu): Chain {
  return cpu.chain ??= new Chain(cpu);
}

const modules = new Map<number, WebAssembly.Module>();

/**
 * go(index, lim, scratch, tlb, epoch) -> retired: call table[index]; while no stop was asked,
 * the limit is not reached and the exit RIP's hash entry carries `epoch`, call that one next.
 */
function dispatcherModule(memPages: number): WebAssembly.Module {
  const cached = modules.get(memPages);
  if (cached) return cached;
  const P_IDX = 0, P_LIM = 1, P_SC = 2, P_TLB = 3, P_EP = 4;
  const DONE = 5, RIP = 6, E = 7, K = 8, R = 9;
  const b = new Bytes();
  const get = (l: number): void => { b.byte(Op.localGet); b.u32(l); };
  const set = (l: number): void => { b.byte(Op.localSet); b.u32(l); };
  const tee = (l: number): void => { b.byte(Op.localTee); b.u32(l); };
  const i32 = (v: number): void => { b.byte(Op.i32Const); b.s32(v); };
  const mem = (opc: number, align: number, off: number): void => { b.byte(opc); b.u32(align); b.u32(off); };
  // translated code keeps the registers as i64 (S_R64): in from the interpreter's halves at the
  // start of a chain, back out at its end (a fault's way out copies them in the glue, wasm-tier.ts)
  for (let n = 0; n < 16; n++) {
    get(P_SC);
    get(P_SC); mem(Op.i64Load32U, 2, S_LO + 4 * n);
    get(P_SC); mem(Op.i64Load32U, 2, S_HI + 4 * n); b.byte(Op.i64Const); b.s64(32n); b.byte(Op.i64Shl); b.byte(Op.i64Or);
    mem(Op.i64Store, 3, S_R64 + 8 * n);
  }
  const leave = (): void => {
    b.byte(Op.if); b.byte(VOID);
    for (let n = 0; n < 16; n++) {
      get(P_SC); get(P_SC); mem(Op.i64Load, 3, S_R64 + 8 * n); mem(Op.i64Store32, 2, S_LO + 4 * n);
      get(P_SC); get(P_SC); mem(Op.i64Load, 3, S_R64 + 8 * n); b.byte(Op.i64Const); b.s64(32n); b.byte(Op.i64ShrU); mem(Op.i64Store32, 2, S_HI + 4 * n);
    }
    get(DONE); b.byte(Op.return); b.byte(Op.end);
  };
  i32(POLL_EVERY); set(K);
  b.byte(Op.loop); b.byte(VOID);
  get(P_SC); get(P_IDX); mem(Op.i32Store, 2, S_CUR_INDEX);
  get(P_SC); get(DONE); mem(Op.i32Store, 2, S_CHAIN_DONE);
  get(P_LIM); get(DONE); b.byte(Op.i32Sub); get(P_SC); get(P_TLB); get(P_IDX);
  b.byte(Op.callIndirect); b.u32(0); b.u32(0);
  get(DONE); b.byte(Op.i32Add); set(DONE);
  get(P_SC); mem(Op.i32Load, 2, S_STOP); get(DONE); get(P_LIM); b.byte(Op.i32GeS); b.byte(Op.i32Or); leave();
  // hash slot of the exit RIP (the same function as Chain.note)
  get(P_SC); mem(Op.i64Load, 3, S_EXIT_RIP); set(RIP);
  get(RIP); b.byte(Op.i32WrapI64); tee(R);
  get(R); i32(10); b.byte(Op.i32ShrU); b.byte(Op.i32Xor); i32(CHAIN_ENTRIES - 1); b.byte(Op.i32And); i32(4); b.byte(Op.i32Shl);
  get(P_SC); b.byte(Op.i32Add); set(E);
  get(E); mem(Op.i64Load, 3, S_CHAIN); get(RIP); b.byte(Op.i64Ne);
  get(E); mem(Op.i32Load, 2, S_CHAIN + 12); get(P_EP); b.byte(Op.i32Ne); b.byte(Op.i32Or);
  get(P_EP); b.byte(Op.i32Eqz); b.byte(Op.i32Or); leave();
  get(E); mem(Op.i32Load, 2, S_CHAIN + 8); set(P_IDX);
  get(K); i32(1); b.byte(Op.i32Sub); tee(K); b.byte(Op.i32Eqz);
  b.byte(Op.if); b.byte(VOID);
  i32(POLL_EVERY); set(K);
  b.byte(Op.call); b.u32(F_POLL); leave();
  b.byte(Op.end);
  b.byte(Op.br); b.u32(0);
  b.byte(Op.end);
  b.byte(Op.unreachable);
  // the helpers as wasm functions (a JavaScript function cannot go into a table): each calls its import
  const helpers = HELPERS.map((h, k) => {
    const hb = new Bytes();
    for (let p = 0; p < h.type.params.length; p++) { hb.byte(Op.localGet); hb.u32(p); }
    hb.byte(Op.call); hb.u32(k);
    return { type: h.type, locals: [], body: hb, export: h.name };
  });
  const bytes = buildModule({
    types: [RUN_TYPE],
    imports: HELPERS.map((h) => ({ module: 'e', name: h.name, type: h.type })),
    memoryPages: memPages,
    tableMin: 1,
    funcs: [{ type: { params: [I32, I32, I32, I32, I32], results: [I32] }, locals: [I32, I64, I32, I32, I32], body: b, export: 'go' }, ...helpers],
  });
  const m = new WebAssembly.Module(bytes);
  modules.set(memPages, m);
  return m;
}
