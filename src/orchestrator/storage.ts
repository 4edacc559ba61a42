// The orchestrator's view of the servers' local stores (docs/STORAGE.md): grants of what a
// DIME's service may read or write there, and each DIME's storage accounting (QUERY_STORAGE).
import * as W from '../protocol/wire.js';
import type { Orchestrator } from './orchestrator.js';
import type { DimeAddress } from './targets.js';

export interface StorageCounters {
  store: 'none' | 'ready' | 'foreign' | 'error';
  grants: number;
  opens: number;
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
  refused: number;
  errors: number;
  diskSectors: number;
  files: number;
  slots: number;
  slotBytes: number;
  diskRequests: number;
  diskErrors: number;
}

const STORE_NAMES = Object.fromEntries(Object.entries(W.STORE_STATE).map(([k, v]) => [v, k.toLowerCase()])) as Record<number, StorageCounters['store']>;

/** Grant (rights 0: withdraw) the service on `d` access to the files whose names start with `prefix`; returns its grant count. */
export async function storageGrant(o: Orchestrator, d: DimeAddress, prefix: string, rights: { read?: boolean; write?: boolean }): Promise<number> {
  if (Buffer.byteLength(prefix) > 31) throw new RangeError(`prefix '${prefix}' is longer than 31 bytes`);
  await o.ensureDime(d);
  const bits = (rights.read ? W.STORE_RIGHT.READ : 0) | (rights.write ? W.STORE_RIGHT.WRITE : 0);
  const r = await o.call(d, 'STORE_GRANT', { rights: bits, prefix });
  return r.fields.grants as number;
}

export async function storageCounters(o: Orchestrator, d: DimeAddress): Promise<StorageCounters> {
  await o.ensureDime(d);
  const f = (await o.call(d, 'QUERY_STORAGE')).fields;
  const n = (k: string) => Number(f[k] as number | bigint);
  return {
    store: STORE_NAMES[f.store as number] ?? 'error', grants: n('grants'), opens: n('opens'), reads: n('reads'), writes: n('writes'),
    bytesRead: n('bytesRead'), bytesWritten: n('bytesWritten'), refused: n('refused'), errors: n('errors'), diskSectors: n('diskSectors'),
    files: n('files'), slots: n('slots'), slotBytes: n('slotBytes'), diskRequests: n('diskRequests'), diskErrors: n('diskErrors'),
  };
}

/** A DIME's central storage client counters (QUERY_CSTORE; docs/STORAGE.md, "Central storage"). */
export interface CentralClientCounters {
  exports: number;
  opens: number;
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
  requests: number;
  resent: number;
  lateAnswers: number;
  refused: number;
  errors: number;
}

export async function centralCounters(o: Orchestrator, d: DimeAddress): Promise<CentralClientCounters> {
  await o.ensureDime(d);
  const f = (await o.call(d, 'QUERY_CSTORE')).fields;
  const n = (k: string) => Number(f[k] as number | bigint);
  return {
    exports: n('exports'), opens: n('opens'), reads: n('reads'), writes: n('writes'), bytesRead: n('bytesRead'), bytesWritten: n('bytesWritten'),
    requests: n('requests'), resent: n('resent'), lateAnswers: n('lateAnswers'), refused: n('refused'), errors: n('errors'),
  };
}
