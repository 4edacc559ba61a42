// PARALLAX_START_TRACE=1: one stderr line per step of a machine's start (module loading, worker
// start, snapshot restore), stamped with performance.now(), which every thread of the process
// counts from the process's own start: where a start from a snapshot spends its time.

import { writeSync } from 'node:fs';

const on = process.env.PARALLAX_START_TRACE === '1';

export function startMark(what: string): void {
  // straight to fd 2: a worker's process.stderr is relayed by its event loop, which a core's
  // run loop never returns to
  if (on) writeSync(2, `parallax-emu: start +${performance.now().toFixed(1)} ms: ${what}\n`);
}
