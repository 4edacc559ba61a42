// The machine's compile service: one worker thread (src/cpu/wasm/compile-worker.ts) that
// translates and compiles tier 3's hot blocks for every core, so a block that 8 or 64 cores run
// (the kernel, shared libraries) is translated and compiled once, and a core keeps running a
// block's routines while its translation is made elsewhere instead of stalling for it.
// Each core gets a MessagePort to the worker and a reply counter in a small shared buffer (the
// core's run loop never returns to its event loop: compile-client.ts). PARALLAX_JIT_ASYNC=0
// (or PARALLAX_JIT_TIER below 3) starts no service: every core translates on its own thread.

import { availableParallelism, loadavg } from 'node:os';
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { SERVICE_STATS, serviceLayout } from '../cpu/wasm/compile-client.js';
import type { CompileWorkerData } from '../cpu/wasm/compile-worker.js';
import { compileWorkerPath } from './worker-path.js';

/** What a core worker needs to use the service. */
export interface CompileLink { port: MessagePort; sab: SharedArrayBuffer; slot: number }

/**
 * Whether a machine of `cores` gets a compile worker: PARALLAX_JIT_ASYNC=1 always, =0 never
 * (nor below tier 3, nor with PARALLAX_JIT_THRESHOLD=0, where every block is translated before
 * its first run). By default with two cores or more (what one core translates, the others
 * share), and for one core only when the host has a CPU to spare for the worker: measured on
 * the loaded 2-CPU host, a single core with the worker spent ~10% more CPU (a second isolate
 * loading and optimising the translator) and gained no wall time.
 */
export function compileServiceWanted(cores: number): boolean {
  const tier = process.env.PARALLAX_JIT_TIER;
  const mode = process.env.PARALLAX_JIT_ASYNC;
  if (mode === '0' || (tier !== undefined && tier !== '' && Number(tier) < 3) || process.env.PARALLAX_JIT_THRESHOLD === '0') return false;
  return mode === '1' || cores >= 2 || loadavg()[0] + 2 <= availableParallelism();
}

export class CompileService {
  readonly sab: SharedArrayBuffer;
  private worker: Worker | null = null;
  private readonly workerPorts: MessagePort[] = [];
  private readonly corePorts: MessagePort[] = [];
  private readonly stats: Float64Array;
  private readonly errorHandlers: ((e: Error) => void)[] = [];
  private stopped = false;

  constructor(readonly cores: number) {
    const layout = serviceLayout(cores);
    this.sab = new SharedArrayBuffer(layout.bytes);
    this.stats = new Float64Array(this.sab, layout.statsAt, SERVICE_STATS.length);
    for (let i = 0; i < cores; i++) {
      const ch = new MessageChannel();
      this.workerPorts.push(ch.port1);
      this.corePorts.push(ch.port2);
    }
  }

  /**
   * Spawn the worker. The machine does it once every core worker is built: a third isolate
   * starting beside the cores' own delays their start (measured ~30 ms of a 64-core start from
   * a snapshot on 2 host CPUs), and requests posted before then wait in their ports.
   */
  start(): void {
    if (this.worker !== null || this.stopped) return;
    const data: CompileWorkerData = { ports: this.workerPorts, sab: this.sab, cores: this.cores };
    this.worker = new Worker(compileWorkerPath(), { workerData: data, transferList: this.workerPorts });
    this.worker.unref();
    for (const f of this.errorHandlers) this.worker.on('error', f);
  }

  /** core `i`'s end (transferred to its worker once) */
  linkFor(i: number): CompileLink {
    return { port: this.corePorts[i], sab: this.sab, slot: i };
  }

  /** errors of the worker itself (a core whose request gets no answer translates on its own after a while) */
  onError(f: (e: Error) => void): void {
    this.errorHandlers.push(f);
    this.worker?.on('error', f);
  }

  stop(): void {
    this.stopped = true;
    if (this.worker !== null) void this.worker.terminate();
  }

  /** the service's counters */
  counters(): Record<(typeof SERVICE_STATS)[number], number> {
    return Object.fromEntries(SERVICE_STATS.map((k, i) => [k, this.stats[i]])) as Record<(typeof SERVICE_STATS)[number], number>;
  }

  /** the --stats line: what moved off the cores, and how much of it was shared */
  statsLine(wallMs: number): string {
    const c = this.counters();
    if (c.requests === 0) return '';
    const made = c.translated + c.declined;
    const ms = c.translateMs + c.compileMs;
    return `compile worker: ${c.requests} requests from the cores, ${c.translated} blocks translated and compiled, ${c.declined} declined, ` +
      `${c.shared} answered from translations made for another request or core (shared), ${c.errors} failed, ` +
      `${c.offered} translated on a core whose requests were queued (offered to the cache); ` +
      `${(c.translateMs / Math.max(1, made) * 1000).toFixed(0)} µs translating + ${(c.compileMs / Math.max(1, c.translated) * 1000).toFixed(0)} µs compiling per block, ` +
      `${ms.toFixed(1)} ms = ${(100 * ms / Math.max(1, wallMs)).toFixed(1)}% of run time (off the cores)`;
  }
}
