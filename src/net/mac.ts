// MAC addresses: parsing, formatting and the deterministic default address of a NIC.
//
// Default MACs use our own locally administered prefix 5a:50 ("Z", "P": bit 1 of the first
// byte set = locally administered, bit 0 clear = unicast), so they never collide with a vendor
// OUI nor with QEMU's 52:54:00. The next three bytes come from a hash of the machine name and
// the last byte is the NIC index, so the same machine name always gets the same addresses and
// NICs of one machine are recognisably siblings in a capture.

import { createHash } from 'node:crypto';

export const MAC_PREFIX = [0x5a, 0x50] as const;

export function macFromName(name: string, index = 0): Uint8Array {
  if (!Number.isInteger(index) || index < 0) throw new Error(`macFromName: NIC index must be a non-negative integer, got ${index}`);
  // indices beyond 255 fold into the hash so that the address stays unique per (name, index)
  const h = createHash('sha256').update(`${name}\0${Math.floor(index / 256)}`).digest();
  return Uint8Array.of(MAC_PREFIX[0], MAC_PREFIX[1], h[0], h[1], h[2], index & 0xff);
}

/** Parse "aa:bb:cc:dd:ee:ff" (also '-' separated); throws a clear error otherwise. */
export function parseMac(text: string): Uint8Array {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new Error(`invalid MAC address '${text}': expected six hex bytes like 5a:50:12:34:56:00`);
  }
  const mac = Uint8Array.from(parts.map((p) => parseInt(p, 16)));
  if (mac[0] & 1) throw new Error(`invalid MAC address '${text}': a NIC address must be unicast (first byte even)`);
  return mac;
}

export function formatMac(mac: Uint8Array, offset = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(mac[offset + i].toString(16).padStart(2, '0'));
  return out.join(':');
}

export function isMulticastMac(frame: Uint8Array, offset = 0): boolean {
  return (frame[offset] & 1) !== 0;
}

export function isBroadcastMac(frame: Uint8Array, offset = 0): boolean {
  for (let i = 0; i < 6; i++) if (frame[offset + i] !== 0xff) return false;
  return true;
}

export function sameMac(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** 48-bit MAC as a Number key (exact: < 2^53), for maps. */
export function macKey(frame: Uint8Array, offset = 0): number {
  const low = ((frame[offset + 2] << 24) | (frame[offset + 3] << 16) | (frame[offset + 4] << 8) | frame[offset + 5]) >>> 0;
  return frame[offset] * 2 ** 40 + frame[offset + 1] * 2 ** 32 + low;
}
