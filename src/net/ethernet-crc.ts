// Ethernet frame check sequence: CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320),
// stored after the frame least-significant byte first, as a NIC writes it to memory.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Write the FCS of data[0, len) at data[len, len + 4). */
export function appendFcs(data: Uint8Array, len: number): void {
  const c = crc32(data, 0, len);
  data[len] = c & 0xff;
  data[len + 1] = (c >>> 8) & 0xff;
  data[len + 2] = (c >>> 16) & 0xff;
  data[len + 3] = (c >>> 24) & 0xff;
}
