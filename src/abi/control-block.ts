// The control SharedArrayBuffer: everything cores and the I/O thread share besides RAM.
// All fields are Int32 slots (use Atomics for anything another thread writes).
//
//   [0, GLOBAL_WORDS)                       machine-wide words (G_*)
//   [CORE_BASE + i*CORE_WORDS, ...)          per-core block of core i (C_*)
//   [frameTableBase(n), + 2*frames)          the 2 MiB frame table (owner, flags)

export const MAX_CORES = 255; // xAPIC IDs 0..254 (255 is broadcast)

// ---- machine-wide words ----
export const G_MAGIC = 0;
export const G_NCORES = 1;
export const G_RAM_MIB = 2;
/** 0 running; 1 exit requested (G_EXIT_CODE valid); 2 fatal (G_FATAL_CORE valid) */
export const G_STATE = 3;
export const G_EXIT_CODE = 4;
export const G_FATAL_CORE = 5;
/** bumped (and notified) whenever any core changes run state, so the I/O thread can watch */
export const G_EVENT = 6;
/** monotonic-clock base (ns, split in two int32 halves) shared by all threads */
export const G_CLOCK_BASE_LO = 7;
export const G_CLOCK_BASE_HI = 8;
/** generation counter bumped whenever any code page is written (self-modifying code) */
export const G_CODE_GEN = 9;
/** number of cores currently running (not halted/waiting): used to decide spin vs sleep */
export const G_BUSY_CORES = 10;
/** host cores available (copied from os.availableParallelism at boot) */
export const G_HOST_CORES = 11;
// Time model (src/abi/clock.ts). Words 40-47 are Int32 controls; words 48-63 are eight
// Float64 slots (word index / 2 in a Float64Array over the same buffer).
/** TIME_REAL (load-independent real time) or TIME_ICOUNT (deterministic, -icount) */
export const G_TIME_MODE = 40;
/** -icount shift: guest ns per retired instruction = 2^shift */
export const G_ICOUNT_SHIFT = 41;
/** -icount: index of the participant holding the turn (cores 0..n-1, the I/O thread = n) */
export const G_TURN = 42;
/** workers that finished building their core; the BSP starts only when all have */
export const G_READY = 43;
/** seqlock over the stolen-time pair (even = stable) */
export const G_TIME_SEQ = 44;
/** -icount: set by any core that retired instructions in the current round */
export const G_ROUND_PROGRESS = 45;
/** -icount: instructions per turn */
export const G_QUANTUM = 46;
/** Float64 slots (index into a Float64Array): stolen ns, host ns when it was stolen, -icount time, I/O thread's hold, floor */
export const F_STOLEN = 24;
export const F_STOLEN_AT = 25;
export const F_VTIME = 26;
export const F_IO_HOLD = 27;
/** real time: the latest guest instant any thread has read (no thread may read less) */
export const F_FLOOR = 28;
/** -icount: the instant the next round must not pass (a virtual LAN's window; Infinity: none) */
export const F_ROUND_LIMIT = 29;
/** the host's 1-minute load average x 100, refreshed by the I/O thread about twice a second
 *  (a halted core polls its wake word only while the host has CPUs to spare) */
export const G_HOST_LOAD_X100 = 12;
/** bumped whenever a write invalidates decoded code on any page (chains of translated blocks check it) */
export const G_CODE_WRITES = 13;
export const GLOBAL_WORDS = 64;

// ---- per-core block ----
export const CORE_BASE = GLOBAL_WORDS;
export const CORE_WORDS = 128;

/** Mailbox for port/MMIO accesses that the I/O thread services (see docs/ARCHITECTURE.md). */
export const C_MBOX_STATE = 0; // MBOX_IDLE / MBOX_REQUEST / MBOX_REPLY
export const C_MBOX_KIND = 1; // MB_* below
export const C_MBOX_ADDR_LO = 2;
export const C_MBOX_ADDR_HI = 3;
export const C_MBOX_SIZE = 4;
export const C_MBOX_VAL_LO = 5;
export const C_MBOX_VAL_HI = 6;

