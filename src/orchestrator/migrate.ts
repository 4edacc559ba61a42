// Live migration of a running service (docs/MIGRATION.md, after paper 003): freeze it on its
// DIME, move it, rewire its peers to the new place, resume it there. The kernel does the
// freeze and the hand-over (src/dime/kernel/migrate.c); this is the orchestrator's half.
import * as W from '../protocol/wire.js';
import { describeStatus } from './link.js';
import { crc32 } from '../protocol/codec.js';
import { RefusedError, TimeoutError, UsageError } from './errors.js';
import type { Orchestrator } from './orchestrator.js';
import { dimeKey, sameDime, type DimeAddress, type Endpoint } from './targets.js';

export interface MigrationReport {
  from: string;
  to: string;
  service: string;
  /** memory chunks (2 MiB) that moved */
  chunks: number;
  /** frozen inside a blocking system call that the target re-issues */
  restarted: boolean;
  /** request to freeze, as the source DIME measured it (µs) */
  freezeUs: number;
  /** MIGRATE_OUT sent to RESUME answered: how long the service did not run, seen from here (ms) */
  downtimeMs: number;
  rewired: string[];
  /** bytes of frozen state carried from server to server (0: moved within a server) */
  bytes: number;
}

const STATE_NAME: Record<number, string> = Object.fromEntries(Object.entries(W.STATE).map(([k, v]) => [v, k.toLowerCase()]));

/** A DIME's state as it answers now (the model may be a heartbeat old). */
async function fresh(o: Orchestrator, d: DimeAddress) {
  await o.ensureDime(d);
  const r = await o.call(d, 'DISCOVER');
  return { state: r.fields.state as number, service: String(r.fields.service ?? '') };
}

export async function migrateService(o: Orchestrator, from: DimeAddress, to: DimeAddress): Promise<MigrationReport> {
  if (sameDime(from, to)) throw new UsageError(`migrate: ${o.label(from)} is already where the service runs`);
  const src = await fresh(o, from);
  if (src.state !== W.STATE.RUNNING && src.state !== W.STATE.SUSPENDED) {
    throw new RefusedError(`migrate: ${o.label(from)} runs nothing (it is ${STATE_NAME[src.state] ?? src.state}): nothing moved`, W.STATUS.BAD_STATE);
  }
  const dst = await fresh(o, to);
  if (dst.state !== W.STATE.IDLE) {
    throw new RefusedError(`migrate: ${o.label(to)} is busy (${STATE_NAME[dst.state] ?? dst.state}${dst.service ? ` '${dst.service}'` : ''}): nothing moved`, W.STATUS.BAD_STATE);
  }
  const view = o.model.get(from)!;
  const input = view.input, output = view.output;
  const { feeders, readers } = o.neighbours(from);
  const t0 = performance.now();
  const r = await askToMove(o, from, to, src.service);
  if (r.frame.status !== W.STATUS.OK) {
    const why = r.frame.status === W.STATUS.BAD_STATE ? ` (${o.label(from)} runs nothing, or ${o.label(to)} is busy)` : '';
    throw new RefusedError(`${o.label(from)} refused MIGRATE_OUT to ${o.label(to)}: ${describeStatus(r.frame.status)}${why}; nothing moved`, r.frame.status);
  }
  let bytes = 0;
  if (r.fields.mode === W.MIGRATE_MODE.EXPORT) bytes = await carryState(o, from, to, r.fields.stateLen as number);
  // the service now waits, SUSPENDED, on `to`; its old DIME forwards what still reaches it.
  // Readers first, so nothing the resumed service writes is refused; then the feeders.
  const rewired: string[] = [];
  const fix = (e: Endpoint): Endpoint => (e.kind === 'dime' && sameDime(e.dime, from) ? { kind: 'dime', dime: to } : e);
  o.model.setRoute(to, 'input', fix(input));
  o.model.setRoute(to, 'output', fix(output));
  o.model.resetRoutes(from);
  for (const x of readers) {
    await o.setRoute(x, 'input', { kind: 'dime', dime: to });
    rewired.push(`${o.label(x)} reads ${o.label(to)}`);
  }
  for (const x of feeders) {
    await o.setRoute(x, 'output', { kind: 'dime', dime: to });
    rewired.push(`${o.label(x)} -> ${o.label(to)}`);
  }
  for (const s of o.lineSources) {
    if (!sameDime(s.target, from)) continue;
    s.retarget(to);
    rewired.push(`numbered lines -> ${o.label(to)}`);
  }
  const a = o.assignments.get(dimeKey(from));
  o.assignments.delete(dimeKey(from));
  o.model.setRole(from, undefined);
  o.model.noteState(from, W.STATE.IDLE, '');
  if (a) { o.assignments.set(dimeKey(to), a); o.model.setRole(to, a.role); }
  o.model.noteState(to, W.STATE.SUSPENDED, src.service);
  if (src.state === W.STATE.RUNNING) await resumeMoved(o, to);
  const downtimeMs = performance.now() - t0;
  return {
    from: o.label(from), to: o.label(to), service: src.service, chunks: (r.fields.chunks as number | undefined) ?? -1, restarted: r.fields.restarted === 1,
    freezeUs: (r.fields.freezeUs as number | undefined) ?? -1, downtimeMs, rewired, bytes,
  };
}

