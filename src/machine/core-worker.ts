// Entry point of one emulated core's worker thread: builds the Cpu and its LAPIC over the
// shared RAM and control block, then runs until the machine stops. A halted core sleeps in
// Atomics.wait on its C_WAKE word (never spins) until an interrupt or its next timer deadline.

import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { SharedMemory } from '../abi/shared-memory.js';
import { Cpu, RUN_BUDGET, RUN_DEAD, RUN_HALTED, RUN_PAUSED, RUN_STOPPED, RUN_WAIT_SIPI } from '../cpu/cpu.js';
import { CoreDebug, type DebugConfig, type StopReason } from '../debug/core-debug.js';
import { readRegisters, writeRegisters, type CoreRegisters } from '../debug/x86-registers.js';
import { IF } from '../cpu/regs.js';
import { enterWaitForSipi, setBootState, type BootEntry } from '../cpu/reset.js';
import { Lapic } from '../devices/lapic.js';
import { Clock } from '../abi/clock.js';
import {
  C_EXIT_DETAIL, C_EXIT_REASON, C_RESUME_SEQ, P_PAUSE, RS_PAUSED, C_LAST_RIP_HI, C_LAST_RIP_LO, C_PENDING, C_RUNSTATE, C_STAT_HALTED_NS_HI,
  C_STAT_HALTED_NS_LO, C_WAKE, G_EVENT, P_INIT, P_NMI, P_SIPI, P_SMI, P_STOP, RS_DEAD, RS_HALTED, RS_RUNNING, RS_STOPPED, RS_WAIT_SIPI, XR_HALT_NO_INTERRUPTS,
  XR_INTERNAL_ERROR, XR_NONE, XR_TRIPLE_FAULT, coreBase,
} from '../abi/control-block.js';
import { MailboxBus } from './mailbox-bus.js';
import { TWO32 } from '../cpu/regs.js';

export interface CoreWorkerData {
  shared: SharedMemory;
  core: number;
  /** entry state for the bootstrap processor (core 0); APs wait for INIT-SIPI-SIPI */
  boot: BootEntry | null;
  /** instructions per run() slice (how often the worker looks around) */
  slice?: number;
  /** commands from the machine's CoreControl while this core is parked (debugger, monitor) */
  control?: MessagePort;
}

/** What CoreControl sends a parked core (read with receiveMessageOnPort: the core is blocked). */
export type CoreCommand =
  | { type: 'debug'; config: DebugConfig | null }
  | { type: 'registers'; values: CoreRegisters };

export type CoreMessage =
  | { type: 'dead'; core: number; reason: string; rip: number }
  | { type: 'error'; core: number; message: string; rip: number }
  | { type: 'stopped'; core: number; retired: number }
  | { type: 'parked'; core: number; stop: StopReason; regs: CoreRegisters; halted: boolean };

const d = workerData as CoreWorkerData;
const ctl = d.shared.ctl;
const base = coreBase(d.core);
const clock = new Clock(ctl);
const bus = new MailboxBus(ctl, d.core);
const cpu = new Cpu(d.shared, bus, d.core);
const lapic = new Lapic(ctl, d.core, clock, { onLevelEoi: (v) => bus.levelEoi(v) });
cpu.lapic = lapic;
bus.lapic = lapic;
let haltedNs = 0;
/** pending bits that end a sleep whatever IF says */
const WAKES_WITH_IF_OFF = P_STOP | P_INIT | P_SIPI | P_NMI | P_SMI | P_PAUSE;
const ram = new Uint8Array(d.shared.ram);
let debugConfig: DebugConfig | null = null;

function setRunState(s: number, reason = XR_NONE): void {
  Atomics.store(ctl, base + C_RUNSTATE, s);
  Atomics.store(ctl, base + C_EXIT_REASON, reason);
  Atomics.add(ctl, G_EVENT, 1);
  Atomics.notify(ctl, G_EVENT);
}

function publishRip(): void {
  const rip = cpu.rip < 0 ? cpu.rip + 2 ** 64 : cpu.rip;
  ctl[base + C_LAST_RIP_LO] = rip % TWO32 | 0;
  ctl[base + C_LAST_RIP_HI] = Math.floor(rip / TWO32) | 0;
}

/** Sleep until something is pending or the next local timer deadline. */
function sleep(waitingForSipi: boolean): void {
  const seen = Atomics.load(ctl, base + C_WAKE);
  const ifOff = (cpu.flags & IF) === 0;
  // a pending maskable request (a PIT tick posted as ExtINT, say) cannot wake a core with IF=0
  const pending = Atomics.load(ctl, base + C_PENDING);
  if (pending !== 0 && ((pending & WAKES_WITH_IF_OFF) !== 0 || (!ifOff && !waitingForSipi))) return;
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
  Atomics.wait(ctl, base + C_WAKE, seen, timeoutMs);
  haltedNs += clock.nowNs() - now;
  ctl[base + C_STAT_HALTED_NS_LO] = haltedNs % TWO32 | 0;
  ctl[base + C_STAT_HALTED_NS_HI] = Math.floor(haltedNs / TWO32);
  cpu.eventCheck = true;
}

function applyCommands(): void {
  if (!d.control) return;
  for (let m = receiveMessageOnPort(d.control); m; m = receiveMessageOnPort(d.control)) {
    const c = m.message as CoreCommand;
    if (c.type === 'debug') debugConfig = c.config;
    else if (c.type === 'registers') writeRegisters(cpu, c.values);
  }
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

function main(): void {
  if (d.boot) {
    setBootState(cpu, d.boot);
    lapic.applyFirmwareState();
    setRunState(RS_RUNNING);
  } else {
    enterWaitForSipi(cpu);
    setRunState(RS_WAIT_SIPI);
  }
  const slice = d.slice ?? 500_000;
  let state = d.boot ? RS_RUNNING : RS_WAIT_SIPI;
  for (;;) {
    let r: number;
    try {
      r = cpu.run(slice);
    } catch (e) {
      publishRip();
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      setRunState(RS_DEAD, XR_INTERNAL_ERROR);
      parentPort!.postMessage({ type: 'error', core: d.core, message, rip: cpu.rip } satisfies CoreMessage);
      return;
    }
    if (r === RUN_BUDGET) {
      if (state !== RS_RUNNING) { state = RS_RUNNING; setRunState(RS_RUNNING); }
      continue;
    }
    if (r === RUN_STOPPED) break;
    if (r === RUN_PAUSED) {
      park((cpu.debug as CoreDebug | null)?.stop ?? { kind: 'pause' });
      state = RS_RUNNING;
      setRunState(RS_RUNNING);
      continue;
    }
    if (r === RUN_DEAD) {
      publishRip();
      ctl[base + C_EXIT_DETAIL] = cpu.faultVector;
      setRunState(RS_DEAD, XR_TRIPLE_FAULT);
      parentPort!.postMessage({ type: 'dead', core: d.core, reason: cpu.deadReason, rip: cpu.rip } satisfies CoreMessage);
      return;
    }
    if (r === RUN_HALTED) { state = RS_HALTED; sleep(false); continue; }
    if (r === RUN_WAIT_SIPI) {
      if (state !== RS_WAIT_SIPI) { state = RS_WAIT_SIPI; setRunState(RS_WAIT_SIPI); }
      sleep(true);
      continue;
    }
  }
  publishRip();
  setRunState(RS_STOPPED);
  parentPort!.postMessage({ type: 'stopped', core: d.core, retired: cpu.retired } satisfies CoreMessage);
}

main();