/** Word a halted/waiting core sleeps on (Atomics.wait); senders add 1 and notify. */
export const C_WAKE = 8;
/** Pending-event bits (P_*), set with Atomics.or by senders, cleared by the owning core. */
export const C_PENDING = 9;
export const C_SIPI_VECTOR = 10;
/** vector supplied by the 8259 for an ExtINT request (valid while P_EXTINT is set) */
export const C_EXTINT_VECTOR = 11;
/** RS_* below; written by the owning core (and by the loader before start) */
export const C_RUNSTATE = 12;
export const C_APIC_ID = 13;
/** LAPIC logical destination register and destination format (owned by the core, read by senders) */
export const C_APIC_LDR = 14;
export const C_APIC_DFR = 15;
/** 1 when the LAPIC is software-enabled (SVR bit 8) and globally enabled (APIC_BASE bit 11) */
export const C_APIC_ENABLED = 16;
/** 256-bit interrupt request register, bits set by any thread with Atomics.or */
export const C_IRR = 24; // 8 words
/** trigger-mode bits for requests in C_IRR (1 = level), set together with the IRR bit */
export const C_TMR = 32; // 8 words
/** statistics: instructions retired (lo, hi halves of a 64-bit count), updated at block ends */
export const C_STAT_INSNS_LO = 40;
export const C_STAT_INSNS_HI = 41;
export const C_STAT_BLOCKS = 42;
export const C_STAT_TLB_MISS = 43;
export const C_STAT_INTERRUPTS = 44;
export const C_STAT_DEVICE_EXITS = 45;
export const C_STAT_HALTED_NS_LO = 46; // time spent halted, for CPU % accounting
export const C_STAT_HALTED_NS_HI = 47;
/** last RIP (lo, hi) and exit reason (XR_*) for post-mortem reports */
export const C_LAST_RIP_LO = 48;
export const C_LAST_RIP_HI = 49;
export const C_EXIT_REASON = 50;
export const C_EXIT_DETAIL = 51;
/** time model (clock.ts): Float64 slot at word 120 (core base + 120, /2 in a Float64Array):
 *  real time: the guest instant up to which this core has caught up (Infinity = owes nothing);
 *  -icount: the instant this core next needs a turn for (its timer deadline, or now) */
export const C_TIME_HOLD = 120;
/** device accesses done in the core (1 in 64 timed): total host time of the timed ones (ns, lo/hi) */
export const C_STAT_DEVICE_NS_LO = 52;
export const C_STAT_DEVICE_NS_HI = 53;
/** wake-ups of a sleeping core by another thread, and their total latency (ns, lo/hi) */
export const C_STAT_WAKEUPS = 54;
export const C_STAT_WAKE_NS_LO = 55;
export const C_STAT_WAKE_NS_HI = 56;
/** host-time stamp (hostStampNs) of the last wake request sent to this core */
export const C_WAKE_STAMP = 57;
/** device accesses that needed a round trip to the I/O thread (C_STAT_DEVICE_EXITS counts all) */
export const C_STAT_DEVICE_SLOW = 58;
/** device accesses done in the core that were timed (C_STAT_DEVICE_NS is their total) */
export const C_STAT_DEVICE_TIMED = 59;
/** total host time of the device accesses that went to the I/O thread (ns, lo/hi) */
export const C_STAT_DEVICE_SLOW_NS_LO = 60;
export const C_STAT_DEVICE_SLOW_NS_HI = 61;
/** wake-up latency histogram: bucket i counts latencies below WAKE_HIST_LIMITS_US[i] (last: the rest) */
export const C_STAT_WAKE_HIST = 64; // 8 words
export const WAKE_HIST_LIMITS_US = [4, 16, 64, 256, 1024, 4096, 16384, Infinity];
/** bumped by CoreControl to let a parked core go (it parks in Atomics.wait on this word; P_PAUSE parks it) */
export const C_RESUME_SEQ = 72;
/** a worker hosting several cores (--cores-per-worker): the index of the word that worker
 *  sleeps on (its first core's C_WORKER_WAKE); 0 when the core is alone and sleeps on C_WAKE */
export const C_HOST_WAKE = 73;
/** in a grouped worker's first core: the word the worker sleeps on while all its cores are
 *  halted or parked (senders add 1), and 1 while it sleeps (senders then notify) */
export const C_WORKER_WAKE = 74;
export const C_WORKER_SLEEPING = 75;
/** -icount, in a worker's first core: bumped and notified when the turn reaches one of the
 *  worker's cores, so a turn wakes the one worker that holds it, not every worker (turns.ts) */
