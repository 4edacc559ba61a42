// The machine's compile worker (started by src/machine/compile-service.ts): translates and
// compiles the hot blocks every core asks for, once per machine. A translation is a pure
// function of the instructions' decoded fields, their superblock roles, the mode and the wasm
// memory's size (translateAndCompile), so the cache key is exactly those: a core that decoded
// the same instructions gets the module another core asked for, and code that changed decodes
// to different fields and so to a different key. Whether a cached translation is still the
// guest's code is each core's business, as before: its block records the code pages'
// generations, and G_CODE_WRITES / the code-page tracking drop the block (and with it this
// core's instance) on every core. Instances stay per core (their imports are the core's).
//
// One thread for the machine also means V8 optimises the translator once instead of once per
// core worker, and compiled code is shared: a posted WebAssembly.Module carries its machine code.

import { setFlagsFromString } from 'node:v8';
import { workerData, type MessagePort } from 'node:worker_threads';
import type { Insn } from '../insn.js';
import { SERVICE_STATS, serviceLayout, type CompileReply, type CompileRequest } from './compile-client.js';
import { translateAndCompile, type CompiledTranslation } from './translate-compile.js';

export interface CompileWorkerData { ports: MessagePort[]; sab: SharedArrayBuffer; cores: number }

// as on the cores (block-compiler.ts): translated blocks are hot, compile them optimised at once
if (process.env.PARALLAX_WASM_LIFTOFF !== '1') setFlagsFromString('--no-liftoff');

/** translations kept; the oldest go first beyond this (a core that asks again gets it recompiled) */
const CACHE_LIMIT = 8192;

const d = workerData as CompileWorkerData;
const replies = new Int32Array(d.sab, 0, d.cores);
const stat = new Float64Array(d.sab, serviceLayout(d.cores).statsAt, SERVICE_STATS.length);
const S = Object.fromEntries(SERVICE_STATS.map((k, i) => [k, i])) as Record<(typeof SERVICE_STATS)[number], number>;
const cache = new Map<string, CompiledTranslation>();

const noRoutine = (): never => { throw new Error('internal: the compile worker has no instruction routines'); };

/** requests whose translation is not cached yet, served one per event-loop turn after the hits */
const misses: { port: MessagePort; slot: number; q: CompileRequest; key: string }[] = [];
let draining = false;

function receive(port: MessagePort, slot: number, q: CompileRequest): void {
  const key = JSON.stringify([q.mode, q.memPages, q.roles, q.ops]);
  if (q.made !== undefined) {
    stat[S.offered]++;
    if (!cache.has(key)) remember(key, q.made);
    return;
  }
  stat[S.requests]++;
  const hit = cache.get(key);
  if (hit !== undefined) {
    stat[S.shared]++;
    answer(port, slot, q.id, hit, true);
    return;
  }
  misses.push({ port, slot, q, key });
  if (!draining) { draining = true; setImmediate(translateNext); }
}

/** one translation, then the messages that arrived meanwhile (hits first), then the next */
function translateNext(): void {
  const m = misses.shift();
  if (m === undefined) { draining = false; return; }
  let r = cache.get(m.key); // asked twice before the first was made, or offered meanwhile
  if (r !== undefined) {
    stat[S.shared]++;
    answer(m.port, m.slot, m.q.id, r, true);
  } else {
    try {
      const ops = m.q.ops.map((o) => Object.assign(o, { exec: noRoutine, ea: noRoutine }) as unknown as Insn);
      r = translateAndCompile(ops, m.q.roles, m.q.mode, m.q.memPages);
      stat[S.translateMs] += r.translateMs;
      if ('declined' in r) stat[S.declined]++;
      else { stat[S.translated]++; stat[S.compileMs] += r.compileMs; stat[S.bytes] += r.bytes; }
      remember(m.key, r);
      answer(m.port, m.slot, m.q.id, r, false);
    } catch (e) {
      stat[S.errors]++;
      reply(m.port, m.slot, { id: m.q.id, error: e instanceof Error ? e.message : String(e) });
    }
  }
  setImmediate(translateNext);
}

function remember(key: string, r: CompiledTranslation): void {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, r);
}

function answer(port: MessagePort, slot: number, id: number, r: CompiledTranslation, shared: boolean): void {
  reply(port, slot, 'declined' in r ? { id, declined: r.declined, translateMs: shared ? 0 : r.translateMs }
    : { id, module: r.module, rips: r.rips, bytes: r.bytes, translateMs: shared ? 0 : r.translateMs, compileMs: shared ? 0 : r.compileMs, shared });
}

function reply(port: MessagePort, slot: number, r: CompileReply): void {
  port.postMessage(r);
  Atomics.add(replies, slot, 1);
  Atomics.notify(replies, slot);
}

d.ports.forEach((port, slot) => port.on('message', (q: CompileRequest) => receive(port, slot, q)));
