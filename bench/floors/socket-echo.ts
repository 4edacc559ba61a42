// The far end of the socket floors, in its own process. Speaks QEMU's stream framing.
//   --listen PATH           accept one connection, send every frame straight back
//   --hub PATH --mac MAC    join the hub as MAC, answer frames addressed to MAC with the two
//                           MAC addresses swapped (what a DIME's reply does on the LAN)
// Prints "ready" once it can be reached.
import net from 'node:net';
import { rmSync } from 'node:fs';
import { StreamFrameDecoder, encodeStreamFrame } from '../../src/net/stream-framing.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function serve(s: net.Socket, answer: (f: Uint8Array) => Uint8Array | null): void {
  s.setNoDelay(true);
  const dec = new StreamFrameDecoder();
  s.on('data', (d: Buffer) => {
    if (!dec.push(d, (f) => { const r = answer(f); if (r) s.write(encodeStreamFrame(r)); })) s.destroy();
  });
  s.on('error', () => undefined);
  s.on('close', () => process.exit(0));
}

const listen = arg('listen');
const hub = arg('hub');
if (listen) {
  rmSync(listen, { force: true });
  const srv = net.createServer((s) => serve(s, (f) => f));
  srv.listen(listen, () => console.log('ready'));
} else if (hub) {
  const mac = Buffer.from((arg('mac') ?? '').split(':').map((h) => parseInt(h, 16)));
  if (mac.length !== 6) throw new Error('socket-echo: --mac aa:bb:cc:dd:ee:ff');
  const s = net.connect(hub, () => {
    // announce ourselves so the hub learns where this MAC lives
    const hello = Buffer.alloc(60);
    hello.fill(0xff, 0, 6);
    mac.copy(hello, 6);
    hello.writeUInt16BE(0x88b5, 12);
    s.write(encodeStreamFrame(hello));
    console.log('ready');
  });
  serve(s, (f) => {
    if (Buffer.compare(f.subarray(0, 6), mac) !== 0) return null;
    const r = Buffer.from(f);
    r.set(f.subarray(6, 12), 0);
    r.set(mac, 6);
    return r;
  });
} else {
  console.error('usage: socket-echo --listen PATH | --hub PATH --mac MAC');
  process.exit(2);
}
