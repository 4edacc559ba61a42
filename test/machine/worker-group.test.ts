// Several cores per worker (--cores-per-worker): how many cores a worker hosts, and the wake
// path to a worker that sleeps for all its cores: every request for a hosted core moves the
// worker's word, and notifies it exactly while the worker says it sleeps.
import { afterEach, describe, expect, it } from 'vitest';
import { C_HOST_WAKE, C_WAKE, C_WORKER_SLEEPING, C_WORKER_WAKE, coreBase, createControlBuffer } from '../../src/abi/control-block.js';
import { wakeCore, wakeHost } from '../../src/abi/interrupt-delivery.js';
import { coresPerWorker, MachineError } from '../../src/machine/machine.js';

describe('coresPerWorker', () => {
  const saved = process.env.PARALLAX_CORES_PER_WORKER;
  afterEach(() => {
    if (saved === undefined) delete process.env.PARALLAX_CORES_PER_WORKER;
    else process.env.PARALLAX_CORES_PER_WORKER = saved;
  });

  it('is one core per worker unless asked; auto is one worker per host CPU; N is capped at the cores', () => {
    delete process.env.PARALLAX_CORES_PER_WORKER;
    expect(coresPerWorker(64, undefined, 2)).toBe(1);
    expect(coresPerWorker(64, 'auto', 2)).toBe(32);
    expect(coresPerWorker(65, 'auto', 2)).toBe(33);
    expect(coresPerWorker(8, 'auto', 16)).toBe(1);
    expect(coresPerWorker(8, 4, 2)).toBe(4);
    expect(coresPerWorker(3, 8, 2)).toBe(3);
    expect(() => coresPerWorker(8, 0, 2)).toThrow(MachineError);
    expect(() => coresPerWorker(8, 1.5, 2)).toThrow(MachineError);
  });

  it('takes PARALLAX_CORES_PER_WORKER when the option is not given', () => {
    process.env.PARALLAX_CORES_PER_WORKER = 'auto';
    expect(coresPerWorker(64, undefined, 4)).toBe(16);
    process.env.PARALLAX_CORES_PER_WORKER = '2';
    expect(coresPerWorker(64, undefined, 4)).toBe(2);
    expect(coresPerWorker(64, 8, 4)).toBe(8); // the option wins
  });
});

describe('waking a worker that hosts several cores', () => {
  /** 4 cores, two workers of two (as machine.ts sets the host words) */
  function grouped(): Int32Array {
    const ctl = createControlBuffer(4, 16 * 2 ** 20);
    for (let i = 0; i < 4; i++) ctl[coreBase(i) + C_HOST_WAKE] = coreBase(i - (i % 2)) + C_WORKER_WAKE;
    return ctl;
  }

  it('a wake-up of a hosted core moves its own word and its worker\'s, not the other worker\'s', () => {
    const ctl = grouped();
    wakeCore(ctl, 3);
    expect(ctl[coreBase(3) + C_WAKE]).toBe(1);
    expect(ctl[coreBase(2) + C_WORKER_WAKE]).toBe(1);
    expect(ctl[coreBase(0) + C_WORKER_WAKE]).toBe(0);
    wakeHost(ctl, 2); // a resume or a command for a parked core
    expect(ctl[coreBase(2) + C_WORKER_WAKE]).toBe(2);
  });

  it('notifies the worker\'s word while the worker sleeps, and only then', async () => {
    const ctl = grouped();
    const word = coreBase(2) + C_WORKER_WAKE;
    // awake worker: the word moves, no notify (its next check sees the move)
    const quiet = Atomics.waitAsync(ctl, word, 0, 100);
    wakeCore(ctl, 2);
    expect(quiet.async).toBe(true);
    expect(await quiet.value).toBe('timed-out');
    // sleeping worker: the wake-up ends its wait at once
    Atomics.store(ctl, coreBase(2) + C_WORKER_SLEEPING, 1);
    const seen = Atomics.load(ctl, word);
    const sleeping = Atomics.waitAsync(ctl, word, seen, 10_000);
    wakeCore(ctl, 3);
    expect(await sleeping.value).toBe('ok');
  });

  it('a core alone in its worker has no host word: no other core\'s words move', () => {
    const ctl = createControlBuffer(2, 16 * 2 ** 20);
    const before = Array.from(ctl);
    wakeCore(ctl, 1);
    const changed = Array.from(ctl).map((v, i) => (v !== before[i] ? i : -1)).filter((i) => i >= 0);
    expect(changed).toContain(coreBase(1) + C_WAKE);
    // (guest time's shared words may move too: the sender reads the clock)
    expect(changed.filter((i) => i >= coreBase(0) && i < coreBase(1))).toEqual([]);
  });
});
