// Entry point of one emulated core's worker thread: builds the Cpu and its LAPIC over the
// shared RAM and control block, then runs until the machine stops. A halted core sleeps in
// on its C_WAKE word (wake-wait.ts: a brief poll only while host cores are spare, then
// Atomics.wait) until an interrupt or its next timer deadline.
// Every worker is built before the bootstrap processor runs its first instruction, so an AP
// answers a SIPI at once. Under -icount the cores take turns (runInTurns): one core runs at a
// time, in core order, for a fixed instruction quantum or until it halts.

import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { SharedMemory } from '../abi/shared-memory.js';
import { Cpu, RUN_BUDGET, RUN_DEAD, RUN_HALTED, RUN_PAUSED, RUN_STOPPED, RUN_WAIT_SIPI, RUN_YIELD } from '../cpu/cpu.js';
import { CoreDebug, type DebugConfig, type StopReason } from '../debug/core-debug.js';
import { readRegisters, writeRegisters, type CoreRegisters } from '../debug/x86-registers.js';
import { IF } from '../cpu/regs.js';
import { enterWaitForSipi, setBootState, type BootEntry } from '../cpu/reset.js';
import { Lapic } from '../devices/lapic.js';
import { setTimeSource } from '../cpu/msr.js';
import { TIME_ICOUNT, clockFor } from '../abi/clock.js';
import {
  C_EXIT_DETAIL, C_EXIT_REASON, C_LAST_RIP_HI, C_LAST_RIP_LO, C_PENDING, C_RESUME_SEQ, C_RUNSTATE, C_STAT_HALTED_NS_HI,
  C_STAT_HALTED_NS_LO, C_WAKE, G_EVENT, G_NCORES, G_READY, G_ROUND_PROGRESS, G_TURN, P_STOP, P_WAKES_WITH_IF_OFF,
  RS_DEAD, RS_HALTED, RS_PAUSED, RS_RUNNING, RS_STOPPED, RS_WAIT_SIPI, XR_HALT_NO_INTERRUPTS, XR_INTERNAL_ERROR, XR_NONE, XR_TRIPLE_FAULT,
  coreBase,
} from '../abi/control-block.js';
import { MailboxBus } from './mailbox-bus.js';
import { WakeWaiter } from './wake-wait.js';
import { TWO32 } from '../cpu/regs.js';
import { restoreCpuState, saveCpuState, type CpuSnapshot } from '../cpu/cpu-snapshot.js';
import { CompileClient, installCompileClient } from '../cpu/wasm/compile-client.js';
import type { CompileLink } from './compile-service.js';

export interface CoreWorkerData {
  shared: SharedMemory;
  /** device state shared with the I/O thread (src/abi/device-shared.ts) */
  devices?: SharedArrayBuffer;
  core: number;
  /** entry state for the bootstrap processor (core 0); APs wait for INIT-SIPI-SIPI */
  boot: BootEntry | null;
  /** -bios: the machine runs firmware (every core, APs included: no no-firmware stops) */
  firmware?: boolean;
  /** instructions per run() slice (how often the worker looks around) */
  slice?: number;
  /** commands from the machine's CoreControl while this core is parked (debugger, monitor) */
  control?: MessagePort;
  /** tier 3's compile service (src/machine/compile-service.ts), when the machine runs one */
  compile?: CompileLink;
}

/** What CoreControl sends a parked core (read with receiveMessageOnPort: the core is blocked). */
export type CoreCommand =
  | { type: 'debug'; config: DebugConfig | null }
  | { type: 'registers'; values: CoreRegisters }
  /** snapshot: post this core's state (a 'saved' message) */
  | { type: 'save' }
  /** snapshot: take this state; guest time was restarted (clock.resync) */
  | { type: 'restore'; state: CoreSavedState };

/** One core's part of a machine snapshot (src/machine/snapshot.ts). */
export interface CoreSavedState {
  cpu: CpuSnapshot;
  lapic: unknown;
}

export type CoreMessage =
  | { type: 'dead'; core: number; reason: string; rip: number }
  | { type: 'error'; core: number; message: string; rip: number }
  | { type: 'stopped'; core: number; retired: number }
  | { type: 'parked'; core: number; stop: StopReason; regs: CoreRegisters; halted: boolean }
  | { type: 'saved'; core: number; state: CoreSavedState | null; error?: string }
  | { type: 'restored'; core: number; regs: CoreRegisters | null; halted: boolean; error?: string };

