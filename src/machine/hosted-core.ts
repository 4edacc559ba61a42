// One emulated core as a worker thread hosts it: its Cpu, local APIC, device bus, its own
// Clock (per-core time state: checkpoints, holds, -icount turn counts) and wake waiter, and the
// steps of its run loop (sleep, park, run a slice). A worker hosts one such core (the default)
// or several that take turns (core-worker.ts, --cores-per-worker): every piece of per-core
// state lives here, so cores hosted together share nothing but the thread.

import { parentPort, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Cpu, RUN_DEAD, RUN_WAIT_SIPI } from '../cpu/cpu.js';
import { CoreDebug, type DebugConfig, type StopReason } from '../debug/core-debug.js';
import { readRegisters, writeRegisters } from '../debug/x86-registers.js';
import { IF, TWO32 } from '../cpu/regs.js';
import { enterWaitForSipi, setBootState } from '../cpu/reset.js';
import { Lapic } from '../devices/lapic.js';
import { setTimeSource } from '../cpu/msr.js';
import { Clock, TIME_ICOUNT, useClock } from '../abi/clock.js';
import {
  C_EXIT_DETAIL, C_EXIT_REASON, C_LAST_RIP_HI, C_LAST_RIP_LO, C_PENDING, C_RESUME_SEQ, C_RUNSTATE, C_STAT_HALTED_NS_HI,
  C_STAT_HALTED_NS_LO, C_WAKE, G_EVENT, P_STOP, P_WAKES_WITH_IF_OFF,
  RS_DEAD, RS_HALTED, RS_PAUSED, RS_RUNNING, RS_STOPPED, RS_WAIT_SIPI, XR_HALT_NO_INTERRUPTS, XR_INTERNAL_ERROR, XR_NONE, XR_TRIPLE_FAULT,
  coreBase,
} from '../abi/control-block.js';
import { CompileClient, installCompileClient } from '../cpu/wasm/compile-client.js';
import { MailboxBus } from './mailbox-bus.js';
import { WakeWaiter } from './wake-wait.js';
import { restoreCpuState, saveCpuState } from '../cpu/cpu-snapshot.js';
import { holdTranslationsAfterRestore } from '../cpu/block-compiler.js';
import type { CoreCommand, CoreMessage, CoreSavedState, CoreWorkerData } from './core-worker.js';

/** A sleep begun by beginSleep: what ends it (the wake word moving, or the host-time deadline). */
interface Sleep {
  seen: number;
  /** host ms (performance.now) when its timer deadline is due (Infinity: none) */
  untilMs: number;
  timeoutMs: number;
  /** guest ns when it began */
  startNs: number;
  sipi: boolean;
}

export class HostedCore {
  readonly core: number;
  readonly base: number;
  readonly ctl: Int32Array;
  readonly clock: Clock;
  readonly icount: boolean;
  readonly bus: MailboxBus;
  readonly cpu: Cpu;
  readonly lapic: Lapic;
  readonly waiter: WakeWaiter;
  private readonly ram: Uint8Array;
  private haltedNs = 0;
  private debugConfig: DebugConfig | null = null;
  /** a sleep in progress (grouped workers end it between other cores' slices) */
  sleeping: Sleep | null = null;
  /** parked: the resume sequence it waits to move (grouped workers) */
  parkedSeq: number | null = null;