/**
 * MIGRATE_OUT (not repeatable: a second one would move the service on). When no answer comes,
 * the two DIMEs say whether the service moved (the answer was what got lost) or not.
 */
async function askToMove(o: Orchestrator, from: DimeAddress, to: DimeAddress, service: string) {
  try {
    const [r] = await o.link.request(from.server, from.core, 'MIGRATE_OUT', { server: to.server, core: to.core }, { label: o.label(from), timeoutMs: 5000 });
    return r;
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    const s = await fresh(o, from), t = await fresh(o, to);
    if (s.state === W.STATE.IDLE && t.state === W.STATE.SUSPENDED && t.service === service) {
      return { frame: { status: W.STATUS.OK as number }, fields: {} as Record<string, unknown> };
    }
    throw new TimeoutError(`${o.label(from)} did not answer MIGRATE_OUT to ${o.label(to)}; the service still runs on ${o.label(from)} (it moves if its freeze comes later)`);
  }
}

/** RESUME the moved service; a lost answer is told from a lost request by asking the DIME. */
async function resumeMoved(o: Orchestrator, to: DimeAddress): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await o.link.call(to.server, to.core, 'RESUME', {}, { label: o.label(to), timeoutMs: 1000 });
      break;
    } catch (e) {
      if (!(e instanceof TimeoutError) && !(e instanceof RefusedError)) throw e;
      if ((await fresh(o, to)).state === W.STATE.RUNNING) break;
      if (attempt === 2) throw e;
    }
  }
  o.model.noteState(to, W.STATE.RUNNING);
}

/** bytes of state per MIGRATE_READ / MIGRATE_CHUNK, and MIGRATE_READs in flight (a DIME's inbox holds 32 frames) */
const STATE_BYTES = W.MAX_PAYLOAD - 8;
const READ_WINDOW = 8;

/**
 * Across servers: read the frozen state from the source, write it into the target, then tell
 * the source to let go (MIGRATE_END commit). Until that commit the service is whole on the
 * source: any failure before it aborts (the service goes on there) and frees the target.
 */
async function carryState(o: Orchestrator, from: DimeAddress, to: DimeAddress, len: number): Promise<number> {
  try {
    const state = Buffer.alloc(len);
    const offsets: number[] = [];
    for (let off = 0; off < len; off += STATE_BYTES) offsets.push(off);
    let next = 0;
    const reader = async () => {
      while (next < offsets.length) {
        const off = offsets[next++];
        const want = Math.min(STATE_BYTES, len - off);
        const rr = await o.link.call(from.server, from.core, 'MIGRATE_READ', { offset: off, length: want }, { label: o.label(from), retries: 3 });
        const data = rr.fields.data as Buffer;
        if (rr.fields.offset !== off || data.length !== want) throw new RefusedError(`${o.label(from)} answered MIGRATE_READ at ${off} with ${data.length} bytes`, W.STATUS.MALFORMED);
        data.copy(state, off);
      }
    };
    await Promise.all(Array.from({ length: READ_WINDOW }, reader));
    await o.link.call(to.server, to.core, 'MIGRATE_IN', { stateLen: len, crc32: crc32(state) }, { label: o.label(to) });
    for (let off = 0; off < len;) {
      const part = state.subarray(off, off + STATE_BYTES);
      const [w] = await o.link.request(to.server, to.core, 'MIGRATE_CHUNK', { offset: off, data: part }, { label: o.label(to), retries: 3 });
      if (w.frame.status === W.STATUS.OUT_OF_RANGE && typeof w.fields.received === 'number' && w.fields.received < off) { off = w.fields.received; continue; }
      if (w.frame.status !== W.STATUS.OK) throw new RefusedError(`${o.label(to)} refused MIGRATE_CHUNK at ${off}: ${describeStatus(w.frame.status)}`, w.frame.status);
      off += part.length;
    }
  } catch (e) {
    await o.link.call(from.server, from.core, 'MIGRATE_END', { commit: 0, pad: 0, core: to.core, server: to.server }, { label: o.label(from), retries: 3 }).catch(() => undefined);
    await o.link.call(to.server, to.core, 'STOP', {}, { label: o.label(to) }).catch(() => undefined);
    throw new (e instanceof TimeoutError ? TimeoutError : RefusedError)(`migrate ${o.label(from)} -> ${o.label(to)} aborted, the service goes on at ${o.label(from)}: ${(e as Error).message}`, (e as RefusedError).status ?? W.STATUS.BAD_STATE);
  }
  await o.link.call(from.server, from.core, 'MIGRATE_END', { commit: 1, pad: 0, core: to.core, server: to.server }, { label: o.label(from), retries: 3 });
  return len;
}