const d = workerData as CoreWorkerData;
const ctl = d.shared.ctl;
const base = coreBase(d.core);
const clock = clockFor(ctl);
const icount = clock.mode === TIME_ICOUNT;
// Devices read and written in the core (device-shared.ts) apply posted writes on the I/O
// thread whenever it wakes, which is not a defined point of the -icount turn order: under
// -icount every access goes through the mailbox, at the accessing instruction.
// PARALLAX_DEVICE_FASTPATH=0 does the same in real time (for comparison).
const bus = new MailboxBus(ctl, d.core, icount || process.env.PARALLAX_DEVICE_FASTPATH === '0' ? undefined : d.devices);
const cpu = new Cpu(d.shared, bus, d.core);
// under -icount a block switches to its translation at the run that asked (deterministic)
if (d.compile) installCompileClient(d.core, new CompileClient(d.compile.port, d.compile.sab, d.compile.slot, icount));
const lapic = new Lapic(ctl, d.core, clock, { onLevelEoi: (v) => bus.levelEoi(v) });
cpu.lapic = lapic;
bus.lapic = lapic;
setTimeSource(cpu, () => clock.nowNs());
clock.attachCore(d.core, () => cpu.retired, () => lapic.nextDeadlineNs());
if (icount) {
  bus.beforeExit = () => clock.publish(); // a device sees the instant of the access
  cpu.oversubscribed = false; // only the turn holder runs: a PAUSE loop has nobody to wait for
  cpu.yieldOnPause = true; // ... except the cores after it in the turn order
} else {
  // the running core's checkpoints (a clock read is one): guest time may not run far past
  // the last one without this core
  cpu.timeCheckpoint = () => clock.nowNs();
  bus.beforeExit = cpu.timeCheckpoint;
}
cpu.onStartup = () => setRunState(RS_RUNNING);
const waiter = new WakeWaiter(ctl, d.core);
let haltedNs = 0;
/** pending bits that end a sleep whatever IF says */
const ram = new Uint8Array(d.shared.ram);
let debugConfig: DebugConfig | null = null;

function setRunState(s: number, reason = XR_NONE): void {
  Atomics.store(ctl, base + C_RUNSTATE, s);
  Atomics.store(ctl, base + C_EXIT_REASON, reason);
  // The machine's watcher looks for "no core can run again": only states that can make that
  // true need to wake it. Running, and halting with interrupts on, happen at every wake-up
  // and HLT; a notify (and an I/O-thread wake-up) each time would tax every interrupt.
  if (s === RS_RUNNING || (s === RS_HALTED && reason === XR_NONE)) return;
  Atomics.add(ctl, G_EVENT, 1);
  Atomics.notify(ctl, G_EVENT);
}

/**
 * A core published as halted with IF=0 that something can wake (an NMI, say) says "running"
 * before it consumes the request, as sleep() does in real time: the watcher reads the pending
 * word first, so it never sees such a core as both halted and unsignalled.
 */
function announceWake(): void {
  if (publishedState() === RS_HALTED && Atomics.load(ctl, base + C_EXIT_REASON) === XR_HALT_NO_INTERRUPTS &&
    (Atomics.load(ctl, base + C_PENDING) & P_WAKES_WITH_IF_OFF) !== 0) setRunState(RS_RUNNING);
}

/** what the machine's watcher sees now (onStartup and sleep publish too, not only the run loops) */
function publishedState(): number {
  return Atomics.load(ctl, base + C_RUNSTATE);
}

function publishRip(): void {
  const rip = cpu.rip < 0 ? cpu.rip + 2 ** 64 : cpu.rip;
  ctl[base + C_LAST_RIP_LO] = rip % TWO32 | 0;
  ctl[base + C_LAST_RIP_HI] = Math.floor(rip / TWO32) | 0;
}

/** Sleep until something is pending or the next local timer deadline. */
function sleep(waitingForSipi: boolean): void {
  // while asleep this core owes nothing before its own deadline (a sender lowers the hold:
  // interrupt-delivery.ts); published before the pending check, so a racing sender wins
  clock.awake(false);
  clock.hold(d.core, waitingForSipi ? Infinity : lapic.nextDeadlineNs());
  const seen = Atomics.load(ctl, base + C_WAKE);
  const ifOff = (cpu.flags & IF) === 0;
  // a pending maskable request (a PIT tick posted as ExtINT, say) cannot wake a core with IF=0
  const pending = Atomics.load(ctl, base + C_PENDING);
  if (pending !== 0 && ((pending & P_WAKES_WITH_IF_OFF) !== 0 || (!ifOff && !waitingForSipi))) {
    clock.awake(true);
    clock.nowNs();
    return;
  }
  const now = clock.nowNs();
  const deadline = waitingForSipi ? Infinity : lapic.nextDeadlineNs();
  if (!waitingForSipi && ifOff) {
    // halted with interrupts off: only NMI/INIT/SIPI can wake it; let the machine know
    publishRip(); // before the state change wakes the machine's watcher, which reports it
    setRunState(RS_HALTED, XR_HALT_NO_INTERRUPTS);
  } else if (!waitingForSipi) {
    setRunState(RS_HALTED);
  }
  const timeoutMs = deadline === Infinity ? 1000 : Math.max(0, (deadline - now) / 1e6);
  waiter.wait(seen, timeoutMs);
  // running again before whatever woke it is consumed (see watchRunStates); a core that only
  // timed out and halts again republishes its halt at the next HLT
  if (!waitingForSipi) setRunState(RS_RUNNING);
  clock.awake(true);
  haltedNs += clock.nowNs() - now; // (the read also marks this core caught up to now)
  ctl[base + C_STAT_HALTED_NS_LO] = haltedNs % TWO32 | 0;
  ctl[base + C_STAT_HALTED_NS_HI] = Math.floor(haltedNs / TWO32);
  cpu.eventCheck = true;
}