  constructor(private readonly d: CoreWorkerData, core: number, private readonly control: MessagePort | undefined) {
    this.core = core;
    this.ctl = d.shared.ctl;
    this.base = coreBase(core);
    this.clock = new Clock(this.ctl);
    useClock(this.ctl, this.clock); // wakeCore and the MSRs read the clock of the core that runs
    this.icount = this.clock.mode === TIME_ICOUNT;
    const clock = this.clock;
    // Devices read and written in the core (device-shared.ts) apply posted writes on the I/O
    // thread whenever it wakes, which is not a defined point of the -icount turn order: under
    // -icount every access goes through the mailbox, at the accessing instruction, except the
    // HPET counter, a function of the core's own clock. PARALLAX_DEVICE_FASTPATH=0 sends every
    // access through the mailbox, in either time model (for comparison).
    const noFast = process.env.PARALLAX_DEVICE_FASTPATH === '0';
    const bus = new MailboxBus(this.ctl, core, this.icount || noFast ? undefined : d.devices, noFast ? undefined : d.devices);
    bus.clock = this.clock;
    const cpu = new Cpu(d.shared, bus, core);
    // tier 3's compile service; under -icount a block switches to its translation at the run
    // that asked (deterministic)
    const link = d.compile?.[core - d.core];
    if (link) installCompileClient(core, new CompileClient(link.port, link.sab, link.slot, this.icount));
    const lapic = new Lapic(this.ctl, core, clock, { onLevelEoi: (v) => bus.levelEoi(v) });
    this.bus = bus;
    this.cpu = cpu;
    this.lapic = lapic;
    cpu.lapic = lapic;
    bus.lapic = lapic;
    setTimeSource(cpu, () => clock.nowNs());
    clock.attachCore(core, () => cpu.retired, () => lapic.nextDeadlineNs());
    if (this.icount) {
      bus.beforeExit = () => clock.publish(); // a device sees the instant of the access
      cpu.oversubscribed = false; // only the turn holder runs: a PAUSE loop has nobody to wait for
      cpu.yieldOnPause = true; // ... except the cores after it in the turn order
    } else {
      // the running core's checkpoints (a clock read is one): guest time may not run far past
      // the last one without this core
      cpu.timeCheckpoint = () => clock.nowNs();
      bus.beforeExit = cpu.timeCheckpoint;
    }
    cpu.onStartup = () => this.setRunState(RS_RUNNING);
    this.waiter = new WakeWaiter(this.ctl, core);
    this.ram = new Uint8Array(d.shared.ram);
  }

  /** Make this core the one the thread's clock readers (wakeCore, MSRs) see. */
  select(): void {
    useClock(this.ctl, this.clock);
  }

