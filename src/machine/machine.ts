// A whole emulated server: guest RAM and the control block, the I/O thread's devices, and
// one worker per core. The main thread services every core's device mailbox, watches run
// states, and decides when the machine ends (isa-debug-exit, all cores stopped, a triple
// fault, or every core halted with interrupts off).

import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createSharedMemory, type SharedMemory } from '../abi/shared-memory.js';
import type { BootEntry } from '../cpu/reset.js';
import {
  C_APIC_ID, C_EXIT_REASON, C_PENDING, C_LAST_RIP_HI, C_LAST_RIP_LO, C_MBOX_ADDR_HI, C_MBOX_ADDR_LO, C_MBOX_KIND, C_MBOX_SIZE,
  C_MBOX_STATE, C_MBOX_VAL_HI, C_MBOX_VAL_LO, C_RESUME_SEQ, C_RUNSTATE, C_STAT_INSNS_HI, C_STAT_INSNS_LO, C_HOST_WAKE, C_WORKER_WAKE, G_EVENT, G_HOST_CORES, G_HOST_LOAD_X100, G_READY, G_ROUND_PROGRESS, G_TURN, MAX_CORES,
  MBOX_REPLY, MBOX_REQUEST, MB_EOI, MB_FERR, MB_IO_READ, MB_IO_WRITE, MB_MMIO_READ, MB_MMIO_WRITE, P_SIPI, P_STOP, P_WAKES_WITH_IF_OFF, RS_DEAD,
  RS_HALTED, RS_STOPPED, RS_WAIT_SIPI, XR_HALT_NO_INTERRUPTS, coreBase, createControlBuffer,
} from '../abi/control-block.js';
import type { CoreMessage, CoreWorkerData } from './core-worker.js';
import { CoreControl } from './core-control.js';
import { wakeCore } from '../abi/interrupt-delivery.js';
import { ramLayout, type RamLayout } from '../abi/memory-map.js';
import { TIME_ICOUNT, clockFor, configureTime, type TimeModel } from '../abi/clock.js';
import { coreWorkerPath } from './worker-path.js';
import { CompileService, compileServiceWanted } from './compile-service.js';
import { takeStandbyCoreWorker, workerLimits } from './standby-worker.js';
import { createDeviceShared, DS_PW_DOORBELL, PW_EOI, PW_IO_WRITE, PW_MMIO_WRITE, PW_NIC_ICR_READ } from '../abi/device-shared.js';
import { applyPosted, awake, prepareToSleep } from '../abi/posted-writes.js';
import { TWO32 } from '../cpu/regs.js';
import { passTurn, ringAllTurnBells, setTurnBell } from '../abi/turns.js';
import { startMark } from './start-trace.js';

/** -icount: a hub port in the virtual time (src/net/virtual-time-link.ts), as the I/O thread's turn uses it */
export interface TimeLink {
  /** every frame due before this instant is here */
  grant(): number;
  /** delivery instant of the earliest frame waiting (Infinity: none) */
  nextArrival(): number;
  /** hand the frames due by `ns` to the NIC; returns how many */
  deliverDue(ns: number): number;
  /** nothing will be sent before `ns` */
  promise(ns: number): void;
  /** resolves when a grant or a frame comes, or after `ms` */
  changed(ms: number): Promise<void>;
  /** the hub's link latency once it welcomed us */
  readonly welcome: { latencyNs: number } | null;
}

/** The I/O thread's side of the machine (src/machine/platform.ts builds the real one). */
export interface IoPlatform {
  ioRead(port: number, size: number): number;
  ioWrite(port: number, size: number, value: number): void;
  mmioRead(paddr: number, size: number): number;
  mmioWrite(paddr: number, size: number, value: number): void;
  /** one 8-byte access (a 64-bit MOV), not two 4-byte ones */
  mmioRead64(paddr: number): bigint;
  mmioWrite64(paddr: number, value: bigint): void;
  levelEoi(vector: number): void;
  /** core `core` drives FERR# (x87 error with CR0.NE = 0); returns IGNNE# */
  ferr?(core: number, asserted: boolean): boolean;
  /** -icount: run the device timer callbacks due by now; returns how many ran */
  runDueTimers?(): number;
  /** -icount: instant of the earliest pending device timer (Infinity: none) */
  nextTimerNs?(): number;
  /** a core read NIC `nic`'s ICR from shared state (posted PW_NIC_ICR_READ): re-evaluate its interrupt */
  nicIcrWasRead(nic: number): void;
  /** refresh the device state cores read without the I/O thread (src/abi/device-shared.ts) */
  publishShared(): void;
  /** stop timers, close backends */
  shutdown(): void;
}

