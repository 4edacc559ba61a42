// The name service fleet (docs/NAMES.md; fos's naming fleet, paper 004) on every machine runner,
// three 2-core servers on one LAN: a fleet of one DIME on each of two servers, the third
// server's DIME resolving through its kernel (and its cache):
//  * register / resolve across servers, a binding overwritten, a repeat answered alike;
//  * fleet frames captured on the LAN and sent again (replayed) or altered (forged), and a
//    fleet frame in an orchestrator's name: refused and counted;
//  * the primary's server killed: every name still resolves, a register goes through a new
//    view (the survivor becomes primary);
//  * a new member on the third server: it catches up (state transfer) and answers;
//  * registers while the LAN loses 5 % of its deliveries: both members end with the same table.
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as W from '../../src/protocol/wire.js';
import { encodePayload } from '../../src/protocol/codec.js';
import { availableRunners, type MachineRunner } from './runner.js';
import { IMAGE, serverKeyFileFor } from './bench.js';
import { StreamLan } from './lan.js';
import { DimeClient } from './client.js';
import { configureFleet, listNames, nameStatus, registerName, resolveName, type FleetMember } from '../../src/orchestrator/names.js';

const KEY = 'names-key';
const A = '52:54:00:00:d0:0a';
const B = '52:54:00:00:d0:0b';
const C = '52:54:00:00:d0:0c';
const CORES = 2;
const runners = availableRunners();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const at = (server: string, core: number): FleetMember => ({ server, core });

async function servers(mk: () => MachineRunner, macs: string[]) {
  const lan = new StreamLan(path.join(mkdtempSync(path.join(tmpdir(), 'dime-names-')), 'lan.sock'));
  await lan.listen();
  const machines = macs.map(() => mk());
  for (let i = 0; i < macs.length; i++) await machines[i].start(IMAGE, { cores: CORES, netSocket: lan.path, append: 'hb=0 perf=0', mac: macs[i], keyFile: serverKeyFileFor(KEY, macs[i]) });
  await lan.connected(macs.length, 60_000);
  await Promise.all(machines.map((m) => m.waitForOutput(new RegExp(`DIME ready: ${CORES} cores`), 120_000)));
  return { lan, machines, stop: async () => { for (const m of machines) await m.stop(); await lan.close(); } };
}

