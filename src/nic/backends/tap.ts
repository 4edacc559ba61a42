// TAP backend (Linux): frames go to and come from a kernel tap interface. Node cannot issue
// ioctl(TUNSETIFF), so the device is opened through koffi (FFI to libc): open /dev/net/tun
// non-blocking, attach it to the named interface as IFF_TAP|IFF_NO_PI (plain Ethernet frames,
// no packet-info header). Reading happens in a dedicated worker thread that poll()s with a
// short timeout and reads until EAGAIN; we never read the fd through fs/libuv, whose parked
// thread would make process exit hang. Writes are non-blocking write(2) calls on this thread.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { BackendBase } from '../net-backend.js';

const O_RDWR = 0x2;
const O_NONBLOCK = 0x800;
const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFREQ_SIZE = 40;
const EPERM = 1;
const ENOENT = 2;
const EIO = 5;
const EAGAIN = 11;
const EACCES = 13;
const EBUSY = 16;

interface Libc {
  errno(): number;
  open(path: string, flags: number): number;
  ioctl(fd: number, req: number, arg: Buffer): number;
  write(fd: number, buf: Uint8Array, n: number): number;
  close(fd: number): number;
}

let libcCache: Libc | null = null;
const requireHere = createRequire(import.meta.url);

function loadLibc(): Libc {
  if (libcCache) return libcCache;
  if (process.platform !== 'linux') throw new Error('tap backend: TAP devices are only supported on Linux');
  const koffi = requireHere('koffi');
  const lib = koffi.load('libc.so.6');
  libcCache = {
    errno: () => koffi.errno() as number,
    open: lib.func('int open(const char *path, int flags)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long req, void *arg)'),
    write: lib.func('long write(int fd, const void *buf, unsigned long n)'),
    close: lib.func('int close(int fd)'),
  };
  return libcCache;
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
const buf = Buffer.alloc(65536 + 4);
while (Atomics.load(stop, 0) === 0) {
  pfd.writeInt16LE(0, 6);
  const r = poll(pfd, 1, 100);
  if (r <= 0) continue;
  if (pfd.readInt16LE(6) & 0x38) { parentPort.postMessage({ error: 'poll reported an error on the tap fd' }); break; }
  const batch = [];
  for (let i = 0; i < 256; i++) {
    const n = read(workerData.fd, buf, buf.length);
    if (n <= 0) break;
    batch.push(new Uint8Array(buf.subarray(0, n)));
  }
  if (batch.length) parentPort.postMessage({ frames: batch }, batch.map((f) => f.buffer));
}
`;

export class TapBackend extends BackendBase {
  readonly description: string;
  private fd: number;
  private readonly libc: Libc;
  private readonly worker: Worker;
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));
  private exited: Promise<void>;
  /** writes refused with EIO: the host side of the interface is down */
  hostDownDrops = 0;
  writeErrors = 0;
  readerError: string | null = null;

  constructor(readonly ifname: string) {
    super();
    this.description = `tap ${ifname}`;
    this.libc = loadLibc();
    const fd = this.libc.open('/dev/net/tun', O_RDWR | O_NONBLOCK);
    if (fd < 0) {
      const e = this.libc.errno();
      if (e === ENOENT) throw new Error('tap backend: /dev/net/tun does not exist (load the tun module: sudo modprobe tun)');
      throw new Error(tapPermissionMessage(ifname, e, 'open /dev/net/tun'));
    }
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write(ifname, 0, 15, 'latin1');
    ifr.writeUInt16LE(IFF_TAP | IFF_NO_PI, 16);
    if (this.libc.ioctl(fd, TUNSETIFF, ifr) < 0) {
      const e = this.libc.errno();
      this.libc.close(fd);
      throw new Error(tapPermissionMessage(ifname, e, 'attach (TUNSETIFF)'));
    }
    this.fd = fd;
    this.worker = new Worker(READER_SOURCE, {
      eval: true,
      workerData: { fd, stop: this.stop.buffer, koffiPath: requireHere.resolve('koffi') },
    });
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
    if (n === frame.length) { this.sent(frame); return; }
    this.stats.txDropped++;
    const e = n < 0 ? this.libc.errno() : 0;
    if (e === EIO) this.hostDownDrops++;
    else if (e !== EAGAIN) this.writeErrors++;
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

export function tapPermissionMessage(ifname: string, errno: number, what: string): string {
  if (errno === EPERM || errno === EACCES) {
    return `tap backend: cannot ${what} for '${ifname}' (permission denied); create it once as root: ` +
      `sudo ip tuntap add dev ${ifname} mode tap user $USER && sudo ip link set ${ifname} up`;
  }
  if (errno === EBUSY) return `tap backend: '${ifname}' is busy (another process has it open)`;
  return `tap backend: cannot ${what} for '${ifname}' (errno ${errno})`;
}
