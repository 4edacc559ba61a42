// The posted-write queue (src/abi/device-shared.ts): any core appends device writes under a
// futex mutex; the I/O thread alone takes them off and applies them in the order they were
// queued, so what two cores wrote under a guest lock (console lines, say) keeps its order.

import { DS_PW_DOORBELL, DS_PW_HEAD, DS_PW_LOCK, DS_PW_SLEEPING, DS_PW_TAIL, DS_RING, PW_CAPACITY, PW_RECORD } from '../abi/device-shared.js';

/**
 * Core side: queue one write. False when the queue is full (the caller does it synchronously).
 * `pending` (a DS_PENDING_* word, or 0) counts the write until the I/O thread has applied it.
 */
export function postWrite(w: Int32Array, kind: number, addr: number, size: number, value: number, pending = 0): boolean {
  lock(w);
  const tail = w[DS_PW_TAIL];
  if (((tail - Atomics.load(w, DS_PW_HEAD)) | 0) >= PW_CAPACITY) {
    unlock(w);
    return false;
  }
  const r = DS_RING + (tail & (PW_CAPACITY - 1)) * PW_RECORD;
  w[r] = kind;
  w[r + 1] = addr | 0;
  w[r + 2] = size;
  w[r + 3] = value | 0;
  w[r + 4] = pending;
  if (pending !== 0) Atomics.add(w, pending, 1);
  Atomics.store(w, DS_PW_TAIL, (tail + 1) | 0);
  unlock(w);
  // the consumer announces its sleep before its last look at TAIL (both sequentially
  // consistent), so a record it did not see is always followed by this notify
  if (Atomics.load(w, DS_PW_SLEEPING) !== 0) {
    Atomics.add(w, DS_PW_DOORBELL, 1);
    Atomics.notify(w, DS_PW_DOORBELL, 1);
  }
  return true;
}

/** I/O thread: about to wait for the doorbell; false when records arrived meanwhile (do not wait). */
export function prepareToSleep(w: Int32Array): boolean {
  Atomics.store(w, DS_PW_SLEEPING, 1);
  if (Atomics.load(w, DS_PW_TAIL) !== Atomics.load(w, DS_PW_HEAD)) {
    Atomics.store(w, DS_PW_SLEEPING, 0);
    return false;
  }
  return true;
}

export function awake(w: Int32Array): void {
  Atomics.store(w, DS_PW_SLEEPING, 0);
}


/** I/O thread: apply everything queued so far, in order; returns how many records. */
export function applyPosted(w: Int32Array, apply: (kind: number, addr: number, size: number, value: number) => void): number {
  let head = w[DS_PW_HEAD];
  const tail = Atomics.load(w, DS_PW_TAIL);
  let n = 0;
  while (head !== tail) {
    const r = DS_RING + (head & (PW_CAPACITY - 1)) * PW_RECORD;
    try {
      apply(w[r], w[r + 1] >>> 0, w[r + 2], w[r + 3]);
    } finally {
      if (w[r + 4] !== 0) Atomics.sub(w, w[r + 4], 1);
      head = (head + 1) | 0;
      Atomics.store(w, DS_PW_HEAD, head);
    }
    n++;
  }
  return n;
}

// Drepper's three-state futex mutex. Critical sections are a few stores; a holder preempted by
// the host is waited for in the kernel, not spun on.
function lock(w: Int32Array): void {
  let c = Atomics.compareExchange(w, DS_PW_LOCK, 0, 1);
  if (c === 0) return;
  for (let i = 0; i < 64 && c !== 0; i++) c = Atomics.compareExchange(w, DS_PW_LOCK, 0, 1);
  if (c === 0) return;
  do {
    if (c === 2 || Atomics.compareExchange(w, DS_PW_LOCK, 1, 2) !== 0) Atomics.wait(w, DS_PW_LOCK, 2, 5);
  } while ((c = Atomics.compareExchange(w, DS_PW_LOCK, 0, 2)) !== 0);
}

function unlock(w: Int32Array): void {
  if (Atomics.sub(w, DS_PW_LOCK, 1) !== 1) {
    Atomics.store(w, DS_PW_LOCK, 0);
    Atomics.notify(w, DS_PW_LOCK, 1);
  }
}
