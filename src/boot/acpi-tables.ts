// ACPI tables for an N-core PC, shaped like QEMU's `pc` machine with a PIIX4 power-management
// block, but with an ACPI 2.0 RSDP (revision 2) so both the RSDT and the XSDT are reachable:
//
//   RSDP (rev 2, both checksums) -> RSDT (32-bit pointers) and XSDT (64-bit pointers)
//     -> FADT (rev 3) -> FACS, DSDT (minimal AML: the \_S5 sleep package, and \_SB.PCI0, the
//        PCI host bridge: its windows (_CRS) and a _PRT giving each slot's INTx pins the GSIs
//        the slots' interrupt-line registers hold, so an ACPI kernel finds the PCI bus)
//     -> MADT: one Processor Local APIC per core (APIC ID = processor UID = core index),
//        one IOAPIC (ID 0 as QEMU, at 0xFEC00000, GSI base 0), interrupt source overrides
//        IRQ0 -> GSI2 (bus-conforming) and IRQ5/9/10/11 level active-high (PCI lines, as QEMU),
//        a Local APIC NMI on LINT1 for all processors
//     -> HPET (block at 0xFED00000; event timer block ID as QEMU's 3-timer HPET)
//
// The IOAPIC ID 0 shares its number with the BSP's local APIC ID; that is what QEMU does and is
// harmless since xAPIC systems stopped using a shared APIC bus, and it keeps 255 cores possible
// (a distinct ID would need a 256th number). The IOAPIC model should reset its ID register to
// IOAPIC_ID so the table and the device agree.

import { HPET_BASE, IOAPIC_BASE, LAPIC_BASE, PCI_MMIO_BASE } from '../abi/memory-map.js';
import { legacyIrqFor } from '../abi/pci-irq.js';
import { BootError } from './boot-error.js';
import { ByteBuilder } from './guest-writer.js';

export const IOAPIC_ID = 0;
/** HPET GCAP_ID low dword: vendor 8086, legacy-replacement capable, 64-bit counter, 3 timers, rev 1 */
export const HPET_BLOCK_ID = 0x8086a201;
/** PIIX4-style ACPI power-management I/O ports (QEMU's 0x600 block) */
export const PM_BASE = 0x600;
export const PM1A_EVT_PORT = PM_BASE;
export const PM1A_CNT_PORT = PM_BASE + 4;
export const PM_TMR_PORT = PM_BASE + 8;
export const GPE0_PORT = 0xafe0;
export const SCI_IRQ = 9;
export const RESET_PORT = 0xcf9;
export const RESET_VALUE = 0x06;
/** \_S5 SLP_TYP value the DSDT advertises (QEMU's PIIX4 uses 0) */
export const S5_SLP_TYP = 0;

export const OEM_ID = 'PRLLAX';
export const OEM_TABLE_ID = 'PRLXEMU ';
const CREATOR_ID = 'PRLX';

// FADT flag bits
const F_WBINVD = 1 << 0;
const F_PROC_C1 = 1 << 2;
const F_SLP_BUTTON = 1 << 5;
const F_RTC_S4 = 1 << 7;
const F_RESET_REG_SUP = 1 << 10;

export interface AcpiOptions {
  ncores: number;
  /** physical address the table blob is placed at (16-byte aligned; FACS needs 64) */
  tablesBase: number;
  /** physical address of the RSDP (16-byte aligned, in 0xE0000-0xFFFFF) */
  rsdpAddress: number;
}

export interface AcpiBlob {
  rsdpAddress: number;
  rsdp: Uint8Array;
  tablesBase: number;
  tables: Uint8Array;
  /** physical address of each table by signature */
  addresses: Record<string, number>;
}

/** 8-bit checksum: the byte that makes the sum of `bytes` zero. */
export function checksumByte(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s = (s + b) & 0xff;
  return (0x100 - s) & 0xff;
}

function header(b: ByteBuilder, sig: string, revision: number): void {
  b.ascii(sig).u32(0).u8(revision).u8(0).ascii(OEM_ID).ascii(OEM_TABLE_ID).u32(1).ascii(CREATOR_ID).u32(1);
}

/** Finish a table: patch its length and checksum. */
function finish(b: ByteBuilder): Uint8Array {
  const t = b.toBytes();
  new DataView(t.buffer).setUint32(4, t.length, true);
  t[9] = checksumByte(t);
  return t;
}

