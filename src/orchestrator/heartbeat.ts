// A global heartbeat over the collective tree (docs/COLLECTIVES.md, "Global heartbeat"; STORM's
// heartbeat from its primitives, paper 002): one barrier sweeps every member in O(log n) hops and
// its answer names the lowest member that did not answer. While one is missing it is set aside
// and the barrier runs again over the rest, so a round with d dead members costs d + 1 sweeps,
// each still O(log n) on the critical path, and ends with who is alive and who is not.
import { TimeoutError } from './errors.js';
import { barrier, type CollMember, type CollOptions } from './collectives.js';
import type { OrchestratorLink } from './link.js';

export interface HeartbeatRound {
  alive: CollMember[];
  dead: CollMember[];
  /** barriers run (1 when nobody is dead) */
  sweeps: number;
  ms: number;
}

/**
 * One round of the global heartbeat over `members`. A coordinator (the first live member) that
 * does not answer COLL_START within `coordinatorMs` counts as dead and the next member takes over.
 */
export async function heartbeatRound(link: OrchestratorLink, members: CollMember[], o: CollOptions & { coordinatorMs?: number } = {}): Promise<HeartbeatRound> {
  const t0 = performance.now();
  const alive = [...members];
  const dead: CollMember[] = [];
  let sweeps = 0;
  const memberTimeoutMs = o.memberTimeoutMs ?? 1000;
  // a live coordinator answers within the tree's worst wait: timeout per level, plus slack
  const levels = Math.ceil(Math.log2(Math.max(2, members.length))) + 1;
  const coordinatorMs = o.coordinatorMs ?? memberTimeoutMs * (levels + 2) + 2000;
  while (alive.length) {
    sweeps++;
    try {
      const r = await barrier(link, alive, { ...o, memberTimeoutMs, attemptMs: o.attemptMs ?? Math.min(3000, coordinatorMs), deadlineMs: coordinatorMs });
      if (r.missing === null && r.answered === alive.length) break;
      if (r.missing === null) break;   // cannot happen (answered < n names someone); never loop on it
      dead.push(...alive.splice(r.missing, 1));
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      dead.push(...alive.splice(0, 1));   // the coordinator itself is silent
    }
  }
  return { alive, dead, sweeps, ms: performance.now() - t0 };
}
