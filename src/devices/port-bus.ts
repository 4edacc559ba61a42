// The I/O port space (0x0000-0xFFFF) as a dispatcher: each port maps to at most one
// PortDevice. A one-entry-per-port table keeps dispatch to one array load, which matters
// because kernels probe wide port ranges. Unmapped ports read as all-ones and swallow writes,
// as on a PC with nothing decoding them; both are counted so surprises show up in statistics.

import type { PortDevice } from './types.js';

const PORT_COUNT = 0x10000;
const NONE = 0xffff;

export interface PortBusStats {
  unmappedReads: number;
  unmappedWrites: number;
  /** the last unmapped port touched, -1 if none (a cheap hint for debugging) */
  lastUnmappedPort: number;
}

export class PortBus {
  private readonly slot = new Uint16Array(PORT_COUNT).fill(NONE);
  private readonly devices: PortDevice[] = [];
  readonly stats: PortBusStats = { unmappedReads: 0, unmappedWrites: 0, lastUnmappedPort: -1 };

  /** Map ports [start, start+count) to `device`; overlapping an existing mapping is an error. */
  map(start: number, count: number, device: PortDevice): void {
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > PORT_COUNT) {
      throw new Error(`port bus: bad range 0x${start.toString(16)}+${count} for ${device.name}`);
    }
    for (let p = start; p < start + count; p++) {
      if (this.slot[p] !== NONE) {
        throw new Error(`port bus: ${device.name} overlaps ${this.devices[this.slot[p]].name} at port 0x${p.toString(16)}`);
      }
    }
    let idx = this.devices.indexOf(device);
    if (idx < 0) {
      idx = this.devices.length;
      if (idx >= NONE) throw new Error('port bus: too many devices');
      this.devices.push(device);
    }
    this.slot.fill(idx, start, start + count);
  }

  /** Remove any mapping of [start, start+count) (PCI I/O BARs move). */
  unmap(start: number, count: number): void {
    const s = Math.max(0, start);
    const e = Math.min(PORT_COUNT, start + count);
    if (e > s) this.slot.fill(NONE, s, e);
  }

  /** The device decoding `port`, or undefined. */
  deviceAt(port: number): PortDevice | undefined {
    const i = this.slot[port & 0xffff];
    return i === NONE ? undefined : this.devices[i];
  }

  read(port: number, size: number): number {
    port &= 0xffff;
    const i = this.slot[port];
    if (i === NONE) {
      this.stats.unmappedReads++;
      this.stats.lastUnmappedPort = port;
      return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    }
    return this.devices[i].ioRead(port, size);
  }

  write(port: number, size: number, value: number): void {
    port &= 0xffff;
    const i = this.slot[port];
    if (i === NONE) {
      this.stats.unmappedWrites++;
      this.stats.lastUnmappedPort = port;
      return;
    }
    this.devices[i].ioWrite(port, size, value);
  }
}