/** Announce this worker built; the BSP waits for every worker before its first instruction. */
function readyGate(): void {
  Atomics.add(ctl, G_READY, 1);
  Atomics.notify(ctl, G_READY);
  if (!d.boot) return;
  const n = ctl[G_NCORES];
  const until = Date.now() + 60_000; // a worker that never comes up must not hang the machine
  for (let r = Atomics.load(ctl, G_READY); r < n && Date.now() < until; r = Atomics.load(ctl, G_READY)) {
    if ((Atomics.load(ctl, base + C_PENDING) & P_STOP) !== 0) return;
    Atomics.wait(ctl, G_READY, r, 100);
  }
}

function applyCommands(): void {
  if (!d.control) return;
  for (let m = receiveMessageOnPort(d.control); m; m = receiveMessageOnPort(d.control)) {
    const c = m.message as CoreCommand;
    if (c.type === 'debug') debugConfig = c.config;
    else if (c.type === 'registers') writeRegisters(cpu, c.values);
    else if (c.type === 'save') saveCore();
    else if (c.type === 'restore') restoreCore(c.state);
  }
}

function saveCore(): void {
  let m: CoreMessage;
  try {
    m = { type: 'saved', core: d.core, state: { cpu: saveCpuState(cpu), lapic: lapic.saveState() } };
  } catch (e) {
    m = { type: 'saved', core: d.core, state: null, error: (e as Error).message };
  }
  parentPort!.postMessage(m);
}

/** Take a snapshot's state while parked; the machine wrote this core's shared words already. */
function restoreCore(s: CoreSavedState): void {
  clock.resync();
  let m: CoreMessage;
  try {
    restoreCpuState(cpu, s.cpu);
    lapic.restoreState(s.lapic);
    haltedNs = 0;
    m = { type: 'restored', core: d.core, regs: readRegisters(cpu), halted: cpu.halted || cpu.waitingForSipi };
  } catch (e) {
    m = { type: 'restored', core: d.core, regs: null, halted: false, error: (e as Error).message };
  }
  parentPort!.postMessage(m);
}

/**
 * Park until CoreControl bumps C_RESUME_SEQ (or the machine stops): publish the registers,
 * apply register writes and the next debug configuration, then go back to running. The
 * sequence is read before the registers are posted, so a resume can never be missed.
 */
function park(stop: StopReason): void {
  const seq = Atomics.load(ctl, base + C_RESUME_SEQ);
  publishRip();
  setRunState(RS_PAUSED);
  parentPort!.postMessage({ type: 'parked', core: d.core, stop, regs: readRegisters(cpu), halted: cpu.halted || cpu.waitingForSipi } satisfies CoreMessage);
  for (;;) {
    applyCommands();
    if (Atomics.load(ctl, base + C_RESUME_SEQ) !== seq || (Atomics.load(ctl, base + C_PENDING) & P_STOP) !== 0) break;
    Atomics.wait(ctl, base + C_RESUME_SEQ, seq, 1000);
  }
  applyCommands();
  const wasDebugging = cpu.debug !== null;
  const hooks = debugConfig ? new CoreDebug(debugConfig, ram, d.shared.layout) : null;
  cpu.debug = hooks;
  if (wasDebugging !== (hooks !== null)) cpu.flushBlocks(); // one-instruction blocks only while debugging
  hooks?.arm(cpu);
  cpu.eventCheck = true;
}

/** Handle a run() result shared by both schedules; returns false when the worker must end. */
function afterRun(r: number): boolean {
  if (r === RUN_DEAD) {
    publishRip();
    ctl[base + C_EXIT_DETAIL] = cpu.faultVector;
    setRunState(RS_DEAD, XR_TRIPLE_FAULT);
    parentPort!.postMessage({ type: 'dead', core: d.core, reason: cpu.deadReason, rip: cpu.rip } satisfies CoreMessage);
    return false;
  }
  return true;
}

function runSafely(budget: number): number | null {
  try {
    return cpu.run(budget);
  } catch (e) {
    publishRip();
    const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
    setRunState(RS_DEAD, XR_INTERNAL_ERROR);
    parentPort!.postMessage({ type: 'error', core: d.core, message, rip: cpu.rip } satisfies CoreMessage);
    return null;
  }
}

