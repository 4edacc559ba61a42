// The collectives' wire pieces without a machine: the member list layout, COLL_START's encoding
// through the codec, the tag key of tree frames (the network key between servers, like STREAM),
// and the test LAN's seeded, counted loss.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import * as W from '../../src/protocol/wire.js';
import { encodePayload, decodePayload } from '../../src/protocol/codec.js';
import { tagKeyChoice } from '../../src/protocol/keys.js';
import { encodeMembers, newOpId } from '../../src/orchestrator/collectives.js';
import { launchBlockBytes } from '../../src/orchestrator/launch.js';
import { spreadAcrossServers } from '../../src/orchestrator/commands/collective.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { EXIT } from '../../src/orchestrator/errors.js';
import { captureIO } from './cli-io.js';
import { StreamLan } from '../dime/lan.js';
import { encodeStreamFrame } from '../../src/net/stream-framing.js';

describe('collectives on the wire', () => {
  it('spreads members round-robin over servers, and sizes launch blocks to fit one COLL_DOWN', () => {
    const d = (server: string, core: number) => ({ server, core });
    expect(spreadAcrossServers([d('b', 1), d('a', 0), d('a', 1), d('b', 0), d('a', 2)])).toEqual([d('a', 0), d('b', 0), d('a', 1), d('b', 1), d('a', 2)]);
    const m = W.messageByName('COLL_DOWN');
    for (const n of [1, 8, 64]) {
      const p = encodePayload(m.request!, { op: 1n, count: n, members: Buffer.alloc(n * 8 + launchBlockBytes(n)) });
      expect(p.length).toBe(W.MAX_PAYLOAD);
    }
  });

  it('launch refuses a built-in name and a bad count before anything is sent', async () => {
    for (const [words, msg] of [[['launch', 'upper', '--on', '2'], /built-in service/], [['launch', 'images/services/upper.bin', '--on', '0'], /give 1\.\.64/]] as const) {
      const io = captureIO('', { PARALLAX_KEY: 'k' });
      const code = await runCli(['--net', 'hub,path=/nonexistent.sock', '--state', 'none', ...words], io);
      expect(code).toBe(EXIT.USAGE);
      expect(io.err()).toMatch(msg);
    }
  });

  it('lays out members as (mac, core) pairs followed by the block', () => {
    const b = encodeMembers([{ server: '52:54:00:00:00:0a', core: 3 }, { server: '52:54:00:00:00:0b', core: 0x102 }], Buffer.from('xy'));
    expect(b.toString('hex')).toBe('52540000000a0003' + '52540000000b0102' + '7879');
    expect(() => encodeMembers([])).toThrow(RangeError);
    expect(() => encodeMembers(Array.from({ length: 65 }, (_, core) => ({ server: '52:54:00:00:00:0a', core })))).toThrow(RangeError);
  });

  it('encodes COLL_START with the fixed fields first and decodes it back', () => {
    const m = W.messageByName('COLL_START');
    const op = newOpId();
    expect(op).not.toBe(0n);
    const members = encodeMembers([{ server: '52:54:00:00:00:0a', core: 0 }]);
    const p = encodePayload(m.request!, { op, kind: W.COLL_KIND.CAW, fanout: 2, count: 1, var: 1, cmp: W.COLL_CMP.GE, writeVar: 2, compare: 5n, value: 9n, members });
    expect(p.length).toBe(40 + 8);
    const d = decodePayload(m.request!, p);
    expect(d).toMatchObject({ op, kind: 2, count: 1, var: 1, cmp: 3, writeVar: 2, compare: 5n, value: 9n });
    expect((d.members as Buffer).equals(members)).toBe(true);
  });

  it('tags tree frames between DIMEs with the network key, and orchestrator commands with the server key', () => {
    for (const name of ['COLL_DOWN', 'COLL_UP']) {
      const c = W.messageByName(name);
      expect(tagKeyChoice({ srcMac: '52:54:00:00:00:0a', dstMac: '52:54:00:00:00:0b', channel: c.channel, code: c.code, flags: 0, dstCore: 1, srcCore: 0 })).toEqual({ kind: 'net' });
    }
    const s = W.messageByName('COLL_START');
    expect(tagKeyChoice({ srcMac: '02:00:00:00:00:01', dstMac: '52:54:00:00:00:0b', channel: s.channel, code: s.code, flags: 0, dstCore: 0, srcCore: W.CORE_NONE }))
      .toEqual({ kind: 'server', mac: '52:54:00:00:00:0b' });
  });

  it('the test LAN loses a seeded, counted share of deliveries', async () => {
    const run = async (seed: number) => {
      const lan = new StreamLan(path.join(mkdtempSync(path.join(tmpdir(), 'coll-loss-')), 'lan.sock'));
      await lan.listen();
      const sock = net.connect(lan.path);
      await lan.connected(1);
      lan.setLoss({ rate: 0.05, seed });
      let heard = 0;
      lan.on('frame', () => heard++);
      const frame = Buffer.alloc(60, 1);
      for (let i = 0; i < 2000; i++) sock.write(encodeStreamFrame(frame));
      await new Promise<void>((r) => { const t = setInterval(() => { if (lan.framesIn === 2000) { clearInterval(t); r(); } }, 10); });
      sock.destroy();
      await lan.close();
      expect(heard + lan.lost).toBe(2000);
      expect(lan.lossTrials).toBe(2000);
      return lan.lost;
    };
    const a = await run(7);
    expect(a).toBeGreaterThan(60);
    expect(a).toBeLessThan(140);
    expect(await run(7)).toBe(a);   // same seed, same losses
    expect(() => new StreamLan('/nonexistent').setLoss({ rate: 1, seed: 1 })).toThrow(RangeError);
  });
});
