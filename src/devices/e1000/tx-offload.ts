// Transmit offloads of the 8254x that drivers rely on: checksum insertion (legacy CSO/CSS and
// the context descriptor's IP and TCP/UDP ranges) and TCP segmentation (TSO). A driver that
// enables TSO hands over one large TCP/IP packet; the device cuts it into MSS-sized segments,
// fixing up per segment the IP length and ID, the TCP sequence number and flags, and both
// checksums. The driver seeds the TCP/UDP checksum field with the pseudo-header sum (without
// the length for TSO), so the device only adds the bytes it covers (plus the length for TSO).

/** Fields of a transmit context descriptor. */
export interface TxContext {
  ipcss: number;
  ipcso: number;
  ipcse: number;
  tucss: number;
  tucso: number;
  tucse: number;
  paylen: number;
  tucmd: number;
  hdrlen: number;
  mss: number;
}

export function emptyContext(): TxContext {
  return { ipcss: 0, ipcso: 0, ipcse: 0, tucss: 0, tucso: 0, tucse: 0, paylen: 0, tucmd: 0, hdrlen: 0, mss: 0 };
}

/** 32-bit accumulation of big-endian 16-bit words over pkt[start, end). */
export function onesSum(pkt: Uint8Array, start: number, end: number, acc = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (pkt[i] << 8) | pkt[i + 1];
  if (i < end) acc += pkt[i] << 8;
  return acc;
}

export function foldComplement(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/**
 * Sum pkt[start..end] (end inclusive; 0 = to the end of the packet), complement, and store
 * at `at`. Ranges outside the packet are ignored (a malformed descriptor must not crash us).
 */
export function insertChecksum(pkt: Uint8Array, start: number, at: number, end: number, extra = 0): boolean {
  const stop = end === 0 || end >= pkt.length ? pkt.length : end + 1;
  if (start >= stop || at + 2 > pkt.length) return false;
  const c = foldComplement(onesSum(pkt, start, stop, extra));
  pkt[at] = c >>> 8;
  pkt[at + 1] = c & 0xff;
  return true;
}

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;

export interface TsoFlags {
  ipv4: boolean;
  tcp: boolean;
  ipChecksum: boolean;
  l4Checksum: boolean;
}

/**
 * Cut a TSO packet into segments. Returns null when the context cannot describe this packet
 * (header longer than the packet, MSS 0, offsets outside the header), so the caller can count it.
 */
export function segmentTso(pkt: Uint8Array, ctx: TxContext, f: TsoFlags): Uint8Array[] | null {
  const hdr = ctx.hdrlen;
  const mss = ctx.mss;
  if (mss === 0 || hdr === 0 || hdr > pkt.length || ctx.tucss >= hdr || ctx.ipcss >= hdr) return null;
  if (f.tcp && ctx.tucss + 14 > hdr) return null;
  const payload = pkt.length - hdr;
  const count = Math.max(1, Math.ceil(payload / mss));
  const out: Uint8Array[] = [];
  const ipId = f.ipv4 && ctx.ipcss + 6 <= hdr ? (pkt[ctx.ipcss + 4] << 8) | pkt[ctx.ipcss + 5] : 0;
  const seq = f.tcp ? ((pkt[ctx.tucss + 4] << 24) | (pkt[ctx.tucss + 5] << 16) | (pkt[ctx.tucss + 6] << 8) | pkt[ctx.tucss + 7]) >>> 0 : 0;
  for (let i = 0; i < count; i++) {
    const from = hdr + i * mss;
    const len = Math.min(mss, payload - i * mss);
    const seg = new Uint8Array(hdr + len);
    seg.set(pkt.subarray(0, hdr));
    seg.set(pkt.subarray(from, from + len), hdr);
    const last = i === count - 1;
    if (f.ipv4) {
      put16(seg, ctx.ipcss + 2, seg.length - ctx.ipcss);
      put16(seg, ctx.ipcss + 4, (ipId + i) & 0xffff);
    } else if (ctx.ipcss + 6 <= hdr) {
      put16(seg, ctx.ipcss + 4, seg.length - ctx.ipcss - 40);
    }
    if (f.tcp) {
      const s = (seq + i * mss) >>> 0;
      seg[ctx.tucss + 4] = s >>> 24; seg[ctx.tucss + 5] = (s >>> 16) & 0xff;
      seg[ctx.tucss + 6] = (s >>> 8) & 0xff; seg[ctx.tucss + 7] = s & 0xff;
      if (!last) seg[ctx.tucss + 13] &= ~(TCP_FIN | TCP_PSH);
    } else if (ctx.tucss + 6 <= hdr) {
      put16(seg, ctx.tucss + 4, seg.length - ctx.tucss);
    }
    if (f.ipChecksum && f.ipv4 && ctx.ipcso + 2 <= hdr) {
      put16(seg, ctx.ipcso, 0);
      insertChecksum(seg, ctx.ipcss, ctx.ipcso, ctx.ipcse);
    }
    if (f.l4Checksum && ctx.tucso + 2 <= hdr) {
      insertChecksum(seg, ctx.tucss, ctx.tucso, ctx.tucse, seg.length - ctx.tucss);
    }
    out.push(seg);
  }
  return out;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}
