// Network backend benchmark: round-trip time (64-byte frames, ping-pong) and one-way frame
// rate (1514-byte frames) through our stream (unix), dgram (UDP) and hub backends, printed
// beside the floor measured in the same run: plain Node unix-socket and UDP ping-pong between
// two processes. Every measurement crosses a process boundary (the echo side is a child).
//
//   npm run build && node dist/bench/net.js [--rtt N] [--frames N]

import { fork, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNetBackend } from '../src/net/backends/open-backend.js';
import type { NetBackend } from '../src/net/net-backend.js';

const ETHERTYPE = 0x88b5;
const K_PING = 1;
const K_DATA = 2;
const K_REPORT = 3;
const K_COUNT = 4;

function frame(size: number, kind: number, src: number): Uint8Array {
  const f = new Uint8Array(size);
  f.fill(0xff, 0, 6); // broadcast: the hub floods it to the single other client
  f.set([0x5a, 0x50, 0, 0, 0, src], 6);
  f[12] = ETHERTYPE >>> 8; f[13] = ETHERTYPE & 0xff;
  f[14] = kind;
  return f;
}

// ---------------------------------------------------------------- child roles

/** Echo PINGs, count DATA, answer REPORT with the count (our backends). */
async function echoBackend(spec: string): Promise<void> {
  const b = await openNetBackend(spec);
  let count = 0;
  b.onReceive((f) => {
    const kind = f[14];
    if (kind === K_PING) { const r = f.slice(); r[11] = 2; b.send(r); }
    else if (kind === K_DATA) count++;
    else if (kind === K_REPORT) {
      const r = frame(64, K_COUNT, 2);
      new DataView(r.buffer).setUint32(16, count);
      count = 0;
      b.send(r);
    }
  });
  process.send?.('ready');
}

/** Raw unix socket echo: 64-byte pings echoed; after a 1-byte 'R' marker, bytes counted. */
function echoUnixRaw(path: string): void {
  const srv = createServer((s) => {
    let mode: 'ping' | 'count' = 'ping';
    let bytes = 0;
    s.setNoDelay?.(true);
    s.on('data', (chunk: Buffer) => {
      if (mode === 'ping') {
        if (chunk[0] === 0x52 && chunk.length === 1) { mode = 'count'; return; }
        s.write(chunk);
        return;
      }
      bytes += chunk.length;
      if (bytes >= Number(process.env.BENCH_BYTES)) { s.write(Buffer.from('done')); bytes = 0; }
    });
  });
  srv.listen(path, () => process.send?.('ready'));
}

/** Raw UDP echo: datagrams starting with 1 echoed, with 2 counted, with 3 answered by the count. */
function echoUdpRaw(port: number): void {
  const s = createSocket('udp4');
  let count = 0;
  s.on('message', (m, from) => {
    if (m[0] === 1) s.send(m, from.port, from.address);
    else if (m[0] === 2) count++;
    else if (m[0] === 3) { const r = Buffer.alloc(8); r[0] = 4; r.writeUInt32BE(count, 4); count = 0; s.send(r, from.port, from.address); }
  });
  s.bind(port, '127.0.0.1', () => process.send?.('ready'));
}

// ---------------------------------------------------------------- parent side

function spawnRole(args: string[], env: Record<string, string> = {}): Promise<ChildProcess> {
  const c = fork(process.argv[1], args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    c.once('message', () => resolve(c));
    c.once('exit', (code) => reject(new Error(`bench child ${args.join(' ')} exited with ${code}`)));
  });
}

