// Bad input on the wire, end to end: the DIME kernel runs in parallax-emu, its NIC a stream
// client of a segment this test owns byte for byte. The test sends runts, oversized frames,
// protocol garbage, a burst that overflows the receive ring, a malformed length prefix and a
// frame cut off by a disconnect. The server must keep answering DISCOVER through all of it,
// and `--stats` at exit must show every kind of drop counted where it happened.
import { serverKeyFileFor } from '../dime/bench.js';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as W from '../../src/protocol/wire.js';
import { BROADCAST } from '../../src/protocol/codec.js';
import { DimeClient } from '../dime/client.js';
import { DIME_IMAGE, EMU_CLI, startEmu, type Proc } from './processes.js';
import { until } from '../lib/until.js';
import { scratchDir } from '../lib/scratch-dir.js';

const KEY = 'bad-wire-key';
const SERVER = '52:54:00:00:00:bd';
const dir = scratchDir('nic-bad-wire');

/** One end of a `-netdev stream` link (4-byte big-endian length, then the frame) that can also write raw bytes. */
class RawSegment extends EventEmitter {
  private readonly server = net.createServer((s) => this.attach(s));
  private peer: net.Socket | null = null;
  connections = 0;

  constructor(readonly path: string) { super(); }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => resolve());
    });
  }

  private attach(s: net.Socket): void {
    this.peer?.destroy();
    this.peer = s;
    this.connections++;
    let pending = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        const n = pending.readUInt32BE(0);
        this.emit('frame', Buffer.from(pending.subarray(4, 4 + n)));
        pending = pending.subarray(4 + n);
      }
    });
    s.on('error', () => {});
    s.on('close', () => { if (this.peer === s) this.peer = null; });
  }

  /** a frame, properly length-prefixed */
  send(frame: Buffer): void { this.raw(frame.length === 0 ? Buffer.alloc(4) : Buffer.concat([u32(frame.length), frame])); }
  /** many frames in one write (the receiving side sees them all at once) */
  burst(frames: Buffer[]): void { this.raw(Buffer.concat(frames.flatMap((f) => [u32(f.length), f]))); }
  raw(bytes: Buffer): void { this.peer?.write(bytes); }
  /** drop the connection after the bytes already written */
  hangUp(): void { this.peer?.end(); this.peer = null; }

  async close(): Promise<void> {
    this.peer?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function eth(dst: string, type: number, len: number, fill: (i: number) => number = () => 0): Buffer {
  const f = Buffer.alloc(len);
  for (let i = 14; i < len; i++) f[i] = fill(i);
  Buffer.from(dst.split(':').map((x) => parseInt(x, 16))).copy(f, 0);
  Buffer.from([0x02, 0, 0, 0, 0, 0x66]).copy(f, 6);
  f.writeUInt16BE(type, 12);
  return f;
}

function statsNumber(stderr: string, re: RegExp): number {
  const m = re.exec(stderr);
  if (!m) throw new Error(`no ${re} in the --stats output:\n${stderr}`);
  return Number(m[1]);
}

describe.skipIf(!existsSync(EMU_CLI) || !existsSync(DIME_IMAGE))('bad input on the wire, through a running parallax-emu', () => {
  let seg: RawSegment | undefined;
  let emu: Proc | undefined;
  afterAll(async () => {
    await emu?.stop();
    await seg?.close();
  });

  it('runts, oversize, garbage, a ring overflow, a bad length prefix and a cut-off frame are dropped and counted; DISCOVER still answers', async () => {
    seg = new RawSegment(join(dir, 'seg.sock'));
    await seg.listen();
    emu = startEmu('dime', ['--kernel', DIME_IMAGE, '--cores', '2', '--memory', '128', '--net', `stream,path=${seg.path}`,
      '--mac', SERVER, '--stats', '--key-file', serverKeyFileFor(KEY, SERVER), '--append', 'hb=0 perf=0']);
    await emu.waitFor(/DIME ready: 2 cores/, 60_000);
    await until(() => seg!.connections === 1, 10_000, 'the NIC backend to connect');
    const client = new DimeClient(seg, KEY);
    const discover = async (what: string) => {
      const replies = await client.request(BROADCAST, null, 'DISCOVER', {}, { expect: 2, timeoutMs: 15_000 })
        .catch((e: Error) => { throw new Error(`no DISCOVER answer ${what}: ${e.message}\n${emu!.transcript()}`); });
      expect(replies.map((r) => r.fields.dime).sort()).toEqual([0, 1]);
    };
    await discover('before any bad input');

    // runts (1..13 bytes: no Ethernet header) and oversized frames (no LPE: over 1518 bytes)
    for (let n = 1; n < 14; n++) seg.send(Buffer.alloc(n, 0xee));
    for (const n of [1519, 4000, 9000, 65535]) seg.send(eth(BROADCAST, 0x88b5, n));
    // protocol garbage in the DIME EtherType block: random payloads under random tags, and bad versions
    let x = 12345;
    const rnd = () => { x = (x * 1103515245 + 12345) & 0x7fffffff; return (x >> 16) & 0xff; };
    const garbage = (version: number, i: number) => {
      const len = (i * 37) % 200;
      const f = eth(SERVER, W.etherType(W.ETHERTYPE_BASE_DEFAULT, 'signaling', 'dime', 0x15), 14 + W.HEADER_LEN + len + W.TAG_LEN, rnd);
      f.writeUInt8(version, 14);
      f.writeUInt8(0, 15); // a request
      f.writeUInt16BE(0, 16); // to DIME 0
      f.writeUInt16BE(W.CORE_NONE, 18);
      f.writeUInt16BE(len, 20);
      return f;
    };
    // (in batches the kernel's 32-slot inboxes hold: beyond that it drops by design, uncounted here)
    for (let i = 0; i < 20; i++) seg.send(garbage(W.PROTOCOL_VERSION, i));
    expect((await client.request1(SERVER, 0, 'QUERY_SECURITY')).fields.forged).toBe(20);
    for (let i = 0; i < 10; i++) seg.send(garbage(W.PROTOCOL_VERSION + 1 + i, i));
    for (let i = 20; i < 30; i++) seg.send(garbage(W.PROTOCOL_VERSION, i));
    // a burst far larger than the receive ring and the NIC's packet buffer
    seg.burst(Array.from({ length: 3000 }, () => eth(BROADCAST, 0x88b5, 1514)));
    await discover('after runts, oversize, garbage and a ring overflow');
    // the kernel saw every garbage frame and dropped it, counted
    const sec = await client.request1(SERVER, 0, 'QUERY_SECURITY');
    expect(sec.fields.forged).toBe(30);
    expect(sec.fields.malformed).toBe(10);

    // a length prefix no frame can have: the backend drops the connection and reconnects
    seg.raw(u32(0xffffffff));
    await until(() => seg!.connections === 2, 10_000, 'a reconnect after the bad length prefix');
    await discover('after a malformed length prefix');

    // half a frame, then the peer goes away
    seg.raw(Buffer.concat([u32(1000), Buffer.alloc(300, 0x55)]));
    await new Promise((r) => setTimeout(r, 50));
    seg.hangUp();
    await until(() => seg!.connections === 3, 10_000, 'a reconnect after the cut-off frame');
    await discover('after a peer disconnected mid-frame');

    const code = await emu.stop();
    expect(code, emu.transcript()).toBe(143); // SIGTERM, machine stopped cleanly
    const err = emu.err;
    expect(statsNumber(err, /backend stream [^\n]*rx runts (\d+)/)).toBe(13);
    expect(statsNumber(err, /backend stream [^\n]*malformed (\d+)/)).toBe(2);
    expect(statsNumber(err, /backend stream [^\n]*disconnects (\d+)/)).toBe(2);
    expect(statsNumber(err, /backend stream [^\n]*, connects (\d+)/)).toBe(3);
    expect(statsNumber(err, /nic 0 rx drops: runts \d+, oversize (\d+)/)).toBe(4);
    expect(statsNumber(err, /nic 0 rx drops: [^\n]*ring full (\d+)/)).toBeGreaterThan(0);
    expect(statsNumber(err, /nic 0 \(e1000 52:54:00:00:00:bd\): rx (\d+) frames/)).toBeGreaterThan(40);
  });
});
