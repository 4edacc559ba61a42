import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ACPI_RSDP_FILE, ACPI_TABLES_FILE, buildAcpiTables, buildRelocatableAcpi, checksumByte, LOADER_ADD_CHECKSUM, LOADER_ADD_POINTER,
  LOADER_ALLOCATE, LOADER_ENTRY_SIZE, LOADER_ZONE_FSEG, LOADER_ZONE_HIGH, TABLE_LOADER_FILE,
} from '../../src/boot/acpi-tables.js';
import { failWhenMissingInCi, toolGate } from '../tool-gate.js';

const BASE = 0x1ffe0000;

function parse(ncores: number) {
  const blob = buildAcpiTables({ ncores, tablesBase: BASE, rsdpAddress: 0xf0000 });
  const dv = new DataView(blob.tables.buffer);
  const table = (addr: number) => {
    const off = addr - BASE;
    const len = dv.getUint32(off + 4, true);
    return { off, len, bytes: blob.tables.subarray(off, off + len), sig: String.fromCharCode(...blob.tables.subarray(off, off + 4)) };
  };
  return { blob, dv, table };
}

const iasl = toolGate('iasl', 'Debian: apt-get install acpica-tools', ['-v']);
failWhenMissingInCi(iasl, 'iasl', 'ACPI tables disassemble with iasl');
const hasIasl = () => iasl.run;

