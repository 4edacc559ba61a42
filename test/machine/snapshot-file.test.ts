// The snapshot file format (src/machine/snapshot-file.ts): sparse RAM (zero 2 MiB frames left
// out), a description, a checksum; every kind of damage is refused with a message saying which.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SNAPSHOT_FRAME_BYTES, nonZeroFrames, parseSnapshot, readSnapshotFile, writeSnapshotFile } from '../../src/machine/snapshot-file.js';

const MiB = 2 ** 20;

describe('snapshot file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'px-snapfile-'));
  const ram = new Uint8Array(new SharedArrayBuffer(16 * MiB));
  ram[5] = 1; // frame 0
  ram.fill(0xa5, 6 * MiB, 6 * MiB + 4096); // frame 3
  ram[16 * MiB - 1] = 7; // frame 7, last byte
  const file = path.join(dir, 'a.pxsnap');
  const written = writeSnapshotFile(file, { hello: 'world', n: 3 }, ram);

  it('stores only the nonzero frames and restores RAM exactly', () => {
    expect(nonZeroFrames(ram)).toEqual([0, 3, 7]);
    expect(written.frames).toBe(3);
    expect(written.bytes).toBeLessThan(64 * 1024); // deflated, not 3 x 2 MiB
    const s = readSnapshotFile(file);
    expect(s.description).toEqual({ hello: 'world', n: 3 });
    const back = new Uint8Array(16 * MiB);
    expect(s.loadRam(back)).toBe(3);
    expect(Buffer.from(back).equals(Buffer.from(ram))).toBe(true);
    // into RAM that ran: frames the snapshot leaves out are cleared when asked
    const dirty = new Uint8Array(16 * MiB).fill(1);
    s.loadRam(dirty, true);
    expect(Buffer.from(dirty).equals(Buffer.from(ram))).toBe(true);
  });

  it('refuses damage, truncation, other versions and other files, saying which', () => {
    const good = readFileSync(file);
    const flip = Buffer.from(good);
    flip[flip.length - 1] ^= 1;
    expect(() => parseSnapshot(flip)).toThrow(/checksum mismatch/);
    expect(() => parseSnapshot(good.subarray(0, good.length - 10))).toThrow(/truncated: the header announces \d+ bytes, the file has \d+/);
    expect(() => parseSnapshot(Buffer.concat([good, Buffer.from('x')]))).toThrow(/1 bytes after the end/);
    const v2 = Buffer.from(good);
    v2.writeUInt32LE(2, 8);
    expect(() => parseSnapshot(v2)).toThrow(/format version 2, this parallax-emu reads version 1/);
    expect(() => parseSnapshot(Buffer.from('#!/bin/sh\necho not a snapshot\n'.repeat(4)))).toThrow(/not a parallax-emu snapshot/);
    expect(() => parseSnapshot(Buffer.alloc(10))).toThrow(/not a parallax-emu snapshot/);
    expect(() => readSnapshotFile(path.join(dir, 'missing.pxsnap'))).toThrow(/no such file/);
    // a snapshot of more RAM than this machine has
    const small = new Uint8Array(8 * MiB);
    expect(() => readSnapshotFile(file).loadRam(small)).toThrow(/frame 7 lies outside this machine's RAM/);
    expect(SNAPSHOT_FRAME_BYTES).toBe(2 * MiB);
  });
});
