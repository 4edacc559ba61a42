// The DIME kernel's local file store, read on the host from a raw disk image: the byte layout
// src/dime/kernel/store.c writes (docs/STORAGE.md), parsed independently, so tests can check
// what a server left on its disk and an operator can look into a server's disk offline.
import { crc32 } from '../protocol/codec.js';

export const STORE_MAGIC = 'PXSTORE1';
export const STORE_SECTOR = 512;
const ENTRY_LEN = 128;
const NAME_LEN = 48;

export interface StoreGeometry {
  version: number;
  slots: number;
  dirStart: number;
  dirSectors: number;
  dataStart: number;
  slotSectors: number;
  diskSectors: bigint;
}

export interface StoreFile {
  name: string;
  slot: number;
  size: number;
  /** changes of the entry since it was created */
  gen: number;
  data: Buffer;
}

export type StoreImage =
  | { kind: 'blank' }
  | { kind: 'foreign'; reason: string }
  | { kind: 'store'; geometry: StoreGeometry; files: StoreFile[] };

/** Parse a whole raw image (a Buffer of the disk). */
export function readStoreImage(disk: Buffer): StoreImage {
  if (disk.length < STORE_SECTOR) return { kind: 'foreign', reason: 'shorter than one sector' };
  const sb = disk.subarray(0, STORE_SECTOR);
  if (sb.every((b) => b === 0)) return { kind: 'blank' };
  if (sb.toString('latin1', 0, 8) !== STORE_MAGIC) return { kind: 'foreign', reason: 'no PXSTORE1 magic' };
  const crcStored = sb.readUInt32LE(40);
  if (crc32(sb.subarray(0, 40)) !== crcStored) return { kind: 'foreign', reason: 'superblock CRC mismatch' };
  const g: StoreGeometry = {
    version: sb.readUInt32LE(8), slots: sb.readUInt32LE(12), dirStart: sb.readUInt32LE(16), dirSectors: sb.readUInt32LE(20),
    dataStart: sb.readUInt32LE(24), slotSectors: sb.readUInt32LE(28), diskSectors: sb.readBigUInt64LE(32),
  };
  if (g.version !== 1) return { kind: 'foreign', reason: `version ${g.version}` };
  const end = (g.dataStart + g.slots * g.slotSectors) * STORE_SECTOR;
  if (g.dirSectors * STORE_SECTOR < g.slots * ENTRY_LEN || end > disk.length) return { kind: 'foreign', reason: 'geometry beyond the disk' };
  const files: StoreFile[] = [];
  for (let slot = 0; slot < g.slots; slot++) {
    const e = disk.subarray(g.dirStart * STORE_SECTOR + slot * ENTRY_LEN, g.dirStart * STORE_SECTOR + (slot + 1) * ENTRY_LEN);
    const nul = e.indexOf(0);
    const name = e.toString('latin1', 0, nul < 0 || nul > NAME_LEN - 1 ? NAME_LEN - 1 : nul);
    if (!name) continue;
    const size = Math.min(e.readUInt32LE(NAME_LEN), g.slotSectors * STORE_SECTOR);
    const at = (g.dataStart + slot * g.slotSectors) * STORE_SECTOR;
    files.push({ name, slot, size, gen: e.readUInt32LE(NAME_LEN + 4), data: Buffer.from(disk.subarray(at, at + size)) });
  }
  return { kind: 'store', geometry: g, files };
}