/** How the machine ended. Exit codes are even so they never collide with isa-debug-exit's odd ones. */
export type MachineExit =
  | { kind: 'debug-exit'; code: number }
  | { kind: 'poweroff'; code: 0 }
  | { kind: 'reset'; code: number; detail: string }
  | { kind: 'triple-fault'; code: 4; core: number; rip: number; detail: string }
  | { kind: 'halted'; code: 6; detail: string }
  | { kind: 'internal-error'; code: 8; core: number; rip: number; detail: string }
  | { kind: 'unsupported'; code: 10; detail: string }
  | { kind: 'stopped'; code: number };

export const EXIT_TRIPLE_FAULT = 4;
export const EXIT_ALL_HALTED = 6;
export const EXIT_INTERNAL = 8;
/** the guest asked for something this machine does not model (ACPI S3/S4 sleep) */
export const EXIT_UNSUPPORTED = 10;

export interface MachineOptions {
  cores: number;
  memoryBytes: number;
  /** instructions per worker run slice */
  slice?: number;
  /** the time model (src/abi/clock.ts); default load-independent real time */
  time?: TimeModel;
  /** -icount: an idle machine's time follows the host's (QEMU's sleep=on, the default) */
  sleepWhenIdle?: boolean;
  /** park every core before its first instruction (-S: a debugger or the monitor starts them) */
  startPaused?: boolean;
  /** -bios: bytes of the firmware window below 4 GiB (src/abi/memory-map.ts) */
  biosBytes?: number;
  /**
   * --cores-per-worker: emulated cores hosted by one worker thread (default 1: a worker per
   * core, as the design describes); 'auto' spreads the cores over one worker per host CPU
   * (docs/ARCHITECTURE.md, "Several cores per worker")
   */
  coresPerWorker?: number | 'auto';
}

/**
 * Cores per worker for `cores` emulated cores: the option, or 'auto' = one worker per host CPU.
 * Without the option PARALLAX_CORES_PER_WORKER (N or auto) decides (to run a test suite grouped).
 */
export function coresPerWorker(cores: number, option: number | 'auto' | undefined, hostCpus = availableParallelism()): number {
  const env = process.env.PARALLAX_CORES_PER_WORKER;
  if (option === undefined && env !== undefined && env !== '') option = env === 'auto' ? 'auto' : Number(env);
  if (option === undefined) return 1;
  if (option === 'auto') return Math.max(1, Math.ceil(cores / Math.max(1, hostCpus)));
  if (!Number.isInteger(option) || option < 1) throw new MachineError(`--cores-per-worker must be a positive integer or 'auto' (got ${option})`);
  return Math.min(option, cores);
}

/** -icount default quantum: instructions per core turn (docs/ARCHITECTURE.md, "Time") */
export const DEFAULT_QUANTUM = 20_000;

export class MachineError extends Error {}

export class Machine {
  readonly ctl: Int32Array;
  readonly shared: SharedMemory;
  /** device state the cores read and post writes to (src/abi/device-shared.ts) */
  readonly devices: SharedArrayBuffer = createDeviceShared();
  private readonly dw = new Int32Array(this.devices);
  readonly layout: RamLayout;
  readonly cores: number;
  private workers: Worker[] = [];
  /** tier 3's compile worker, shared by every core (compile-service.ts), when there is one */
  compileService: CompileService | null = null;
  /** the worker hosting each core (an index into workers) */
  private workerOf: number[] = [];
  /** cores hosted by each worker */
  readonly perWorker: number;
  private platform: IoPlatform | null = null;
  private ended = false;
  private resolveExit!: (e: MachineExit) => void;
  readonly exited: Promise<MachineExit>;
  private stopped = new Set<number>();
  private pendingExit: MachineExit | null = null;
  /**
   * -icount: inputs from outside the virtual time (console bytes, network frames) wait here and
   * are applied at the I/O thread's turn; each returns how many it applied.
   */
  readonly turnInputs: Array<() => number> = [];
  /** -icount: hub ports in the virtual time; the I/O thread's turn waits for their grants */
  readonly timeLinks: TimeLink[] = [];
  private readonly sleepWhenIdle: boolean;
  /** pause/resume cores, read and write a parked core's registers (gdb stub, monitor, QMP) */
  readonly control: CoreControl;

