// Classic libpcap capture file writer (the format tcpdump/wireshark read): global header with
// magic a1b2c3d4 (microsecond timestamps), version 2.4, snaplen 65535, link type 1 (Ethernet).
// Every record is written with one synchronous write(2), so the kernel holds it as soon as the
// call returns: a crash of this process loses at most the frame being written.

import { closeSync, openSync, writeSync } from 'node:fs';

export const PCAP_MAGIC = 0xa1b2c3d4;
export const PCAP_SNAPLEN = 65535;
export const LINKTYPE_ETHERNET = 1;

export class PcapWriter {
  private fd: number;
  private readonly header = Buffer.alloc(16);
  framesWritten = 0;
  framesTruncated = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    const g = Buffer.alloc(24);
    g.writeUInt32LE(PCAP_MAGIC, 0);
    g.writeUInt16LE(2, 4);
    g.writeUInt16LE(4, 6);
    g.writeInt32LE(0, 8); // thiszone: timestamps are UTC
    g.writeUInt32LE(0, 12); // sigfigs
    g.writeUInt32LE(PCAP_SNAPLEN, 16);
    g.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    writeSync(this.fd, g);
  }

  /** Append one frame; `timeMs` defaults to the wall clock (fractional ms allowed). */
  write(frame: Uint8Array, timeMs = performance.timeOrigin + performance.now()): void {
    if (this.fd < 0) return;
    const sec = Math.floor(timeMs / 1000);
    const usec = Math.min(999_999, Math.floor((timeMs - sec * 1000) * 1000));
    const incl = Math.min(frame.length, PCAP_SNAPLEN);
    if (incl < frame.length) this.framesTruncated++;
    this.header.writeUInt32LE(sec >>> 0, 0);
    this.header.writeUInt32LE(usec, 4);
    this.header.writeUInt32LE(incl, 8);
    this.header.writeUInt32LE(frame.length, 12);
    // one write per record keeps a record whole even if we die between frames
    const rec = Buffer.allocUnsafe(16 + incl);
    this.header.copy(rec, 0);
    rec.set(frame.subarray(0, incl), 16);
    writeSync(this.fd, rec);
    this.framesWritten++;
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
