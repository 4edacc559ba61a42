// The host-side reader of the DIME kernel's store format (src/orchestrator/local-store.ts): it must
// tell a blank disk, a foreign one and a damaged superblock apart from a store, and never read
// past a slot. The images the kernel itself writes are checked in test/dime/storage.test.ts.
import { describe, it, expect } from 'vitest';
import { crc32 } from '../../src/protocol/codec.js';
import { readStoreImage } from '../../src/orchestrator/local-store.js';

/** A store image built by hand from docs/STORAGE.md: 64 slots of 8 sectors. */
function image(files: Array<[number, string, string, number?]>): Buffer {
  const slotSectors = 8;
  const disk = Buffer.alloc((32 + 64 * slotSectors) * 512);
  disk.write('PXSTORE1', 0, 'latin1');
  [1, 64, 1, 16, 32, slotSectors].forEach((v, i) => disk.writeUInt32LE(v, 8 + 4 * i));
  disk.writeBigUInt64LE(BigInt(disk.length / 512), 32);
  disk.writeUInt32LE(crc32(disk.subarray(0, 40)), 40);
  for (const [slot, name, data, size] of files) {
    const e = 512 + slot * 128;
    disk.write(name, e, 'latin1');
    disk.writeUInt32LE(size ?? data.length, e + 48);
    disk.writeUInt32LE(1, e + 52);
    disk.write(data, (32 + slot * slotSectors) * 512, 'latin1');
  }
  return disk;
}

describe('local store image reader', () => {
  it('reads the files of a store', () => {
    const s = readStoreImage(image([[0, 'a', 'alpha'], [5, 'dir/b', 'beta']]));
    expect(s.kind).toBe('store');
    if (s.kind !== 'store') return;
    expect(s.geometry).toMatchObject({ version: 1, slots: 64, dataStart: 32, slotSectors: 8 });
    expect(s.files.map((f) => [f.slot, f.name, f.data.toString()])).toEqual([[0, 'a', 'alpha'], [5, 'dir/b', 'beta']]);
  });

  it('tells blank, foreign and damaged disks apart', () => {
    expect(readStoreImage(Buffer.alloc(4096)).kind).toBe('blank');
    expect(readStoreImage(Buffer.from('x'.repeat(4096)))).toEqual({ kind: 'foreign', reason: 'no PXSTORE1 magic' });
    const bad = image([]);
    bad[20] ^= 1;
    expect(readStoreImage(bad)).toEqual({ kind: 'foreign', reason: 'superblock CRC mismatch' });
    expect(readStoreImage(image([]).subarray(0, 100 * 512))).toEqual({ kind: 'foreign', reason: 'geometry beyond the disk' });
    expect(readStoreImage(Buffer.alloc(10)).kind).toBe('foreign');
  });

  it('never reads past a slot, whatever an entry claims', () => {
    const s = readStoreImage(image([[1, 'big', 'x', 1 << 30]]));
    expect(s.kind === 'store' && s.files[0].size).toBe(8 * 512);
  });
});