  constructor(readonly opts: MachineOptions) {
    if (!Number.isInteger(opts.cores) || opts.cores < 1 || opts.cores > MAX_CORES) {
      throw new MachineError(`--cores must be an integer from 1 to ${MAX_CORES} (got ${opts.cores})`);
    }
    if (!Number.isFinite(opts.memoryBytes) || opts.memoryBytes < 16 * 1024 * 1024 || opts.memoryBytes % 4096 !== 0) {
      throw new MachineError('memory must be at least 16 MiB and a multiple of 4 KiB');
    }
    if (opts.memoryBytes > 4 * 1024 ** 3 - 4096) {
      throw new MachineError('memory above 4 GiB is not supported yet (RAM views are Uint8Array)');
    }
    this.cores = opts.cores;
    this.layout = ramLayout(opts.memoryBytes, opts.biosBytes ?? 0);
    this.ctl = createControlBuffer(opts.cores, opts.memoryBytes);
    try {
      this.shared = createSharedMemory(opts.memoryBytes, this.layout, this.ctl);
    } catch (e) {
      throw new MachineError(`cannot allocate ${Math.round(opts.memoryBytes / 2 ** 20)} MiB of guest memory: ${(e as Error).message}`);
    }
    this.ctl[G_HOST_CORES] = availableParallelism();
    configureTime(this.ctl, opts.time ?? { mode: 'real' });
    this.sleepWhenIdle = opts.sleepWhenIdle ?? true;
    this.ctl[G_HOST_LOAD_X100] = Math.round(loadavg()[0] * 100);
    // Local APICs exist from power-on, before any worker has built its Lapic: publish each
    // core's APIC ID (= core index, as the Lapic sets it) now, or an INIT/SIPI sent to an AP
    // whose worker is still starting resolves to no core and is lost (and a physical
    // destination 0 would reach every such core).
    for (let i = 0; i < opts.cores; i++) this.ctl[coreBase(i) + C_APIC_ID] = i & 0xff;
    this.exited = new Promise((r) => (this.resolveExit = r));
    this.control = new CoreControl(this.ctl, opts.cores);
    this.perWorker = coresPerWorker(opts.cores, opts.coresPerWorker);
    // a grouped core's wake-ups also move the word its worker sleeps on (its first core's)
    if (this.perWorker > 1) {
      for (let i = 0; i < opts.cores; i++) this.ctl[coreBase(i) + C_HOST_WAKE] = coreBase(i - (i % this.perWorker)) + C_WORKER_WAKE;
    }
    for (let i = 0; i < opts.cores; i++) setTurnBell(this.ctl, i, i - (i % this.perWorker));
  }

  /** A Uint8Array view of guest RAM (for loaders and DMA on the I/O thread). */
  ramView(): Uint8Array {
    return new Uint8Array(this.shared.ram, 0, this.layout.ramBytes);
  }

