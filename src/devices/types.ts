// Narrow interfaces between devices and the machine (Firecracker-style: each device owns its
// registers; the machine routes accesses to it and gives it only what it needs).
//
// Threading: every device below runs on the I/O thread (the main thread). Cores reach it
// through their mailbox (src/abi/control-block.ts, docs/ARCHITECTURE.md). The local APIC is
// the exception: it lives in its core's worker.

/** A device decoding part of the I/O port space. */
export interface PortDevice {
  readonly name: string;
  /** size is 1, 2 or 4 bytes; returns the value zero-extended (unmapped bits read as 1s) */
  ioRead(port: number, size: number): number;
  ioWrite(port: number, size: number, value: number): void;
}

/** A device decoding a window of physical address space (offset is relative to its base). */
export interface MmioDevice {
  readonly name: string;
  /** size is 1, 2 or 4 */
  mmioRead(offset: number, size: number): number;
  mmioWrite(offset: number, size: number, value: number): void;
  /**
   * One 8-byte access, as a 64-bit MOV makes it on hardware (HPET's main counter and comparators
   * are read and written whole). A device without these gets two 4-byte accesses, low half first.
   */
  mmioRead64?(offset: number): bigint;
  mmioWrite64?(offset: number, value: bigint): void;
}

/**
 * Where a fixed (non-PCI) device decodes, declared beside its model so that the machine
 * registers it with one line (`DeviceBus.attach`). PCI functions declare BARs instead.
 */
export interface DecodeRanges {
  ports?: readonly (readonly [base: number, count: number])[];
  mmio?: readonly (readonly [base: number, size: number])[];
}

/** Interrupt lines as a device sees them: ISA IRQ numbers (0-15) or GSIs beyond 15. */
export interface IrqLine {
  /** drive the line (level-sensitive devices hold it; edge devices raise then lower) */
  setLevel(level: boolean): void;
}

export interface IrqController {
  /** set the level of an ISA IRQ / GSI input (fanned out to the 8259 pair and the IOAPIC) */
  setIrq(irq: number, level: boolean): void;
}

/** Devices that keep time ask for a callback at a guest-clock instant (ns since boot). */
export interface TimerService {
  nowNs(): number;
  /** schedule `fn` at `atNs` (replacing any earlier schedule for the same key); returns nothing */
  schedule(key: string, atNs: number, fn: () => void): void;
  cancel(key: string): void;
}

/** Every device can save and restore its state (v86-style) as plain JSON-able data. */
export interface Snapshotable {
  saveState(): unknown;
  restoreState(state: unknown): void;
}

/** Access to guest physical memory for DMA-capable devices (runs on the I/O thread). */
export interface DmaMemory {
  read(paddr: number, dst: Uint8Array): void;
  write(paddr: number, src: Uint8Array): void;
}

/**
 * A PCI function as the PCI host bridge sees it. The bridge owns configuration mechanism #1
 * (0xCF8/0xCFC) and routes config cycles to `configRead/configWrite`; the function owns its
 * 256-byte config space (vendor/device IDs, command, BARs, interrupt line/pin...).
 * BARs are assigned by the emulator before boot (firmware-like) and reported through `bars()`
 * so the machine can route MMIO/port accesses in them to the function while the command
 * register enables decoding.
 */
export interface PciFunction {
  readonly name: string;
  /** dword-aligned offset 0..252; returns the 32-bit register */
  configRead(offset: number): number;
  /** dword-aligned offset; `mask` marks the bytes written (byte enables: 0xff, 0xffff, ...) */
  configWrite(offset: number, value: number, mask: number): void;
  /** current BARs (after any guest reprogramming) */
  bars(): PciBar[];
  /** whether memory / I/O decoding is enabled (command register bits 1 / 0) */
  decodesMemory(): boolean;
  decodesIo(): boolean;
}

export interface PciBar {
  index: number;
  kind: 'mmio' | 'io';
  base: number;
  size: number;
  /** accesses inside the BAR, offset relative to `base` */
  device: MmioDevice | PortDevice;
}
