// The hub's virtual-time messages (docs/ARCHITECTURE.md, "One virtual time across machines").
// They travel in-band on a hub port, inside QEMU's stream framing, as Ethernet frames of the
// IEEE local experimental EtherType 0x88B5 with the magic "PXVT": a port that never sends
// HELLO (QEMU, a real-time parallax-emu) never sees one and keeps plain frames.
//
//   HELLO    client -> hub   I run in virtual time (on connect)
//   WELCOME  hub -> client   you are a member; link latency (ns) and whether you are on time
//   TIME     client -> hub   promise: I will send nothing stamped before this instant (ns)
//   GRANT    hub -> client   every frame you will receive at an instant below this is with you
//   FRAME    both ways       a frame and its instant: send time (to the hub), delivery time (from it)
//
// Instants are float64 ns of guest time (Infinity allowed); frames follow the header whole.

import { NOTICE_ETHERTYPE } from './duplicate-mac.js';

export const VT_HELLO = 1;
export const VT_WELCOME = 2;
export const VT_TIME = 3;
export const VT_GRANT = 4;
export const VT_FRAME = 5;

const MAGIC = 0x50585654; // "PXVT"
/** dst(6) src(6) type(2) magic(4) kind(1) pad(1) instant(8) */
export const VT_HEADER = 28;

export type VtMessage =
  | { kind: typeof VT_HELLO }
  | { kind: typeof VT_WELCOME; latencyNs: number; late: boolean }
  | { kind: typeof VT_TIME; ns: number }
  | { kind: typeof VT_GRANT; ns: number }
  | { kind: typeof VT_FRAME; ns: number; frame: Uint8Array };

function header(kind: number, ns: number, extra: number): Buffer {
  const b = Buffer.alloc(VT_HEADER + extra);
  b.writeUInt16BE(NOTICE_ETHERTYPE, 12);
  b.writeUInt32BE(MAGIC, 14);
  b[18] = kind;
  b.writeDoubleBE(ns, 20);
  return b;
}

export function encodeVt(m: VtMessage): Buffer {
  switch (m.kind) {
    case VT_HELLO: return header(VT_HELLO, 0, 0);
    case VT_WELCOME: { const b = header(VT_WELCOME, m.latencyNs, 1); b[VT_HEADER] = m.late ? 1 : 0; return b; }
    case VT_TIME: case VT_GRANT: return header(m.kind, m.ns, 0);
    case VT_FRAME: { const b = header(VT_FRAME, m.ns, m.frame.length); b.set(m.frame, VT_HEADER); return b; }
  }
}

/** The message a frame carries, or null for an ordinary frame. */
export function decodeVt(f: Uint8Array): VtMessage | null {
  if (f.length < VT_HEADER || ((f[12] << 8) | f[13]) !== NOTICE_ETHERTYPE) return null;
  const v = new DataView(f.buffer, f.byteOffset, f.length);
  if (v.getUint32(14) !== MAGIC) return null;
  const ns = v.getFloat64(20);
  if (Number.isNaN(ns)) return null;
  switch (f[18]) {
    case VT_HELLO: return { kind: VT_HELLO };
    case VT_WELCOME: return f.length > VT_HEADER ? { kind: VT_WELCOME, latencyNs: ns, late: f[VT_HEADER] === 1 } : null;
    case VT_TIME: return { kind: VT_TIME, ns };
    case VT_GRANT: return { kind: VT_GRANT, ns };
    case VT_FRAME: return f.length > VT_HEADER ? { kind: VT_FRAME, ns, frame: f.subarray(VT_HEADER) } : null;
    default: return null;
  }
}