  setRunState(s: number, reason = XR_NONE): void {
    const ctl = this.ctl;
    Atomics.store(ctl, this.base + C_RUNSTATE, s);
    Atomics.store(ctl, this.base + C_EXIT_REASON, reason);
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
  announceWake(): void {
    if (this.publishedState() === RS_HALTED && Atomics.load(this.ctl, this.base + C_EXIT_REASON) === XR_HALT_NO_INTERRUPTS &&
      (Atomics.load(this.ctl, this.base + C_PENDING) & P_WAKES_WITH_IF_OFF) !== 0) this.setRunState(RS_RUNNING);
  }

  /** what the machine's watcher sees now (onStartup and sleep publish too, not only the run loops) */
  publishedState(): number {
    return Atomics.load(this.ctl, this.base + C_RUNSTATE);
  }

  stopRequested(): boolean {
    return (Atomics.load(this.ctl, this.base + C_PENDING) & P_STOP) !== 0;
  }

  publishRip(): void {
    const cpu = this.cpu;
    const rip = cpu.rip < 0 ? cpu.rip + 2 ** 64 : cpu.rip;
    this.ctl[this.base + C_LAST_RIP_LO] = rip % TWO32 | 0;
    this.ctl[this.base + C_LAST_RIP_HI] = Math.floor(rip / TWO32) | 0;
  }

  /** Power-on state: the BSP at its boot entry, an AP waiting for INIT-SIPI-SIPI. */
  powerOn(): void {
    const d = this.d;
    if (this.core === 0 && d.boot) {
      setBootState(this.cpu, d.boot);
      if (d.boot.mode === 'power-on') this.lapic.applyPowerOnBspState();
      else this.lapic.applyFirmwareState();
      this.clock.awake(true);
      this.clock.nowNs();
      this.setRunState(RS_RUNNING);
    } else {
      enterWaitForSipi(this.cpu);
      this.cpu.firmware = d.firmware === true;
      this.setRunState(RS_WAIT_SIPI);
    }
  }

  /**
   * Start a sleep until something is pending or the next local timer deadline. Returns false
   * when something is pending already (the core runs on at once).
   */
  beginSleep(waitingForSipi: boolean): boolean {
    const ctl = this.ctl;
    const base = this.base;
    const clock = this.clock;
    // while asleep this core owes nothing before its own deadline (a sender lowers the hold:
    // interrupt-delivery.ts); published before the pending check, so a racing sender wins
    clock.awake(false);
    clock.hold(this.core, waitingForSipi ? Infinity : this.lapic.nextDeadlineNs());
    const seen = Atomics.load(ctl, base + C_WAKE);
    const ifOff = (this.cpu.flags & IF) === 0;
    // a pending maskable request (a PIT tick posted as ExtINT, say) cannot wake a core with IF=0
    const pending = Atomics.load(ctl, base + C_PENDING);
    if (pending !== 0 && ((pending & P_WAKES_WITH_IF_OFF) !== 0 || (!ifOff && !waitingForSipi))) {
      clock.awake(true);
      clock.nowNs();
      return false;
    }
    const now = clock.nowNs();
    const deadline = waitingForSipi ? Infinity : this.lapic.nextDeadlineNs();
    if (!waitingForSipi && ifOff) {
      // halted with interrupts off: only NMI/INIT/SIPI can wake it; let the machine know
      this.publishRip(); // before the state change wakes the machine's watcher, which reports it
      this.setRunState(RS_HALTED, XR_HALT_NO_INTERRUPTS);
    } else if (!waitingForSipi) {
      this.setRunState(RS_HALTED);
    }
    const timeoutMs = deadline === Infinity ? 1000 : Math.max(0, (deadline - now) / 1e6);
    this.sleeping = { seen, timeoutMs, untilMs: deadline === Infinity ? Infinity : performance.now() + timeoutMs, startNs: now, sipi: waitingForSipi };
    return true;
  }

  /** A grouped worker's check: whether this core's sleep is over (woken, or its deadline came). */
  sleepOver(nowMs: number): boolean {
    const s = this.sleeping!;
    return Atomics.load(this.ctl, this.base + C_WAKE) !== s.seen || nowMs >= s.untilMs;
  }

  /** Host ms left until this sleeping core's deadline (Infinity: none). */
  sleepLeftMs(nowMs: number): number {
    return this.sleeping!.untilMs - nowMs;
  }

  /**
   * Running again: before whatever woke it is consumed (see the machine's watchRunStates).
   * `count`: a grouped worker's sleep, whose wake-up (if it was one) the waiter did not count.
   */
  endSleep(count = false): void {
    const s = this.sleeping!;
    this.sleeping = null;
    if (count && Atomics.load(this.ctl, this.base + C_WAKE) !== s.seen) this.waiter.woken();
    // a core that only timed out and halts again republishes its halt at the next HLT
    if (!s.sipi) this.setRunState(RS_RUNNING);
    this.clock.awake(true);
    this.haltedNs += this.clock.nowNs() - s.startNs; // (the read also marks this core caught up to now)
    this.ctl[this.base + C_STAT_HALTED_NS_LO] = this.haltedNs % TWO32 | 0;
    this.ctl[this.base + C_STAT_HALTED_NS_HI] = Math.floor(this.haltedNs / TWO32);
    this.cpu.eventCheck = true;
  }

  /** A core alone in its worker sleeps in place (wake-wait.ts). */
  sleep(waitingForSipi: boolean): void {
    if (!this.beginSleep(waitingForSipi)) return;
    this.waiter.wait(this.sleeping!.seen, this.sleeping!.timeoutMs);
    this.endSleep();
  }

  applyCommands(): void {
    const port = this.control;
    if (!port) return;
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      const c = m.message as CoreCommand;
      if (c.type === 'debug') this.debugConfig = c.config;
      else if (c.type === 'registers') writeRegisters(this.cpu, c.values);
      else if (c.type === 'save') this.saveCore();
      else if (c.type === 'restore') this.restoreCore(c.state);
    }
  }

  private saveCore(): void {
    let m: CoreMessage;
    try {
      m = { type: 'saved', core: this.core, state: { cpu: saveCpuState(this.cpu), lapic: this.lapic.saveState() } };
    } catch (e) {
      m = { type: 'saved', core: this.core, state: null, error: (e as Error).message };
    }
    parentPort!.postMessage(m);
  }

