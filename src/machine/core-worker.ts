// Entry point of a core worker thread: builds its emulated core (or, with --cores-per-worker,
// several consecutive cores: hosted-core.ts holds each one's Cpu, LAPIC, bus and clock) over
// the shared RAM and control block, then runs until the machine stops. A core alone in its
// worker sleeps on its C_WAKE word while halted (wake-wait.ts: a brief poll only while host
// cores are spare, then Atomics.wait) until an interrupt or its next timer deadline. Cores
// hosted together take turns (runGroup): each runs a slice until it halts, parks or its slice
// ends; the worker sleeps on one word (C_WORKER_WAKE) only when none of them can run.
// Every worker is built before the bootstrap processor runs its first instruction, so an AP
// answers a SIPI at once. Under -icount the cores take turns (runInTurns): one core runs at a
// time, in core order, for a fixed instruction quantum or until it halts; a grouped worker
// hosts consecutive cores, so the order is the same however cores are grouped.

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { SharedMemory } from '../abi/shared-memory.js';
import { RUN_BUDGET, RUN_HALTED, RUN_PAUSED, RUN_STOPPED, RUN_WAIT_SIPI, RUN_YIELD } from '../cpu/cpu.js';
import type { DebugConfig, StopReason } from '../debug/core-debug.js';
import type { CoreRegisters } from '../debug/x86-registers.js';
import { IF } from '../cpu/regs.js';
import type { BootEntry } from '../cpu/reset.js';
import {
  C_EXIT_REASON, C_PENDING, C_RESUME_SEQ, C_WORKER_SLEEPING, C_WORKER_WAKE, G_NCORES, G_READY, G_ROUND_PROGRESS, G_TURN, P_STOP,
  RS_HALTED, RS_RUNNING, RS_WAIT_SIPI, XR_HALT_NO_INTERRUPTS, XR_NONE, coreBase,
} from '../abi/control-block.js';
import type { CpuSnapshot } from '../cpu/cpu-snapshot.js';
import { HostedCore } from './hosted-core.js';
import type { CompileLink } from './compile-service.js';
import type { StandbyData } from './standby-worker.js';
import { onWakeFromThisThread } from '../abi/interrupt-delivery.js';
import { startMark } from './start-trace.js';
import { passTurn, turnBell } from '../abi/turns.js';

