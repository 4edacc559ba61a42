// Two stations with one MAC on a hub: the hub refuses the second one's frames and tells it so
// with a notice frame (IEEE local experimental EtherType 0x88B5, addressed to the MAC in
// question, a fixed text); parallax-emu announces its MAC when it joins and prints a warning
// when the notice comes back, so a server started with another's --name says so at start.

export const NOTICE_ETHERTYPE = 0x88b5;
const TEXT = Buffer.from('parallax hub: this MAC is in use on another port');
export const DUPLICATE_NOTICE_LEN = 14 + TEXT.length;

/** The hub's notice for the MAC `key` (48-bit number, as the hub's table keeps it). */
export function duplicateMacNotice(key: number): Buffer {
  const f = Buffer.alloc(DUPLICATE_NOTICE_LEN);
  for (let i = 0; i < 6; i++) f[i] = Math.floor(key / 2 ** (8 * (5 - i))) & 0xff;
  f.writeUInt16BE(NOTICE_ETHERTYPE, 12);
  TEXT.copy(f, 14);
  return f;
}

export function isDuplicateMacNotice(f: Uint8Array, mac: Uint8Array): boolean {
  if (f.length !== DUPLICATE_NOTICE_LEN || ((f[12] << 8) | f[13]) !== NOTICE_ETHERTYPE) return false;
  for (let i = 0; i < 6; i++) if (f[i] !== mac[i]) return false;
  return Buffer.from(f.subarray(14)).equals(TEXT);
}

/**
 * A frame from `mac` to itself, so the hub learns (or refuses) the MAC right away and delivers
 * it to nobody (a frame for a MAC on the sender's own port is filtered).
 */
export function macAnnouncement(mac: Uint8Array): Uint8Array {
  const f = new Uint8Array(60);
  f.set(mac, 0);
  f.set(mac, 6);
  f[12] = NOTICE_ETHERTYPE >> 8;
  f[13] = NOTICE_ETHERTYPE & 0xff;
  return f;
}
