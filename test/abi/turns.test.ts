// -icount turn passing (src/abi/turns.ts): the bell of the worker hosting the next core rings,
// cores that cannot run are passed over, and the I/O thread's turn comes after the last core.
import { describe, expect, it } from 'vitest';
import { C_PENDING, C_TIME_HOLD, F_VTIME, G_TURN, P_IRR, coreBase, createControlBuffer } from '../../src/abi/control-block.js';
import { passTurn, ringAllTurnBells, setTurnBell, turnBell } from '../../src/abi/turns.js';

function machine(cores: number, perWorker: number): { ctl: Int32Array; f: Float64Array } {
  const ctl = createControlBuffer(cores, 16 << 20);
  for (let i = 0; i < cores; i++) setTurnBell(ctl, i, i - (i % perWorker));
  const f = new Float64Array(ctl.buffer, 0, ctl.length >> 1);
  f[F_VTIME] = 1000;
  for (let i = 0; i < cores; i++) f[(coreBase(i) + C_TIME_HOLD) >> 1] = 1000; // every core runnable
  return { ctl, f };
}
const hold = (f: Float64Array, core: number, ns: number): void => { f[(coreBase(core) + C_TIME_HOLD) >> 1] = ns; };

describe('-icount turns', () => {
  it('passing rings only the bell of the worker that hosts the next core', () => {
    const { ctl } = machine(4, 2);
    passTurn(ctl, 1);
    expect(ctl[G_TURN]).toBe(1);
    expect(ctl[turnBell(0)]).toBe(1);
    expect(ctl[turnBell(2)]).toBe(0);
    passTurn(ctl, 2);
    expect(ctl[turnBell(2)]).toBe(1);
    expect(ctl[turnBell(0)]).toBe(1);
  });

  it('a core with nothing pending and its timer not due is passed over; one with a pending interrupt or a due timer is not', () => {
    const { ctl, f } = machine(4, 1);
    hold(f, 1, Infinity); // halted, no timer
    hold(f, 2, 5000); // halted, timer later
    passTurn(ctl, 1);
    expect(ctl[G_TURN]).toBe(3);
    expect(ctl[turnBell(3)]).toBe(1);
    expect(ctl[turnBell(1)] + ctl[turnBell(2)]).toBe(0);
    Atomics.or(ctl, coreBase(2) + C_PENDING, P_IRR);
    passTurn(ctl, 1);
    expect(ctl[G_TURN]).toBe(2);
    Atomics.store(ctl, coreBase(2) + C_PENDING, 0);
    f[F_VTIME] = 5000; // core 2's timer is due now
    passTurn(ctl, 1);
    expect(ctl[G_TURN]).toBe(2);
  });

  it('after the last core, or when every later core is idle, the turn goes to the I/O thread', () => {
    const { ctl, f } = machine(3, 1);
    passTurn(ctl, 3);
    expect(ctl[G_TURN]).toBe(3);
    hold(f, 1, Infinity);
    hold(f, 2, Infinity);
    passTurn(ctl, 1);
    expect(ctl[G_TURN]).toBe(3);
    expect(ctl[turnBell(1)] + ctl[turnBell(2)]).toBe(0);
  });

  it('a stop rings every bell', () => {
    const { ctl } = machine(4, 2);
    ringAllTurnBells(ctl);
    expect(ctl[turnBell(0)]).toBeGreaterThan(0);
    expect(ctl[turnBell(2)]).toBeGreaterThan(0);
  });
});
