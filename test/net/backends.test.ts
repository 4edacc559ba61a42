// Backends over real sockets on loopback: stream framing, stream client/server, UDP unicast,
// UDP multicast self-filtering, and the pcap writer read back with pcap-parser.

import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DgramBackend } from '../../src/net/backends/dgram.js';
import { openNetBackend } from '../../src/net/backends/open-backend.js';
import { StreamBackend } from '../../src/net/backends/stream.js';
import type { NetBackend } from '../../src/net/net-backend.js';
import { PcapWriter } from '../../src/net/pcap-writer.js';
import { parsePcap } from './pcap-read.js';
import { StreamFrameDecoder, encodeStreamFrame } from '../../src/net/stream-framing.js';
import { BROADCAST, PEER_MAC, TEST_MAC, ethFrame } from '../devices/e1000/e1000-harness.js';
import { scratchDir } from '../lib/scratch-dir.js';
import { until } from '../lib/until.js';

const dir = scratchDir('nic-test');

function collect(b: NetBackend): Uint8Array[] {
  const got: Uint8Array[] = [];
  b.onReceive((f) => got.push(f.slice()));
  return got;
}

describe('stream framing', () => {
  it('decodes frames split across chunks and merged into one chunk', () => {
    const frames = [ethFrame(PEER_MAC, TEST_MAC, 10), ethFrame(BROADCAST, TEST_MAC, 1500), ethFrame(TEST_MAC, PEER_MAC, 0)];
    const wire = Buffer.concat(frames.map((f) => encodeStreamFrame(f)));
    for (const chunk of [1, 2, 3, 5, 17, 1000, wire.length]) {
      const dec = new StreamFrameDecoder();
      const out: Uint8Array[] = [];
      for (let i = 0; i < wire.length; i += chunk) expect(dec.push(wire.subarray(i, i + chunk), (f) => out.push(f))).toBe(true);
      expect(out).toEqual(frames);
      expect(dec.hasPartial()).toBe(false);
    }
  });

  it('rejects length 0 and lengths above 65536', () => {
    for (const len of [0, 65537, 0xffffffff]) {
      const dec = new StreamFrameDecoder();
      const hdr = Buffer.alloc(4);
      hdr.writeUInt32BE(len >>> 0);
      expect(dec.push(Buffer.concat([encodeStreamFrame(ethFrame(PEER_MAC, TEST_MAC, 1)), hdr]), () => {})).toBe(false);
      expect(dec.failed).toBe(true);
    }
    const dec = new StreamFrameDecoder();
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(65536);
    expect(dec.push(hdr, () => {})).toBe(true);
    expect(dec.hasPartial()).toBe(true);
  });
});

