// One side of the Atomics.wait/notify ping-pong (bench/floors/atomics.ts). Word 0 counts
// turns: the pinger stores odd values, the echoer answers with the next even one.
import { parentPort, workerData } from 'node:worker_threads';

const { sab, role, rounds } = workerData as { sab: SharedArrayBuffer; role: 'ping' | 'echo'; rounds: number };
const w = new Int32Array(sab);

if (role === 'echo') {
  for (let i = 0; i < rounds; i++) {
    const v = 2 * i + 1;
    while (Atomics.load(w, 0) !== v) Atomics.wait(w, 0, v - 1);
    Atomics.store(w, 0, v + 1);
    Atomics.notify(w, 0);
  }
  parentPort!.postMessage(null);
} else {
  const us = new Float64Array(rounds);
  for (let i = 0; i < rounds; i++) {
    const v = 2 * i + 1;
    const t0 = performance.now();
    Atomics.store(w, 0, v);
    Atomics.notify(w, 0);
    while (Atomics.load(w, 0) !== v + 1) Atomics.wait(w, 0, v);
    us[i] = (performance.now() - t0) * 1000;
  }
  parentPort!.postMessage(Array.from(us));
}