interface Result { name: string; rttUs: number; fps: number; delivered: number; sent: number }

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function benchBackend(name: string, b: NetBackend, rttN: number, frames: number): Promise<Result> {
  let waiter: ((f: Uint8Array) => void) | null = null;
  b.onReceive((f) => { const w = waiter; waiter = null; w?.(f); });
  const next = (timeoutMs = 1000): Promise<Uint8Array | null> => new Promise((resolve) => {
    const t = setTimeout(() => { waiter = null; resolve(null); }, timeoutMs);
    waiter = (f) => { clearTimeout(t); resolve(f); };
  });
  const ping = frame(64, K_PING, 1);
  const times: number[] = [];
  for (let i = 0; i < rttN; i++) {
    const t0 = process.hrtime.bigint();
    const p = next();
    b.send(ping);
    if (!(await p)) continue; // lost datagram
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const data = frame(1514, K_DATA, 1);
  const t0 = process.hrtime.bigint();
  const dropped0 = b.stats.txDropped;
  for (let i = 0; i < frames; i++) {
    b.send(data);
    if ((i & 127) === 127) {
      // pace on the host socket's backlog so that we measure sustained delivery, not drops
      do await new Promise((r) => setImmediate(r)); while (b.queuedBytes() > 256 * 1024);
    }
  }
  let delivered = 0;
  for (let tries = 0; tries < 5; tries++) {
    const p = next(500);
    b.send(frame(64, K_REPORT, 1));
    const r = await p;
    if (r && r[14] === K_COUNT) { delivered = new DataView(r.buffer, r.byteOffset).getUint32(16); break; }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { name, rttUs: median(times), fps: delivered / secs, delivered, sent: frames - (b.stats.txDropped - dropped0) };
}

async function benchUnixRaw(path: string, rttN: number, frames: number): Promise<Result> {
  const s: Socket = createConnection(path);
  await new Promise((r) => s.once('connect', r));
  const next = (): Promise<Buffer> => new Promise((r) => s.once('data', r));
  const msg = Buffer.alloc(64, 1);
  const times: number[] = [];
  for (let i = 0; i < rttN; i++) {
    const t0 = process.hrtime.bigint();
    const p = next();
    s.write(msg);
    let got = (await p).length;
    while (got < 64) got += (await next()).length;
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  s.write(Buffer.from('R'));
  await new Promise((r) => setTimeout(r, 20));
  const data = Buffer.alloc(4 + 1514, 2);
  const t0 = process.hrtime.bigint();
  const done = next();
  for (let i = 0; i < frames; i++) {
    if (!s.write(data)) await new Promise((r) => s.once('drain', r));
  }
  await done;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  s.destroy();
  return { name: 'floor: Node unix socket', rttUs: median(times), fps: frames / secs, delivered: frames, sent: frames };
}

async function benchUdpRaw(port: number, rttN: number, frames: number): Promise<Result> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  let waiter: ((m: Buffer) => void) | null = null;
  s.on('message', (m) => { const w = waiter; waiter = null; w?.(m); });
  const next = (ms = 1000): Promise<Buffer | null> => new Promise((resolve) => {
    const t = setTimeout(() => { waiter = null; resolve(null); }, ms);
    waiter = (m) => { clearTimeout(t); resolve(m); };
  });
  const ping = Buffer.alloc(64, 0); ping[0] = 1;
  const times: number[] = [];
  for (let i = 0; i < rttN; i++) {
    const t0 = process.hrtime.bigint();
    const p = next();
    s.send(ping, port, '127.0.0.1');
    if (!(await p)) continue;
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const data = Buffer.alloc(1514, 0); data[0] = 2;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) {
    s.send(data, port, '127.0.0.1');
    if ((i & 127) === 127) await new Promise((r) => setImmediate(r));
  }
  let delivered = 0;
  for (let tries = 0; tries < 5; tries++) {
    const p = next(500);
    s.send(Buffer.from([3]), port, '127.0.0.1');
    const r = await p;
    if (r && r[0] === 4) { delivered = r.readUInt32BE(4); break; }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  s.close();
  return { name: 'floor: Node UDP', rttUs: median(times), fps: delivered / secs, delivered, sent: frames };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (k: string, d: number): number => { const i = args.indexOf(k); return i >= 0 ? Number(args[i + 1]) : d; };
  const role = args[0] === '--role' ? args[1] : null;
  if (role === 'echo') { await echoBackend(args[2]); return; }
  if (role === 'unix-raw') { echoUnixRaw(args[2]); return; }
  if (role === 'udp-raw') { echoUdpRaw(Number(args[2])); return; }
  if (role === 'hub') {
    const { LearningSwitch } = await import('../src/net/learning-switch.js');
    const hub = new LearningSwitch();
    await hub.listen({ kind: 'unix', path: args[2] });
    process.send?.('ready');
    return;
  }

  const rttN = opt('--rtt', 2000);
  const frames = opt('--frames', 20000);
  const dir = mkdtempSync(join(tmpdir(), 'netbench-'));
  const children: ChildProcess[] = [];
  const results: Result[] = [];
  const basePort = 30000 + Math.floor(Math.random() * 20000);
  try {
    // floors
    const rawPath = join(dir, 'raw.sock');
    children.push(await spawnRole(['--role', 'unix-raw', rawPath], { BENCH_BYTES: String(frames * (4 + 1514)) }));
    results.push(await benchUnixRaw(rawPath, rttN, frames));
    children.push(await spawnRole(['--role', 'udp-raw', String(basePort)]));
    results.push(await benchUdpRaw(basePort, rttN, frames));
    // stream over a unix socket: the child is the server
    const sPath = join(dir, 'stream.sock');
    children.push(await spawnRole(['--role', 'echo', `stream,path=${sPath},server=on`]));
    const sb = await openNetBackend(`stream,path=${sPath}`);
    await (sb as unknown as { waitConnected(): Promise<boolean> }).waitConnected();
    results.push(await benchBackend('stream (unix)', sb, rttN, frames));
    await sb.close();
    // dgram unicast
    const [pa, pb] = [basePort + 1, basePort + 2];
    children.push(await spawnRole(['--role', 'echo', `dgram,local.host=127.0.0.1,local.port=${pb},remote.host=127.0.0.1,remote.port=${pa}`]));
    const db = await openNetBackend(`dgram,local.host=127.0.0.1,local.port=${pa},remote.host=127.0.0.1,remote.port=${pb}`);
    results.push(await benchBackend('dgram (UDP)', db, rttN, frames));
    await db.close();
    // hub in its own process, echo client in another
    const hPath = join(dir, 'hub.sock');
    children.push(await spawnRole(['--role', 'hub', hPath]));
    children.push(await spawnRole(['--role', 'echo', `hub,path=${hPath}`]));
    const hb = await openNetBackend(`hub,path=${hPath}`);
    await (hb as unknown as { waitConnected(): Promise<boolean> }).waitConnected();
    await new Promise((r) => setTimeout(r, 100));
    results.push(await benchBackend('hub (unix, 3 processes)', hb, rttN, frames));
    await hb.close();
  } finally {
    for (const c of children) c.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`network backends: ${rttN} round trips of 64-byte frames (median), ${frames} frames of 1514 bytes one way`);
  console.log('transport                      RTT (us)   frames/s   delivered');
  for (const r of results) {
    console.log(`${r.name.padEnd(30)} ${r.rttUs.toFixed(1).padStart(8)} ${Math.round(r.fps).toString().padStart(10)}   ${r.delivered}/${r.sent}`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
