import { describe, expect, it } from 'vitest';
import { HostTimerService, ManualTimerService, PreciseTimerService } from '../../../src/devices/timer-service.js';

const hostClock = { nowNs: () => Number(process.hrtime.bigint()) };

describe('HostTimerService', () => {
  it('never calls back before the instant; a new schedule replaces the old; cancel works', async () => {
    const ts = new HostTimerService(hostClock);
    const start = hostClock.nowNs();
    const calls: [string, number][] = [];
    // waits for the callbacks themselves, not a host sleep: a preempted test process may run a
    // sleep's timer before the service's (issue 13)
    let bothCalled!: () => void;
    const called = new Promise<void>((r) => { bothCalled = r; });
    const call = (name: string) => () => { calls.push([name, hostClock.nowNs()]); if (calls.length === 2) bothCalled(); };
    ts.schedule('a', start + 30e6, call('a-old'));
    ts.schedule('a', start + 3e6, call('a'));
    ts.schedule('b', start + 5e6, call('b'));
    ts.schedule('c', start + 1e6, call('c'));
    ts.cancel('c');
    ts.schedule('inf', Infinity, call('inf'));
    expect(ts.size).toBe(2);
    await called;
    expect(calls.map((c) => c[0])).toEqual(['a', 'b']);
    expect(calls[0][1]).toBeGreaterThanOrEqual(start + 3e6);
    expect(calls[1][1]).toBeGreaterThanOrEqual(start + 5e6);
    expect(ts.size).toBe(0);
    ts.dispose();
  });

  it('lets a callback re-schedule its own key', async () => {
    const ts = new HostTimerService(hostClock);
    let n = 0;
    let third!: () => void;
    const done = new Promise<void>((r) => { third = r; });
    const tick = () => {
      n++;
      if (n < 3) ts.schedule('p', hostClock.nowNs() + 1e6, tick);
      else third();
    };
    ts.schedule('p', hostClock.nowNs() + 1e6, tick);
    await done; // the third call itself, however late a loaded host runs it
    expect(n).toBe(3);
    expect(ts.size).toBe(0);
    ts.dispose();
  });
});

describe('ManualTimerService', () => {
  it('runs due callbacks in time order at their own instants', () => {
    const ts = new ManualTimerService(100);
    const seen: [string, number][] = [];
    ts.schedule('late', 300, () => seen.push(['late', ts.nowNs()]));
    ts.schedule('early', 200, () => {
      seen.push(['early', ts.nowNs()]);
      ts.schedule('chained', 250, () => seen.push(['chained', ts.nowNs()]));
    });
    ts.advanceTo(1000);
    expect(seen).toEqual([['early', 200], ['chained', 250], ['late', 300]]);
    expect(ts.nowNs()).toBe(1000);
    expect(ts.when('late')).toBeUndefined();
  });
});

describe('PreciseTimerService', () => {
  it('runs callbacks in order, never early, and much closer than 1 ms', async () => {
    const ts = new PreciseTimerService(hostClock);
    await new Promise<void>((r) => ts.schedule('warm-up', hostClock.nowNs(), r)); // the helper thread has started
    const late: number[] = [];
    const period = 250_000; // 4 kHz
    let next = hostClock.nowNs() + period;
    let n = 0;
    await new Promise<void>((done) => {
      const tick = () => {
        late.push(hostClock.nowNs() - next);
        if (++n === 200) return done();
        next += period;
        ts.schedule('t', next, tick);
      };
      ts.schedule('t', next, tick);
    });
    ts.schedule('x', hostClock.nowNs() + 1e6, () => late.push(-1));
    ts.cancel('x');
    await new Promise((r) => setTimeout(r, 5));
    ts.dispose();
    expect(late.length).toBe(200);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(0);
    // How late the callbacks come (median ~0.1 ms on an idle host, setTimeout's ~1 ms) is the host
    // scheduler's figure, not a property this test can hold under load: it is not asserted here.
    // What the service decides is asserted: the order, never early, every tick.
  });
});
