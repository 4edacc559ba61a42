// QEMU's stream framing (-netdev stream / socket,listen=|connect=): every Ethernet frame is
// preceded by its length as a 4-byte big-endian integer. TCP/unix sockets deliver arbitrary
// chunks, so the decoder keeps partial headers and partial frames across chunks.

/** Largest length prefix we accept; anything above (or 0) is a protocol error. */
export const STREAM_MAX_LENGTH = 65536;

export function encodeStreamFrame(frame: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + frame.length);
  out.writeUInt32BE(frame.length, 0);
  out.set(frame, 4);
  return out;
}

export class StreamFrameDecoder {
  private readonly header = new Uint8Array(4);
  private headerFill = 0;
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  /** set once a bad length was seen; the connection must be dropped */
  failed = false;
  badLength = 0;

  /**
   * Feed bytes. Calls `onFrame` for each completed frame (a fresh buffer per frame). Returns
   * false once the stream is malformed (length 0 or > STREAM_MAX_LENGTH); later input is ignored.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): boolean {
    if (this.failed) return false;
    let i = 0;
    while (i < chunk.length) {
      if (this.body === null) {
        const take = Math.min(4 - this.headerFill, chunk.length - i);
        this.header.set(chunk.subarray(i, i + take), this.headerFill);
        this.headerFill += take;
        i += take;
        if (this.headerFill < 4) break;
        const len = ((this.header[0] << 24) | (this.header[1] << 16) | (this.header[2] << 8) | this.header[3]) >>> 0;
        this.headerFill = 0;
        if (len === 0 || len > STREAM_MAX_LENGTH) {
          this.failed = true;
          this.badLength = len;
          return false;
        }
        this.body = new Uint8Array(len);
        this.bodyFill = 0;
      }
      const take = Math.min(this.body.length - this.bodyFill, chunk.length - i);
      this.body.set(chunk.subarray(i, i + take), this.bodyFill);
      this.bodyFill += take;
      i += take;
      if (this.bodyFill === this.body.length) {
        const frame = this.body;
        this.body = null;
        onFrame(frame);
      }
    }
    return true;
  }

  /** True when bytes of an unfinished frame (or length prefix) are buffered. */
  hasPartial(): boolean {
    return this.headerFill > 0 || this.body !== null;
  }

  reset(): void {
    this.headerFill = 0;
    this.body = null;
    this.bodyFill = 0;
    this.failed = false;
    this.badLength = 0;
  }
}
