// Pausing and resuming cores from the I/O thread, for the gdb stub, the monitor and QMP.
// A pause request sets the P_PAUSE pending bit; the core parks at its next block boundary (a
// halted or SIPI-waiting core is woken to park), posts its registers and sleeps in Atomics.wait
// on C_RESUME_SEQ until a resume bumps it. Commands for a parked core (register writes, the debug
// configuration for its next run) go over a MessagePort it drains before resuming.

import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { DebugConfig, StopReason } from '../debug/core-debug.js';
import type { CoreRegisters } from '../debug/x86-registers.js';
import { C_PENDING, C_RESUME_SEQ, C_RUNSTATE, P_PAUSE, RS_DEAD, RS_HALTED, RS_STOPPED, RS_WAIT_SIPI, coreBase } from '../abi/control-block.js';
import type { CoreCommand, CoreSavedState } from './core-worker.js';
import { wakeCore, wakeHost } from '../abi/interrupt-delivery.js';

export interface ParkedCore {
  stop: StopReason;
  regs: CoreRegisters;
  /** parked while in HLT or waiting for SIPI */
  halted: boolean;
}

/**
 * Events: 'parked' (core, stop) for every core that parks; 'stopped' once every live core is
 * parked; 'resumed' when cores are let go.
 */
export class CoreControl extends EventEmitter {
  readonly parked: (ParkedCore | null)[];
  private readonly ports: MessagePort[] = [];
  private readonly workerPorts: MessagePort[] = [];
  private allStopped = false;
  /** snapshot requests waiting for a parked core's answer */
  private readonly waiting = new Map<number, { resolve: (v: CoreSavedState | null) => void; reject: (e: Error) => void }>();

  constructor(private readonly ctl: Int32Array, readonly cores: number) {
    super();
    this.parked = new Array(cores).fill(null);
    for (let i = 0; i < cores; i++) {
      const ch = new MessageChannel();
      ch.port1.unref();
      this.ports.push(ch.port1);
      this.workerPorts.push(ch.port2);
    }
  }

  /** The port core `i`'s worker reads commands from (transferred to it at start). */
  workerPort(i: number): MessagePort {
    return this.workerPorts[i];
  }

  /** Make every core park before it runs its first instruction (-S). */
  requestPauseAtStart(): void {
    for (let i = 0; i < this.cores; i++) this.request(i);
  }

  /** A core's worker reported that it parked. */
  onParked(core: number, stop: StopReason, regs: CoreRegisters, halted: boolean): void {
    this.parked[core] = { stop, regs, halted };
    this.emit('parked', core, stop);
    this.checkAllStopped();
  }

  /** A core left for good (machine exit, triple fault): it will never park. */
  onCoreGone(): void {
    this.checkAllStopped();
  }

  /** Whether a core can still run (not dead, not left the run loop). */
  live(core: number): boolean {
    const rs = Atomics.load(this.ctl, coreBase(core) + C_RUNSTATE);
    return rs !== RS_DEAD && rs !== RS_STOPPED;
  }

  /** Every live core is parked. */
  get stopped(): boolean {
    for (let i = 0; i < this.cores; i++) if (this.live(i) && this.parked[i] === null) return false;
    return true;
  }

  /** Ask every core to park; resolves once all live cores have (or after `timeoutMs`). */
  pauseAll(timeoutMs = 10_000): Promise<boolean> {
    for (let i = 0; i < this.cores; i++) if (this.parked[i] === null && this.live(i)) this.request(i);
    if (this.stopped) { this.checkAllStopped(); return Promise.resolve(true); }
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.off('stopped', done); resolve(false); }, timeoutMs);
      const done = () => { clearTimeout(t); resolve(true); };
      this.once('stopped', done);
    });
  }

  /**
   * Let cores run again: `only` resumes one core (the others stay parked, as gdb's step of one
   * thread), else every parked core. `config` is each resumed core's debug configuration.
   */
  resume(config: (core: number) => DebugConfig | null, only?: number): void {
    const which = only === undefined ? [...Array(this.cores).keys()] : [only];
    let any = false;
    for (const i of which) {
      if (this.parked[i] === null) continue;
      this.send(i, { type: 'debug', config: config(i) });
      this.parked[i] = null;
      const b = coreBase(i);
      Atomics.and(this.ctl, b + C_PENDING, ~P_PAUSE);
      Atomics.add(this.ctl, b + C_RESUME_SEQ, 1);
      Atomics.notify(this.ctl, b + C_RESUME_SEQ);
      wakeHost(this.ctl, i); // a core hosted with others parks without blocking its worker
      any = true;
    }
    if (any) {
      const was = this.allStopped;
      this.allStopped = false;
      if (was) this.emit('resumed');
    }
  }

  /** Whether a core is in HLT (or waiting for a start-up IPI). */
  halted(core: number): boolean {
    const rs = Atomics.load(this.ctl, coreBase(core) + C_RUNSTATE);
    const p = this.parked[core];
    return p ? p.halted : rs === RS_HALTED || rs === RS_WAIT_SIPI;
  }

  /** Registers of a parked core (null while it runs). */
  registers(core: number): CoreRegisters | null {
    return this.parked[core]?.regs ?? null;
  }

  /** Write registers of a parked core (applied before it resumes). */
  setRegisters(core: number, values: CoreRegisters): void {
    const p = this.parked[core];
    if (!p) throw new Error(`core ${core} is running`);
    Object.assign(p.regs, values);
    this.send(core, { type: 'registers', values });
  }

  /** The state of parked core `core` (CPU and local APIC), for a snapshot. */
  saveCore(core: number): Promise<CoreSavedState> {
    return this.ask(core, { type: 'save' }) as Promise<CoreSavedState>;
  }

  /** Give parked core `core` a snapshot's state (applied before it resumes; guest time already restarted). */
  async restoreCore(core: number, state: CoreSavedState): Promise<void> {
    await this.ask(core, { type: 'restore', state });
  }

  /** A parked core answered a snapshot request ('saved' or 'restored'). */
  onAnswer(core: number, state: CoreSavedState | null, error: string | undefined, regs?: CoreRegisters | null, halted?: boolean): void {
    const w = this.waiting.get(core);
    if (!w) return;
    this.waiting.delete(core);
    if (error !== undefined) { w.reject(new Error(`core ${core}: ${error}`)); return; }
    const p = this.parked[core];
    if (p && regs) { p.regs = regs; p.halted = halted ?? p.halted; }
    w.resolve(state);
  }

  private ask(core: number, c: CoreCommand): Promise<CoreSavedState | null> {
    if (this.parked[core] === null) return Promise.reject(new Error(`core ${core} is not parked`));
    if (this.waiting.has(core)) return Promise.reject(new Error(`core ${core} is busy with another snapshot request`));
    return new Promise((resolve, reject) => {
      this.waiting.set(core, { resolve, reject });
      this.send(core, c);
      // a parked core drains its port at least once a second (core-worker.ts park); wake it now
      Atomics.notify(this.ctl, coreBase(core) + C_RESUME_SEQ);
      wakeHost(this.ctl, core);
    });
  }

  private send(core: number, c: CoreCommand): void {
    this.ports[core].postMessage(c);
  }

  private request(core: number): void {
    Atomics.or(this.ctl, coreBase(core) + C_PENDING, P_PAUSE);
    wakeCore(this.ctl, core);
  }

  private checkAllStopped(): void {
    if (this.allStopped || !this.stopped) return;
    this.allStopped = true;
    this.emit('stopped');
  }
}
