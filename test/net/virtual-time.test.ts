// The hub's virtual time: the wire messages, the barrier's grants (conservative: min of the
// others' promises + latency, held at 0 until the expected members joined, never lowered), and
// a real hub with two members and a port outside the virtual time: stamped delivery instants,
// grants, delivery order for frames due at one instant, and the unstamped frames counted.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openNetBackend } from '../../src/net/backends/open-backend.js';
import type { StreamBackend } from '../../src/net/backends/stream.js';
import { LearningSwitch } from '../../src/net/learning-switch.js';
import { VirtualTimeBarrier } from '../../src/net/virtual-time-barrier.js';
import { VirtualTimeLink } from '../../src/net/virtual-time-link.js';
import { VT_FRAME, VT_GRANT, VT_TIME, VT_WELCOME, decodeVt, encodeVt } from '../../src/net/virtual-time-wire.js';
import { parseHubArgs } from '../../src/cli/hub.js';
import { BROADCAST, ethFrame } from '../devices/e1000/e1000-harness.js';
import { scratchDir } from '../lib/scratch-dir.js';
import { until } from '../lib/until.js';

const dir = scratchDir('vt-hub');

describe('virtual-time wire format', () => {
  it('round-trips every message; ordinary frames (also 0x88B5 ones without the magic) are not messages', () => {
    const f = ethFrame(BROADCAST, Uint8Array.of(2, 0, 0, 0, 0, 1), 40);
    expect(decodeVt(encodeVt({ kind: VT_TIME, ns: 123.5 }))).toEqual({ kind: VT_TIME, ns: 123.5 });
    expect(decodeVt(encodeVt({ kind: VT_GRANT, ns: Infinity }))).toEqual({ kind: VT_GRANT, ns: Infinity });
    expect(decodeVt(encodeVt({ kind: VT_WELCOME, latencyNs: 20000, late: true }))).toEqual({ kind: VT_WELCOME, latencyNs: 20000, late: true });
    const m = decodeVt(encodeVt({ kind: VT_FRAME, ns: 5, frame: f }));
    expect(m?.kind === VT_FRAME && Buffer.from(m.frame).equals(Buffer.from(f))).toBe(true);
    expect(decodeVt(f)).toBeNull();
    const hello = Buffer.from(f);
    hello.writeUInt16BE(0x88b5, 12);
    hello.write('PXHELLO s1', 14, 'latin1'); // the lan-hello guest's own 0x88B5 frames
    expect(decodeVt(hello)).toBeNull();
    const nan = encodeVt({ kind: VT_TIME, ns: 0 });
    nan.writeDoubleBE(NaN, 20);
    expect(decodeVt(nan)).toBeNull();
  });
});

describe('virtual-time barrier', () => {
  it('grants min(others\' promises) + latency, 0 until the expected members joined, never lower', () => {
    const grants = new Map<number, number[]>();
    const b = new VirtualTimeBarrier({ latencyNs: 100, expected: 3, grant: (id, ns) => grants.set(id, [...(grants.get(id) ?? []), ns]) });
    expect(b.join(1)).toBe(false);
    expect(b.join(2)).toBe(false);
    b.promise(1, 500);
    expect(b.grantOf(2)).toBe(0); // not started: nobody passes time 0
    expect(b.join(3)).toBe(false);
    expect([b.grantOf(1), b.grantOf(2), b.grantOf(3)]).toEqual([100, 100, 100]);
    b.promise(2, 300);
    b.promise(3, 1000);
    expect([b.grantOf(1), b.grantOf(2), b.grantOf(3)]).toEqual([400, 600, 400]);
    b.promise(2, 200); // backwards: ignored and counted
    expect(b.backwards).toBe(1);
    expect(b.grantOf(1)).toBe(400);
    expect(b.join(4)).toBe(true); // late: does not hold the others back
    expect(b.lateJoins).toBe(1);
    expect(b.grantOf(1)).toBe(400);
    expect(b.grantOf(4)).toBe(400);
    b.leave(2);
    expect(b.grantOf(1)).toBe(1100);
    b.leave(3);
    expect(b.grantOf(1)).toBe(Infinity); // alone: nothing can come
    for (const g of grants.values()) expect([...g].sort((x, y) => x - y)).toEqual(g); // only ever raised
  });

  it('the hub CLI takes --latency and --members, and refuses bad values', () => {
    expect(parseHubArgs(['--listen', '/x.sock', '--latency', '5000', '--members', '3'])).toMatchObject({ latencyNs: 5000, members: 3 });
    expect(parseHubArgs(['--listen', '/x.sock'])).toMatchObject({ latencyNs: 20000, members: 0 });
    expect(() => parseHubArgs(['--listen', '/x.sock', '--latency', '0'])).toThrow(/--latency/);
    expect(() => parseHubArgs(['--listen', '/x.sock', '--latency', '1.5'])).toThrow(/--latency/);
    expect(() => parseHubArgs(['--listen', '/x.sock', '--members', '-1'])).toThrow(/--members/);
  });
});

