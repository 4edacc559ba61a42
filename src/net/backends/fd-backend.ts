// What the TAP backend and the orchestrator's AF_PACKET backend share: libc through koffi
// (Node can neither ioctl(TUNSETIFF) nor open AF_PACKET sockets), and a frame backend over a
// non-blocking file descriptor. Reading happens in a dedicated worker thread that poll()s with
// a short timeout and reads until EAGAIN; the fd is never read through fs/libuv, whose parked
// thread would make process exit hang. Writes are non-blocking write(2) calls on this thread.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { BackendBase } from '../net-backend.js';

export const EPERM = 1, ENOENT = 2, EIO = 5, EAGAIN = 11, EACCES = 13, EBUSY = 16;

export interface Libc {
  errno(): number;
  open(path: string, flags: number): number;
  ioctl(fd: number, req: number, arg: Buffer): number;
  socket(domain: number, type: number, proto: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  if_nametoindex(name: string): number;
  write(fd: number, buf: Uint8Array, n: number): number;
  close(fd: number): number;
}

const requireHere = createRequire(import.meta.url);
let libcCache: Libc | null = null;

/** libc's calls through koffi (prebuilt, no compiler); `what` names the caller in the error. */
export function loadLibc(what: string): Libc {
  if (libcCache) return libcCache;
  if (process.platform !== 'linux') throw new Error(`${what}: only supported on Linux`);
  const koffi = requireHere('koffi');
  const lib = koffi.load('libc.so.6');
  libcCache = {
    errno: () => koffi.errno() as number,
    open: lib.func('int open(const char *path, int flags)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long req, void *arg)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    bind: lib.func('int bind(int fd, const void *addr, unsigned int len)'),
    if_nametoindex: lib.func('unsigned int if_nametoindex(const char *name)'),
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
  if (pfd.readInt16LE(6) & 0x38) { parentPort.postMessage({ error: 'poll reported an error on the ' + workerData.what }); break; }
  const batch = [];
  for (let i = 0; i < 256; i++) {
    const n = read(workerData.fd, buf, buf.length);
    if (n <= 0) break;
    batch.push(new Uint8Array(buf.subarray(0, n)));
  }
  if (batch.length) parentPort.postMessage({ frames: batch }, batch.map((f) => f.buffer));
}
`;

/** A frame backend over an open non-blocking fd (one frame per read/write). */
export abstract class FdFrameBackend extends BackendBase {
  protected fd = -1;
  protected readonly libc: Libc;
  private worker: Worker | null = null;
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));
  private exited: Promise<void> = Promise.resolve();
  /** writes refused with EIO (a TAP whose host side is down), and other write errors */
  hostDownDrops = 0;
  writeErrors = 0;
  readerError: string | null = null;

  protected constructor(what: string) {
    super();
    this.libc = loadLibc(what);
  }

  /** Take ownership of `fd` and start reading frames from it; `what` names it in errors. */
  protected startReading(fd: number, what: string): void {
    this.fd = fd;
    const w = new Worker(READER_SOURCE, { eval: true, workerData: { fd, what, stop: this.stop.buffer, koffiPath: requireHere.resolve('koffi') } });
    w.on('message', (m: { frames?: Uint8Array[]; error?: string }) => {
      if (m.frames) for (const f of m.frames) this.deliver(f);
      if (m.error) { this.readerError = m.error; this.setLink(false); }
    });
    w.on('error', (e) => { this.readerError = e.message; });
    this.exited = new Promise((resolve) => w.once('exit', () => resolve()));
    this.worker = w;
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
    if (this.worker) await this.exited;
    this.libc.close(this.fd);
    this.fd = -1;
    this.setLink(false);
  }
}
