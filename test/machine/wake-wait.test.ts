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

describe('halted-core wake-up', () => {
  it('polls when the host has CPUs to spare, and counts the wake-up', () => {
    const ctl = machine(2, 4, 50);
    const w = new WakeWaiter(ctl, 1);
    const seen = Atomics.load(ctl, coreBase(1) + C_WAKE);
    wakeCore(ctl, 1);
    expect(w.wait(seen, 100)).toBe(true);
    expect(w.polled).toBe(1);
    expect(ctl[coreBase(1) + C_STAT_WAKEUPS]).toBe(1);
    let inHistogram = 0;
    for (let i = 0; i < 8; i++) inHistogram += ctl[coreBase(1) + C_STAT_WAKE_HIST + i];
    expect(inHistogram).toBe(1);
  });

  it('does not poll on a loaded host', () => {
    const ctl = machine(2, 4, 900);
    const w = new WakeWaiter(ctl, 1);
    const seen = Atomics.load(ctl, coreBase(1) + C_WAKE);
    wakeCore(ctl, 1);
    expect(w.wait(seen, 100)).toBe(true);
    expect(w.polled).toBe(0);
  });

  it('never polls when emulated cores outnumber host cores', () => {
    const ctl = machine(4, 2, 0);
    const w = new WakeWaiter(ctl, 3);
    const seen = Atomics.load(ctl, coreBase(3) + C_WAKE);
    wakeCore(ctl, 3);
    expect(w.wait(seen, 100)).toBe(true);
    expect(w.polled).toBe(0);
    expect(w.wait(Atomics.load(ctl, coreBase(3) + C_WAKE), 1)).toBe(false); // times out asleep
  });

  // wakeCore skips the futex notify for a core that publishes itself running; the request is
  // still not lost when that core goes to sleep right after, on the wake value it read before
  it('a request to a running core that then sleeps on its earlier wake value ends the sleep at once', () => {
    const ctl = machine(2, 2, 400); // loaded: no polling, straight to Atomics.wait
    const w = new WakeWaiter(ctl, 1);
    Atomics.store(ctl, coreBase(1) + C_RUNSTATE, RS_RUNNING);
    const seen = Atomics.load(ctl, coreBase(1) + C_WAKE);
    wakeCore(ctl, 1);
    Atomics.store(ctl, coreBase(1) + C_RUNSTATE, RS_HALTED);
    // a lost request would time out (false) after 10 s instead
    expect(w.wait(seen, 10_000)).toBe(true);
    expect(w.polled).toBe(0);
    expect(w.slept).toBe(1);
  });
});
