import { describe, expect, it } from 'vitest';
import { HostTimerService, ManualTimerService, PreciseTimerService } from '../../../src/devices/timer-service.js';

const hostClock = { nowNs: () => Number(process.hrtime.bigint()) };

describe('HostTimerService', () => {
  it('never calls back before the instant; a new schedule replaces the old; cancel works', async () => {
    const ts = new HostTimerService(hostClock);
    const start = hostClock.nowNs();
    const calls: [string, number][] = [];
    ts.schedule('a', start + 30e6, () => calls.push(['a-old', hostClock.nowNs()]));
    ts.schedule('a', start + 3e6, () => calls.push(['a', hostClock.nowNs()]));
    ts.schedule('b', start + 5e6, () => calls.push(['b', hostClock.nowNs()]));
    ts.schedule('c', start + 1e6, () => calls.push(['c', hostClock.nowNs()]));
    ts.cancel('c');
    ts.schedule('inf', Infinity, () => calls.push(['inf', 0]));
    expect(ts.size).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    expect(calls.map((c) => c[0])).toEqual(['a', 'b']);
    expect(calls[0][1]).toBeGreaterThanOrEqual(start + 3e6);
    expect(calls[1][1]).toBeGreaterThanOrEqual(start + 5e6);
    expect(ts.size).toBe(0);
    ts.dispose();
  });

  it('lets a callback re-schedule its own key', async () => {
    const ts = new HostTimerService(hostClock);
    let n = 0;
    const tick = () => {
      n++;
      if (n < 3) ts.schedule('p', hostClock.nowNs() + 1e6, tick);
    };
    ts.schedule('p', hostClock.nowNs() + 1e6, tick);
    await new Promise((r) => setTimeout(r, 50));
    expect(n).toBe(3);
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
    late.sort((a, b) => a - b);
    expect(late[100]).toBeLessThan(500_000); // median lateness (setTimeout's is about 1 ms)
  });
});
