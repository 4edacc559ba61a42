// The Wireshark Lua dissector for the DIME protocol (tools/wireshark/parallax.lua): its tables
// are generated from src/protocol/wire.ts (regenerated and compared here), and tshark with the
// script decodes a capture of real DIME traffic recorded by parallax-emu's --pcap exactly as
// our own codec decodes it; synthetic frames check the EtherType-block preference and the
// malformed-frame warnings.
import { serverKeyFileFor } from '../dime/bench.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as W from '../../src/protocol/wire.js';
import { BROADCAST, PxCodec, encodePayload, type Frame } from '../../src/protocol/codec.js';
import { PcapWriter } from '../../src/net/pcap-writer.js';
import { DISSECTOR_PATH, renderDissector } from '../../tools/wireshark/gen.js';
import { StreamLan } from '../dime/lan.js';
import { DimeClient } from '../dime/client.js';
import { parsePcap } from './pcap-read.js';
import { DIME_IMAGE, EMU_CLI, repoRoot, startEmu, toolGate, type Proc } from './processes.js';
import { scratchDir } from '../lib/scratch-dir.js';

const LUA = join(repoRoot(), DISSECTOR_PATH);
const KEY = 'dissector-test-key';
const SERVER = '52:54:00:00:00:d1';
const tshark = toolGate('tshark', 'apt-get install -y tshark');
const dir = scratchDir('nic-dissector');