  /** Start every core: core 0 at `boot`, the others waiting for INIT-SIPI-SIPI. */
  start(platform: IoPlatform, boot: BootEntry): void {
    this.platform = platform;
    const file = coreWorkerPath();
    // Node adds an 'error' listener to process.stdout/stderr for every worker thread: one per
    // core (plus the device-timer thread) is expected, not a leak, so raise the warning limit.
    for (const s of [process.stdout, process.stderr]) s.setMaxListeners(s.getMaxListeners() + Math.ceil(this.cores / this.perWorker) + 2);
    if (this.opts.startPaused) this.control.requestPauseAtStart();
    if (this.shared.wasmMemory && compileServiceWanted(this.cores)) {
      this.compileService = new CompileService(this.cores);
      this.compileService.onError((e) => process.emitWarning(`tier 3 compile worker failed (cores translate on their own): ${e.message}`));
    }
    const per = this.perWorker;
    const nworkers = Math.ceil(this.cores / per);
    for (let first = 0; first < this.cores; first += per) {
      const count = Math.min(per, this.cores - first);
      const control = Array.from({ length: count }, (_, k) => this.control.workerPort(first + k));
      const compile = this.compileService ? Array.from({ length: count }, (_, k) => this.compileService!.linkFor(first + k)) : undefined;
      const data: CoreWorkerData = {
        shared: this.shared, devices: this.devices, core: first, count, boot: first === 0 ? boot : null, firmware: boot.mode === 'power-on', slice: this.opts.slice, control,
        oversubscribed: nworkers > this.ctl[G_HOST_CORES], compile,
      };
      const transferList = [...control, ...(compile ?? []).map((c) => c.port)];
      // the first worker may be waiting already (standby-worker.ts: started by the command)
      const standby = first === 0 ? takeStandbyCoreWorker(file) : null;
      if (standby !== null) standby.postMessage(data, transferList);
      const w = standby ?? new Worker(file, { workerData: data, transferList, resourceLimits: workerLimits() });
      const wi = this.workers.length;
      w.on('message', (m: CoreMessage) => this.onCoreMessage(m));
      w.on('error', (e) => this.finish({ kind: 'internal-error', code: EXIT_INTERNAL, core: first, rip: 0, detail: e.stack ?? String(e) }));
      w.on('exit', () => { for (let k = 0; k < count; k++) this.onWorkerExit(first + k); });
      this.workers.push(w);
      for (let k = 0; k < count; k++) {
        this.workerOf.push(wi);
        void this.serviceMailbox(first + k);
      }
    }
    startMark(`${this.workers.length} core workers spawned`);
    if (this.compileService) void this.startCompileServiceWhenBuilt(this.compileService);
    platform.publishShared();
    void this.servicePostedWrites();
    void this.watchRunStates();
    if (clockFor(this.ctl).mode === TIME_ICOUNT) void this.ioTurns();
  }

  /** Spawn tier 3's compile worker once every core worker has built its cores (G_READY). */
  private async startCompileServiceWhenBuilt(service: CompileService): Promise<void> {
    for (let r = Atomics.load(this.ctl, G_READY); r < this.cores && !this.ended; r = Atomics.load(this.ctl, G_READY)) {
      const w = Atomics.waitAsync(this.ctl, G_READY, r, 1000);
      if (w.async) await w.value;
    }
    if (this.ended || this.pendingExit) return; // a machine on its way out (a refused restore) needs none
    try {
      service.start();
    } catch (e) {
      // a core's end of its channel closes with the core's worker: the cores translate on their own
      process.emitWarning(`tier 3 compile worker not started (cores translate on their own): ${(e as Error).message}`);
    }
  }

  /** Request the machine to end with `exit` (from a device: debug exit, reset, power off). */
  requestExit(exit: MachineExit): void {
    if (this.pendingExit || this.ended) return;
    this.pendingExit = exit;
    for (let i = 0; i < this.cores; i++) {
      Atomics.or(this.ctl, coreBase(i) + C_PENDING, P_STOP);
      wakeCore(this.ctl, i);
      Atomics.notify(this.ctl, coreBase(i) + C_RESUME_SEQ); // a parked core leaves too
    }
    ringAllTurnBells(this.ctl); // -icount: cores waiting for their turn see the stop
    // workers leave their loop at the next block boundary; don't wait forever for a stuck one
    setTimeout(() => this.finish(exit), 2000).unref();
  }

  /** The worker thread id of core `i` (monitor's info cpus, QMP's query-cpus-fast thread-id). */
  workerThreadId(i: number): number {
    return this.workers[this.workerOf[i]]?.threadId ?? -1;
  }