/** Generic address structure */
function gas(b: ByteBuilder, space: number, bitWidth: number, accessSize: number, address: number): void {
  b.u8(space).u8(bitWidth).u8(0).u8(accessSize).u64(address);
}

const IO = 1;
const MEM = 0;

function buildFacs(): Uint8Array {
  const b = new ByteBuilder();
  b.ascii('FACS').u32(64).u32(0).u32(0).u32(0).u32(0).u64(0).u8(1);
  while (b.length < 64) b.u8(0);
  return b.toBytes();
}

// ---- AML, just what the DSDT needs ----

/** PkgLength followed by `body` (the length counts its own bytes). */
function amlPkg(body: number[]): number[] {
  for (let n = 1; n <= 3; n++) {
    const len = body.length + n;
    if (n === 1 && len < 64) return [len, ...body];
    if (n > 1 && len < 2 ** (4 + 8 * (n - 1))) {
      const bytes = [(n - 1) << 6 | (len & 0xf)];
      for (let i = 1; i < n; i++) bytes.push((len >>> (4 + 8 * (i - 1))) & 0xff);
      return [...bytes, ...body];
    }
  }
  throw new Error('AML package too long');
}

function amlInt(v: number): number[] {
  if (v === 0) return [0x00];
  if (v === 1) return [0x01];
  const le = (n: number) => Array.from({ length: n }, (_, i) => Math.floor(v / 2 ** (8 * i)) & 0xff);
  if (v < 0x100) return [0x0a, ...le(1)];
  if (v < 0x10000) return [0x0b, ...le(2)];
  return [0x0c, ...le(4)];
}

const amlName = (name: string, value: number[]) => [0x08, ...[...name].map((c) => c.charCodeAt(0)), ...value];
const amlPackage = (items: number[][]) => [0x12, ...amlPkg([items.length, ...items.flat()])];
const amlBuffer = (bytes: number[]) => [0x11, ...amlPkg([...amlInt(bytes.length), ...bytes])];
const le16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number) => [...le16(v & 0xffff), ...le16(v >>> 16)];

/** Word address space descriptor (bus numbers or I/O), a producer window with fixed ends. */
function wordWindow(type: number, typeFlags: number, min: number, max: number): number[] {
  return [0x88, ...le16(13), type, 0x0c, typeFlags, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(max - min + 1)];
}

/** DWord memory descriptor: a cacheable read-write producer window. */
function dwordMemory(min: number, max: number): number[] {
  return [0x87, ...le16(23), 0, 0x0c, 0x03, ...le32(0), ...le32(min), ...le32(max), ...le32(0), ...le32(max - min + 1)];
}

/** Device (\_SB.PCI0): the i440FX host bridge, bus 0. */
function amlPciRoot(): number[] {
  const crs = [
    ...wordWindow(2, 0, 0, 0xff), // bus numbers
    0x47, 0x01, ...le16(0xcf8), ...le16(0xcf8), 0x01, 0x08, // its own ports 0xCF8-0xCFF
    ...wordWindow(1, 0x03, 0x0000, 0x0cf7), // I/O below and above the config ports
    ...wordWindow(1, 0x03, 0x0d00, 0xffff),
    ...dwordMemory(0x000a_0000, 0x000b_ffff), // legacy VGA window
    ...dwordMemory(PCI_MMIO_BASE, 0xfebf_ffff), // where BARs go (below the IOAPIC)
    0x79, 0x00, // end tag
  ];
  // _PRT: Package { address (slot << 16 | 0xFFFF), pin (0 = INTA), source 0 (a GSI), GSI }
  const prt: number[][] = [];
  for (let slot = 1; slot < 32; slot++) {
    for (let pin = 0; pin < 4; pin++) prt.push(amlPackage([amlInt(slot * 0x10000 + 0xffff), amlInt(pin), amlInt(0), amlInt(legacyIrqFor(slot, pin + 1))]));
  }
  const device = [
    ...amlName('_HID', amlInt(0x030ad041)), // EisaId ("PNP0A03")
    ...amlName('_ADR', amlInt(0)),
    ...amlName('_UID', amlInt(0)),
    ...amlName('_CRS', amlBuffer(crs)),
    ...amlName('_PRT', amlPackage(prt)),
  ];
  const pci0 = [0x5b, 0x82, ...amlPkg([...'PCI0'].map((c) => c.charCodeAt(0)).concat(device))];
  return [0x10, ...amlPkg([0x5c, ...[...'_SB_'].map((c) => c.charCodeAt(0)), ...pci0])]; // Scope (\_SB)
}

