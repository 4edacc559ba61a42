// Latency trace of the network path, off unless PARALLAX_NET_TRACE=DIR is set: each thread of
// each process (hub, emulator, orchestrator) appends "label microseconds" lines to
// DIR/<pid>-<thread>.trace, stamped with the host's wall clock (performance.timeOrigin + now,
// comparable across processes). tools/net-trace-report.mjs lines the labels up into the hops
// of one frame (docs/NETWORK.md, "Where a signaling round trip's time goes").
import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

const dir = process.env.PARALLAX_NET_TRACE || null;
/** true when tracing: callers test it before building a label */
export const netTracing = dir !== null;
let lines: string[] = [];

/** Note that `label` happened now (a no-op unless tracing). */
export function netTrace(label: string): void {
  if (dir === null) return;
  lines.push(`${label} ${((performance.timeOrigin + performance.now()) * 1000).toFixed(1)}`);
  if (lines.length >= 256) flushNetTrace();
}

/** Write what is buffered (on exit, every half second, and when the buffer fills). */
export function flushNetTrace(): void {
  if (dir === null || lines.length === 0) return;
  appendFileSync(`${dir}/${process.pid}-${threadId}.trace`, `${lines.join('\n')}\n`);
  lines = [];
}

if (dir !== null) {
  process.on('exit', flushNetTrace);
  setInterval(flushNetTrace, 500).unref();
}
