// One x86-64 core: operand access helpers used by instruction routines, the decoded-block
// cache, and the run loop. Instruction semantics live in src/cpu/ops/*.ts (registered in the
// instruction table); exception and interrupt delivery in src/cpu/interrupts.ts.
//
// Blocks: straight-line runs of decoded instructions keyed by linear RIP and code mode, ending
// at a control transfer, a mode-changing instruction or a page boundary. A block is valid while
// its page's generation (shared by all cores) is unchanged and the RIP still maps to the same
// physical page; writes to a page holding code bump its generation (cpu-memory.ts).

import { C_PENDING, C_WAKE, G_HOST_CORES, G_NCORES, P_WAKES_WITH_IF_OFF, C_STAT_BLOCKS, C_STAT_TLB_MISS, C_STAT_INSNS_HI, C_STAT_INSNS_LO, coreBase } from '../abi/control-block.js';
import type { SharedMemory } from '../abi/shared-memory.js';
import type { CpuBus, LocalApic } from './bus.js';
import { CpuMemory, FAULT } from './cpu-memory.js';
import { COMPILE_THRESHOLD, compileBlock, JIT_TIER, type CompiledBlock } from './block-compiler.js';
import { decode, DecodeError } from './decoder.js';
import type { Exec, Insn } from './insn.js';
import { watchedBlock } from './debug-registers.js';
import type { DebugHooks } from './debug-hooks.js';
import { deliverFault, serviceEvents } from './interrupts.js';
import { noFirmware, startsZeroRun, ZERO_RUN_BYTES } from './no-firmware.js';
import { GP, IF, SS_VEC, TWO32, UD } from './regs.js';
import type { Chain } from './wasm/chain.js';
import { DECLINE_PROFILE, noteRetired } from './wasm/decline-profile.js';
import { decodedBlock, forgetDecodedBlocks, keepDecodedBlock, threadBlockStats } from './thread-blocks.js';
import './ops/index.js';

const MAX_BLOCK_INSNS = 64;
/** PARALLAX_SHARE_DECODED=0: every core decodes its own blocks (measurements; thread-blocks.ts) */
const SHARE_DECODED = process.env.PARALLAX_SHARE_DECODED !== '0';
/** pause-loop exiting: yield after this many PAUSEs, for this long */
const PLE_WINDOW = 32;
const PLE_SLEEP_MS = 0.05;
const L1_BITS = 12;
const L1_MASK = (1 << L1_BITS) - 1;

export class Block {
  constructor(
    readonly rip: number,
    readonly mode: number,
    readonly ops: Insn[],
    readonly endRip: number,
    readonly physPage: number,
    readonly gen: number,
    /** second RAM page when the last instruction crosses a page boundary, else -1 */
    readonly physPage2: number,
    readonly gen2: number,
  ) {}
  /** CS base the block was decoded under (16/32-bit code: IP wraps within the segment) */
  csBase = 0;
  /** executions so far (until compiled) */
  hits = 0;
  /** generated function running the whole block (block-compiler.ts), once hot */
  fn: CompiledBlock | null = null;
  /** index of its tier-3 function in the core's chain table (src/cpu/wasm/chain.ts), or -1 */
  chainIndex = -1;
  /** the last two successors seen (taken / fall-through), valid while tlbGen equals linkGen */
  next1: Block | null = null;
  next2: Block | null = null;
  linkGen = -1;

  /** Remember `b` as a successor (links made under an older TLB generation are dropped). */
  link(b: Block, tlbGen: number): void {
    if (this.linkGen !== tlbGen) { this.linkGen = tlbGen; this.next1 = null; this.next2 = null; }
    if (this.next1 !== b) { this.next2 = this.next1; this.next1 = b; }
  }
}

/** Result of Cpu.run: why the loop returned. */
export const RUN_BUDGET = 0, RUN_HALTED = 1, RUN_STOPPED = 2, RUN_DEAD = 3, RUN_WAIT_SIPI = 4;
/** returned instead of delivering a fault when `stopOnFault` is set (snippet runner, tests) */
export const RUN_FAULT = 5;
/** -icount: the core executed PAUSE (a spin-wait) and gives up the rest of its turn */
export const RUN_YIELD = 6;
/** a debugger or the monitor asked this core to park (P_PAUSE), or a breakpoint/step/watch stopped it */
export const RUN_PAUSED = 7;

