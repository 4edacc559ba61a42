// Floors of the LAN paths: Node unix-socket ping-pong between two processes, with QEMU's
// stream framing and a frame the size of a signed Parallax PING. `direct`: the two processes
// share one socket. `viaHub`: both are clients of the hub the emulated servers use, so the
// frame takes exactly the hops a DIME's does (sender -> hub -> receiver -> hub -> sender).
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StreamFrameDecoder, encodeStreamFrame } from '../../src/net/stream-framing.js';
import { Watched } from '../lib/machines.js';

const ECHO = fileURLToPath(new URL('./socket-echo.js', import.meta.url));
/** Ethernet header + Parallax header + 8-byte nonce + HMAC tag: a PING on the wire */
export const FLOOR_FRAME_BYTES = 14 + 24 + 8 + 32;

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

async function pingPong(sock: net.Socket, frame: Buffer, n: number, warm: number): Promise<number[]> {
  sock.setNoDelay(true);
  const dec = new StreamFrameDecoder();
  let waiting: (() => void) | null = null;
  sock.on('data', (d: Buffer) => dec.push(d, () => { const w = waiting; waiting = null; w?.(); }));
  const out: number[] = [];
  const wire = encodeStreamFrame(frame);
  for (let i = 0; i < warm + n; i++) {
    const t0 = performance.now();
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('socket floor: no echo within 2 s')), 2000);
      waiting = () => { clearTimeout(t); res(); };
      sock.write(wire);
    });
    const dt = (performance.now() - t0) * 1000;
    if (i >= warm) out.push(dt);
  }
  return out;
}

function connect(path: string): Promise<net.Socket> {
  return new Promise((res, rej) => {
    const s = net.connect(path, () => res(s));
    s.once('error', rej);
  });
}

/** Two processes, one unix socket between them. Round trips in µs. */
export async function socketPingPongDirect(n: number, warm: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'px-floor-'));
  const path = join(dir, 'echo.sock');
  const echo = new Watched(process.execPath, [ECHO, '--listen', path], 'socket echo');
  try {
    await echo.waitFor(/ready/, 10_000);
    const s = await connect(path);
    const frame = Buffer.alloc(FLOOR_FRAME_BYTES, 0x5a);
    const out = await pingPong(s, frame, n, warm);
    s.destroy();
    return out;
  } finally {
    await echo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Two processes, each a client of the hub at `hubPath`. Round trips in µs. */
export async function socketPingPongViaHub(hubPath: string, n: number, warm: number): Promise<number[]> {
  const echoMac = '02:00:00:f1:00:02', ourMac = '02:00:00:f1:00:01';
  const echo = new Watched(process.execPath, [ECHO, '--hub', hubPath, '--mac', echoMac], 'socket echo (hub)');
  try {
    await echo.waitFor(/ready/, 10_000);
    const s = await connect(hubPath);
    const frame = Buffer.alloc(FLOOR_FRAME_BYTES, 0x5a);
    macBytes(echoMac).copy(frame, 0);
    macBytes(ourMac).copy(frame, 6);
    frame.writeUInt16BE(0x88b5, 12);
    await new Promise((r) => setTimeout(r, 50)); // let the hub learn the echo's MAC
    const out = await pingPong(s, frame, n, warm);
    s.destroy();
    return out;
  } finally {
    await echo.stop();
  }
}
