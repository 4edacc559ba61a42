// Floor of the intra-server path: how fast two worker threads can hand a turn back and forth
// with Atomics.wait/notify (what one emulated core does to wake another: IPI = notify).
import { Worker } from 'node:worker_threads';

const WORKER = new URL('./atomics-worker.js', import.meta.url);

/** Round trips in µs, warm-up excluded. */
export async function atomicsPingPong(n: number, warm: number): Promise<number[]> {
  const sab = new SharedArrayBuffer(64);
  const rounds = n + warm;
  const echo = new Worker(WORKER, { workerData: { sab, role: 'echo', rounds } });
  const ping = new Worker(WORKER, { workerData: { sab, role: 'ping', rounds } });
  const done = (w: Worker) => new Promise<unknown>((res, rej) => { w.once('message', res); w.once('error', rej); });
  const [samples] = await Promise.all([done(ping), done(echo)]);
  await Promise.all([ping.terminate(), echo.terminate()]);
  return (samples as number[]).slice(warm);
}