  /** Take a snapshot's state while parked; the machine wrote this core's shared words already. */
  private restoreCore(s: CoreSavedState): void {
    this.clock.resync();
    let m: CoreMessage;
    try {
      restoreCpuState(this.cpu, s.cpu);
      this.lapic.restoreState(s.lapic);
      this.haltedNs = 0;
      if (!this.icount) holdTranslationsAfterRestore();
      m = { type: 'restored', core: this.core, regs: readRegisters(this.cpu), halted: this.cpu.halted || this.cpu.waitingForSipi };
    } catch (e) {
      m = { type: 'restored', core: this.core, regs: null, halted: false, error: (e as Error).message };
    }
    parentPort!.postMessage(m);
  }

  /**
   * Park until CoreControl bumps C_RESUME_SEQ (or the machine stops): publish the registers,
   * apply register writes and the next debug configuration, then go back to running. The
   * sequence is read before the registers are posted, so a resume can never be missed.
   * beginPark/parkOver/endPark are the steps; park() does them in place (a core alone).
   */
  beginPark(stop: StopReason): void {
    const seq = Atomics.load(this.ctl, this.base + C_RESUME_SEQ);
    this.publishRip();
    this.setRunState(RS_PAUSED);
    parentPort!.postMessage({ type: 'parked', core: this.core, stop, regs: readRegisters(this.cpu), halted: this.cpu.halted || this.cpu.waitingForSipi } satisfies CoreMessage);
    this.parkedSeq = seq;
  }

  /** Drain commands; whether the park is over (resumed, or the machine stops). */
  parkOver(): boolean {
    this.applyCommands();
    return Atomics.load(this.ctl, this.base + C_RESUME_SEQ) !== this.parkedSeq || this.stopRequested();
  }

  endPark(): void {
    this.parkedSeq = null;
    this.applyCommands();
    const cpu = this.cpu;
    const wasDebugging = cpu.debug !== null;
    const hooks = this.debugConfig ? new CoreDebug(this.debugConfig, this.ram, this.d.shared.layout) : null;
    cpu.debug = hooks;
    if (wasDebugging !== (hooks !== null)) cpu.flushBlocks(); // one-instruction blocks only while debugging
    hooks?.arm(cpu);
    cpu.eventCheck = true;
  }

  park(stop: StopReason): void {
    this.beginPark(stop);
    while (!this.parkOver()) Atomics.wait(this.ctl, this.base + C_RESUME_SEQ, this.parkedSeq!, 1000);
    this.endPark();
  }

  /** why the core stopped for a pause (its debugger's stop, or a plain pause) */
  pauseReason(): StopReason {
    return (this.cpu.debug as CoreDebug | null)?.stop ?? { kind: 'pause' };
  }

  /** Handle a run() result shared by every schedule; returns false when the core has ended. */
  afterRun(r: number): boolean {
    if (r === RUN_DEAD) {
      this.publishRip();
      this.ctl[this.base + C_EXIT_DETAIL] = this.cpu.faultVector;
      this.setRunState(RS_DEAD, XR_TRIPLE_FAULT);
      parentPort!.postMessage({ type: 'dead', core: this.core, reason: this.cpu.deadReason, rip: this.cpu.rip } satisfies CoreMessage);
      return false;
    }
    return true;
  }

  /** cpu.run, with an exception reported as the core's death; null then. */
  runSafely(budget: number): number | null {
    try {
      return this.cpu.run(budget);
    } catch (e) {
      this.publishRip();
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      this.setRunState(RS_DEAD, XR_INTERNAL_ERROR);
      parentPort!.postMessage({ type: 'error', core: this.core, message, rip: this.cpu.rip } satisfies CoreMessage);
      return null;
    }
  }

  /** After a real-time run: checkpoint (not for a core waiting for SIPI, which has no time). */
  checkpoint(r: number): void {
    if (r !== RUN_WAIT_SIPI) this.clock.nowNs();
  }

  /** The run loop left for good (machine stop): release time and say so. */
  finish(): void {
    this.clock.awake(false);
    this.clock.hold(this.core, Infinity);
    this.publishRip();
    this.setRunState(RS_STOPPED);
    parentPort!.postMessage({ type: 'stopped', core: this.core, retired: this.cpu.retired } satisfies CoreMessage);
  }
}
