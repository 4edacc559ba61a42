// A NetBackend on a real (or veth/bridge/tap host-side) Linux interface through an AF_PACKET
// raw socket, so the orchestrator can manage DIMEs on physical servers. Node cannot open
// AF_PACKET sockets, so, as the tap backend does, we call libc through koffi: socket(),
// bind() to the interface by index, non-blocking write() to send, and a worker thread that
// poll()s with a short timeout and reads, so the process can always exit. Needs CAP_NET_RAW.
//
// Spec: packet,ifname=NAME
import { EACCES, EPERM, FdFrameBackend } from './fd-backend.js';
import { NetSpecError } from '../net-spec.js';

/** The host refused (no such interface, no CAP_NET_RAW, not Linux): the user's to fix, not a bug. */
export class PacketBackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PacketBackendError';
  }
}

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0x800;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL = 0x0003)
const SOCKADDR_LL_SIZE = 20;

export function parsePacketSpec(spec: string): { ifname: string } | null {
  const parts = spec.trim().split(',');
  if (parts[0] !== 'packet') return null;
  let ifname = '';
  for (const p of parts.slice(1)) {
    const [k, v] = p.split('=', 2);
    if (k === 'ifname' && v) ifname = v;
    else if (k !== 'id') throw new NetSpecError(spec, `unknown option '${p}' for packet (known: ifname)`);
  }
  if (!ifname) throw new NetSpecError(spec, 'packet needs ifname=NAME');
  if (ifname.length > 15 || !/^[A-Za-z0-9_.@-]+$/.test(ifname)) throw new NetSpecError(spec, `'${ifname}' is not an interface name`);
  return { ifname };
}

export class PacketBackend extends FdFrameBackend {
  readonly description: string;

  constructor(readonly ifname: string) {
    if (process.platform !== 'linux') throw new PacketBackendError('packet backend: AF_PACKET sockets exist only on Linux');
    super('packet backend');
    this.description = `packet ${ifname}`;
    const index = this.libc.if_nametoindex(ifname);
    if (!index) throw new PacketBackendError(`packet backend: no interface named '${ifname}'`);
    const fd = this.libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, ETH_P_ALL_BE);
    if (fd < 0) {
      const e = this.libc.errno();
      throw new PacketBackendError(e === EPERM || e === EACCES
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
      throw new PacketBackendError(`packet backend: cannot bind to '${ifname}' (errno ${e})`);
    }
    this.startReading(fd, 'packet socket');
  }
}
