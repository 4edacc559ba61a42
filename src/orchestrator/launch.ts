// Launch a service image on a set of DIMEs over the collective tree (docs/COLLECTIVES.md,
// "Launch"; STORM's job launch by XFER-AND-SIGNAL, paper 002). An image is larger than one
// frame, so it goes as a sequence of collectives with the same members and coordinator:
// LAUNCH_OPEN (every member reserves the image, LOADING), one LAUNCH_STAGE per block (written
// through the ordinary load path), then LAUNCH_FINISH: VERIFY (whole image, checksum) and, when
// every member said yes, START everywhere; else DISCARD everywhere. All or none.
import * as W from '../protocol/wire.js';
import { parseMac } from '../protocol/codec.js';
import { newOpId, startCollective, type CollMember, type CollOptions, type CollResult } from './collectives.js';
import type { OrchestratorLink } from './link.js';

export interface LaunchImage { name: string; image: Buffer; crc32: number }

export interface LaunchResult {
  /** DONE: started on `started` members (all of them unless one died after VERIFY); ABORTED: started nowhere */
  outcome: 'DONE' | 'ABORTED';
  members: number;
  started: number;
  /** lowest member index found dead or refusing (null: none) */
  missing: number | null;
  /** which step decided an abort: open, stage, verify (null when DONE) */
  failedAt: 'open' | 'stage' | 'verify' | null;
  blocks: number;
  blockBytes: number;
  /** the launch id (LAUNCH_OPEN's op) */
  launch: bigint;
  ms: number;
}

/** Largest image block one COLL_DOWN carries for `n` members (payload minus header and member list). */
export function launchBlockBytes(n: number): number {
  return W.MAX_PAYLOAD - 42 - n * W.COLL_LIMITS.memberBytes;
}

/** The OPEN block: the service name (str16) and the MAC that will own the DIMEs. */
function openBlock(name: string, owner: string): Buffer {
  const b = Buffer.alloc(22);
  b.write(name.slice(0, 15), 0, 'utf8');
  parseMac(owner).copy(b, 16);
  return b;
}

/**
 * Put `img` on every member and start it there, all or none. `event` is signalled on each
 * member where it starts. Throws only when the coordinator cannot be reached or refuses.
 */
export async function launchService(link: OrchestratorLink, members: CollMember[], img: LaunchImage, o: CollOptions & { event?: number; /** after each block staged (tests: a death mid-launch) */ afterBlock?: (i: number) => Promise<void> | void } = {}): Promise<LaunchResult> {
  const t0 = performance.now();
  const launch = newOpId();
  const common: CollOptions = { fanout: o.fanout, memberTimeoutMs: o.memberTimeoutMs, attemptMs: o.attemptMs, deadlineMs: o.deadlineMs };
  const blockBytes = launchBlockBytes(members.length);
  const size = img.image.length;
  const sizeCrc = (BigInt(size) << 32n) | BigInt(img.crc32 >>> 0);
  let failedAt: LaunchResult['failedAt'] = null;
  let missing: number | null = null;
  let blocks = 0;
  const open = await startCollective(link, members, W.COLL_KIND.LAUNCH_OPEN, { value: sizeCrc }, openBlock(img.name, link.mac), { ...common, op: launch });
  if (open.outcome !== 'DONE') { failedAt = 'open'; missing = open.missing; }
  for (let off = 0; !failedAt && off < size; off += blockBytes) {
    const r: CollResult = await startCollective(link, members, W.COLL_KIND.LAUNCH_STAGE, { value: launch, compare: BigInt(off) }, img.image.subarray(off, off + blockBytes), common);
    blocks++;
    if (r.outcome !== 'DONE') { failedAt = 'stage'; missing = r.missing; }
    await o.afterBlock?.(blocks - 1);
  }
  // FINISH even after a failed step: its VERIFY then fails and every member drops what it staged
  const fin = await startCollective(link, members, W.COLL_KIND.LAUNCH_FINISH, { value: launch, event: o.event ?? 0 }, undefined, common);
  const done = fin.outcome === 'DONE';
  if (!done && !failedAt) failedAt = 'verify';
  return {
    outcome: done ? 'DONE' : 'ABORTED', members: members.length, started: done ? fin.yes : 0,
    missing: fin.missing ?? missing, failedAt, blocks, blockBytes, launch, ms: performance.now() - t0,
  };
}
