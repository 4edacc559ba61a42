// The IDE primary channel against ATA/ATAPI-6: reset signature, IDENTIFY DEVICE, PIO reads and
// writes in LBA28, LBA48 and CHS, and the refusals (outside the disk, unsupported command,
// absent device 1, read-only disk). Port-level, as a BIOS drives it.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtaChannel } from '../../../src/devices/ata/ata-channel.js';
import { RawFileBackend } from '../../../src/block/raw-file.js';
import { scratchDir } from '../../lib/scratch-dir.js';

const dir = scratchDir('ata');

const SECTORS = 2048;
function diskFile(name: string): string {
  const d = new Uint8Array(SECTORS * 512);
  for (let s = 0; s < SECTORS; s++) d.fill(s & 0xff, s * 512, s * 512 + 512);
  const p = join(dir, name);
  writeFileSync(p, d);
  return p;
}

function channel(name: string, readOnly = false) {
  const irq = { level: false, setLevel(v: boolean) { this.level = v; } };
  const disk = new RawFileBackend(diskFile(name), readOnly);
  return { ata: new AtaChannel(disk, irq), irq, disk };
}

const out = (a: AtaChannel, reg: number, v: number) => a.ioWrite(0x1f0 + reg, 1, v);
const inb = (a: AtaChannel, reg: number) => a.ioRead(0x1f0 + reg, 1);
function readSector(a: AtaChannel): Uint8Array {
  const b = new Uint8Array(512);
  for (let i = 0; i < 256; i++) {
    const w = a.ioRead(0x1f0, 2);
    b[2 * i] = w & 0xff; b[2 * i + 1] = w >> 8;
  }
  return b;
}