/** tshark with the dissector loaded; returns stdout lines (throws with stderr on failure). */
function tsharkFields(capture: string, fields: string[], extra: string[] = []): string[][] {
  const args = ['-X', `lua_script:${LUA}`, '-r', capture, ...extra, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  if (r.status !== 0 || /Lua: Error|lua_script.*error/i.test(r.stderr)) throw new Error(`tshark failed (${r.status}):\n${r.stderr}`);
  const out = r.stdout.replace(/\n$/, ''); // rows may be empty: never trim them away
  return out === '' ? [] : out.split('\n').map((l) => l.split('|'));
}

function kindOf(f: Frame): string {
  return f.flags & W.FLAGS.RESPONSE ? 'response' : f.flags & W.FLAGS.EVENT ? 'event' : 'request';
}

describe('Wireshark dissector tables', () => {
  it('parallax.lua holds exactly the tables wire.ts generates', () => {
    const current = readFileSync(LUA, 'utf8');
    const fresh = renderDissector(current);
    if (process.env.PARALLAX_UPDATE_DISSECTOR === '1' && fresh !== current) writeFileSync(LUA, fresh);
    else expect(current, 'stale: run PARALLAX_UPDATE_DISSECTOR=1 npx vitest run test/net/dissector.test.ts').toBe(fresh);
  });
});

// registered only where it applies, so a run with tshark reports no skipped test
if (tshark.missingInCi) {
  describe('Wireshark dissector under tshark', () => {
    it('needs tshark (CI is set, so its absence is a failure)', () => {
      throw new Error('tshark not found: install it (Debian: apt-get install -y tshark); .ci/run does');
    });
  });
}

describe.runIf(tshark.run)('Wireshark dissector under tshark', () => {
  it('decodes synthetic frames: every message in both scopes, a moved EtherType block, malformed frames', () => {
    const capture = join(dir, 'synthetic.pcap');
    const longKey = 'a key longer than one SHA-256 block, which HMAC hashes first: '.repeat(2);
    const codec = new PxCodec({ key: longKey, etherBase: 0x8800 });
    const w = new PcapWriter(capture);
    const expected: string[][] = [];
    let seq = 1000n;
    for (const m of W.MESSAGES) {
      for (const scope of m.scopes) {
        const raw = codec.encode({ dstMac: SERVER, srcMac: '02:00:00:00:00:01', channel: m.channel, scope, code: m.code,
          dstCore: scope === 'dime' ? 1 : W.CORE_NONE, srcCore: W.CORE_NONE, seq: ++seq, reqId: 7,
          payload: encodePayload(m.request ?? { fields: [] }, {}) });
        w.write(raw);
        expected.push([m.name, scope, String(m.code), m.channel, 'request', String(seq)]);
      }
    }
    // a frame cut inside the header, and one whose length field runs past the frame
    const good = codec.encode({ dstMac: SERVER, srcMac: '02:00:00:00:00:01', channel: 'signaling', scope: 'dime', code: 0x15, seq: 1n, payload: Buffer.alloc(8) });
    w.write(good.subarray(0, 30));
    const long = Buffer.from(good);
    long.writeUInt16BE(600, 14 + 6);
    w.write(long);
    w.close();

    // without the preference the 0x88xx block is not ours
    expect(tsharkFields(capture, ['parallax.msg'], ['-Y', 'parallax'])).toEqual([]);
    const rows = tsharkFields(capture, ['parallax.msg', 'parallax.scope', 'parallax.type', 'parallax.channel', 'parallax.kind', 'parallax.seq'],
      ['-o', `parallax.etherbase:${0x8800}`, '-Y', 'parallax']);
    const decoded = rows.slice(0, expected.length).map(([msg, scope, type, channel, kind, s]) =>
      [msg, scope === '1' ? 'dime' : 'system', String(Number(type)), channel === '1' ? 'data' : 'signaling', kind, s]);
    expect(decoded).toEqual(expected);
    expect(rows.length).toBe(expected.length + 2);
    const experts = tsharkFields(capture, ['_ws.expert.message'], ['-o', `parallax.etherbase:${0x8800}`, '-Y', 'parallax']).slice(expected.length);
    expect(experts.map((r) => r[0])).toEqual(['Frame shorter than the Parallax header and tag', 'Payload length runs past the frame']);
    // with the key, every well-formed frame's tag checks out
    const valid = tsharkFields(capture, ['parallax.tag_valid'], ['-o', `parallax.etherbase:${0x8800}`, '-o', `parallax.key:${longKey}`, '-Y', 'parallax']);
    expect(valid.map((r) => r[0])).toEqual([...expected.map(() => '1'), '', '']); // the two malformed frames have no tag to check
  });

  describe.skipIf(!existsSync(EMU_CLI) || !existsSync(DIME_IMAGE))('on a capture of the DIME kernel in parallax-emu', () => {
    const capture = join(dir, 'dime.pcap');
    let lan: StreamLan;
    let emu: Proc | undefined;
    let client: DimeClient;

    beforeAll(async () => {
      lan = new StreamLan(join(dir, 'lan.sock'));
      await lan.listen();
      emu = startEmu('dime', ['--kernel', DIME_IMAGE, '--cores', '2', '--memory', '128', '--net', `stream,path=${lan.path}`,
        '--mac', SERVER, '--pcap', capture, '--key-file', serverKeyFileFor(KEY, SERVER), '--append', 'hb=0 perf=0']);
      await lan.connected(1, 30_000);
      await emu.waitFor(/DIME ready: 2 cores/, 60_000);
      client = new DimeClient(lan, KEY);
    });
    afterAll(async () => {
      await emu?.stop();
      await lan?.close();
    });

    it('tshark -X lua_script: shows the type, message, sequence, status and payload fields our codec decodes', async () => {
      // a mix of requests, system-scope fan-out, error statuses, records, a forged frame and its alarm
      expect(await client.request(BROADCAST, null, 'DISCOVER', {}, { expect: 2 })).toHaveLength(2);
      await client.request1(SERVER, 1, 'PING', { nonce: 0x1234_5678_9abc_def0n });
      await client.request1(SERVER, 0, 'SET_PARAM', { key: 'mode', value: 'fast' });
      expect((await client.request1(SERVER, 0, 'LOAD_BUILTIN', { name: 'no-such-service' })).frame.status).toBe(W.STATUS.NOT_FOUND);
      await client.request1(SERVER, 0, 'QUERY_ACCOUNTING', { from: 0 });
      const alarm = client.waitFor((f) => f.message?.name === 'ALARM');
      const forged = client.codec.encode({ dstMac: SERVER, srcMac: client.mac, srcCore: W.CORE_NONE, channel: 'signaling', scope: 'dime',
        code: W.messageByName('PING').code, dstCore: 0, seq: client.nextSeq(), payload: Buffer.alloc(8) });
      forged[forged.length - 1] ^= 0xff;
      lan.send(forged);
      await alarm;
      await client.request1(SERVER, 0, 'QUERY_SECURITY');
      await emu!.stop();

      const { records } = await parsePcap(readFileSync(capture));
      const codec = new PxCodec({ key: KEY });
      const frames = records.map((r) => codec.decode(r.data)).filter((f): f is Frame => f !== null);
      expect(frames.length).toBeGreaterThanOrEqual(15);
      const want = frames.map((f) => [String(f.code), f.message?.name ?? '', kindOf(f), f.scope === 'dime' ? '1' : '0',
        String(f.seq), String(f.reqId), String(f.status), String(f.srcCore), String(f.dstCore), String(f.payload.length)]);
      const rows = tsharkFields(capture, ['parallax.type', 'parallax.msg', 'parallax.kind', 'parallax.scope', 'parallax.seq',
        'parallax.req_id', 'parallax.status', 'parallax.src_core', 'parallax.dst_core', 'parallax.length'], ['-Y', 'parallax']);
      expect(rows.map((r) => [String(Number(r[0])), ...r.slice(1)])).toEqual(want);

      // payload fields: DISCOVER responses name the server and each DIME; the alarm says FORGED
      const disc = tsharkFields(capture, ['parallax.f.dime', 'parallax.f.serverMac', 'parallax.f.cores'],
        ['-Y', 'parallax.msg == "DISCOVER" && parallax.kind == "response"']);
      expect(disc.map((r) => r.join(' ')).sort()).toEqual([`0 ${SERVER} 2`, `1 ${SERVER} 2`]);
      const alarms = tsharkFields(capture, ['parallax.f.kind', 'parallax.f.code', 'parallax.f.peerMac'], ['-Y', 'parallax.msg == "ALARM"']);
      expect(alarms[0]).toEqual([String(W.ALARM_KIND.SECURITY), String(W.SECURITY_CODE.FORGED), client.mac]);
      const ping = tsharkFields(capture, ['parallax.f.nonce'], ['-Y', 'parallax.msg == "PING" && parallax.kind == "response"']);
      expect(ping).toEqual([[String(0x1234_5678_9abc_def0n)]]);
      const acct = frames.find((f) => f.message?.name === 'QUERY_ACCOUNTING' && kindOf(f) === 'response')!;
      const recs = (acct.payload.length - 8) / W.place(W.MESSAGES.find((m) => m.name === 'QUERY_ACCOUNTING')!.response!.records!).size;
      const accRows = tsharkFields(capture, ['parallax.f.whoMac'], ['-Y', 'parallax.msg == "QUERY_ACCOUNTING" && parallax.kind == "response"']);
      expect(accRows[0][0].split(',')).toHaveLength(recs);
      // tag shown; no Parallax frame the kernel or the client sent raises an expert warning
      const tags = tsharkFields(capture, ['parallax.tag'], ['-Y', 'parallax']);
      expect(tags.map((t) => t[0].replace(/:/g, ''))).toEqual(frames.map((f) => f.tag.toString('hex')));
      expect(tsharkFields(capture, ['frame.number'], ['-Y', 'parallax && _ws.expert'])).toEqual([]);
      // with the network key the dissector checks each tag as the kernel does: only the forged frame fails
      const checked = tsharkFields(capture, ['parallax.tag_valid', '_ws.expert.message'], ['-o', `parallax.key:${KEY}`, '-Y', 'parallax']);
      expect(checked.map((r) => r[0])).toEqual(frames.map((f) => (f.authentic ? '1' : '0')));
      expect(frames.filter((f) => !f.authentic)).toHaveLength(1);
      expect(checked.filter((r) => r[0] === '0').map((r) => r[1])).toEqual(['Tag does not match the network key (forged or another key)']);
      expect(frames.some((f) => f.srcMac === SERVER)).toBe(true);
    });
  });
});