export class Cpu extends CpuMemory {
  lapic: LocalApic | null = null;
  /** index of this core's block in the control block */
  readonly ctlBase: number;
  private readonly pendingIndex: number;
  private readonly l1Rip = new Float64Array(1 << L1_BITS).fill(0.5);
  private readonly l1Block: (Block | null)[] = new Array(1 << L1_BITS).fill(null);
  private readonly blocks: Map<number, Block>[] = [new Map(), new Map(), new Map()];
  /** set by instructions/devices that need serviceEvents at the next block boundary */
  eventCheck = true;
  /** loop exit request (HLT, stop, fatal) */
  exitReason = RUN_BUDGET;
  /** statistics */
  blocksCompiled = 0;
  interruptsTaken = 0;
  /** first unimplemented opcode seen (for diagnostics) */
  unknownOpcode = '';
  /** whether the worker should treat this core as dead (triple fault) and why */
  deadReason = '';
  /** -bios: firmware owns real mode, so the no-firmware stops (no-firmware.ts) are off */
  firmware = false;
  /** emulated cores outnumber host cores: spin hints yield the host CPU */
  oversubscribed = false;
  /** -icount: a spin-wait ends the core's turn (whoever it waits for can only run after it) */
  yieldOnPause = false;
  private pauseCount = 0;
  pleYields = 0;
  /** instructions completed in a compiled block before it faulted */
  faultIndex = 0;
  /** bumped whenever every cached block is dropped (chains of translated blocks check it) */
  blockEpoch = 0;
  /** tier 3's dispatcher of translated blocks (src/cpu/wasm/chain.ts), made with the first translation */
  chain: Chain | null = null;
  /** do not deliver faults: stop the run loop with RUN_FAULT (faultVector/faultCode/rip kept) */
  stopOnFault = false;
  /** gdb stub's breakpoints, watchpoints and single-step (src/gdb/core-debug.ts): one instruction per block while set */
  debug: DebugHooks | null = null;

  constructor(shared: SharedMemory, bus: CpuBus, coreIndex: number) {
    super(shared, bus, coreIndex);
    this.coreIndex = coreIndex;
    this.ctlBase = coreBase(coreIndex);
    this.pendingIndex = this.ctlBase + C_PENDING;
    const ctl = shared.ctl;
    this.oversubscribed = ctl[G_HOST_CORES] > 0 && ctl[G_NCORES] > ctl[G_HOST_CORES];
  }

  // ================================================================ registers

  /** Read a general register at an operand size (8-bit with AH..BH when no REX). */
  readReg(size: number, r: number, rex: number): number {
    switch (size) {
      case 1:
        if (rex === 0 && r >= 4 && r < 8) return (this.lo[r - 4] >> 8) & 0xff;
        return this.lo[r] & 0xff;
      case 2: return this.lo[r] & 0xffff;
      case 4: return this.lo[r];
      default: this.vhi = this.hi[r]; return this.lo[r];
    }
  }

  /** Write a general register at an operand size (32-bit writes zero the upper half). */
  writeReg(size: number, r: number, rex: number, lo: number, hi: number): void {
    switch (size) {
      case 1:
        if (rex === 0 && r >= 4 && r < 8) this.lo[r - 4] = (this.lo[r - 4] & ~0xff00) | ((lo & 0xff) << 8);
        else this.lo[r] = (this.lo[r] & ~0xff) | (lo & 0xff);
        return;
      case 2: this.lo[r] = (this.lo[r] & ~0xffff) | (lo & 0xffff); return;
      case 4: this.lo[r] = lo; this.hi[r] = 0; return;
      default: this.lo[r] = lo; this.hi[r] = hi;
    }
  }

  readMem(size: number, lin: number): number {
    switch (size) {
      case 1: return this.read8(lin);
      case 2: return this.read16(lin);
      case 4: return this.read32(lin);
      default: return this.read64(lin);
    }
  }

  writeMem(size: number, lin: number, lo: number, hi: number): void {
    switch (size) {
      case 1: this.write8(lin, lo); return;
      case 2: this.write16(lin, lo); return;
      case 4: this.write32(lin, lo); return;
      default: this.write64(lin, lo, hi);
    }
  }

  /** r/m operand read (register or memory); 64-bit high half in vhi */
  readRm(ins: Insn): number {
    if (ins.hasMem) return this.readMem(ins.osize, ins.ea(this, ins));
    return this.readReg(ins.osize, ins.rm, ins.rex);
  }

  /**
   * A 16-bit r/m operand whatever the operand size (selectors, LMSW, MOVZX/MOVSX Ew, PINSRW):
   * the word in memory, or the register's low 16 bits
   */
  readRm16(ins: Insn): number {
    return ins.hasMem ? this.read16(ins.ea(this, ins)) : this.lo[ins.rm] & 0xffff;
  }

