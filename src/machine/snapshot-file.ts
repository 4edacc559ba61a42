// The snapshot file: a fixed header, then a payload of the machine description (JSON) and
// guest RAM as 2 MiB frames, zero frames left out and the others deflated (node:zlib, level 1:
// a booted DIME server is mostly zeros and code, and inflating is what a restore waits for).
//
//   offset size
//   0      8    magic "PRLXSNAP"
//   8      4    format version (u32 LE)
//   12     4    header size (64)
//   16     8    payload size in bytes (u64 LE)
//   24     4    description size in bytes (u32 LE)
//   28     4    RAM frames stored (u32 LE)
//   32     32   SHA-256 of the payload
//   64          payload: the description (UTF-8 JSON), then per stored frame: frame index
//               (u32 LE), deflated size (u32 LE), raw deflate data inflating to 2 MiB
//
// A file that is not a snapshot, of another version, truncated or altered is refused with a
// SnapshotFileError that says which.

import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export const SNAPSHOT_MAGIC = 'PRLXSNAP';
export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 64;
/** RAM is stored in frames of this size (the frame table's 2 MiB). */
export const SNAPSHOT_FRAME_BYTES = 2 * 1024 * 1024;

export class SnapshotFileError extends Error {}

/** Frame indexes of `ram` that hold a nonzero byte. */
export function nonZeroFrames(ram: Uint8Array): number[] {
  const out: number[] = [];
  const frames = Math.ceil(ram.length / SNAPSHOT_FRAME_BYTES);
  for (let f = 0; f < frames; f++) {
    const start = f * SNAPSHOT_FRAME_BYTES;
    const end = Math.min(ram.length, start + SNAPSHOT_FRAME_BYTES);
    // words where alignment allows (RAM sizes are multiples of 4 KiB), bytes otherwise
    const words = new Int32Array(ram.buffer, ram.byteOffset + start, (end - start) >> 2);
    let i = 0;
    while (i < words.length && words[i] === 0) i++;
    if (i < words.length) out.push(f);
  }
  return out;
}

/** Write a snapshot file (through a temporary file and a rename: a reader never sees half of one). */
export function writeSnapshotFile(path: string, description: unknown, ram: Uint8Array): { bytes: number; frames: number } {
  const meta = Buffer.from(JSON.stringify(description), 'utf8');
  const chunks: Buffer[] = [meta];
  const frames = nonZeroFrames(ram);
  for (const f of frames) {
    const start = f * SNAPSHOT_FRAME_BYTES;
    const data = deflateRawSync(ram.subarray(start, Math.min(ram.length, start + SNAPSHOT_FRAME_BYTES)), { level: 1 });
    const head = Buffer.alloc(8);
    head.writeUInt32LE(f, 0);
    head.writeUInt32LE(data.length, 4);
    chunks.push(head, data);
  }
  const hash = createHash('sha256');
  let payload = 0;
  for (const c of chunks) { hash.update(c); payload += c.length; }
  const header = Buffer.alloc(SNAPSHOT_HEADER_BYTES);
  header.write(SNAPSHOT_MAGIC, 0, 'latin1');
  header.writeUInt32LE(SNAPSHOT_VERSION, 8);
  header.writeUInt32LE(SNAPSHOT_HEADER_BYTES, 12);
  header.writeBigUInt64LE(BigInt(payload), 16);
  header.writeUInt32LE(meta.length, 24);
  header.writeUInt32LE(frames.length, 28);
  hash.digest().copy(header, 32);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, header);
    for (const c of chunks) writeSync(fd, c);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return { bytes: SNAPSHOT_HEADER_BYTES + payload, frames: frames.length };
}

export interface SnapshotContents {
  description: unknown;
  /**
   * Copy the stored frames into `ram`. `ram` must be zero where no frame is stored, unless
   * `clearOthers` (RAM of a machine that ran: its other nonzero frames are zeroed first).
   */
  loadRam(ram: Uint8Array, clearOthers?: boolean): number;
  frames: number;
}

/** Read and check a snapshot file; RAM is inflated only when `loadRam` is called. */
export function readSnapshotFile(path: string): SnapshotContents {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SnapshotFileError(`cannot read snapshot '${path}': ${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}`);
  }
  return parseSnapshot(file, path);
}

export function parseSnapshot(file: Buffer, name = 'snapshot'): SnapshotContents {
  const bad = (why: string) => new SnapshotFileError(`${name}: ${why}`);
  if (file.length < SNAPSHOT_HEADER_BYTES || file.toString('latin1', 0, 8) !== SNAPSHOT_MAGIC) {
    throw bad('not a parallax-emu snapshot (no PRLXSNAP header)');
  }
  const version = file.readUInt32LE(8);
  if (version !== SNAPSHOT_VERSION) throw bad(`snapshot format version ${version}, this parallax-emu reads version ${SNAPSHOT_VERSION}`);
  const headerBytes = file.readUInt32LE(12);
  const payload = Number(file.readBigUInt64LE(16));
  const metaBytes = file.readUInt32LE(24);
  const frames = file.readUInt32LE(28);
  if (headerBytes !== SNAPSHOT_HEADER_BYTES) throw bad(`bad header size ${headerBytes}`);
  if (file.length < headerBytes + payload) throw bad(`truncated: the header announces ${headerBytes + payload} bytes, the file has ${file.length}`);
  if (file.length > headerBytes + payload) throw bad(`${file.length - headerBytes - payload} bytes after the end of the snapshot`);
  const body = file.subarray(headerBytes);
  const sum = createHash('sha256').update(body).digest();
  if (!sum.equals(file.subarray(32, 64))) throw bad('checksum mismatch: the file is damaged');
  if (metaBytes > payload) throw bad('bad description size');
  let description: unknown;
  try {
    description = JSON.parse(body.toString('utf8', 0, metaBytes));
  } catch (e) {
    throw bad(`unreadable description: ${(e as Error).message}`);
  }
  const loadRam = (ram: Uint8Array, clearOthers = false): number => {
    if (clearOthers) {
      const stored = new Set<number>();
      for (let n = 0, at = metaBytes; n < frames && at + 8 <= body.length; n++) {
        stored.add(body.readUInt32LE(at));
        at += 8 + body.readUInt32LE(at + 4);
      }
      for (const f of nonZeroFrames(ram)) if (!stored.has(f)) ram.fill(0, f * SNAPSHOT_FRAME_BYTES, Math.min(ram.length, (f + 1) * SNAPSHOT_FRAME_BYTES));
    }
    let at = metaBytes;
    for (let n = 0; n < frames; n++) {
      if (at + 8 > body.length) throw bad('frame list ends early');
      const index = body.readUInt32LE(at);
      const size = body.readUInt32LE(at + 4);
      at += 8;
      const start = index * SNAPSHOT_FRAME_BYTES;
      const length = Math.min(SNAPSHOT_FRAME_BYTES, ram.length - start);
      if (length <= 0 || at + size > body.length) throw bad(`frame ${index} lies outside this machine's RAM or the file`);
      const data = inflateRawSync(body.subarray(at, at + size));
      if (data.length !== length) throw bad(`frame ${index} inflates to ${data.length} bytes, expected ${length}`);
      ram.set(data, start);
      at += size;
    }
    if (at !== body.length) throw bad('data after the last frame');
    return frames;
  };
  return { description, loadRam, frames };
}
