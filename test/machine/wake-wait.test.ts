// Halt polling (src/machine/wake-wait.ts): a halted core polls its wake word only while the
// host has a CPU to spare, never when emulated cores outnumber host cores.
import { describe, expect, it } from 'vitest';
import { C_RUNSTATE, C_STAT_WAKE_HIST, C_STAT_WAKEUPS, C_WAKE, G_HOST_CORES, G_HOST_LOAD_X100, RS_HALTED, RS_RUNNING, coreBase, createControlBuffer } from '../../src/abi/control-block.js';
import { wakeCore } from '../../src/abi/interrupt-delivery.js';
import { MiB } from '../../src/abi/memory-map.js';
import { WakeWaiter } from '../../src/machine/wake-wait.js';

function machine(cores: number, hostCores: number, loadX100: number) {
  const ctl = createControlBuffer(cores, 64 * MiB);
  ctl[G_HOST_CORES] = hostCores;
  ctl[G_HOST_LOAD_X100] = loadX100;
  return ctl;
}

/**
 * Core `core` is sent a wake-up request, then waits on the wake value it read before it (with
 * `running`: the core publishes itself running while the request comes, halted after): the wait
 * must end at once, within `limitMs`. Returns the core's waiter.
 */
function wakeThenWait(ctl: Int32Array, core: number, o: { running?: boolean; limitMs?: number } = {}): WakeWaiter {
  const w = new WakeWaiter(ctl, core);
  if (o.running) Atomics.store(ctl, coreBase(core) + C_RUNSTATE, RS_RUNNING);
  const seen = Atomics.load(ctl, coreBase(core) + C_WAKE);
  wakeCore(ctl, core);
  if (o.running) Atomics.store(ctl, coreBase(core) + C_RUNSTATE, RS_HALTED);
  expect(w.wait(seen, o.limitMs ?? 100)).toBe(true);
  return w;
}

describe('halted-core wake-up', () => {
  it('polls when the host has CPUs to spare, and counts the wake-up', () => {
    const ctl = machine(2, 4, 50);
    const w = wakeThenWait(ctl, 1);
    expect(w.polled).toBe(1);
    expect(ctl[coreBase(1) + C_STAT_WAKEUPS]).toBe(1);
    let inHistogram = 0;
    for (let i = 0; i < 8; i++) inHistogram += ctl[coreBase(1) + C_STAT_WAKE_HIST + i];
    expect(inHistogram).toBe(1);
  });

  it('does not poll on a loaded host', () => {
    const w = wakeThenWait(machine(2, 4, 900), 1);
    expect(w.polled).toBe(0);
  });

  it('never polls when emulated cores outnumber host cores', () => {
    const ctl = machine(4, 2, 0);
    const w = wakeThenWait(ctl, 3);
    expect(w.polled).toBe(0);
    expect(w.wait(Atomics.load(ctl, coreBase(3) + C_WAKE), 1)).toBe(false); // times out asleep
  });

  // wakeCore skips the futex notify for a core that publishes itself running; the request is
  // still not lost when that core goes to sleep right after, on the wake value it read before
  it('a request to a running core that then sleeps on its earlier wake value ends the sleep at once', () => {
    // loaded: no polling, straight to Atomics.wait; a lost request would time out (false) after 10 s instead
    const w = wakeThenWait(machine(2, 2, 400), 1, { running: true, limitMs: 10_000 });
    expect(w.polled).toBe(0);
    expect(w.slept).toBe(1);
  });
});