  writeRm(ins: Insn, lo: number, hi: number): void {
    if (ins.hasMem) this.writeMem(ins.osize, ins.ea(this, ins), lo, hi);
    else this.writeReg(ins.osize, ins.rm, ins.rex, lo, hi);
  }

  // ================================================================ stack

  /** linear address of the stack top plus `delta` bytes (SS base and stack width applied) */
  stackAddr(delta: number): number {
    if (this.stackSize === 8) {
      const s = (this.lo[4] >>> 0) + delta;
      const h = (this.hi[4] + Math.floor(s / TWO32)) | 0;
      // a non-canonical stack reference raises #SS(0), not #GP
      if (h >= 0x8000 || h < -0x8000) this.fault(SS_VEC, 0);
      return h * TWO32 + (s >>> 0);
    }
    const sp = this.stackSize === 4 ? (this.lo[4] + delta) >>> 0 : (this.lo[4] + delta) & 0xffff;
    return (sp + this.segBase[2]) % TWO32;
  }

  /** move the stack pointer by delta (respecting the stack width) */
  addSp(delta: number): void {
    if (this.stackSize === 8) {
      const s = (this.lo[4] >>> 0) + delta;
      this.hi[4] = (this.hi[4] + Math.floor(s / TWO32)) | 0;
      this.lo[4] = s | 0;
    } else if (this.stackSize === 4) {
      this.lo[4] = (this.lo[4] + delta) | 0;
    } else {
      this.lo[4] = (this.lo[4] & ~0xffff) | ((this.lo[4] + delta) & 0xffff);
    }
  }

  push(size: number, lo: number, hi: number): void {
    const a = this.stackAddr(-size);
    this.writeMem(size, a, lo, hi);
    this.addSp(-size);
  }

  pop(size: number): number {
    const v = this.readMem(size, this.stackAddr(0));
    this.addSp(size);
    return v;
  }

  // ================================================================ mode

  /** 0: 16-bit code, 1: 32-bit, 2: 64-bit (block cache key) */
  codeMode(): number {
    return this.mode64 ? 2 : this.def32 ? 1 : 0;
  }

  /** Instruction routine for unknown/invalid forms: raises #UD when executed. */
  static makeUd(why: string): Exec {
    return (cpu, ins) => {
      if (!cpu.unknownOpcode) {
        const bytes: string[] = [];
        try {
          for (let k = 0; k < Math.min(ins.len || 4, 15); k++) bytes.push(cpu.fetch8(ins.rip + k).toString(16).padStart(2, '0'));
        } catch { /* unreadable */ }
        cpu.unknownOpcode = `${why} at ${ins.rip.toString(16)}: ${bytes.join(' ')}`;
      }
      cpu.fault(UD);
    };
  }

  // ================================================================ blocks

  /** Invalidate every cached block (mode switch, or an explicit request). */
  flushBlocks(): void {
    this.blockEpoch++;
    forgetDecodedBlocks(this.shared.codeGen);
    for (const m of this.blocks) m.clear();
    this.l1Rip.fill(0.5);
    this.l1Block.fill(null);
  }

  private lookupBlock(): Block {
    const rip = this.rip;
    const mode = this.codeMode();
    const slot = (rip & L1_MASK) ^ mode;
    let b = this.l1Rip[slot] === rip ? this.l1Block[slot] : null;
    if (b === null || b.mode !== mode) b = this.blocks[mode].get(rip) ?? null;
    const page = this.fetchPagePhys(rip) >>> 12;
    if (b !== null && b.physPage === page && this.shared.codeGen[page] === b.gen &&
      (mode === 2 || b.csBase === this.segBase[1]) &&
      (b.physPage2 < 0 || this.shared.codeGen[b.physPage2] === b.gen2)) {
      this.l1Rip[slot] = rip;
      this.l1Block[slot] = b;
      return b;
    }
    b = this.compile(rip, mode);
    this.blocks[mode].set(rip, b);
    this.l1Rip[slot] = rip;
    this.l1Block[slot] = b;
    return b;
  }

  /**
   * The successor of `prev` at the current RIP if one is linked and still valid (same
   * translation generation, code unchanged, same code mode): skips the lookup and the fetch
   * translation. Returns null when the full lookup is needed.
   */
  private chained(prev: Block): Block | null {
    if (prev.linkGen !== this.tlbGen) return null;
    const rip = this.rip;
    let s = prev.next1;
    if (s === null || s.rip !== rip) {
      s = prev.next2;
      if (s === null || s.rip !== rip) return null;
    }
    const cg = this.shared.codeGen;
    if (cg[s.physPage] !== s.gen || (s.physPage2 >= 0 && cg[s.physPage2] !== s.gen2)) return null;
    const mode = this.codeMode();
    if (s.mode !== mode || (mode !== 2 && s.csBase !== this.segBase[1])) return null;
    return s;
  }