function buildDsdt(): Uint8Array {
  const b = new ByteBuilder();
  header(b, 'DSDT', 1);
  for (const x of amlPciRoot()) b.u8(x);
  // Name (_S5, Package (4) { S5_SLP_TYP, S5_SLP_TYP, 0, 0 })
  b.u8(0x08).ascii('_S5_').u8(0x12).u8(0x06).u8(0x04);
  b.u8(S5_SLP_TYP === 0 ? 0x00 : 0x0a);
  if (S5_SLP_TYP !== 0) b.u8(S5_SLP_TYP);
  b.u8(S5_SLP_TYP === 0 ? 0x00 : 0x0a);
  if (S5_SLP_TYP !== 0) b.u8(S5_SLP_TYP);
  b.u8(0x00).u8(0x00);
  return finish(b);
}

function buildFadt(facs: number, dsdt: number): Uint8Array {
  const b = new ByteBuilder();
  header(b, 'FACP', 3);
  b.u32(facs).u32(dsdt).u8(0).u8(0).u16(SCI_IRQ);
  b.u32(0).u8(0).u8(0).u8(0).u8(0); // SMI_CMD 0: the machine is always in ACPI mode
  b.u32(PM1A_EVT_PORT).u32(0).u32(PM1A_CNT_PORT).u32(0).u32(0).u32(PM_TMR_PORT).u32(GPE0_PORT).u32(0);
  b.u8(4).u8(2).u8(0).u8(4).u8(4).u8(0).u8(0).u8(0);
  b.u16(0x0fff).u16(0x0fff); // C2/C3 not supported
  b.u16(0).u16(0).u8(0).u8(0);
  b.u8(0).u8(0).u8(0x32); // RTC day/month alarm absent, century in CMOS 0x32
  b.u16(0x0003).u8(0); // IAPC_BOOT_ARCH: legacy devices, 8042
  // TMR_VAL_EXT (bit 8) clear: the PM timer counts 24 bits, as the PIIX4 and QEMU's FADT
  b.u32(F_WBINVD | F_PROC_C1 | F_SLP_BUTTON | F_RTC_S4 | F_RESET_REG_SUP);
  gas(b, IO, 8, 1, RESET_PORT);
  b.u8(RESET_VALUE).u8(0).u8(0).u8(0);
  b.u64(0).u64(dsdt); // X_FIRMWARE_CTRL unused (FACS is below 4 GiB), X_DSDT
  gas(b, IO, 32, 0, PM1A_EVT_PORT);
  gas(b, 0, 0, 0, 0);
  gas(b, IO, 16, 0, PM1A_CNT_PORT);
  gas(b, 0, 0, 0, 0);
  gas(b, 0, 0, 0, 0);
  gas(b, IO, 32, 0, PM_TMR_PORT);
  gas(b, IO, 32, 0, GPE0_PORT);
  gas(b, 0, 0, 0, 0);
  const t = finish(b);
  if (t.length !== 244) throw new Error(`FADT length ${t.length}`);
  return t;
}

function buildMadt(ncores: number): Uint8Array {
  const b = new ByteBuilder();
  header(b, 'APIC', 1);
  b.u32(LAPIC_BASE).u32(1); // PCAT_COMPAT: dual 8259s present
  for (let i = 0; i < ncores; i++) b.u8(0).u8(8).u8(i).u8(i).u32(1);
  b.u8(1).u8(12).u8(IOAPIC_ID).u8(0).u32(IOAPIC_BASE).u32(0);
  b.u8(2).u8(10).u8(0).u8(0).u32(2).u16(0); // IRQ0 -> GSI2, conforming
  for (const irq of [5, 9, 10, 11]) b.u8(2).u8(10).u8(0).u8(irq).u32(irq).u16(0x000d); // level, active high
  b.u8(4).u8(6).u8(0xff).u16(0).u8(1); // NMI on LINT1 of every processor
  return finish(b);
}

function buildHpet(): Uint8Array {
  const b = new ByteBuilder();
  header(b, 'HPET', 1);
  b.u32(HPET_BLOCK_ID);
  gas(b, MEM, 64, 0, HPET_BASE);
  b.u8(0).u16(0x80).u8(0); // HPET 0, minimum tick 128 periods, no page protection
  return finish(b);
}