describe.skipIf(runners.length === 0 || !existsSync(IMAGE)).each(runners.map((mk) => [mk().name, mk] as const))('name fleet on three servers of %s', (name, mk) => {
  it('register and resolve across servers; forged and replayed fleet frames counted; a member lost; a new member catches up', async () => {
    const lab = await servers(mk, [A, B, C]);
    try {
      const client = new DimeClient(lab.lan, KEY, '02:00:00:00:0d:01');
      for (const s of [A, B, C]) await client.epochOf(s);
      const link = client.link;
      // a fleet frame from the primary (A) to the member on B, for the replay below
      let captured: Buffer | undefined;
      lab.lan.on('frame', (raw: Buffer) => {
        const f = client.codec.decode(raw);
        if (!captured && f?.message?.name === 'NAME_APPEND' && f.dstMac === B && (client.codec.fields(f).seq as number) > 0) captured = Buffer.from(raw);
      });

      const members = [at(A, 1), at(B, 1)];
      const outside = at(C, 0);
      const v1 = await configureFleet(link, members, [outside]);
      expect(v1.members).toEqual(members);   // nobody holds anything yet: the first is primary
      const reg = async (n: string, t: FleetMember) => registerName(link, v1.members, n, t);
      expect(await reg('alpha', at(A, 0))).toMatchObject({ seq: 1, acked: 2, live: 2 });
      expect(await reg('beta', at(B, 0))).toMatchObject({ seq: 2, acked: 2, live: 2 });
      expect(await reg('gamma', at(C, 0))).toMatchObject({ seq: 3, acked: 2, live: 2 });
      expect(await reg('alpha', at(C, 1))).toMatchObject({ seq: 4, acked: 2, live: 2 });   // rebound
      expect(await reg('alpha', at(C, 1))).toMatchObject({ seq: 4 });                      // the same binding: same answer
      const want = { alpha: at(C, 1), beta: at(B, 0), gamma: at(C, 0) };
      for (const m of members) {
        for (const [n, t] of Object.entries(want)) expect(await resolveName(link, members, n, m)).toMatchObject({ ...t, source: 'replica' });
        expect(await resolveName(link, members, 'nobody', m)).toBeNull();
      }
      // a DIME outside the fleet: its kernel asks a member, then answers from its cache
      expect(await resolveName(link, members, 'beta', outside)).toMatchObject({ ...want.beta, seq: 2, source: 'fleet' });
      expect(await resolveName(link, members, 'beta', outside)).toMatchObject({ ...want.beta, seq: 2, source: 'cache' });
      expect(await resolveName(link, members, 'nobody', outside)).toBeNull();
      expect(await nameStatus(link, outside)).toMatchObject({ self: null, cacheHits: 1, cacheMisses: 2 });
      expect((await listNames(link, members)).bindings.map((b) => [b.name, b.seq])).toEqual([['beta', 2], ['gamma', 3], ['alpha', 4]]);

      // replayed and forged fleet frames: dropped and counted by the member; the binding stays
      expect(captured).toBeDefined();
      const sec0 = (await client.request1(B, 1, 'QUERY_SECURITY')).fields;
      lab.lan.send(captured!);
      const forged = Buffer.from(captured!);
      forged[forged.length - 1] ^= 1;
      lab.lan.send(forged);
      // properly signed but in an orchestrator's name: fleet frames come from DIMEs only
      const refused0 = (await nameStatus(link, at(B, 1)))!.refused;
      client.send({ dstMac: B, channel: 'data', scope: 'dime', code: W.messageByName('NAME_APPEND').code, dstCore: 1, epoch: client.epochs.get(B),
        payload: encodePayload(W.messageByName('NAME_APPEND').request!, { view: 1, seq: 9, base: 0, head: 9, name: 'mallory', server: A, core: 0 }) });
      await sleep(500);
      const sec1 = (await client.request1(B, 1, 'QUERY_SECURITY')).fields;
      expect((sec1.replayed as number) - (sec0.replayed as number)).toBe(1);
      expect((sec1.forged as number) - (sec0.forged as number)).toBe(1);
      expect((await nameStatus(link, at(B, 1)))!.refused - refused0).toBe(1);
      expect(await resolveName(link, members, 'alpha', at(B, 1))).toMatchObject({ ...want.alpha, seq: 4 });
      expect(await resolveName(link, members, 'mallory', at(B, 1))).toBeNull();

      // the primary's server dies: the names still resolve, from the member and through the kernel
      await lab.machines[0].kill();
      for (const [n, t] of Object.entries(want)) expect(await resolveName(link, members, n, at(B, 1))).toMatchObject(t);
      expect(await resolveName(link, members, 'gamma', outside)).toMatchObject({ ...want.gamma, source: 'fleet' });   // asked A first, then B
      expect(await resolveName(link, members, 'alpha')).toMatchObject({ ...want.alpha, via: at(B, 1) });
      // a register finds no primary answering: a view of the members that answer, and again
      const d = await registerName(link, members, 'delta', at(B, 0));
      expect(d).toMatchObject({ seq: 5, acked: 1, live: 1, primary: at(B, 1), view: 2 });

      // a new member on the third server: it catches up from the primary and answers
      const v3 = await configureFleet(link, [at(B, 1), at(C, 1)], [outside]);
      expect(v3).toMatchObject({ view: 3, members: [at(B, 1), at(C, 1)] });
      const t0 = Date.now();
      let s = await nameStatus(link, at(C, 1));
      while (!(s && s.head !== 0xffffffff && s.applied >= s.head) && Date.now() - t0 < 20_000) { await sleep(100); s = await nameStatus(link, at(C, 1)); }
      expect(s).toMatchObject({ self: 1, applied: 5, head: 5, names: 4 });
      const all = { ...want, delta: at(B, 0) };
      for (const [n, t] of Object.entries(all)) expect(await resolveName(link, v3.members, n, at(C, 1))).toMatchObject({ ...t, source: 'replica' });
      expect(await registerName(link, v3.members, 'epsilon', at(C, 0))).toMatchObject({ seq: 6, acked: 2, live: 2 });
      expect(await resolveName(link, v3.members, 'epsilon', at(C, 1))).toMatchObject({ ...at(C, 0), seq: 6 });
      expect(await resolveName(link, v3.members, 'epsilon', outside)).toMatchObject({ ...at(C, 0), source: 'fleet' });
      // 5 % of the LAN's deliveries lost: every register still reaches both members, in one order
      lab.lan.setLoss({ rate: 0.05, seed: 29 });
      const lossy = [];
      for (let i = 0; i < 8; i++) lossy.push(await registerName(link, v3.members, `n${i}`, at(i % 2 ? B : C, i % 2)));
      lab.lan.setLoss({ rate: 0, seed: 1 });
      expect(lossy.map((r) => [r.seq, r.acked, r.live])).toEqual(lossy.map((_, i) => [7 + i, 2, 2]));
      const tables = [];
      for (const m of v3.members) {
        const st = (await client.request1(m.server, m.core, 'NAME_STATUS', { first: 0 })).fields;
        expect(st).toMatchObject({ applied: 14, names: 13 });
        tables.push((st.records as Array<Record<string, unknown>>).map((r) => `${r.name}=${r.server}/${r.core}#${r.seq}`).sort());
      }
      expect(tables[1]).toEqual(tables[0]);
      expect(lab.lan.lost).toBeGreaterThan(0);
      console.log(`${name}: 8 registers with ${lab.lan.lost} of ${lab.lan.lossTrials} deliveries lost; register attempts ${lossy.map((r) => r.attempts).join(',')}`);
      console.log(`${name}: new member caught up with ${s?.applied} bindings in ${Date.now() - t0} ms (polled every 100 ms)`);
    } finally {
      await lab.stop();
    }
  }, 300_000);
});