describe('a hub with members in the virtual time', () => {
  it('stamps frames with send instant + latency, grants only what is complete, orders equal instants by source MAC, counts unstamped frames', async () => {
    const logs: string[] = [];
    const hub = new LearningSwitch({ latencyNs: 1000, members: 3, log: (l) => logs.push(l) });
    const path = join(dir, 'vt.sock');
    await hub.listen({ kind: 'unix', path });
    const clocks = [0, 0, 0];
    const members: { link: VirtualTimeLink; got: Uint8Array[] }[] = [];
    for (let i = 0; i < 3; i++) {
      const inner = await openNetBackend(`hub,path=${path}`);
      await (inner as StreamBackend).waitConnected();
      const link = new VirtualTimeLink(inner, () => clocks[i]);
      const got: Uint8Array[] = [];
      link.onReceive((f) => got.push(f.slice()));
      members.push({ link, got });
      await until(() => link.welcome !== null, 5000);
    }
    const [a, b, c] = members;
    expect(a.link.welcome).toEqual({ latencyNs: 1000, late: false });
    await until(() => members.every((m) => m.link.grant() === 1000), 5000);
    // b and c send at the same instant (c's MAC is lower): a must take c's frame first
    const macB = Uint8Array.of(0x5a, 0x50, 0, 0, 0, 0xb), macC = Uint8Array.of(0x5a, 0x50, 0, 0, 0, 0x0c - 0x0a);
    clocks[1] = 400;
    clocks[2] = 400;
    b.link.send(ethFrame(BROADCAST, macB, 40));
    c.link.send(ethFrame(BROADCAST, macC, 40));
    b.link.promise(500);
    c.link.promise(500);
    await until(() => a.link.grant() === 1500, 5000); // min(b, c) + latency; both frames are here by then
    expect(a.link.nextArrival()).toBe(1400);
    expect(a.link.deliverDue(1399)).toBe(0);
    expect(a.link.deliverDue(1400)).toBe(2);
    expect(a.got.map((f) => f[11])).toEqual([0x02, 0x0b]);
    // a port outside the virtual time: its frames reach members unstamped, warned about and counted
    const outsider = await openNetBackend(`hub,path=${path}`);
    await (outsider as StreamBackend).waitConnected();
    outsider.send(ethFrame(BROADCAST, Uint8Array.of(0x52, 0x54, 0, 0, 0, 9), 40));
    await until(() => a.link.vstats.unstamped === 1 && b.link.vstats.unstamped === 1, 5000);
    expect(hub.stats.unstamped).toBe(3);
    expect(logs.some((l) => /not in the virtual time/.test(l))).toBe(true);
    await outsider.close();
    for (const m of members) await m.link.close();
    await hub.close();
  });
});
