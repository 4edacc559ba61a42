// The orchestrator's side of the collectives (docs/COLLECTIVES.md, after STORM, paper 002):
// XFER-AND-SIGNAL, COMPARE-AND-WRITE and a barrier are started on the first member of a set of
// DIMEs, which coordinates them over a tree of the members; TEST-EVENT and COLL_READ look at one
// DIME. A lost request or answer is resent with the same op id (the coordinator answers a
// repeat with the outcome it already has); a coordinator busy with another operation answers
// BAD_STATE and we try again after a short random pause.
import { randomBytes } from 'node:crypto';
import * as W from '../protocol/wire.js';
import { parseMac } from '../protocol/codec.js';
import { RefusedError, TimeoutError } from './errors.js';
import { describeStatus, type OrchestratorLink } from './link.js';

export interface CollMember { server: string; core: number }

export interface CollOptions {
  /** children per tree node (1..8); default 2 */
  fanout?: number;
  /** a member silent this long (ms) counts as dead; default 1000 */
  memberTimeoutMs?: number;
  /** wait this long for each answer to COLL_START before sending it again (ms); default 3000 */
  attemptMs?: number;
  /** give up after this long in all (ms); default 60000 */
  deadlineMs?: number;
  /** operation id; default random */
  op?: bigint;
}

export type CollOutcome = 'ABORTED' | 'DONE' | 'FALSE';
const OUTCOME_NAMES = Object.fromEntries(Object.entries(W.COLL_OUTCOME).map(([k, v]) => [v, k])) as Record<number, CollOutcome>;

export interface CollResult {
  op: bigint;
  outcome: CollOutcome;
  /** members that answered the last phase */
  answered: number;
  /** of those, how many said yes (XFER: applied the block; CAW: assigned) */
  yes: number;
  /** lowest member index found dead, or null */
  missing: number | null;
  /** COLL_START requests sent (1 = no loss, no busy coordinator) */
  attempts: number;
}

export function newOpId(): bigint {
  let op = 0n;
  while (op === 0n) op = randomBytes(8).readBigUInt64BE();
  return op;
}

/** The member list as the wire carries it: (mac, core) per member, then the block. */
export function encodeMembers(members: CollMember[], data: Buffer = Buffer.alloc(0)): Buffer {
  if (members.length < 1 || members.length > W.COLL_LIMITS.maxMembers) throw new RangeError(`a collective needs 1..${W.COLL_LIMITS.maxMembers} members, got ${members.length}`);
  const b = Buffer.alloc(members.length * W.COLL_LIMITS.memberBytes + data.length);
  members.forEach((m, i) => {
    parseMac(m.server).copy(b, i * 8);
    b.writeUInt16BE(m.core, i * 8 + 6);
  });
  data.copy(b, members.length * 8);
  return b;
}

/** Start one collective of any kind on `members[0]` and wait for its outcome (resent when lost, retried when the coordinator is busy). */
export async function startCollective(link: OrchestratorLink, members: CollMember[], kind: number, values: Record<string, number | bigint>, data: Buffer | undefined, o: CollOptions): Promise<CollResult> {
  const op = o.op ?? newOpId();
  const root = members[0];
  const fields = {
    op, kind, fanout: o.fanout ?? 2, count: members.length, event: 0, offset: 0, dataLen: data?.length ?? 0,
    var: 0, cmp: 0, writeVar: 0, pad: 0, timeoutMs: o.memberTimeoutMs ?? 1000, compare: 0n, value: 0n,
    ...values, members: encodeMembers(members, data),
  };
  const deadline = Date.now() + (o.deadlineMs ?? 60_000);
  const attemptMs = o.attemptMs ?? 3000;
  let attempts = 0;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new TimeoutError(`${root.server}/${root.core} did not finish collective ${op} in time`);
    attempts++;
    let replies;
    try {
      replies = await link.request(root.server, root.core, 'COLL_START', fields, { timeoutMs: Math.min(attemptMs, left), retries: 0 });
    } catch (e) {
      if (e instanceof TimeoutError) continue;   // request or answer lost: the same op again
      throw e;
    }
    const r = replies[0];
    if (r.frame.status === W.STATUS.BAD_STATE) {
      // the coordinator is busy with another operation: it takes one at a time
      await new Promise((res) => setTimeout(res, 5 + Math.random() * 25));
      continue;
    }
    if (r.frame.status !== W.STATUS.OK) throw new RefusedError(`${root.server}/${root.core} refused the collective: ${describeStatus(r.frame.status)}`, r.frame.status);
    const missing = r.fields.missing as number;
    return {
      op, outcome: OUTCOME_NAMES[r.fields.outcome as number] ?? 'ABORTED', answered: r.fields.answered as number,
      yes: r.fields.yes as number, missing: missing === 0xffff ? null : missing, attempts,
    };
  }
}

/** XFER-AND-SIGNAL: `data` at `offset` of every member's global memory and `event` signalled, all or none. */
export function xferAndSignal(link: OrchestratorLink, members: CollMember[], x: { offset: number; event: number; data: Buffer }, o: CollOptions = {}): Promise<CollResult> {
  return startCollective(link, members, W.COLL_KIND.XFER, { offset: x.offset, event: x.event }, x.data, o);
}

/** COMPARE-AND-WRITE: if `var OP compare` holds on every member, `writeVar = value` on every member. */
export function compareAndWrite(link: OrchestratorLink, members: CollMember[], c: { var: number; cmp: keyof typeof W.COLL_CMP; compare: bigint; writeVar: number; value: bigint }, o: CollOptions = {}): Promise<CollResult> {
  return startCollective(link, members, W.COLL_KIND.CAW, { var: c.var, cmp: W.COLL_CMP[c.cmp], compare: c.compare, writeVar: c.writeVar, value: c.value }, undefined, o);
}

/** A barrier: over when every member answered a sweep of the tree. */
export function barrier(link: OrchestratorLink, members: CollMember[], o: CollOptions = {}): Promise<CollResult> {
  return startCollective(link, members, W.COLL_KIND.BARRIER, {}, undefined, o);
}

/** TEST-EVENT: how many times `event` was signalled on this DIME. */
export async function testEvent(link: OrchestratorLink, m: CollMember, event: number): Promise<number> {
  const r = await link.call(m.server, m.core, 'TEST_EVENT', { event }, { retries: 5 });
  return r.fields.count as number;
}

/** A DIME's global variables, counters and `len` bytes of its global memory from `offset`. */
export async function collRead(link: OrchestratorLink, m: CollMember, offset = 0, len = 0): Promise<{ vars: bigint[]; xfers: number; writes: number; data: Buffer }> {
  const r = await link.call(m.server, m.core, 'COLL_READ', { offset, len }, { retries: 5 });
  const v = r.fields.vars as Buffer;
  return { vars: Array.from({ length: W.COLL_LIMITS.vars }, (_, i) => v.readBigUInt64BE(i * 8)), xfers: r.fields.xfers as number, writes: r.fields.writes as number, data: r.fields.data as Buffer };
}