function buildRsdt(ptrs: number[]): Uint8Array {
  const b = new ByteBuilder();
  header(b, 'RSDT', 1);
  for (const p of ptrs) b.u32(p);
  return finish(b);
}

function buildXsdt(ptrs: number[]): Uint8Array {
  const b = new ByteBuilder();
  header(b, 'XSDT', 1);
  for (const p of ptrs) b.u64(p);
  return finish(b);
}

export function buildRsdp(rsdt: number, xsdt: number): Uint8Array {
  const b = new ByteBuilder();
  b.ascii('RSD PTR ').u8(0).ascii(OEM_ID).u8(2).u32(rsdt).u32(36).u64(xsdt).u8(0).u8(0).u8(0).u8(0);
  const t = b.toBytes();
  t[8] = checksumByte(t.subarray(0, 20));
  t[32] = checksumByte(t);
  return t;
}

export function buildAcpiTables(opts: AcpiOptions): AcpiBlob {
  const { ncores, tablesBase, rsdpAddress } = opts;
  if (rsdpAddress % 16 !== 0 || rsdpAddress < 0xe0000 || rsdpAddress + 36 > 0x100000) throw new BootError('ACPI: RSDP must be 16-byte aligned in 0xE0000-0xFFFFF');
  const t = layoutTables(ncores, tablesBase);
  return { rsdpAddress, rsdp: buildRsdp(t.rsdt, t.xsdt), tablesBase, tables: t.tables, addresses: { ...t.addresses, 'RSD PTR ': rsdpAddress } };
}

/** A pointer field inside the table blob that holds an offset into the blob. */
export interface AcpiPointerField { offset: number; size: 4 | 8 }

interface TableLayout {
  tables: Uint8Array;
  addresses: Record<string, number>;
  rsdt: number;
  xsdt: number;
  /** every field holding a table address (relative to tablesBase when that is 0) */
  pointers: AcpiPointerField[];
  /** [start, length] of every table with a header checksum at start + 9 */
  checksummed: [number, number][];
}

function layoutTables(ncores: number, tablesBase: number): TableLayout {
  if (!Number.isInteger(ncores) || ncores < 1 || ncores > 255) throw new BootError(`ACPI: core count ${ncores} out of range 1..255`);
  if (tablesBase % 64 !== 0) throw new BootError('ACPI: table base must be 64-byte aligned');
  const blob = new ByteBuilder();
  const addresses: Record<string, number> = {};
  const checksummed: [number, number][] = [];
  const place = (sig: string, t: Uint8Array, align: number): number => {
    blob.align(align);
    const at = tablesBase + blob.length;
    if (sig !== 'FACS') checksummed.push([blob.length, t.length]);
    blob.bytes(t);
    addresses[sig] = at;
    return at;
  };
  const facs = place('FACS', buildFacs(), 64);
  const dsdt = place('DSDT', buildDsdt(), 16);
  const fadt = place('FACP', buildFadt(facs, dsdt), 16);
  const madt = place('APIC', buildMadt(ncores), 16);
  const hpet = place('HPET', buildHpet(), 16);
  const ptrs = [fadt, madt, hpet];
  const rsdt = place('RSDT', buildRsdt(ptrs), 16);
  const xsdt = place('XSDT', buildXsdt(ptrs), 16);
  const f = fadt - tablesBase;
  const r = rsdt - tablesBase;
  const x = xsdt - tablesBase;
  const pointers: AcpiPointerField[] = [
    { offset: f + 36, size: 4 }, // FIRMWARE_CTRL -> FACS
    { offset: f + 40, size: 4 }, // DSDT
    { offset: f + 140, size: 8 }, // X_DSDT
    ...ptrs.map((_, i) => ({ offset: r + 36 + 4 * i, size: 4 as const })),
    ...ptrs.map((_, i) => ({ offset: x + 36 + 8 * i, size: 8 as const })),
  ];
  return { tables: blob.toBytes(), addresses, rsdt, xsdt, pointers, checksummed };
}

