// A NetBackend on a real (or veth/bridge/tap host-side) Linux interface through an AF_PACKET
// raw socket, so the orchestrator can manage DIMEs on physical servers. Node cannot open
// AF_PACKET sockets, so, as the tap backend does, we call libc through koffi: socket(),
// bind() to the interface by index, non-blocking write() to send, and a worker thread that
// poll()s with a short timeout and reads, so the process can always exit. Needs CAP_NET_RAW.
//
// Spec: packet,ifname=NAME
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { BackendBase } from '../nic/net-backend.js';
import { UsageError } from './errors.js';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0x800;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL = 0x0003)
const SOCKADDR_LL_SIZE = 20;
const EPERM = 1;
const EACCES = 13;

interface Libc {
  errno(): number;
  socket(domain: number, type: number, proto: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  if_nametoindex(name: string): number;
  write(fd: number, buf: Uint8Array, n: number): number;
  close(fd: number): number;
}

const requireHere = createRequire(import.meta.url);
let libcCache: Libc | null = null;

function loadLibc(): Libc {
  if (libcCache) return libcCache;
  if (process.platform !== 'linux') throw new UsageError('packet backend: AF_PACKET sockets exist only on Linux');
  const koffi = requireHere('koffi');
  const lib = koffi.load('libc.so.6');
  libcCache = {
    errno: () => koffi.errno() as number,
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    bind: lib.func('int bind(int fd, const void *addr, unsigned int len)'),
    if_nametoindex: lib.func('unsigned int if_nametoindex(const char *name)'),
    write: lib.func('long write(int fd, const void *buf, unsigned long n)'),
    close: lib.func('int close(int fd)'),
  };
  return libcCache;
}

export function parsePacketSpec(spec: string): { ifname: string } | null {
  const parts = spec.trim().split(',');
  if (parts[0] !== 'packet') return null;
  let ifname = '';
  for (const p of parts.slice(1)) {
    const [k, v] = p.split('=', 2);
    if (k === 'ifname' && v) ifname = v;
    else if (k !== 'id') throw new UsageError(`bad network spec '${spec}': unknown option '${p}' for packet (known: ifname)`);
  }
  if (!ifname) throw new UsageError(`bad network spec '${spec}': packet needs ifname=NAME`);
  if (ifname.length > 15 || !/^[A-Za-z0-9_.@-]+$/.test(ifname)) throw new UsageError(`bad network spec '${spec}': '${ifname}' is not an interface name`);
  return { ifname };
}

/** Reader thread: plain CommonJS so it runs the same from sources (vitest) and from dist. */
const READER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const koffi = require(workerData.koffiPath);
const lib = koffi.load('libc.so.6');
const poll = lib.func('int poll(void *fds, unsigned long n, int timeout)');
const read = lib.func('long read(int fd, void *buf, unsigned long n)');
const stop = new Int32Array(workerData.stop);
const pfd = Buffer.alloc(8);
pfd.writeInt32LE(workerData.fd, 0);
pfd.writeInt16LE(1, 4); // POLLIN
const buf = Buffer.alloc(65536);
while (Atomics.load(stop, 0) === 0) {
  pfd.writeInt16LE(0, 6);
  const r = poll(pfd, 1, 100);
  if (r <= 0) continue;
  if (pfd.readInt16LE(6) & 0x38) { parentPort.postMessage({ error: 'poll reported an error on the packet socket' }); break; }
  const batch = [];
  for (let i = 0; i < 256; i++) {
    const n = read(workerData.fd, buf, buf.length);
    if (n <= 0) break;
    batch.push(new Uint8Array(buf.subarray(0, n)));
  }
  if (batch.length) parentPort.postMessage({ frames: batch }, batch.map((f) => f.buffer));
}
`;

export class PacketBackend extends BackendBase {
  readonly description: string;
  private fd: number;
  private readonly libc: Libc;
  private readonly worker: Worker;
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));
  private readonly exited: Promise<void>;
  readerError: string | null = null;

  constructor(readonly ifname: string) {
    super();
    this.description = `packet ${ifname}`;
    this.libc = loadLibc();
    const index = this.libc.if_nametoindex(ifname);
    if (!index) throw new UsageError(`packet backend: no interface named '${ifname}'`);
    const fd = this.libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, ETH_P_ALL_BE);
    if (fd < 0) {
      const e = this.libc.errno();
      throw new UsageError(e === EPERM || e === EACCES
        ? `packet backend: opening a raw socket needs CAP_NET_RAW (run as root, or: sudo setcap cap_net_raw+ep $(command -v node))`
        : `packet backend: socket(AF_PACKET) failed (errno ${e})`);
    }
    const sll = Buffer.alloc(SOCKADDR_LL_SIZE);
    sll.writeUInt16LE(AF_PACKET, 0);
    sll.writeUInt16BE(0x0003, 2); // sll_protocol, network order
    sll.writeInt32LE(index, 4);
    if (this.libc.bind(fd, sll, SOCKADDR_LL_SIZE) < 0) {
      const e = this.libc.errno();
      this.libc.close(fd);
      throw new UsageError(`packet backend: cannot bind to '${ifname}' (errno ${e})`);
    }
    this.fd = fd;
    this.worker = new Worker(READER_SOURCE, { eval: true, workerData: { fd, stop: this.stop.buffer, koffiPath: requireHere.resolve('koffi') } });
    this.worker.on('message', (m: { frames?: Uint8Array[]; error?: string }) => {
      if (m.frames) for (const f of m.frames) this.deliver(f);
      if (m.error) { this.readerError = m.error; this.setLink(false); }
    });
    this.worker.on('error', (e) => { this.readerError = e.message; });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  send(frame: Uint8Array): void {
    if (!this.acceptOutgoing(frame)) return;
    if (this.fd < 0) { this.stats.txDropped++; return; }
    const n = this.libc.write(this.fd, frame, frame.length);
    if (n === frame.length) this.sent(frame);
    else this.stats.txDropped++;
  }

  async close(): Promise<void> {
    if (this.fd < 0) return;
    Atomics.store(this.stop, 0, 1);
    await this.exited;
    this.libc.close(this.fd);
    this.fd = -1;
    this.setLink(false);
  }
}