  /** Instructions retired so far by each core. */
  retired(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.cores; i++) {
      const b = coreBase(i);
      out.push((this.ctl[b + C_STAT_INSNS_HI] >>> 0) * TWO32 + (this.ctl[b + C_STAT_INSNS_LO] >>> 0));
    }
    return out;
  }

  private onCoreMessage(m: CoreMessage): void {
    if (m.type === 'dead') {
      this.requestExit({ kind: 'triple-fault', code: EXIT_TRIPLE_FAULT, core: m.core, rip: m.rip, detail: m.reason });
    } else if (m.type === 'parked') {
      this.control.onParked(m.core, m.stop, m.regs, m.halted);
    } else if (m.type === 'saved') {
      this.control.onAnswer(m.core, m.state, m.error);
    } else if (m.type === 'restored') {
      this.control.onAnswer(m.core, null, m.error, m.regs, m.halted);
    } else if (m.type === 'error') {
      this.requestExit({ kind: 'internal-error', code: EXIT_INTERNAL, core: m.core, rip: m.rip, detail: m.message });
    }
  }

  private onWorkerExit(i: number): void {
    this.stopped.add(i);
    this.control.onCoreGone();
    if (this.stopped.size === this.cores) this.finish(this.pendingExit ?? { kind: 'stopped', code: 0 });
  }

  private finish(exit: MachineExit): void {
    if (this.ended) return;
    if (this.platform) this.applyPostedWrites(); // the last console bytes a core queued
    this.ended = true;
    this.platform?.shutdown();
    for (const w of this.workers) void w.terminate();
    this.compileService?.stop();
    this.resolveExit(exit);
  }

  /** Serve one core's device mailbox on the I/O thread. */
  private async serviceMailbox(core: number): Promise<void> {
    const ctl = this.ctl;
    const b = coreBase(core);
    const st = b + C_MBOX_STATE;
    while (!this.ended) {
      const s = Atomics.load(ctl, st);
      if (s === MBOX_REQUEST) {
        this.handleRequest(b);
        Atomics.store(ctl, st, MBOX_REPLY);
        Atomics.notify(ctl, st);
        continue;
      }
      const w = Atomics.waitAsync(ctl, st, s, 1000);
      if (w.async) await w.value;
    }
  }

  /** Apply the cores' posted device writes whenever one is queued. */
  private async servicePostedWrites(): Promise<void> {
    const dw = this.dw;
    while (!this.ended) {
      const bell = Atomics.load(dw, DS_PW_DOORBELL);
      this.applyPostedWrites();
      if (!prepareToSleep(dw)) continue;
      const w = Atomics.waitAsync(dw, DS_PW_DOORBELL, bell, 1000);
      if (w.async) await w.value;
      awake(dw);
    }
  }

  /**
   * Apply every write the cores have posted so far (a snapshot, with every core parked, takes
   * the devices after the last write the guest made).
   */
  flushPostedWrites(): void {
    if (this.platform) this.applyPostedWrites();
  }

  /** Posted writes first, in order: a read (a mailbox request) must see every earlier write. */
  private applyPostedWrites(): void {
    const p = this.platform!;
    try {
      const n = applyPosted(this.dw, (kind, addr, size, value) => {
        switch (kind) {
          case PW_IO_WRITE: p.ioWrite(addr, size, value); break;
          case PW_MMIO_WRITE: p.mmioWrite(addr, size, value); break;
          case PW_EOI: p.levelEoi(addr); break;
          case PW_NIC_ICR_READ: p.nicIcrWasRead(addr); break;
        }
      });
      if (n > 0) p.publishShared();
    } catch (e) {
      this.requestExit({ kind: 'internal-error', code: EXIT_INTERNAL, core: -1, rip: 0, detail: `device error: ${(e as Error).stack}` });
    }
  }

  private handleRequest(b: number): void {
    this.applyPostedWrites();
    const ctl = this.ctl;
    const p = this.platform!;
    const kind = ctl[b + C_MBOX_KIND];
    const addr = (ctl[b + C_MBOX_ADDR_HI] >>> 0) * TWO32 + (ctl[b + C_MBOX_ADDR_LO] >>> 0);
    const size = ctl[b + C_MBOX_SIZE];
    const v = ctl[b + C_MBOX_VAL_LO];
    let r = 0;
    try {
      switch (kind) {
        case MB_IO_READ: r = p.ioRead(addr, size); break;
        case MB_IO_WRITE: p.ioWrite(addr, size, v); break;
        case MB_MMIO_READ:
          if (size === 8) {
            const v64 = p.mmioRead64(addr);
            r = Number(BigInt.asIntN(32, v64));
            ctl[b + C_MBOX_VAL_HI] = Number(BigInt.asIntN(32, v64 >> 32n));
          } else r = p.mmioRead(addr, size);
          break;
        case MB_MMIO_WRITE:
          if (size === 8) p.mmioWrite64(addr, (BigInt(ctl[b + C_MBOX_VAL_HI] >>> 0) << 32n) | BigInt(v >>> 0));
          else p.mmioWrite(addr, size, v);
          break;
        case MB_EOI: p.levelEoi(addr); break;
        case MB_FERR: r = (p.ferr?.(addr, v !== 0) ?? true) ? 1 : 0; break;
      }
    } catch (e) {
      this.requestExit({ kind: 'internal-error', code: EXIT_INTERNAL, core: -1, rip: 0, detail: `device error: ${(e as Error).stack}` });
    }
    ctl[b + C_MBOX_VAL_LO] = r;
    p.publishShared();
  }

  /** Whether the machine runs in instruction-count time. */
  get icount(): boolean {
    return clockFor(this.ctl).mode === TIME_ICOUNT;
  }

  /**
   * -icount: the I/O thread's turn, after every core's. Device timer events due by now run
   * here, outside inputs are applied here, and when a whole round retired nothing (every core
   * halted) time jumps to the next event: a device deadline or a core's own timer.
   */
  private async ioTurns(): Promise<void> {
    const ctl = this.ctl;
    const n = this.cores;
    const clock = clockFor(ctl);
    const p = this.platform!;
    const links = this.timeLinks;
    const applyInputs = (): number => this.turnInputs.reduce((k, f) => k + f(), 0);
    const grant = (): number => links.reduce((g, l) => Math.min(g, l.grant()), Infinity);
    const arrival = (): number => links.reduce((a, l) => Math.min(a, l.nextArrival()), Infinity);
    const deliver = (ns: number): number => links.reduce((k, l) => k + l.deliverDue(ns), 0);
    const promise = (ns: number): void => { for (const l of links) l.promise(ns); };
    const latency = (): number => links.reduce((a, l) => Math.min(a, l.welcome?.latencyNs ?? Infinity), Infinity);
    let lastPromise = -Infinity;
    let idleSince: { host: number; v: number } | null = null;
    while (!this.ended && !this.pendingExit) {
      const t = Atomics.load(ctl, G_TURN);
      if (t !== n) {
        const w = Atomics.waitAsync(ctl, G_TURN, t, 200);
        if (w.async) await w.value;
        continue;
      }
      let events = 0;
      if (links.length > 0) {
        // one virtual time across machines: every frame due by now must be here before this
        // turn takes any in; while it waits, the others may run up to now + the link latency
        const now = clock.nowNs();
        while (grant() <= now && !this.ended && !this.pendingExit) {
          promise(now);
          lastPromise = now;
          await Promise.race(links.map((l) => l.changed(50)));
        }
        events += deliver(now);
        if (now - lastPromise >= latency() / 2) { promise(now); lastPromise = now; }
      }
      events += (p.runDueTimers?.() ?? 0) + applyInputs();
      if (events === 0 && Atomics.load(ctl, G_ROUND_PROGRESS) === 0) {
        let local = p.nextTimerNs?.() ?? Infinity;
        for (let i = 0; i < n; i++) local = Math.min(local, clock.coreNeed(i));
        // sleep=on (QEMU's default): an idle machine's time runs no faster than the host's,
        // so peers outside the virtual time see it idle for as long as it is idle inside;
        // sleep=off jumps at once (nothing from outside can then arrive in between)
        if (idleSince === null) idleSince = { host: clock.hostNs(), v: clock.nowNs() };
        while (events === 0 && !this.ended && !this.pendingExit) {
          const allowed = this.sleepWhenIdle ? idleSince.v + (clock.hostNs() - idleSince.host) : Infinity;
          const next = Math.min(local, arrival());
          // on a virtual LAN: jump only to an instant below the grant (every frame due by then
          // is here); until then promise it, since an idle machine sends nothing before it wakes
          const g = grant();
          if (next <= allowed && next < g) {
            clock.jumpTo(next);
            events += deliver(clock.nowNs()) + (p.runDueTimers?.() ?? 0) + applyInputs();
            break;
          }
          if (links.length > 0) {
            const idlePromise = Math.min(next, g);
            if (idlePromise > lastPromise) { promise(idlePromise); lastPromise = idlePromise; }
          }
          // wait (host time) for the next event's instant, a grant, or something from outside
          const waitMs = next === Infinity ? 2 : Math.min(2, Math.max(0.05, (next - allowed) / 1e6));
          if (next < g || links.length === 0) await new Promise((r) => setTimeout(r, waitMs));
          else await Promise.race(links.map((l) => l.changed(Math.max(2, waitMs))));
          events = applyInputs();
          if (events > 0 && this.sleepWhenIdle) clock.jumpTo(Math.min(next, idleSince.v + (clock.hostNs() - idleSince.host)));
        }
      } else {
        idleSince = null;
      }
      if (links.length > 0 && latency() < Infinity) {
        // the next round stays inside one window of the link latency, and it may start only
        // when every frame due in that window is here: then it ends at the first one's instant
        // (cores take their turns up to it) and the frame goes in at exactly that instant
        const now = clock.nowNs();
        const L = latency();
        const windowEnd = (Math.floor(now / L) + 1) * L;
        while (grant() < windowEnd && !this.ended && !this.pendingExit) {
          if (now > lastPromise) { promise(now); lastPromise = now; }
          await Promise.race(links.map((l) => l.changed(50)));
        }
        clock.limitRound(Math.min(windowEnd, arrival()));
      }
      Atomics.store(ctl, G_ROUND_PROGRESS, 0);
      passTurn(ctl, 0);
    }
  }

  /** End the machine when no core can ever run again (all halted with IF=0, dead or stopped). */
  private async watchRunStates(): Promise<void> {
    const ctl = this.ctl;
    while (!this.ended) {
      const seen = Atomics.load(ctl, G_EVENT);
      let stuck = true;
      let anyHaltedNoIrq = false;
      for (let i = 0; i < this.cores; i++) {
        const b = coreBase(i);
        // pending first: a core consumes a wake-up only after it published "running", so a
        // request seen gone here means the run state read next is already the new one
        const pending = Atomics.load(ctl, b + C_PENDING);
        const rs = Atomics.load(ctl, b + C_RUNSTATE);
        const why = Atomics.load(ctl, b + C_EXIT_REASON);
        if (rs === RS_WAIT_SIPI && (pending & P_SIPI) !== 0) { stuck = false; continue; }
        if (rs === RS_HALTED && why === XR_HALT_NO_INTERRUPTS && (pending & P_WAKES_WITH_IF_OFF) === 0) { anyHaltedNoIrq = true; continue; }
        if (rs === RS_DEAD || rs === RS_STOPPED || rs === RS_WAIT_SIPI) continue;
        stuck = false;
      }
      if (stuck && anyHaltedNoIrq && !this.pendingExit) {
        const where: string[] = [];
        for (let i = 0; i < this.cores; i++) {
          const b = coreBase(i);
          const rip = (ctl[b + C_LAST_RIP_HI] >>> 0) * TWO32 + (ctl[b + C_LAST_RIP_LO] >>> 0);
          where.push(`core ${i} ${describeRunState(ctl[b + C_RUNSTATE])} at rip 0x${rip.toString(16)}`);
        }
        this.requestExit({ kind: 'halted', code: EXIT_ALL_HALTED, detail: `every core is halted with interrupts disabled (${where.join('; ')})` });
        return;
      }
      Atomics.store(ctl, G_HOST_LOAD_X100, Math.round(loadavg()[0] * 100));
      const w = Atomics.waitAsync(ctl, G_EVENT, seen, 500);
      if (w.async) await w.value;
    }
  }
}

function describeRunState(rs: number): string {
  return ['waiting for SIPI', 'running', 'halted', 'stopped', 'dead'][rs] ?? `state ${rs}`;
}
