// TAP backend (Linux): frames go to and come from a kernel tap interface. Node cannot issue
// ioctl(TUNSETIFF), so the device is opened through koffi (FFI to libc): open /dev/net/tun
// non-blocking, attach it to the named interface as IFF_TAP|IFF_NO_PI (plain Ethernet frames,
// no packet-info header). Reading and writing the fd: fd-backend.ts.

import { EACCES, EBUSY, ENOENT, EPERM, FdFrameBackend } from './fd-backend.js';

const O_RDWR = 0x2;
const O_NONBLOCK = 0x800;
const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFREQ_SIZE = 40;

export class TapBackend extends FdFrameBackend {
  readonly description: string;

  constructor(readonly ifname: string) {
    super('tap backend');
    this.description = `tap ${ifname}`;
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
    this.startReading(fd, 'tap fd');
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