export const C_TURN_BELL = 76;
/** -icount, per core: the index of the C_TURN_BELL its worker waits on (0 before workers start) */
export const C_TURN_BELL_OF = 77;

// mailbox states and kinds
export const MBOX_IDLE = 0;
export const MBOX_REQUEST = 1;
export const MBOX_REPLY = 2;
export const MB_IO_READ = 1;
export const MB_IO_WRITE = 2;
export const MB_MMIO_READ = 3;
export const MB_MMIO_WRITE = 4;
/** a level-triggered vector was EOI'd at the LAPIC: ADDR_LO holds the vector (IOAPIC remote-IRR) */
export const MB_EOI = 5;
/** the core drives FERR# (x87 error, CR0.NE = 0): ADDR_LO core, VAL_LO 1/0; the reply is IGNNE# */
export const MB_FERR = 6;

// pending bits
export const P_IRR = 1 << 0; // something was set in C_IRR
export const P_INIT = 1 << 1;
export const P_SIPI = 1 << 2;
export const P_NMI = 1 << 3;
export const P_EXTINT = 1 << 4;
export const P_STOP = 1 << 5; // machine is shutting down: leave the run loop
export const P_SMI = 1 << 6;
export const P_PAUSE = 1 << 7; // debugger/monitor pause: park at the next block boundary (C_PAUSE)
/** requests that matter while IF=0: they wake a halted core and end a run of chained blocks
 * (maskable interrupts do neither) */
export const P_WAKES_WITH_IF_OFF = P_STOP | P_INIT | P_SIPI | P_NMI | P_SMI | P_PAUSE;

// run states
export const RS_WAIT_SIPI = 0; // AP after reset, waiting for INIT-SIPI-SIPI
export const RS_RUNNING = 1;
export const RS_HALTED = 2; // HLT, waiting for an interrupt
export const RS_STOPPED = 3; // left the run loop (machine exit)
export const RS_DEAD = 4; // triple fault or fatal emulator error
export const RS_PAUSED = 5; // parked by a debugger or the monitor (C_PAUSE)

// exit reasons (C_EXIT_REASON)
export const XR_NONE = 0;
export const XR_TRIPLE_FAULT = 1;
export const XR_HALT_NO_INTERRUPTS = 2; // HLT with IF=0 and nothing can wake it
export const XR_INTERNAL_ERROR = 3;
export const XR_UNIMPLEMENTED = 4; // #UD raised for an opcode we do not implement (detail = opcode)

export const CTL_MAGIC = 0x50524c58; // "PRLX"

export function coreBase(core: number): number {
  return CORE_BASE + core * CORE_WORDS;
}

export function frameTableBase(ncores: number): number {
  return CORE_BASE + ncores * CORE_WORDS;
}

/** Frame table entry: [owner, flags]. owner -1 = free, -2 = kernel/shared, >=0 = DIME core index. */
export const FRAME_FREE = -1;
export const FRAME_SHARED = -2;
export const FF_RESERVED = 1 << 0; // firmware/MMIO-adjacent, not allocatable
export const FF_KERNEL_IMAGE = 1 << 1;
export const FF_MODULE = 1 << 2;

export function controlWords(ncores: number, frames: number): number {
  return frameTableBase(ncores) + 2 * frames;
}

export function createControlBuffer(ncores: number, ramBytes: number): Int32Array {
  const frames = Math.ceil(ramBytes / (2 * 1024 * 1024));
  const words = controlWords(ncores, frames);
  const ctl = new Int32Array(new SharedArrayBuffer(words * 4));
  ctl[G_MAGIC] = CTL_MAGIC;
  ctl[G_NCORES] = ncores;
  ctl[G_RAM_MIB] = Math.floor(ramBytes / (1024 * 1024));
  const ft = frameTableBase(ncores);
  for (let f = 0; f < frames; f++) ctl[ft + 2 * f] = FRAME_FREE;
  // time holds start released (real time, nothing owed): a control block is usable by a lone
  // core (tests, the snippet runner) before or without configureTime (src/abi/clock.ts)
  const f64 = new Float64Array(ctl.buffer, 0, ctl.length >> 1);
  f64[F_IO_HOLD] = Infinity;
  for (let i = 0; i < ncores; i++) f64[(coreBase(i) + C_TIME_HOLD) >> 1] = Infinity;
  return ctl;
}