describe('ATA channel (PIO)', () => {
  it('answers a software reset with the ATA signature and DRDY', () => {
    const { ata } = channel('reset.img');
    ata.ioWrite(0x3f6, 1, 0x06); // SRST + nIEN
    expect(ata.ioRead(0x3f6, 1) & 0x80).toBe(0x80); // busy while reset is held
    ata.ioWrite(0x3f6, 1, 0x02);
    expect([inb(ata, 2), inb(ata, 3), inb(ata, 4), inb(ata, 5)]).toEqual([1, 1, 0, 0]);
    expect(inb(ata, 7)).toBe(0x50);
  });

  it('IDENTIFY DEVICE: capacity, LBA48, model string; DRQ ends after 256 words; IRQ 14 until status is read', () => {
    const { ata, irq } = channel('id.img');
    out(ata, 6, 0xa0);
    out(ata, 7, 0xec);
    expect(irq.level).toBe(true);
    expect(ata.ioRead(0x3f6, 1)).toBe(0x58); // alternate status does not acknowledge
    expect(irq.level).toBe(true);
    expect(inb(ata, 7)).toBe(0x58);
    expect(irq.level).toBe(false);
    const id = new DataView(readSector(ata).buffer);
    expect(id.getUint16(60 * 2, true) | (id.getUint16(61 * 2, true) << 16)).toBe(SECTORS);
    expect(id.getUint16(83 * 2, true) & (1 << 10)).not.toBe(0);
    expect(id.getUint16(100 * 2, true)).toBe(SECTORS);
    const model = Array.from({ length: 20 }, (_, i) => {
      const w = id.getUint16((27 + i) * 2, true);
      return String.fromCharCode(w >> 8, w & 0xff);
    }).join('').trim();
    expect(model).toBe('PARALLAX HARDDISK');
    expect(inb(ata, 7)).toBe(0x50);
  });

  it('READ SECTORS in LBA28, LBA48 (EXT) and CHS reach the right sectors', () => {
    const { ata } = channel('read.img');
    // LBA28: sectors 5 and 6
    out(ata, 2, 2); out(ata, 3, 5); out(ata, 4, 0); out(ata, 5, 0); out(ata, 6, 0xe0); out(ata, 7, 0x20);
    expect(readSector(ata)[0]).toBe(5);
    expect(inb(ata, 7) & 0x08).toBe(0x08);
    expect(readSector(ata)[511]).toBe(6);
    expect(inb(ata, 7)).toBe(0x50);
    // LBA48: sector 0x3f0 (high bytes first, then low)
    out(ata, 2, 0); out(ata, 3, 0); out(ata, 4, 0); out(ata, 5, 0);
    out(ata, 2, 1); out(ata, 3, 0xf0); out(ata, 4, 0x03); out(ata, 5, 0); out(ata, 6, 0x40); out(ata, 7, 0x24);
    expect(readSector(ata)[0]).toBe(0xf0);
    // CHS: cylinder 1, head 2, sector 3 -> (1*16+2)*63+2 = 1136
    out(ata, 2, 1); out(ata, 3, 3); out(ata, 4, 1); out(ata, 5, 0); out(ata, 6, 0xa2); out(ata, 7, 0x20);
    expect(readSector(ata)[0]).toBe(1136 & 0xff);
  });

  it('WRITE SECTORS reaches the file; FLUSH CACHE completes', () => {
    const { ata, disk } = channel('write.img');
    out(ata, 2, 1); out(ata, 3, 7); out(ata, 4, 0); out(ata, 5, 0); out(ata, 6, 0xe0); out(ata, 7, 0x30);
    expect(inb(ata, 7) & 0x08).toBe(0x08);
    for (let i = 0; i < 128; i++) ata.ioWrite(0x1f0, 4, 0xa5a5a5a5);
    expect(inb(ata, 7)).toBe(0x50);
    out(ata, 7, 0xe7);
    expect(inb(ata, 7)).toBe(0x50);
    disk.close();
    const f = readFileSync(join(dir, 'write.img'));
    expect(f[7 * 512]).toBe(0xa5);
    expect(f[7 * 512 + 511]).toBe(0xa5);
    expect(f[8 * 512]).toBe(8);
  });

  it('refuses past the end (IDNF), unknown commands and IDENTIFY PACKET (ABRT), writes to a read-only disk', () => {
    const { ata } = channel('bad.img');
    out(ata, 2, 2); out(ata, 3, 0xff); out(ata, 4, 0x07); out(ata, 5, 0); out(ata, 6, 0xe0); out(ata, 7, 0x20); // 2047 + 2
    expect(inb(ata, 7)).toBe(0x51);
    expect(inb(ata, 1)).toBe(0x10);
    out(ata, 7, 0xa1);
    expect([inb(ata, 7), inb(ata, 1)]).toEqual([0x51, 0x04]);
    out(ata, 7, 0x99);
    expect([inb(ata, 7), inb(ata, 1)]).toEqual([0x51, 0x04]);
    expect(ata.stats.aborted).toBe(3);
    const ro = channel('ro.img', true).ata;
    out(ro, 2, 1); out(ro, 3, 1); out(ro, 6, 0xe0); out(ro, 7, 0x30);
    expect([inb(ro, 7), inb(ro, 1)]).toEqual([0x51, 0x04]);
  });

  it('device 1 is absent: status reads 0 and its commands are not answered', () => {
    const { ata, irq } = channel('dev1.img');
    out(ata, 6, 0xb0);
    expect(inb(ata, 6)).toBe(0xb0);
    out(ata, 7, 0xec);
    expect(inb(ata, 7)).toBe(0);
    expect(irq.level).toBe(false);
  });

  it('a host I/O error becomes an ATA error (UNC on read, ABRT on flush), counted, never a throw', () => {
    const failing = { sizeBytes: 8 * 512, readOnly: false, read() { throw new Error('EIO'); }, write() {}, flush() { throw new Error('EIO'); } };
    const ata = new AtaChannel(failing, { setLevel() {} });
    out(ata, 2, 1); out(ata, 3, 0); out(ata, 6, 0xe0); out(ata, 7, 0x20);
    expect([inb(ata, 7), inb(ata, 1)]).toEqual([0x51, 0x40]);
    out(ata, 7, 0xe7);
    expect([inb(ata, 7), inb(ata, 1)]).toEqual([0x51, 0x04]);
    expect(ata.stats.ioErrors).toBe(2);
    expect(ata.stats.aborted).toBe(0);
  });

});