describe('stream backend', () => {
  it('carries frames both ways between a unix server and client', async () => {
    const path = join(dir, 's1.sock');
    const server = await openNetBackend(`stream,path=${path},server=on`);
    const client = await openNetBackend(`stream,path=${path}`);
    const atServer = collect(server);
    const atClient = collect(client);
    await (client as StreamBackend).waitConnected();
    await (server as StreamBackend).waitConnected();
    const a = ethFrame(PEER_MAC, TEST_MAC, 100);
    const b = ethFrame(TEST_MAC, PEER_MAC, 1400);
    for (let i = 0; i < 50; i++) client.send(a);
    server.send(b);
    await until(() => atServer.length === 50 && atClient.length === 1);
    expect(atServer[49]).toEqual(a);
    expect(atClient[0]).toEqual(b);
    expect(client.stats.txFrames).toBe(50);
    expect(server.stats.rxBytes).toBe(50 * a.length);
    await client.close();
    await server.close();
  });

  it('drops a peer that sends a bad length, counts it, and the client reconnects with backoff', async () => {
    // a hand-rolled server: first connection gets a malformed length, the second a good frame
    let conns = 0;
    const sockets: Socket[] = [];
    const srv = createServer((s) => {
      sockets.push(s);
      conns++;
      if (conns === 1) {
        const bad = Buffer.alloc(4);
        bad.writeUInt32BE(70000);
        s.write(Buffer.concat([encodeStreamFrame(ethFrame(TEST_MAC, PEER_MAC, 20)), bad]));
      } else {
        s.write(encodeStreamFrame(ethFrame(TEST_MAC, PEER_MAC, 30)));
      }
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const client = new StreamBackend({ kind: 'inet', host: '127.0.0.1', port }, false, { reconnectMinMs: 20 });
    const got = collect(client);
    const links: boolean[] = [];
    client.onLinkChange((up) => links.push(up));
    await until(() => got.length === 2);
    expect(got.map((f) => f.length)).toEqual([34, 44]);
    expect(client.stats.malformed).toBe(1);
    expect(client.stats.disconnects).toBe(1);
    expect(client.stats.connects).toBe(2);
    expect(links).toEqual([true, false, true]);
    await client.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  });

  it('discards a frame cut off by a disconnect, counts it, and drops sends while unconnected', async () => {
    const path = join(dir, 's2.sock');
    const sockets: Socket[] = [];
    const srv = createServer((s) => {
      sockets.push(s);
      const f = encodeStreamFrame(ethFrame(TEST_MAC, PEER_MAC, 100));
      s.end(f.subarray(0, 50)); // half a frame, then hang up
    });
    await new Promise<void>((r) => srv.listen(path, () => r()));
    const client = new StreamBackend({ kind: 'unix', path }, false, { reconnectMinMs: 1000 });
    const got = collect(client);
    await until(() => client.stats.disconnects === 1);
    expect(got).toHaveLength(0);
    expect(client.stats.malformed).toBe(1);
    client.send(ethFrame(PEER_MAC, TEST_MAC, 10));
    expect(client.stats.txDropped).toBe(1);
    await client.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });

  it('a server accepts one peer at a time and refuses others', async () => {
    const server = new StreamBackend({ kind: 'inet', host: '127.0.0.1', port: 0 }, true);
    await server.ready();
    const addr = { kind: 'inet' as const, host: '127.0.0.1', port: server.boundPort() };
    const c1 = new StreamBackend(addr, false);
    await c1.waitConnected();
    await server.waitConnected();
    const c2 = new StreamBackend(addr, false, { reconnectMinMs: 5000 });
    await until(() => server.refused === 1);
    const got = collect(server);
    c1.send(ethFrame(PEER_MAC, TEST_MAC, 10));
    await until(() => got.length === 1);
    await Promise.all([c1.close(), c2.close(), server.close()]);
  });

  it('drops runt frames from the peer and counts them; refuses to send runts', async () => {
    const path = join(dir, 's3.sock');
    const server = await openNetBackend(`stream,path=${path},server=on`);
    const got = collect(server);
    const raw = createConnection(path);
    await (server as StreamBackend).waitConnected();
    raw.write(Buffer.concat([encodeStreamFrame(new Uint8Array(10)), encodeStreamFrame(ethFrame(PEER_MAC, TEST_MAC, 10))]));
    await until(() => got.length === 1);
    expect(server.stats.rxRunts).toBe(1);
    server.send(new Uint8Array(5));
    expect(server.stats.txDropped).toBe(1);
    raw.destroy();
    await server.close();
  });
});

describe('dgram backend', () => {
  it('carries frames between two UDP unicast endpoints', async () => {
    const a = new DgramBackend({ mode: 'unicast', local: { host: '127.0.0.1', port: 0 }, remote: { host: '127.0.0.1', port: 9 } });
    await a.ready();
    const b = await openNetBackend(`dgram,local.host=127.0.0.1,local.port=0,remote.host=127.0.0.1,remote.port=${a.boundPort()}`) as DgramBackend;
    // now point a at b's port
    const a2 = new DgramBackend({ mode: 'unicast', local: { host: '127.0.0.1', port: 0 }, remote: { host: '127.0.0.1', port: b.boundPort() } });
    await a2.ready();
    const atA = collect(a);
    const atB = collect(b);
    b.send(ethFrame(PEER_MAC, TEST_MAC, 200));
    a2.send(ethFrame(TEST_MAC, PEER_MAC, 1500));
    await until(() => atA.length === 1 && atB.length === 1);
    expect(atA[0].length).toBe(214);
    expect(atB[0].length).toBe(1514);
    await Promise.all([a.close(), a2.close(), b.close()]);
  });

  it('multicast: members see each other, never their own frames', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const spec = `dgram,remote.host=230.0.0.1,remote.port=${port}`;
    let x: NetBackend;
    let y: NetBackend;
    try {
      x = await openNetBackend(spec, { mac: TEST_MAC });
      y = await openNetBackend(spec, { mac: PEER_MAC });
    } catch (e) {
      // no multicast route on this host: nothing to test
      console.warn(`multicast test skipped: ${(e as Error).message}`);
      return;
    }
    const atX = collect(x);
    const atY = collect(y);
    x.send(ethFrame(BROADCAST, TEST_MAC, 60));
    y.send(ethFrame(BROADCAST, PEER_MAC, 70));
    // wait for what must come (each side's own looped-back frame, counted as dropped), not for a
    // host-time interval: a loaded host may deliver the loopback late
    await until(() => atX.length >= 1 && atY.length >= 1 && (x as DgramBackend).selfDropped >= 1 && (y as DgramBackend).selfDropped >= 1);
    expect(atX.map((f) => f.length)).toEqual([84]);
    expect(atY.map((f) => f.length)).toEqual([74]);
    expect((x as DgramBackend).selfDropped).toBe(1);
    expect((y as DgramBackend).selfDropped).toBe(1);
    // only the configured MAC is "own": after x sends a frame with y's source address (a bridged
    // frame), y's next frames still reach x; y drops the one carrying its own MAC
    atX.length = 0;
    atY.length = 0;
    x.send(ethFrame(BROADCAST, PEER_MAC, 90));
    await until(() => atX.length >= 1);
    y.send(ethFrame(BROADCAST, PEER_MAC, 100));
    await until(() => atX.length >= 2 && (y as DgramBackend).selfDropped >= 3);
    expect(atX.map((f) => f.length).sort()).toEqual([104, 114]);
    expect(atY.map((f) => f.length)).toEqual([]);
    expect((y as DgramBackend).selfDropped).toBe(3);
    await x.close();
    await y.close();
  });

  it('reports a bind failure as a clear error', async () => {
    const a = await openNetBackend('dgram,local.host=127.0.0.1,local.port=0,remote.host=127.0.0.1,remote.port=9') as DgramBackend;
    await expect(openNetBackend(`dgram,local.host=127.0.0.1,local.port=${a.boundPort()},remote.host=127.0.0.1,remote.port=9`)).rejects.toThrow(/EADDRINUSE/);
    await a.close();
  });
});

describe('pcap capture', () => {
  it('writes classic pcap that pcap-parser reads back, one record per frame sent and received', async () => {
    const file = join(dir, 'cap.pcap');
    const path = join(dir, 'cap.sock');
    const server = await openNetBackend(`stream,path=${path},server=on`);
    const client = await openNetBackend(`stream,path=${path}`, { capturePath: file });
    collect(client);
    const atServer = collect(server);
    await (client as unknown as { inner: StreamBackend }).inner.waitConnected();
    const sent = ethFrame(PEER_MAC, TEST_MAC, 100);
    const recv = ethFrame(TEST_MAC, PEER_MAC, 1500);
    await (server as StreamBackend).waitConnected();
    client.send(sent);
    await until(() => atServer.length === 1);
    server.send(recv);
    await until(() => client.stats.rxFrames === 1);
    // the file is complete before close (synchronous writes)
    const packets = await parsePcap(readFileSync(file));
    expect(packets.header).toMatchObject({ magicNumber: 0xa1b2c3d4, majorVersion: 2, minorVersion: 4, snapshotLength: 65535, linkLayerType: 1 });
    expect(packets.records.map((p) => p.data)).toEqual([Buffer.from(sent), Buffer.from(recv)]);
    expect(packets.records[1].header.originalLength).toBe(1514);
    await client.close();
    await server.close();
  });

  it('a capture file that cannot be written is one clear error', async () => {
    await expect(openNetBackend('none', { capturePath: join(dir, 'no-such-dir', 'x.pcap') })).rejects.toThrow(/cannot write capture file .*ENOENT/);
  });

  it('truncates records beyond the snap length but keeps the original length', async () => {
    const file = join(dir, 'big.pcap');
    const w = new PcapWriter(file);
    w.write(new Uint8Array(70000), 1_700_000_000_123.456);
    w.close();
    const p = await parsePcap(readFileSync(file));
    expect(p.records[0].header).toMatchObject({ timestampSeconds: 1_700_000_000, timestampMicroseconds: 123456, capturedLength: 65535, originalLength: 70000 });
  });
});
