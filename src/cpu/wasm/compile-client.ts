// A core's side of the machine's compile service (src/machine/compile-service.ts): a hot 64-bit
// block's decoded instructions go to the compile worker, which translates and compiles them
// (or finds the module another core already asked for) while the block keeps running its
// routines here. The core's run loop never returns to its event loop, so replies are taken
// with receiveMessageOnPort, and only when the worker's reply counter for this core (a word in
// shared memory) says one is there: a pending block costs one load per run.
//
// Under -icount the switch point of a block must not depend on host timing: there the core
// waits for the reply at the run that asked (as the synchronous path translates there), so
// retired counts and interrupt points are the same on every run.

import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Insn } from '../insn.js';
import type { CompiledTranslation } from './translate-compile.js';

/** What a core asks: the block's decoded fields (no routines: they do not cross threads). */
export interface CompileRequest {
  id: number; mode: number; memPages: number; roles: number[]; ops: Record<string, unknown>[];
  /** a translation the core made itself (its queue was full): for the cache, no reply */
  made?: CompiledTranslation;
}

export type CompileReply = { id: number } & (
  | { module: WebAssembly.Module; rips: number[]; bytes: number; translateMs: number; compileMs: number; shared: boolean }
  | { declined: string; translateMs: number }
  | { error: string });

/** Layout of the service's shared words: a reply counter per core, then the service's --stats counters. */
export const SERVICE_STATS = ['requests', 'translated', 'declined', 'shared', 'translateMs', 'compileMs', 'bytes', 'errors', 'offered'] as const;
export function serviceLayout(cores: number): { statsAt: number; bytes: number } {
  const statsAt = Math.ceil(cores * 4 / 8) * 8;
  return { statsAt, bytes: statsAt + SERVICE_STATS.length * 8 };
}

/** the instruction's decoded fields only: Insn's routines (exec, ea) are functions */
function fieldsOf(ins: Insn): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k in ins) {
    const v = (ins as unknown as Record<string, unknown>)[k];
    if (typeof v !== 'function') o[k] = v;
  }
  return o;
}

/** how long a core waits for a reply it must have (-icount) before translating it itself */
const WAIT_LIMIT_MS = 60_000;

/**
 * Requests a core leaves unanswered at most (PARALLAX_JIT_ASYNC_PENDING, default 4): past that,
 * the compile worker is behind (the host has no spare CPU for it, or several cores flood it),
 * and a hot block waiting in the queue runs its routines, an order of magnitude slower than its
 * translation; the core then translates the block itself, as without the service, and offers
 * the result to the cache.
 */
const MAX_PENDING = ((): number => {
  const v = Number(process.env.PARALLAX_JIT_ASYNC_PENDING ?? '');
  return process.env.PARALLAX_JIT_ASYNC_PENDING && Number.isInteger(v) && v >= 0 ? v : 4;
})();

/**
 * For this long after a core starts (PARALLAX_JIT_START_DEFER_MS, default 0: off), a block whose
 * request finds the queue full waits and asks again later instead of being translated on the
 * core: at a start every core reaches the same boot and service blocks at once, so translating
 * them on each core repeats one translation per core on a host with fewer CPUs than cores,
 * while the worker's cache would hand each module to all of them. Not under -icount (there a
 * request is never refused), so guest-visible behaviour does not depend on it. Off by default:
 * on the 64-core snapshot start (bench:snapshot, 2 loaded host CPUs) 3000 ms gave answers in
 * 2464/2871/3095 ms against 1712/2639/3456 ms without, within the host's noise.
 */
const START_DEFER_MS = ((): number => {
  const v = Number(process.env.PARALLAX_JIT_START_DEFER_MS ?? '');
  return process.env.PARALLAX_JIT_START_DEFER_MS && Number.isInteger(v) && v >= 0 ? v : 0;
})();

export class CompileClient {
  private next = 1;
  private readonly startedAt = performance.now();
  /** the start window (tests set it) */
  startDeferMs = START_DEFER_MS;
  private received = 0;
  private readonly waiting = new Map<number, (r: CompileReply) => void>();
  private readonly replies: Int32Array;
  /** how long a deterministic request waits before the core translates it itself */
  waitLimitMs = WAIT_LIMIT_MS;

  constructor(private readonly port: MessagePort, sab: SharedArrayBuffer, private readonly slot: number,
    /** -icount: wait for each reply where it was asked */
    readonly deterministic: boolean) {
    this.replies = new Int32Array(sab, 0, slot + 1);
  }

  /** Ask for `ops` translated; `done` runs on this thread when the reply is taken (poll, or at once when deterministic). */
  request(ops: Insn[], roles: number[], mode: number, memPages: number, done: (r: CompileReply) => void): void {
    const id = this.next++;
    this.waiting.set(id, done);
    this.port.postMessage({ id, mode, memPages, roles, ops: ops.map(fieldsOf) } satisfies CompileRequest);
    if (this.deterministic) this.wait(id);
  }

  /** requests not answered yet */
  get pending(): number { return this.waiting.size; }

  /** the worker is behind this core: translate here (deterministic clients always ask, and wait) */
  get full(): boolean {
    if (this.deterministic) return false;
    this.poll(); // replies to blocks that stopped running (and so stopped polling) count no more
    return this.waiting.size >= MAX_PENDING;
  }

  /** the queue is full but the core is still starting: ask again later rather than translate here */
  get deferring(): boolean {
    return !this.deterministic && performance.now() < this.startedAt + this.startDeferMs && this.full;
  }

  /** Give the cache a translation this core made itself (other cores may then share it). */
  offer(ops: Insn[], roles: number[], mode: number, memPages: number, made: CompiledTranslation): void {
    this.port.postMessage({ id: 0, mode, memPages, roles, ops: ops.map(fieldsOf), made } satisfies CompileRequest);
  }

  /** Take the replies that arrived (one shared-memory load when none did). */
  poll(): void {
    if (this.replies[this.slot] !== this.received) this.drain();
  }

  private drain(): void {
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      this.received++;
      const r = m.message as CompileReply;
      const done = this.waiting.get(r.id);
      if (done) { this.waiting.delete(r.id); done(r); }
    }
  }

  private wait(id: number): void {
    const until = Date.now() + this.waitLimitMs;
    while (this.waiting.has(id)) {
      const seen = Atomics.load(this.replies, this.slot);
      this.drain();
      if (!this.waiting.has(id)) return;
      if (Date.now() > until) {
        const done = this.waiting.get(id)!;
        this.waiting.delete(id);
        done({ id, error: 'no reply from the compile worker' });
        return;
      }
      if (seen === this.received) Atomics.wait(this.replies, this.slot, seen, Math.min(1000, this.waitLimitMs));
    }
  }
}

/** per core index: a worker installs its cores' clients (several cores may share a thread) */
const clients: (CompileClient | null)[] = [];

/** The core worker installs its client; without one (tests, benches, one Cpu) tier 3 compiles on the core. */
export function installCompileClient(core: number, c: CompileClient | null): void {
  clients[core] = c;
  installed = clients.filter((x): x is CompileClient => x !== null && x !== undefined);
}
/** the clients of this thread's cores */
let installed: CompileClient[] = [];

/**
 * Take the replies of every core of this thread: a core waiting for a translation another core
 * of the thread asked for (thread-translations.ts) gets it when that core's reply is taken.
 */
export function pollCompileClients(): void {
  for (let i = 0; i < installed.length; i++) installed[i].poll();
}
export function compileClient(core: number): CompileClient | null { return clients[core] ?? null; }
