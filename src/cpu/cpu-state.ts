// Architectural state of one x86-64 core. Registers are 64-bit values held as two Int32
// halves (lo/hi) because 32-bit integer arithmetic is what V8 does fastest and BigInt costs
// ~30 ns per conversion (docs/ARCHITECTURE.md, "The core's inner loop").

import { LF_NONE } from './flags.js';
import { FIXED1 } from './regs.js';
import { BreakpointState } from './breakpoint-state.js';

/** Descriptor cache of a segment register (what the hidden part holds after a load). */
export const SEG_COUNT = 8; // ES CS SS DS FS GS LDTR TR

export class CpuState {
  /** general registers: low and high 32 bits, indexed RAX..R15 (views on the core's scratch area when translated code shares them) */
  readonly lo: Int32Array<ArrayBufferLike>;
  readonly hi: Int32Array<ArrayBufferLike>;
  /** linear address of the next instruction (signed canonical in 64-bit mode, else 0..2^32-1) */
  rip = 0;

  /** RFLAGS except the arithmetic flags while a lazy operation is recorded (see flags.ts) */
  flags = FIXED1;
  lfOp = LF_NONE;
  lfSize = 4;
  lfA = 0; lfAh = 0;
  lfB = 0; lfBh = 0;
  lfR = 0; lfRh = 0;
  lfCarry = 0;
  lfOver = 0;
  lfAux = 0;

  /** segment registers: visible selector and hidden descriptor cache */
  readonly segSel = new Int32Array(SEG_COUNT);
  readonly segBase = new Float64Array(SEG_COUNT);
  readonly segLimit = new Float64Array(SEG_COUNT);
  /** attributes in VMX access-rights layout: type[3:0] S[4] DPL[6:5] P[7] AVL[12] L[13] D/B[14] G[15] */
  readonly segAttr = new Int32Array(SEG_COUNT);
  gdtBase = 0; gdtLimit = 0xffff;
  idtBase = 0; idtLimit = 0xffff;

  /** control registers (CR0/CR4 low 32 bits suffice; CR2/CR3 are full linear/physical addresses) */
  cr0 = 0x60000010; // CD NW ET, as after reset
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  efer = 0;
  /** debug registers DR0-DR3, DR6, DR7 (breakpoints: src/cpu/debug-registers.ts) */
  readonly dr = new Float64Array(8);
  /** what DR7 arms, decoded (src/cpu/debug-registers.ts) */
  readonly bp = new BreakpointState();
  xcr0 = 1;

  /** model-specific registers kept as plain values: key = MSR index, value = [lo, hi] */
  readonly msrs = new Map<number, [number, number]>();
  star = [0, 0];
  lstar = 0; cstar = 0; fmask = 0;
  kernelGsBase = 0;
  tscAux = 0;
  tscOffset = 0;
  sysenterCs = 0; sysenterEsp = 0; sysenterEip = 0;
  pat = [0x00070406, 0x00070406];

  // ---- cached mode, recomputed by updateMode() after CR0/CR4/EFER/CS/SS changes ----
  /** current privilege level */
  cpl = 0;
  /** CS.L with EFER.LMA: 64-bit mode */
  mode64 = false;
  /** CS.D: default operand/address size 32 (ignored in 64-bit mode) */
  def32 = false;
  /** stack width in bytes: 8 in 64-bit mode, else 4 (SS.B) or 2 */
  stackSize = 2;
  /** CR0.PE */
  protectedMode = false;
  /** paging active and its kind: 0 none, 2 legacy 32-bit, 3 PAE, 4 four-level */
  pagingMode = 0;

  // ---- SSE / x87 state (instructions in src/cpu/ops/sse*.ts and x87*.ts) ----
  /** XMM0-15 as 4 x 32-bit lanes each (little-endian lane order) */
  readonly xmm = new Int32Array(16 * 4);
  mxcsr = 0x1f80;
  /**
   * x87: 8 physical registers in the 80-bit register format, three words each: significand
   * low and high 32 bits, sign/exponent (ops/x87/fpu-state.ts); tag word, status, control
   */
  readonly fpr = new Int32Array(8 * 3);
  fpTop = 0;
  fpTag = 0xffff;
  fpStatus = 0;
  fpControl = 0x037f;
  fpOpcode = 0;
  fpIp = 0; fpDp = 0;
  /** this core drives FERR# (CR0.NE = 0 reporting; ops/x87/fpu-state.ts reportPending) */
  ferrAsserted = false;

  // ---- run state ----
  halted = false;
  /** interrupts are inhibited for one instruction after STI / MOV SS / POP SS */
  interruptShadow = false;
  /** the instruction the shadow covers (the one after STI / MOV SS / POP SS) */
  shadowRip = -1;
  /** the shadow came from MOV SS / POP SS: it also holds back debug traps (single-step) */
  ssShadow = false;
  /** NMI blocked until the next IRET */
  nmiBlocked = false;
  /** after INIT: the core waits for a startup IPI (src/cpu/reset.ts) */
  waitingForSipi = false;
  /** retired-instruction count at which serviceEvents next reads the clock for LAPIC timers */
  clockCheckAt = 0;
  /** called at each clock check (every few thousand instructions): the time model's checkpoint */
  timeCheckpoint: (() => void) | null = null;
  /** called when a SIPI starts this core, before the SIPI is consumed (the worker publishes its run state) */
  onStartup: (() => void) | null = null;
  /** instructions retired (a Number; exact until 2^53) */
  retired = 0;
  /** index of this core (== initial APIC ID) */
  coreIndex = 0;

  /** fault being raised (set by Cpu.fault before it throws) */
  faultVector = -1;
  faultCode = -1;

  constructor(lo: Int32Array<ArrayBufferLike> = new Int32Array(16), hi: Int32Array<ArrayBufferLike> = new Int32Array(16)) {
    this.lo = lo;
    this.hi = hi;
  }
}
