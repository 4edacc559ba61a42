// Block backends: a raw file (read, write, fsync, bounds), the snapshot=on overlay (reads see
// the guest's writes, the file never changes, its state round-trips), and opening a -drive
// (a qcow2 image or a missing file is a clear error).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockIoError } from '../../src/block/block-backend.js';
import { openDriveBackend } from '../../src/block/open-drive.js';
import { OverlayBackend } from '../../src/block/overlay.js';
import { RawFileBackend } from '../../src/block/raw-file.js';

function file(bytes: number, fill = (i: number) => i >> 9): string {
  const p = join(mkdtempSync(join(tmpdir(), 'blk-')), 'd.img');
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = fill(i) & 0xff;
  writeFileSync(p, b);
  return p;
}

describe('block backends', () => {
  it('raw file: size in whole sectors, reads and writes at byte offsets, counted', () => {
    const p = file(8 * 512 + 100);
    const b = new RawFileBackend(p);
    expect(b.sizeBytes).toBe(8 * 512);
    const d = new Uint8Array(1024);
    b.read(2 * 512, d);
    expect([d[0], d[1023]]).toEqual([2, 3]);
    b.write(512, new Uint8Array(512).fill(0x5a));
    b.flush();
    expect(readFileSync(p)[512]).toBe(0x5a);
    expect(b.stats).toMatchObject({ reads: 1, readBytes: 1024, writes: 1, writeBytes: 512, flushes: 1 });
    expect(() => b.read(8 * 512, new Uint8Array(512))).toThrow(BlockIoError);
    expect(() => b.read(100, new Uint8Array(512))).toThrow(/not whole sectors/);
    b.close();
  });

  it('raw file read-only refuses writes', () => {
    const b = new RawFileBackend(file(1024), true);
    expect(b.readOnly).toBe(true);
    expect(() => b.write(0, new Uint8Array(512))).toThrow(/write refused/);
  });

  it('overlay: writes stay in memory, reads merge them with the file, state round-trips', () => {
    const p = file(16 * 512);
    const o = new OverlayBackend(new RawFileBackend(p, true));
    o.write(3 * 512, new Uint8Array(1024).fill(0xee));
    const d = new Uint8Array(6 * 512);
    o.read(2 * 512, d);
    expect([d[0], d[512], d[1024], d[1536], d[2048]]).toEqual([2, 0xee, 0xee, 5, 6]);
    expect(readFileSync(p)[3 * 512]).toBe(3);
    expect(o.dirtySectors).toBe(2);
    const o2 = new OverlayBackend(new RawFileBackend(p, true));
    o2.restoreState(JSON.parse(JSON.stringify(o.saveState())));
    const d2 = new Uint8Array(6 * 512);
    o2.read(2 * 512, d2);
    expect(d2).toEqual(d);
    expect(() => o2.restoreState({ kind: 'overlay', sectors: [[999, '']] })).toThrow();
  });

  it('overlay of a readonly=on drive refuses writes', () => {
    const o = new OverlayBackend(new RawFileBackend(file(1024), true), true);
    expect(() => o.write(0, new Uint8Array(512))).toThrow(/write refused/);
  });

  it('opening a drive: missing file, qcow2 image', () => {
    expect(() => openDriveBackend({ file: '/nonexistent/d.img', readOnly: false, snapshot: false })).toThrow(/cannot open disk image .*no such file/);
    const q = file(1024, (i) => [0x51, 0x46, 0x49, 0xfb][i] ?? 0);
    expect(() => openDriveBackend({ file: q, readOnly: false, snapshot: false })).toThrow(/is a qcow2 image/);
    expect(openDriveBackend({ file: q, readOnly: false, snapshot: false, formatGiven: true }).sizeBytes).toBe(1024);
    expect(() => openDriveBackend({ file: q, readOnly: false, snapshot: true })).toThrow(/qcow2/);
  });
});
