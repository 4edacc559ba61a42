// A core worker started before its machine exists. A worker spends its first ~50 ms loading
// and compiling the emulator's code, work that does not depend on the machine; the
// `parallax-emu` command starts one such worker as its very first step, so that this happens
// while the main thread loads its own code, parses the options and reads the kernel or the
// snapshot, instead of after (docs/ARCHITECTURE.md, "Several cores per worker": a 64-core
// start from a snapshot). The machine hands it the data of its first worker
// (core-worker.ts: a standby worker waits for one message, then runs as if started with it).
// The command's launcher and the machine's code may be two copies of this module (the
// machine's may be bundled), so the worker waits in a process-wide slot.

import { Worker } from 'node:worker_threads';

/**
 * V8 limits of one core's worker. A core allocates little once its blocks are compiled, so a
 * 2 MiB young generation (V8's default grows it to 16 MiB) costs no measurable speed and keeps
 * ~3 MiB of semi-space pages per core from staying resident (docs/ARCHITECTURE.md,
 * "Footprint"). PARALLAX_WORKER_YOUNG_MB overrides it (0: V8's default).
 */
export const WORKER_YOUNG_GENERATION_MB = 2;

export function workerLimits(): { maxYoungGenerationSizeMb?: number } {
  const env = process.env.PARALLAX_WORKER_YOUNG_MB;
  const young = env !== undefined && env !== '' && Number.isFinite(Number(env)) ? Number(env) : WORKER_YOUNG_GENERATION_MB;
  return young > 0 ? { maxYoungGenerationSizeMb: young } : {};
}

/** what a standby worker is started with (core-worker.ts waits for its CoreWorkerData instead) */
export interface StandbyData { standby: true }

interface Standby { worker: Worker; file: string; alive: boolean }

const SLOT = Symbol.for('parallax-emu.standby-core-worker');
const slots = globalThis as unknown as Record<symbol, Standby | undefined>;

/** Start one core worker on standby (at most one; a second call does nothing). */
export function startStandbyCoreWorker(file: string): void {
  if (slots[SLOT] !== undefined) return;
  const worker = new Worker(file, { workerData: { standby: true } satisfies StandbyData, resourceLimits: workerLimits() });
  const s: Standby = { worker, file, alive: true };
  // until a machine takes it, it must not keep the process alive (`--help`, a bad flag)
  worker.unref();
  const gone = (): void => { s.alive = false; };
  worker.once('error', gone);
  worker.once('exit', gone);
  slots[SLOT] = s;
}

/**
 * The standby worker, if one was started from `file` and is still alive; it is taken once (the
 * caller posts it its CoreWorkerData and owns it from then on).
 */
export function takeStandbyCoreWorker(file: string): Worker | null {
  const s = slots[SLOT];
  if (s === undefined || !s.alive || s.file !== file) return null;
  slots[SLOT] = undefined;
  s.worker.removeAllListeners('error');
  s.worker.removeAllListeners('exit');
  s.worker.ref();
  return s.worker;
}

/** Stop a standby worker nobody took (the command ends without a machine). */
export function dropStandbyCoreWorker(): void {
  const s = slots[SLOT];
  slots[SLOT] = undefined;
  if (s?.alive) void s.worker.terminate();
}
