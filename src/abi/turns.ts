// -icount turn passing (docs/ARCHITECTURE.md, "Time"). G_TURN names the core whose turn it is
// (G_NCORES: the I/O thread's). Each worker waits on its own bell (its first core's
// C_TURN_BELL), and passing the turn rings only the bell of the worker that hosts the next
// core: one wake-up per turn. Waiting on G_TURN itself woke every worker at every turn, which
// with 8 workers on 2 host CPUs cost more than the guest's own work (an 8-core DIME boot to
// 200 ms of guest time: 132 s and 55 s of CPU, against 15 s with one worker for all 8).
// A core that cannot run (halted or waiting for a SIPI, nothing pending, its own timer not yet
// due) is passed over: its turn would retire nothing and change nothing. The decision reads
// only what turns write (pending bits are set by a turn or by the I/O thread's turn; a core
// publishes its hold before passing), so it is the same on every run.

import { C_PENDING, C_TURN_BELL, C_TURN_BELL_OF, F_VTIME, G_NCORES, G_TURN, coreBase } from './control-block.js';
import { f64, holdSlot } from './clock.js';

const views = new WeakMap<Int32Array, Float64Array>();
function timeSlots(ctl: Int32Array): Float64Array {
  let f = views.get(ctl);
  if (!f) { f = f64(ctl); views.set(ctl, f); }
  return f;
}

/** the turn would retire nothing: nothing pending and its next need (timer deadline) is later */
function idle(ctl: Int32Array, f: Float64Array, core: number, now: number): boolean {
  return Atomics.load(ctl, coreBase(core) + C_PENDING) === 0 && f[holdSlot(core)] > now;
}

/** Record that `core` is hosted by the worker whose first core is `first` (before any turn). */
export function setTurnBell(ctl: Int32Array, core: number, first: number): void {
  Atomics.store(ctl, coreBase(core) + C_TURN_BELL_OF, coreBase(first) + C_TURN_BELL);
}

/** The bell a worker whose first core is `first` waits on. */
export function turnBell(first: number): number {
  return coreBase(first) + C_TURN_BELL;
}

/** Give the turn to `next` (a core, or G_NCORES for the I/O thread) and wake whoever holds it. */
export function passTurn(ctl: Int32Array, next: number): void {
  const n = ctl[G_NCORES];
  const f = timeSlots(ctl);
  const now = f[F_VTIME];
  while (next < n && idle(ctl, f, next, now)) next++;
  Atomics.store(ctl, G_TURN, next);
  if (next >= n) { Atomics.notify(ctl, G_TURN); return; } // the I/O thread waits on G_TURN
  const bell = Atomics.load(ctl, coreBase(next) + C_TURN_BELL_OF);
  if (bell === 0) { Atomics.notify(ctl, G_TURN); return; }
  Atomics.add(ctl, bell, 1);
  Atomics.notify(ctl, bell);
}

/** Wake every worker waiting for a turn (the machine stops). */
export function ringAllTurnBells(ctl: Int32Array): void {
  const n = ctl[G_NCORES];
  for (let i = 0; i < n; i++) {
    const bell = Atomics.load(ctl, coreBase(i) + C_TURN_BELL_OF);
    if (bell !== 0) { Atomics.add(ctl, bell, 1); Atomics.notify(ctl, bell); }
  }
  Atomics.notify(ctl, G_TURN);
}
