// Raw disk images with a known sector pattern, for the virtio-blk oracles: sector i starts with
// "<tag>-<i, 6 digits>" and its other bytes are (i * 7 + j) & 0xff, so a reader can tell which
// sector it got and whether the bytes after the tag arrived intact.
import { writeFileSync } from 'node:fs';

export function patternImage(path: string, tag: string, sectors: number): void {
  const b = Buffer.alloc(sectors * 512);
  for (let i = 0; i < sectors; i++) {
    for (let j = 0; j < 512; j++) b[i * 512 + j] = (i * 7 + j) & 0xff;
    b.write(`${tag}-${String(i).padStart(6, '0')}`, i * 512, 'latin1');
  }
  writeFileSync(path, b);
}