export interface CoreWorkerData {
  shared: SharedMemory;
  /** device state shared with the I/O thread (src/abi/device-shared.ts) */
  devices?: SharedArrayBuffer;
  /** the (first) core this worker hosts */
  core: number;
  /** how many consecutive cores from `core` it hosts (--cores-per-worker; default 1) */
  count?: number;
  /** entry state for the bootstrap processor (core 0); APs wait for INIT-SIPI-SIPI */
  boot: BootEntry | null;
  /** -bios: the machine runs firmware (every core, APs included: no no-firmware stops) */
  firmware?: boolean;
  /** instructions per run() slice (how often the worker looks around) */
  slice?: number;
  /** commands from the machine's CoreControl while a core is parked (debugger, monitor): one port per hosted core */
  control?: MessagePort[];
  /** workers of the machine outnumber host cores (a grouped core's PAUSE loop then sleeps briefly) */
  oversubscribed?: boolean;
  /** tier 3's compile service (src/machine/compile-service.ts), when the machine runs one: one link per hosted core */
  compile?: CompileLink[];
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

/** this worker's data, control block and cores (set once by `begin`) */
let d!: CoreWorkerData;
let ctl!: Int32Array;
const hosted: HostedCore[] = [];

/** Build this worker's cores and run them until the machine stops. */
function begin(data: CoreWorkerData): void {
  d = data;
  startMark(`worker of core ${d.core}: code loaded`);
  ctl = d.shared.ctl;
  for (let k = 0; k < (d.count ?? 1); k++) hosted.push(new HostedCore(d, d.core + k, d.control?.[k]));
  startMark(`worker of core ${d.core}: ${hosted.length} core(s) built`);
  main();
}
/** a grouped core's run slice (instructions): how long a sibling's wake-up may wait for its turn */
const GROUP_SLICE = 20_000;

/** Announce this worker's cores built; the BSP waits for every worker before its first instruction. */
function readyGate(): void {
  Atomics.add(ctl, G_READY, hosted.length);
  Atomics.notify(ctl, G_READY);
  if (!d.boot) return;
  const n = ctl[G_NCORES];
  const until = Date.now() + 60_000; // a worker that never comes up must not hang the machine
  for (let r = Atomics.load(ctl, G_READY); r < n && Date.now() < until; r = Atomics.load(ctl, G_READY)) {
    if ((Atomics.load(ctl, coreBase(d.core) + C_PENDING) & P_STOP) !== 0) return;
    Atomics.wait(ctl, G_READY, r, 100);
  }
}

/** Real time, one core: run freely, sleeping while halted. Returns false when the core already reported its end. */
function runFree(c: HostedCore): boolean {
  const slice = d.slice ?? 500_000;
  for (;;) {
    const r = c.runSafely(slice);
    if (r === null) return false;
    c.checkpoint(r);
    if (r === RUN_BUDGET) {
      if (c.publishedState() !== RS_RUNNING) c.setRunState(RS_RUNNING);
      continue;
    }
    if (r === RUN_STOPPED) return true;
    if (r === RUN_PAUSED) {
      c.park(c.pauseReason());
      c.setRunState(RS_RUNNING);
      continue;
    }
    if (!c.afterRun(r)) return false;
    if (r === RUN_HALTED) { c.sleep(false); continue; }
    if (r === RUN_WAIT_SIPI) {
      if (c.publishedState() !== RS_WAIT_SIPI) c.setRunState(RS_WAIT_SIPI);
      c.sleep(true);
      continue;
    }
  }
}

/**
 * Real time, several cores: each runnable core in turn runs a slice (or until it halts, parks
 * or spins on PAUSE while a sibling could run); a halted core costs one check of its wake word
 * per pass; when none can run the worker sleeps on C_WORKER_WAKE, which every request for any
 * of its cores moves (interrupt-delivery.ts wakeHost), until the nearest timer deadline.
 */
function runGroup(): void {
  const slice = Math.min(d.slice ?? 500_000, GROUP_SLICE);
  const wakeWord = coreBase(d.core) + C_WORKER_WAKE;
  const sleepingWord = coreBase(d.core) + C_WORKER_SLEEPING;
  const live = hosted.slice();
  for (const c of live) c.cpu.oversubscribed = d.oversubscribed === true;
  // a core that wakes a sleeping sibling (an IPI) ends its slice after the current block, so
  // the sibling runs now and not a slice later
  let running: HostedCore | null = null;
  onWakeFromThisThread((core) => {
    const k = core - d.core;
    if (running !== null && k >= 0 && k < hosted.length && hosted[k] !== running && hosted[k].sleeping !== null) running.cpu.exitReason = RUN_YIELD;
  });
  /** whether core c can run now, ending its sleep or park if it is over */
  const ready = (c: HostedCore, nowMs: number): boolean => {
    if (c.parkedSeq !== null) {
      if (!c.parkOver()) return false;
      c.endPark();
      c.setRunState(RS_RUNNING);
      return true;
    }
    if (c.sleeping !== null) {
      if (!c.sleepOver(nowMs)) return false;
      c.endSleep(true);
    }
    return true;
  };
  while (live.length > 0) {
    let ran = false;
    const nowMs = performance.now();
    let runnable = 0;
    for (const c of live) if (c.parkedSeq === null && (c.sleeping === null || c.sleepOver(nowMs))) runnable++;
    for (let k = 0; k < live.length; k++) {
      const c = live[k];
      if (!ready(c, nowMs)) continue;
      c.select();
      c.cpu.yieldOnPause = runnable > 1; // a spin-wait lets a sibling (maybe the lock holder) run
      running = c;
      const r = c.runSafely(slice);
      running = null;
      ran = true;
      let ended = r === null;
      if (r !== null) {
        c.checkpoint(r);
        if (r === RUN_BUDGET || r === RUN_YIELD) {
          if (c.publishedState() !== RS_RUNNING) c.setRunState(RS_RUNNING);
        } else if (r === RUN_STOPPED) {
          c.finish();
          ended = true;
        } else if (r === RUN_PAUSED) {
          c.beginPark(c.pauseReason());
        } else if (!c.afterRun(r)) {
          ended = true;
        } else if (r === RUN_HALTED) {
          c.beginSleep(false);
        } else if (r === RUN_WAIT_SIPI) {
          if (c.publishedState() !== RS_WAIT_SIPI) c.setRunState(RS_WAIT_SIPI);
          c.beginSleep(true);
        }
      }
      if (ended) { live.splice(k, 1); k--; }
    }
    if (ran || live.length === 0) continue;
    // none could run: sleep until a request for any of them, or the nearest deadline
    Atomics.store(ctl, sleepingWord, 1);
    const seen = Atomics.load(ctl, wakeWord);
    const now = performance.now();
    let timeoutMs = 1000;
    let any = false;
    for (const c of live) {
      if (c.parkedSeq !== null) { any ||= c.parkOver(); continue; }
      if (c.sleepOver(now)) { any = true; break; }
      timeoutMs = Math.min(timeoutMs, c.sleepLeftMs(now));
    }
    if (!any) Atomics.wait(ctl, wakeWord, seen, Math.max(0, timeoutMs));
    Atomics.store(ctl, sleepingWord, 0);
  }
}

/**
 * -icount: one turn of core c, which holds it: one quantum of instructions or until it halts.
 * Returns 'on' to keep taking turns, 'stopped' when the core left its run loop (the machine
 * stops), 'ended' when it already reported its end (death).
 */
function turn(c: HostedCore, ncores: number, quantum: number, grouped: boolean): 'on' | 'stopped' | 'ended' {
  const clock = c.clock;
  const cpu = c.cpu;
  const core = c.core;
  c.select();
  const budget = clock.turnBudget(core, ncores, quantum);
  if (budget === 0) {
    // the round reached its limit (a virtual LAN's window) before this core's turn
    passTurn(ctl, core + 1);
    return 'on';
  }
  clock.beginTurn();
  c.announceWake();
  const before = cpu.retired;
  cpu.eventCheck = true; // interrupts posted while other cores ran are looked at first
  let r = c.runSafely(budget);
  if (r === null) return 'ended';
  if (r === RUN_YIELD) r = RUN_BUDGET;
  const paused = r === RUN_PAUSED;
  if (paused) r = RUN_BUDGET;
  clock.publish();
  if (cpu.retired !== before) Atomics.store(ctl, G_ROUND_PROGRESS, 1);
  // when this core next needs a turn: now if it can run, else its own timer deadline
  const asleep = r === RUN_HALTED || r === RUN_WAIT_SIPI;
  clock.hold(core, !asleep ? clock.nowNs() : r === RUN_WAIT_SIPI ? Infinity : c.lapic.nextDeadlineNs());
  passTurn(ctl, core + 1); // the turn moves on whatever happened (ncores = the I/O thread)
  // a core alone parks in place (the turn order stops at it); one hosted with others parks
  // without blocking its worker, so its siblings can take their turns and park too
  if (paused) {
    if (grouped) c.beginPark(c.pauseReason());
    else c.park(c.pauseReason());
  }
  if (r === RUN_STOPPED) return 'stopped';
  if (!c.afterRun(r)) return 'ended';
  const s = r === RUN_HALTED ? RS_HALTED : r === RUN_WAIT_SIPI ? RS_WAIT_SIPI : RS_RUNNING;
  const w = s === RS_HALTED && (cpu.flags & IF) === 0 ? XR_HALT_NO_INTERRUPTS : XR_NONE;
  if (s !== c.publishedState() || w !== Atomics.load(ctl, c.base + C_EXIT_REASON)) {
    if (w !== XR_NONE) c.publishRip(); // before the watcher reports it
    c.setRunState(s, w);
  }
  return 'on';
}

/**
 * -icount: cores take turns in core order, then the I/O thread (machine.ts), which applies
 * device timer events and moves an idle machine's time to its next event. Each turn runs one
 * quantum of instructions or until the core halts, so every interleaving of shared memory,
 * IPIs and device interrupts is the same on every run. This worker's cores are consecutive:
 * it takes each of their turns as G_TURN reaches them. Cores that leave through the machine's
 * stop report it (finish); one that died already reported its end.
 */
function runInTurns(): void {
  const quantum = hosted[0].clock.quantum();
  const ncores = ctl[G_NCORES];
  const first = d.core;
  const grouped = hosted.length > 1;
  const wakeWord = coreBase(first) + C_WORKER_WAKE;
  const sleepingWord = coreBase(first) + C_WORKER_SLEEPING;
  const state: ('on' | 'stopped' | 'ended')[] = hosted.map(() => 'on');
  const bell = turnBell(first);
  for (;;) {
    // parked cores (grouped) take their commands and see their resume here
    const seen = Atomics.load(ctl, wakeWord);
    const rung = Atomics.load(ctl, bell);
    let parked = false;
    for (const c of hosted) {
      if (c.parkedSeq === null) continue;
      if (c.parkOver()) c.endPark();
      else parked = true;
    }
    const t = Atomics.load(ctl, G_TURN);
    const k = t - first;
    if (k >= 0 && k < hosted.length) {
      const c = hosted[k];
      if (state[k] !== 'on') { passTurn(ctl, t + 1); continue; } // a core that left passes its turns on
      if (c.parkedSeq === null) { state[k] = turn(c, ncores, quantum, grouped); continue; }
      // the turn stops at a parked core, as it does at one alone: wait for its resume
      Atomics.store(ctl, sleepingWord, 1);
      Atomics.wait(ctl, wakeWord, seen, 200);
      Atomics.store(ctl, sleepingWord, 0);
      continue;
    }
    if (state.every((s) => s !== 'on') || hosted.some((c) => c.stopRequested())) break;
    // a parked sibling's commands (snapshot save/restore) are looked at every few ms
    Atomics.wait(ctl, bell, rung, parked ? 5 : 200);
  }
  hosted.forEach((c, k) => { if (state[k] === 'on' || state[k] === 'stopped') c.finish(); });
}

function main(): void {
  readyGate();
  for (const c of hosted) c.powerOn();
  if (hosted[0].icount) { runInTurns(); return; }
  if (hosted.length > 1) { runGroup(); return; }
  const c = hosted[0];
  if (runFree(c)) c.finish();
}

// started on standby (standby-worker.ts: before the machine existed): the machine posts the data
const given = workerData as CoreWorkerData | StandbyData;
if ('standby' in given) {
  startMark('core worker on standby: code loaded');
  parentPort!.once('message', (data: CoreWorkerData) => begin(data));
} else {
  begin(given);
}