  private compile(rip: number, mode: number): Block {
    this.blocksCompiled++;
    const dm = { mode64: mode === 2, def32: mode !== 0, csBase: this.segBase[1] };
    const ops: Insn[] = [];
    const startOff = this.fetchPagePhys(rip);
    const page = startOff >>> 12;
    const gen = this.markCodePage(startOff);
    const share = SHARE_DECODED && mode === 2 && this.debug === null && !this.bp.armed;
    if (share) {
      const had = this.sharedBlock(rip, page, gen);
      if (had !== null) return had;
    }
    let page2 = -1, gen2 = 0, lin2 = 0;
    let cur = rip;
    const fetch = (lin: number): number => {
      const off = this.fetchPagePhys(lin);
      if ((off >>> 12) !== page && page2 < 0) {
        page2 = off >>> 12;
        gen2 = this.markCodePage(off);
        lin2 = lin;
      }
      return this.ram[off + (lin & 0xfff)];
    };
    if (!this.protectedMode && !this.firmware && startsZeroRun(rip, fetch)) return this.zeroRunBlock(rip, mode, page, gen, page2, gen2);
    for (;;) {
      let ins: Insn;
      try {
        ins = decode(cur, dm, fetch, Cpu.makeUd);
      } catch (e) {
        if (ops.length > 0) break; // fault later, when execution reaches this instruction
        if (e instanceof DecodeError) {
          // more than 15 bytes: #GP when executed
          ops.push(Object.assign(decodeFailure(cur), {}));
          break;
        }
        throw e;
      }
      ops.push(ins);
      cur = ins.nextRip;
      if (ins.ends || ops.length >= (this.debug === null ? MAX_BLOCK_INSNS : 1) || page2 >= 0) break;
      if (Math.floor(cur / 4096) !== Math.floor(rip / 4096)) break;
    }
    const last = ops[ops.length - 1];
    const block = new Block(rip, mode, ops, last.nextRip, page, gen, page2, gen2);
    block.csBase = dm.csBase;
    if (share) keepDecodedBlock(this.shared.codeGen, rip, page, gen, { ops, page2, gen2, lin2 });
    // breakpoints armed (DR7): the block runs one checked instruction at a time instead of
    // being compiled (arming and disarming drop every block)
    if (this.bp.armed) block.fn = watchedBlock(ops, block.endRip);
    return block;
  }

  /**
   * The block another core of this thread decoded at `rip` from `page` at generation `gen`
   * (thread-blocks.ts), if its second page, seen through this core's page tables, is the same
   * page at the same generation; null: decode it here.
   */
  private sharedBlock(rip: number, page: number, gen: number): Block | null {
    const d = decodedBlock(this.shared.codeGen, rip, page, gen);
    if (d === undefined) return null;
    if (d.page2 >= 0) {
      try {
        const off = this.fetchPagePhys(d.lin2);
        if ((off >>> 12) !== d.page2 || this.markCodePage(off) !== d.gen2) return null;
      } catch {
        return null; // not mapped here: decoding finds where this core's block ends
      }
    }
    threadBlockStats.hits++;
    const block = new Block(rip, 2, d.ops, d.ops[d.ops.length - 1].nextRip, page, gen, d.page2, d.gen2);
    block.csBase = this.segBase[1];
    return block;
  }

  /** A block that ends the core: real mode ran into zeroed memory (see no-firmware.ts). */
  private zeroRunBlock(rip: number, mode: number, page: number, gen: number, page2: number, gen2: number): Block {
    const ins = decodeFailure(rip);
    ins.exec = (cpu) => {
      cpu.rip = rip;
      noFirmware(cpu, `real-mode execution of zeroed memory (${ZERO_RUN_BYTES} zero bytes: an empty IVT target or missing BIOS code)`);
    };
    const block = new Block(rip, mode, [ins], rip, page, gen, page2, gen2);
    block.csBase = this.segBase[1];
    return block;
  }

  // ================================================================ run loop