/** Real time: run freely, sleeping while halted. Returns false when the worker already reported its end. */
function runFree(): boolean {
  const slice = d.slice ?? 500_000;
  for (;;) {
    const r = runSafely(slice);
    if (r === null) return false;
    if (r !== RUN_WAIT_SIPI) clock.nowNs(); // checkpoint
    if (r === RUN_BUDGET) {
      if (publishedState() !== RS_RUNNING) setRunState(RS_RUNNING);
      continue;
    }
    if (r === RUN_STOPPED) return true;
    if (r === RUN_PAUSED) {
      park((cpu.debug as CoreDebug | null)?.stop ?? { kind: 'pause' });
      setRunState(RS_RUNNING);
      continue;
    }
    if (!afterRun(r)) return false;
    if (r === RUN_HALTED) { sleep(false); continue; }
    if (r === RUN_WAIT_SIPI) {
      if (publishedState() !== RS_WAIT_SIPI) setRunState(RS_WAIT_SIPI);
      sleep(true);
      continue;
    }
  }
}

/** Wait until this core holds the turn; false when the machine is stopping. */
function awaitTurn(): boolean {
  for (;;) {
    const t = Atomics.load(ctl, G_TURN);
    if (t === d.core) return true;
    if ((Atomics.load(ctl, base + C_PENDING) & P_STOP) !== 0) return false;
    Atomics.wait(ctl, G_TURN, t, 200);
  }
}

/**
 * -icount: cores take turns in core order, then the I/O thread (machine.ts), which applies
 * device timer events and moves an idle machine's time to its next event. Each turn runs one
 * quantum of instructions or until the core halts, so every interleaving of shared memory,
 * IPIs and device interrupts is the same on every run.
 */
function runInTurns(): boolean {
  const quantum = clock.quantum();
  const ncores = ctl[G_NCORES];
  for (;;) {
    if (!awaitTurn()) return true;
    const budget = clock.turnBudget(d.core, ncores, quantum);
    if (budget === 0) {
      // the round reached its limit (a virtual LAN's window) before this core's turn
      Atomics.store(ctl, G_TURN, d.core + 1);
      Atomics.notify(ctl, G_TURN);
      continue;
    }
    clock.beginTurn();
    announceWake();
    const before = cpu.retired;
    cpu.eventCheck = true; // interrupts posted while other cores ran are looked at first
    let r = runSafely(budget);
    if (r === null) return false;
    if (r === RUN_YIELD) r = RUN_BUDGET;
    const paused = r === RUN_PAUSED;
    if (paused) r = RUN_BUDGET;
    clock.publish();
    if (cpu.retired !== before) Atomics.store(ctl, G_ROUND_PROGRESS, 1);
    // when this core next needs a turn: now if it can run, else its own timer deadline
    const asleep = r === RUN_HALTED || r === RUN_WAIT_SIPI;
    clock.hold(d.core, !asleep ? clock.nowNs() : r === RUN_WAIT_SIPI ? Infinity : lapic.nextDeadlineNs());
    Atomics.store(ctl, G_TURN, d.core + 1); // the turn moves on whatever happened (ncores = the I/O thread)
    Atomics.notify(ctl, G_TURN);
    if (paused) park((cpu.debug as CoreDebug | null)?.stop ?? { kind: 'pause' });
    if (r === RUN_STOPPED) return true;
    if (!afterRun(r)) return false;
    const s = r === RUN_HALTED ? RS_HALTED : r === RUN_WAIT_SIPI ? RS_WAIT_SIPI : RS_RUNNING;
    const w = s === RS_HALTED && (cpu.flags & IF) === 0 ? XR_HALT_NO_INTERRUPTS : XR_NONE;
    if (s !== publishedState() || w !== Atomics.load(ctl, base + C_EXIT_REASON)) {
      if (w !== XR_NONE) publishRip(); // before the watcher reports it
      setRunState(s, w);
    }
  }
}

function main(): void {
  readyGate();
  if (d.boot) {
    setBootState(cpu, d.boot);
    if (d.boot.mode === 'power-on') lapic.applyPowerOnBspState();
    else lapic.applyFirmwareState();
    clock.awake(true);
    clock.nowNs();
    setRunState(RS_RUNNING);
  } else {
    enterWaitForSipi(cpu);
    cpu.firmware = d.firmware === true;
    setRunState(RS_WAIT_SIPI);
  }
  if (!(icount ? runInTurns() : runFree())) return;
  clock.awake(false);
  clock.hold(d.core, Infinity);
  publishRip();
  setRunState(RS_STOPPED);
  parentPort!.postMessage({ type: 'stopped', core: d.core, retired: cpu.retired } satisfies CoreMessage);
}

main();
