// The time model (src/abi/clock.ts) on one thread: real time waits for a late participant and
// gives the stolen time back; -icount counts instructions; a hold never pulls time back.
import { describe, expect, it } from 'vitest';
import { CATCH_UP_RATE, Clock, HOLD_SLACK_NS, IO_THREAD, configureTime } from '../../src/abi/clock.js';
import { createControlBuffer } from '../../src/abi/control-block.js';

const spin = (ns: number): void => {
  const end = process.hrtime.bigint() + BigInt(Math.round(ns));
  while (process.hrtime.bigint() < end) { /* wait */ }
};

function machine(cores: number, model: Parameters<typeof configureTime>[1] = { mode: 'real' }): Int32Array {
  const ctl = createControlBuffer(cores, 16 * 1024 * 1024);
  configureTime(ctl, model);
  return ctl;
}

// A guest reading bracketed by two host readings: a preemption anywhere (a busy CI host) widens
// the window the rule is checked against instead of failing it.
interface Bracketed { g: number; lo: number; hi: number }
const read = (c: Clock): Bracketed => { const lo = c.hostNs(); const g = c.nowNs(); return { g, lo, hi: c.hostNs() }; };
/** Guest time from a to b ran at least at host speed and at most CATCH_UP_RATE faster (plus jitter). */
function expectRate(a: Bracketed, b: Bracketed, fastest = 1 + CATCH_UP_RATE): void {
  const dg = b.g - a.g;
  expect(dg).toBeGreaterThanOrEqual(b.lo - a.hi - 2e5);
  expect(dg).toBeLessThanOrEqual((b.hi - a.lo) * fastest + 2e5);
}

describe('real time', () => {
  it('follows the host while nobody is late', () => {
    const c = new Clock(machine(2));
    const a = read(c);
    spin(3e6);
    expectRate(a, read(c), 1);
  });

  it('stands still HOLD_SLACK_NS past a late core, then runs on from there (never backwards)', () => {
    const ctl = machine(2);
    const c = new Clock(ctl);
    const t = c.nowNs();
    c.hold(1, t); // core 1 owes something from now (an interrupt was sent to it)
    spin(5e6);
    const stalled = c.nowNs();
    expect(stalled).toBeGreaterThanOrEqual(t + HOLD_SLACK_NS - 1);
    expect(stalled).toBeLessThanOrEqual(t + HOLD_SLACK_NS + 1e5);
    expect(c.stolenNs()).toBeGreaterThan(3e6);
    spin(1e6); // still held: this stretch is stolen too, not handed back at the release
    const released = c.hostNs();
    c.hold(1, Infinity); // core 1 caught up and went to sleep
    const r1 = read(c);
    // Resumes where it stood, not at host time (which is already ~5 ms ahead): only the host
    // time since the release, at most CATCH_UP_RATE fast, lies between.
    expect(r1.g).toBeGreaterThanOrEqual(stalled);
    expect(r1.g - stalled).toBeLessThanOrEqual((r1.hi - released) * (1 + CATCH_UP_RATE) + 2e5);
    spin(2e6);
    expectRate(r1, read(c)); // runs again, at least at host speed, catching up at most 10 % fast
  });

  it('a deadline already in the past holds at now, not before it', () => {
    const ctl = machine(1);
    const c = new Clock(ctl);
    spin(1e6);
    const before = c.nowNs();
    c.hold(IO_THREAD, 0);
    expect(c.nowNs()).toBeGreaterThanOrEqual(before);
  });

  it('every thread reads one time line (a second Clock never reads less than the first did)', () => {
    const ctl = machine(2);
    const a = new Clock(ctl), b = new Clock(ctl);
    a.hold(0, a.nowNs());
    spin(1e6);
    const ra = a.nowNs();
    expect(b.nowNs()).toBeGreaterThanOrEqual(ra);
  });
});

describe('-icount', () => {
  it('advances 2^shift ns per retired instruction on the core holding the turn', () => {
    const ctl = machine(1, { mode: 'icount', shift: 3, quantum: 1000 });
    let retired = 100;
    const core = new Clock(ctl);
    core.attachCore(0, () => retired, () => Infinity);
    const io = new Clock(ctl);
    core.beginTurn();
    retired += 50;
    expect(core.nowNs()).toBe(400);
    core.publish();
    expect(io.nowNs()).toBe(400);
    io.jumpTo(10_000);
    core.beginTurn();
    retired += 1;
    expect(core.nowNs()).toBe(10_008);
  });

  it('a limited round (a virtual LAN window): each core gets its share of the time left, 0 once it has passed', () => {
    const ctl = machine(3, { mode: 'icount', shift: 3, quantum: 1000 });
    const io = new Clock(ctl);
    expect(io.turnBudget(0, 3, 1000)).toBe(1000); // no limit: the quantum
    io.jumpTo(8000);
    io.limitRound(8000 + 8 * 300); // 300 instructions left
    for (let c = 0; c < 3; c++) io.hold(c, 8000); // every core runnable
    expect(io.turnBudget(0, 3, 1000)).toBe(100); // split among itself and the two after it
    expect(io.turnBudget(1, 3, 1000)).toBe(150);
    expect(io.turnBudget(2, 3, 1000)).toBe(300);
    io.hold(2, Infinity); // core 2 halted: core 1 may take all that is left
    expect(io.turnBudget(1, 3, 1000)).toBe(300);
    io.limitRound(8000 + 8 * 5000);
    expect(io.turnBudget(2, 3, 1000)).toBe(1000); // never more than the quantum
    io.limitRound(8000);
    expect(io.turnBudget(0, 3, 1000)).toBe(0); // the limit is reached: the turn is skipped
    io.limitRound(Infinity);
    expect(io.turnBudget(0, 3, 1000)).toBe(1000);
  });

  it('refuses a shift outside 0..10 and a tiny quantum', () => {
    expect(() => machine(1, { mode: 'icount', shift: 11, quantum: 1000 })).toThrow(/shift/);
    expect(() => machine(1, { mode: 'icount', shift: 1, quantum: 10 })).toThrow(/quantum/);
  });
});
