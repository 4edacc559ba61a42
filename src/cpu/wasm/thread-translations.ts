// Tier-3 translations held by this thread, shared by every core it hosts (a grouped worker,
// --cores-per-worker, hosts up to 32 of them). The compile worker already translates a block
// once per machine, but each core still asked it on its own: its decoded fields serialised,
// posted, looked up and the module posted back, per core. After a start from a snapshot all
// cores of a worker reach the same kernel blocks at once, so that was most of a core's first
// answer (measured: ~0.3 s of CPU per 32-core worker, with the GC it caused). Here the first
// core of the thread to want a block asks (or translates); the others take its module from
// this map, or wait for the same reply.
//
// The key is what a translation is a function of (translate-compile.ts): the mode, the wasm
// memory's size, the superblock roles and the decoded instructions; those are a pure function
// of each instruction's linear address and its code bytes, so the key holds the addresses and
// the bytes read from guest RAM through the block's own code pages. Code that changed has other
// bytes, so a different key; whether a block is still the guest's code stays each core's
// business (the block's page generations), exactly as before. Instances stay per core.

import type { Insn } from '../insn.js';
import type { CompiledTranslation } from './translate-compile.js';

/** the block's code pages (RAM page indexes; page2 -1 when it has one page) */
export interface CodePages { page: number; page2: number }

interface Entry {
  /** null while the first core's request is out */
  made: CompiledTranslation | null;
  /** the other cores of this thread that want it meanwhile */
  waiters: ((r: CompiledTranslation | null) => void)[];
}

/** translations kept; the oldest go first beyond this (a core that needs one again asks again) */
const LIMIT = 4096;
const entries = new Map<string, Entry>();

/** this thread's counters: translations another core of the thread had already got */
export const threadTranslationStats = { hits: 0, joined: 0 };

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * The key of the translation of `ops`, or null when a byte of them does not lie in the block's
 * code pages (then the block is not shared: it is translated as before).
 */
export function translationKey(ops: Insn[], roles: number[], mode: number, memPages: number, pages: CodePages, ram: Uint8Array): string | null {
  const firstPage = Math.floor(ops[0].rip / 4096);
  let key = `${mode}/${memPages}`;
  for (let i = 0; i < ops.length; i++) {
    const ins = ops[i];
    const len = ins.nextRip - ins.rip;
    if (!(len > 0 && len <= 15)) return null;
    key += `|${ins.rip.toString(36)}:${roles[i] ?? 0}:`;
    for (let k = 0; k < len; k++) {
      const lin = ins.rip + k;
      const lp = Math.floor(lin / 4096);
      const p = lp === firstPage ? pages.page : lp === firstPage + 1 ? pages.page2 : -1;
      if (p < 0) return null;
      const off = p * 4096 + (lin & 0xfff);
      if (off >= ram.length) return null;
      key += HEX[ram[off]];
    }
  }
  return key;
}

/** the finished translation under `key`, if this thread has it */
export function madeTranslation(key: string): CompiledTranslation | null {
  const e = entries.get(key);
  if (e === undefined || e.made === null) return null;
  threadTranslationStats.hits++;
  return e.made;
}

/**
 * Wait for the translation under `key` that another core of this thread asked for: true when
 * one is out (`then` runs when it is in, with null if that request failed), false when none is
 * (the caller asks, after `expect(key)`).
 */
export function joinTranslation(key: string, then: (r: CompiledTranslation | null) => void): boolean {
  const e = entries.get(key);
  if (e === undefined || e.made !== null) return false;
  threadTranslationStats.joined++;
  e.waiters.push(then);
  return true;
}

/** This thread's core asks for `key`: other cores join it rather than ask again. */
export function expectTranslation(key: string): void {
  if (entries.has(key)) return;
  if (entries.size >= LIMIT) evictOldest();
  entries.set(key, { made: null, waiters: [] });
}

/** The translation under `key` is made (or its request failed: null); the cores waiting for it get it. */
export function settleTranslation(key: string, r: CompiledTranslation | null): void {
  let e = entries.get(key);
  if (e === undefined) {
    if (r === null) return;
    if (entries.size >= LIMIT) evictOldest();
    e = { made: null, waiters: [] };
    entries.set(key, e);
  }
  if (r === null) entries.delete(key);
  else e.made = r;
  const waiters = e.waiters;
  e.waiters = [];
  for (const w of waiters) w(r);
}

/** drop the oldest finished translation (requests still out stay: their cores wait on them) */
function evictOldest(): void {
  for (const [k, e] of entries) {
    if (e.made !== null) { entries.delete(k); return; }
  }
}

/** Forget everything (tests). */
export function clearThreadTranslations(): void {
  entries.clear();
  threadTranslationStats.hits = 0;
  threadTranslationStats.joined = 0;
}