  /**
   * Execute until about `budget` instructions have retired, the core halts, or it must stop.
   * Returns RUN_*.
   */
  run(budget: number): number {
    const ctl = this.shared.ctl;
    const pend = this.pendingIndex;
    let left = budget;
    this.exitReason = RUN_BUDGET;
    /** the block that completed last: its successor links are tried before a lookup */
    let prev: Block | null = null;
    while (left > 0) {
      // Events are examined only when one could be taken now: non-maskable ones always,
      // maskable ones while IF=1, and the local timer every CLOCK_CHECK_INTERVAL instructions.
      const p = ctl[pend];
      if (this.eventCheck || this.retired >= this.clockCheckAt ||
        (p !== 0 && ((p & P_WAKES_WITH_IF_OFF) !== 0 || (this.flags & IF) !== 0))) {
        this.eventCheck = false;
        prev = null;
        serviceEvents(this);
        if (this.exitReason !== RUN_BUDGET) break;
        if (this.halted) { this.exitReason = RUN_HALTED; break; }
      }
      let block: Block | null = null;
      try {
        this.syncCodeGen();
        if (prev !== null) block = this.chained(prev);
        if (block === null) {
          block = this.lookupBlock();
          if (prev !== null) prev.link(block, this.tlbGen);
        }
      } catch (e) {
        if (e !== FAULT) throw e;
        prev = null;
        if (this.stopOnFault) { this.exitReason = RUN_FAULT; break; }
        deliverFault(this);
        if (this.exitReason !== RUN_BUDGET) break;
        continue;
      }
      if (this.debug !== null && this.debug.before(this, block.ops[0])) { this.exitReason = RUN_PAUSED; break; }
      // translated blocks may jump straight to this one from now on (src/cpu/wasm/chain.ts)
      if (block.chainIndex >= 0 && this.chain !== null) this.chain.note(block);
      const ops = block.ops;
      const n = ops.length;
      this.rip = block.endRip;
      let i = 0;
      let done = n;
      let fn = this.debug === null ? block.fn : null;
      try {
        if (fn === null && JIT_TIER > 0 && this.debug === null && block.hits++ >= COMPILE_THRESHOLD) fn = block.fn = compileBlock(block, this);
        if (fn !== null) {
          done = fn(this, left); // more than n when a self-looping block iterated inside
        } else {
          for (; i < n; i++) {
            const ins = ops[i];
            ins.exec(this, ins);
          }
        }
      } catch (e) {
        // compiled code reports instructions completed (over all iterations) and sets rip itself
        const compiled = fn !== null;
        if (compiled) i = this.faultIndex;
        if (e !== FAULT) {
          if (e instanceof Error) e.message += compiled ? ` (at rip ${this.rip.toString(16)})` : ` (at rip ${ops[i].rip.toString(16)}: ${ops[i].name})`;
          throw e;
        }
        prev = null;
        this.retired += i;
        left -= i + 1;
        if (!compiled) this.rip = ops[i].rip;
        if (this.stopOnFault) { this.exitReason = RUN_FAULT; break; }
        deliverFault(this);
        if (this.exitReason !== RUN_BUDGET) break;
        continue;
      }
      this.retired += done;
      if (DECLINE_PROFILE) noteRetired(ops, block.mode, block.chainIndex >= 0, done);
      left -= done;
      prev = block;
      if (this.exitReason !== RUN_BUDGET) break;
      if (this.debug !== null && this.debug.after(this)) { this.exitReason = RUN_PAUSED; break; }
    }
    this.publishStats();
    return this.exitReason;
  }

  /**
   * PAUSE: a spin-wait hint. When emulated cores outnumber host cores, a spinning core may be
   * holding the very host CPU the lock holder needs; after PLE_WINDOW pauses it sleeps briefly
   * on its wake word (an interrupt still wakes it at once), as KVM's pause-loop exiting does.
   */
  pauseHint(): void {
    if (this.yieldOnPause) { this.exitReason = RUN_YIELD; return; }
    if (!this.oversubscribed) return;
    if (++this.pauseCount < PLE_WINDOW) return;
    this.pauseCount = 0;
    const ctl = this.shared.ctl;
    const wake = this.ctlBase + C_WAKE;
    Atomics.wait(ctl, wake, Atomics.load(ctl, wake), PLE_SLEEP_MS);
    this.pleYields++;
  }

  publishStats(): void {
    const ctl = this.shared.ctl;
    ctl[this.ctlBase + C_STAT_INSNS_LO] = this.retired % TWO32 | 0;
    ctl[this.ctlBase + C_STAT_INSNS_HI] = Math.floor(this.retired / TWO32);
    ctl[this.ctlBase + C_STAT_BLOCKS] = this.blocksCompiled;
    ctl[this.ctlBase + C_STAT_TLB_MISS] = this.tlbMisses;
  }
}

function decodeFailure(rip: number): Insn {
  const ins = decode(rip, { mode64: true, def32: true }, () => 0x90, Cpu.makeUd); // a 1-byte NOP shell
  ins.rip = rip;
  ins.exec = (cpu) => cpu.fault(GP, 0);
  ins.ends = true;
  return ins;
}
