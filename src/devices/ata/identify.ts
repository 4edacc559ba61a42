// The 512-byte IDENTIFY DEVICE answer of our ATA disk (ATA/ATAPI-6, T13 1410D, table 27):
// LBA28 and LBA48 addressing, PIO only (no DMA modes), FLUSH CACHE (EXT), and a CHS geometry
// of 16 heads x 63 sectors for firmware that still asks for one.

export const IDENTIFY_HEADS = 16;
export const IDENTIFY_SECTORS_PER_TRACK = 63;

/** ATA strings are space-padded, two characters per word, first character in the high byte. */
function putString(w: Uint16Array, word: number, words: number, text: string): void {
  const s = text.padEnd(words * 2, ' ');
  for (let i = 0; i < words; i++) w[word + i] = (s.charCodeAt(2 * i) << 8) | s.charCodeAt(2 * i + 1);
}

export function chsGeometry(sectors: number): { cylinders: number; heads: number; sectorsPerTrack: number } {
  const cylinders = Math.max(1, Math.min(16383, Math.floor(sectors / (IDENTIFY_HEADS * IDENTIFY_SECTORS_PER_TRACK))));
  return { cylinders, heads: IDENTIFY_HEADS, sectorsPerTrack: IDENTIFY_SECTORS_PER_TRACK };
}

export function identifyDevice(sectors: number, serial: string): Uint8Array {
  const w = new Uint16Array(256);
  const g = chsGeometry(sectors);
  w[0] = 0x0040; // fixed device, not removable
  w[1] = g.cylinders;
  w[3] = g.heads;
  w[6] = g.sectorsPerTrack;
  putString(w, 10, 10, serial);
  putString(w, 23, 4, '1.0');
  putString(w, 27, 20, 'PARALLAX HARDDISK');
  w[47] = 0x8000; // READ/WRITE MULTIPLE not offered (0 sectors per block)
  w[49] = 0x0200; // LBA supported; no DMA
  w[53] = 0x0003; // words 54-58 and 64-70 are valid
  w[54] = g.cylinders;
  w[55] = g.heads;
  w[56] = g.sectorsPerTrack;
  const chsCapacity = g.cylinders * g.heads * g.sectorsPerTrack;
  w[57] = chsCapacity & 0xffff;
  w[58] = chsCapacity >>> 16;
  const lba28 = Math.min(sectors, 0x0fffffff);
  w[60] = lba28 & 0xffff;
  w[61] = lba28 >>> 16;
  w[64] = 0x0003; // PIO modes 3 and 4
  w[65] = 120; w[66] = 120; w[67] = 120; w[68] = 120;
  w[80] = 0x007e; // ATA-1 .. ATA-6
  w[82] = 0x4000; // NOP
  w[83] = 0x7400; // word valid, FLUSH CACHE EXT, FLUSH CACHE, 48-bit address feature set
  w[84] = 0x4000;
  w[85] = 0x4000;
  w[86] = 0x3400;
  w[87] = 0x4000;
  w[93] = 0x6001; // hardware reset result, as QEMU reports it for device 0
  w[100] = sectors % 0x10000;
  w[101] = Math.floor(sectors / 0x10000) % 0x10000;
  w[102] = Math.floor(sectors / 2 ** 32) % 0x10000;
  w[103] = 0;
  const out = new Uint8Array(512);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 256; i++) dv.setUint16(i * 2, w[i], true);
  return out;
}