// QEMU's ACPI linker/loader script (hw/acpi/bios-linker-loader.c), which SeaBIOS runs from the
// fw_cfg file `etc/table-loader` (src/fw/romfile_loader.c): 128-byte entries, a little-endian
// command word, then the command's fields.
export const LOADER_ALLOCATE = 1;
export const LOADER_ADD_POINTER = 2;
export const LOADER_ADD_CHECKSUM = 3;
export const LOADER_ZONE_HIGH = 1;
export const LOADER_ZONE_FSEG = 2;
export const LOADER_ENTRY_SIZE = 128;
const LOADER_FILE_LEN = 56;
export const ACPI_TABLES_FILE = 'etc/acpi/tables';
export const ACPI_RSDP_FILE = 'etc/acpi/rsdp';
export const TABLE_LOADER_FILE = 'etc/table-loader';

export interface RelocatableAcpi {
  /** the tables, every address field holding an offset into this blob */
  tables: Uint8Array;
  /** the RSDP, its RSDT/XSDT fields offsets into `tables` */
  rsdp: Uint8Array;
  /** the `etc/table-loader` script that places both and patches pointers and checksums */
  loader: Uint8Array;
}

/**
 * The machine's ACPI tables for firmware (SeaBIOS under -bios), as QEMU hands them over: the
 * firmware allocates `etc/acpi/tables` in high memory and `etc/acpi/rsdp` in the F-segment,
 * adds the tables' address to every pointer field, and recomputes the checksums. Without
 * them SeaBIOS builds ACPI tables only on a board with the PIIX4 PM function, so the guest
 * finds no RSDP (Pure64, BareMetal OS's loader, stops there).
 */
export function buildRelocatableAcpi(ncores: number): RelocatableAcpi {
  const t = layoutTables(ncores, 0);
  const rsdp = buildRsdp(t.rsdt, t.xsdt);
  const entries: Uint8Array[] = [];
  const entry = (cmd: number, fill: (d: DataView, name: (at: number, s: string) => void) => void): void => {
    const e = new Uint8Array(LOADER_ENTRY_SIZE);
    const d = new DataView(e.buffer);
    d.setUint32(0, cmd, true);
    fill(d, (at, s) => {
      const b = new TextEncoder().encode(s);
      if (b.length >= LOADER_FILE_LEN) throw new Error(`table-loader: file name ${s} too long`);
      e.set(b, at);
    });
    entries.push(e);
  };
  const allocate = (file: string, align: number, zone: number): void =>
    entry(LOADER_ALLOCATE, (d, name) => { name(4, file); d.setUint32(4 + LOADER_FILE_LEN, align, true); d.setUint8(8 + LOADER_FILE_LEN, zone); });
  const addPointer = (dest: string, src: string, offset: number, size: number): void =>
    entry(LOADER_ADD_POINTER, (d, name) => {
      name(4, dest); name(4 + LOADER_FILE_LEN, src);
      d.setUint32(4 + 2 * LOADER_FILE_LEN, offset, true); d.setUint8(8 + 2 * LOADER_FILE_LEN, size);
    });
  const addChecksum = (file: string, offset: number, start: number, length: number): void =>
    entry(LOADER_ADD_CHECKSUM, (d, name) => {
      name(4, file);
      d.setUint32(4 + LOADER_FILE_LEN, offset, true); d.setUint32(8 + LOADER_FILE_LEN, start, true); d.setUint32(12 + LOADER_FILE_LEN, length, true);
    });
  allocate(ACPI_RSDP_FILE, 16, LOADER_ZONE_FSEG);
  allocate(ACPI_TABLES_FILE, 64, LOADER_ZONE_HIGH);
  for (const p of t.pointers) addPointer(ACPI_TABLES_FILE, ACPI_TABLES_FILE, p.offset, p.size);
  for (const [start, length] of t.checksummed) addChecksum(ACPI_TABLES_FILE, start + 9, start, length);
  addPointer(ACPI_RSDP_FILE, ACPI_TABLES_FILE, 16, 4);
  addPointer(ACPI_RSDP_FILE, ACPI_TABLES_FILE, 24, 8);
  addChecksum(ACPI_RSDP_FILE, 8, 0, 20);
  addChecksum(ACPI_RSDP_FILE, 32, 0, 36);
  const loader = new Uint8Array(entries.length * LOADER_ENTRY_SIZE);
  entries.forEach((e, i) => loader.set(e, i * LOADER_ENTRY_SIZE));
  return { tables: t.tables, rsdp, loader };
}