describe('ACPI tables', () => {
  it('RSDP revision 2 with both checksums, pointing at RSDT and XSDT', () => {
    const { blob, table } = parse(2);
    const r = blob.rsdp;
    expect(r.length).toBe(36);
    expect(String.fromCharCode(...r.subarray(0, 8))).toBe('RSD PTR ');
    expect(checksumByte(r.subarray(0, 20))).toBe(0);
    expect(checksumByte(r)).toBe(0);
    expect(r[15]).toBe(2);
    const dv = new DataView(r.buffer);
    expect(dv.getUint32(20, true)).toBe(36);
    expect(table(dv.getUint32(16, true)).sig).toBe('RSDT');
    expect(table(Number(dv.getBigUint64(24, true))).sig).toBe('XSDT');
    expect(blob.rsdpAddress % 16).toBe(0);
  });

  for (const n of [1, 8, 64, 255]) {
    it(`every table checksums to zero and the MADT has one LAPIC per core (${n} cores)`, () => {
      const { blob, dv, table } = parse(n);
      const rsdtAddr = new DataView(blob.rsdp.buffer).getUint32(16, true);
      const rsdt = table(rsdtAddr);
      const ptrs = [];
      for (let p = 36; p < rsdt.len; p += 4) ptrs.push(dv.getUint32(rsdt.off + p, true));
      const xsdt = table(blob.addresses.XSDT);
      const xptrs = [];
      for (let p = 36; p < xsdt.len; p += 8) xptrs.push(Number(dv.getBigUint64(xsdt.off + p, true)));
      expect(xptrs).toEqual(ptrs);
      const sigs = ptrs.map((p) => table(p).sig);
      expect(sigs).toEqual(['FACP', 'APIC', 'HPET']);
      for (const t of [rsdt, xsdt, ...ptrs.map(table), table(blob.addresses.DSDT)]) expect(checksumByte(t.bytes)).toBe(0);

      const madt = table(blob.addresses.APIC);
      expect(dv.getUint32(madt.off + 36, true)).toBe(0xfee00000);
      expect(dv.getUint32(madt.off + 40, true)).toBe(1);
      const entries: number[][] = [];
      for (let p = madt.off + 44; p < madt.off + madt.len; p += blob.tables[p + 1]) entries.push(Array.from(blob.tables.subarray(p, p + blob.tables[p + 1])));
      const lapics = entries.filter((e) => e[0] === 0);
      expect(lapics.length).toBe(n);
      lapics.forEach((e, i) => expect(e).toEqual([0, 8, i, i, 1, 0, 0, 0]));
      const ioapic = entries.filter((e) => e[0] === 1);
      expect(ioapic).toEqual([[1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0]]);
      const isos = entries.filter((e) => e[0] === 2).map((e) => [e[3], e[4], e[8] | (e[9] << 8)]);
      expect(isos).toEqual([[0, 2, 0], [5, 5, 0xd], [9, 9, 0xd], [10, 10, 0xd], [11, 11, 0xd]]);
      expect(entries.filter((e) => e[0] === 4)).toEqual([[4, 6, 0xff, 0, 0, 1]]);
      expect(entries.length).toBe(n + 7);
    });
  }

  it('FADT: revision 3, FACS/DSDT pointers, SCI 9, PIIX4 PM ports, reset register 0xCF9 = 6', () => {
    const { blob, dv, table } = parse(4);
    const f = table(blob.addresses.FACP);
    expect(f.len).toBe(244);
    expect(blob.tables[f.off + 8]).toBe(3);
    expect(dv.getUint32(f.off + 36, true)).toBe(blob.addresses.FACS);
    expect(dv.getUint32(f.off + 40, true)).toBe(blob.addresses.DSDT);
    expect(Number(dv.getBigUint64(f.off + 140, true))).toBe(blob.addresses.DSDT);
    expect(dv.getUint16(f.off + 46, true)).toBe(9);
    expect([dv.getUint32(f.off + 56, true), dv.getUint32(f.off + 64, true), dv.getUint32(f.off + 76, true)]).toEqual([0x600, 0x604, 0x608]);
    expect(Array.from(blob.tables.subarray(f.off + 116, f.off + 120))).toEqual([1, 8, 0, 1]);
    expect(Number(dv.getBigUint64(f.off + 120, true))).toBe(0xcf9);
    expect(blob.tables[f.off + 128]).toBe(6);
    expect(blob.addresses.FACS % 64).toBe(0);
    const facs = blob.addresses.FACS - BASE;
    expect(String.fromCharCode(...blob.tables.subarray(facs, facs + 4))).toBe('FACS');
    const h = table(blob.addresses.HPET);
    expect(dv.getUint32(h.off + 36, true)).toBe(0x8086a201);
    expect(Number(dv.getBigUint64(h.off + 44, true))).toBe(0xfed00000);
  });

  it('rejects bad core counts', () => {
    expect(() => buildAcpiTables({ ncores: 256, tablesBase: BASE, rsdpAddress: 0xf0000 })).toThrow('ACPI: core count 256 out of range 1..255');
  });

  it.skipIf(!hasIasl())('iasl disassembles every table without errors', () => {
    const { blob, table } = parse(8);
    const dir = mkdtempSync(join(tmpdir(), 'acpi-'));
    try {
      const files: Record<string, Uint8Array> = {
        dsdt: table(blob.addresses.DSDT).bytes, facp: table(blob.addresses.FACP).bytes, apic: table(blob.addresses.APIC).bytes,
        hpet: table(blob.addresses.HPET).bytes, rsdt: table(blob.addresses.RSDT).bytes, xsdt: table(blob.addresses.XSDT).bytes,
        facs: blob.tables.subarray(blob.addresses.FACS - BASE, blob.addresses.FACS - BASE + 64),
      };
      for (const [name, bytes] of Object.entries(files)) {
        writeFileSync(join(dir, `${name}.dat`), bytes);
        const out = execFileSync('iasl', ['-d', `${name}.dat`], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        expect(out).not.toMatch(/\berror\b/i);
        const dsl = readFileSync(join(dir, `${name}.dsl`), 'utf8');
        expect(dsl).not.toMatch(/Invalid|Incorrect|Error/);
      }
      expect(readFileSync(join(dir, 'dsdt.dsl'), 'utf8')).toMatch(/Name \(_S5, Package \(0x04\)/);
      expect(readFileSync(join(dir, 'apic.dsl'), 'utf8').match(/Subtable Type : 00 \[Processor Local APIC\]/g)?.length).toBe(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// SeaBIOS's romfile loader (src/fw/romfile_loader.c), enough to run our `etc/table-loader`:
// ALLOCATE places a file at an aligned address in its zone, ADD_POINTER adds the source file's
// address to a little-endian field of the destination, ADD_CHECKSUM subtracts the sum of a
// range from one byte of it.
function runTableLoader(loader: Uint8Array, files: Record<string, Uint8Array>, zoneBase: Record<number, number>) {
  const dv = new DataView(loader.buffer, loader.byteOffset, loader.byteLength);
  const name = (at: number) => {
    const b = loader.subarray(at, at + 56);
    const end = b.indexOf(0);
    return new TextDecoder().decode(b.subarray(0, end < 0 ? 56 : end));
  };
  const placed: Record<string, { addr: number; data: Uint8Array }> = {};
  const cursor = { ...zoneBase };
  for (let e = 0; e < loader.length; e += LOADER_ENTRY_SIZE) {
    const cmd = dv.getUint32(e, true);
    if (cmd === LOADER_ALLOCATE) {
      const file = name(e + 4);
      const align = dv.getUint32(e + 60, true);
      const zone = loader[e + 64];
      expect(files[file], file).toBeDefined();
      expect([LOADER_ZONE_HIGH, LOADER_ZONE_FSEG]).toContain(zone);
      const addr = Math.ceil(cursor[zone] / align) * align;
      cursor[zone] = addr + files[file].length;
      placed[file] = { addr, data: files[file].slice() };
    } else if (cmd === LOADER_ADD_POINTER) {
      const dest = placed[name(e + 4)];
      const src = placed[name(e + 60)];
      const off = dv.getUint32(e + 116, true);
      const size = loader[e + 120];
      expect(dest && src).toBeTruthy();
      expect([1, 2, 4, 8]).toContain(size);
      expect(off + size).toBeLessThanOrEqual(dest.data.length);
      let v = 0n;
      for (let i = 0; i < size; i++) v |= BigInt(dest.data[off + i]) << BigInt(8 * i);
      v += BigInt(src.addr);
      for (let i = 0; i < size; i++) dest.data[off + i] = Number((v >> BigInt(8 * i)) & 0xffn);
    } else if (cmd === LOADER_ADD_CHECKSUM) {
      const f = placed[name(e + 4)];
      const off = dv.getUint32(e + 60, true);
      const start = dv.getUint32(e + 64, true);
      const len = dv.getUint32(e + 68, true);
      expect(f).toBeDefined();
      expect(start + len).toBeLessThanOrEqual(f.data.length);
      let s = 0;
      for (let i = start; i < start + len; i++) s = (s + f.data[i]) & 0xff;
      f.data[off] = (f.data[off] - s) & 0xff;
    } else {
      throw new Error(`table-loader entry ${e / LOADER_ENTRY_SIZE}: command ${cmd}`);
    }
  }
  return placed;
}

describe('ACPI tables for firmware (-bios): QEMU linker/loader script', () => {
  for (const ncores of [1, 4]) {
    it(`${ncores} core(s): SeaBIOS's loader leaves exactly the tables the direct loader writes at the same addresses`, () => {
      const acpi = buildRelocatableAcpi(ncores);
      expect(acpi.loader.length % LOADER_ENTRY_SIZE).toBe(0);
      const placed = runTableLoader(acpi.loader, { [ACPI_TABLES_FILE]: acpi.tables, [ACPI_RSDP_FILE]: acpi.rsdp },
        { [LOADER_ZONE_HIGH]: 0x0ffe0010, [LOADER_ZONE_FSEG]: 0xf6a08 });
      const t = placed[ACPI_TABLES_FILE];
      const r = placed[ACPI_RSDP_FILE];
      expect(t.addr).toBe(0x0ffe0040); // 64-byte aligned (FACS)
      expect(r.addr).toBe(0xf6a10); // 16-byte aligned in the F-segment, where the RSDP scan looks
      const direct = buildAcpiTables({ ncores, tablesBase: t.addr, rsdpAddress: r.addr });
      expect(Buffer.from(t.data).equals(Buffer.from(direct.tables))).toBe(true);
      expect(Buffer.from(r.data).equals(Buffer.from(direct.rsdp))).toBe(true);
    });
  }

  it('allocates the RSDP in the F-segment and the tables in high memory, then only pointers and checksums', () => {
    const { loader } = buildRelocatableAcpi(2);
    const dv = new DataView(loader.buffer);
    const cmds = Array.from({ length: loader.length / LOADER_ENTRY_SIZE }, (_, i) => dv.getUint32(i * LOADER_ENTRY_SIZE, true));
    expect(cmds.slice(0, 2)).toEqual([LOADER_ALLOCATE, LOADER_ALLOCATE]);
    expect(loader[64]).toBe(LOADER_ZONE_FSEG);
    expect(loader[LOADER_ENTRY_SIZE + 64]).toBe(LOADER_ZONE_HIGH);
    expect(cmds.slice(2).every((c) => c === LOADER_ADD_POINTER || c === LOADER_ADD_CHECKSUM)).toBe(true);
    expect(TABLE_LOADER_FILE).toBe('etc/table-loader');
  });
});
