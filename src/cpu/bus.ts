// What a core needs from the machine around it. The worker wires these to the local APIC and
// to the mailbox towards the I/O thread; unit tests and the snippet runner use simple stubs.

export interface CpuBus {
  ioRead(port: number, size: number): number;
  ioWrite(port: number, size: number, value: number): void;
  /** physical accesses outside RAM (LAPIC, IOAPIC, HPET, PCI BARs); size 1, 2 or 4 */
  mmioRead(paddr: number, size: number): number;
  mmioWrite(paddr: number, size: number, value: number): void;
  /** one 8-byte MMIO access (a 64-bit MOV); without these the core makes two 4-byte ones */
  mmioRead64?(paddr: number): bigint;
  mmioWrite64?(paddr: number, value: bigint): void;
  /**
   * Drive this core's FERR# output (x87 error with CR0.NE = 0); returns the IGNNE# input.
   * Without it FERR# goes nowhere and IGNNE# reads as asserted (errors are ignored).
   */
  ferr?(asserted: boolean): boolean;
}

/** The local APIC as the CPU core uses it (implemented in src/devices/lapic.ts). */
export interface LocalApic {
  pollInterrupt(): number;
  acknowledge(vector: number): void;
  getTpr(): number;
  setTpr(v: number): void;
  /** IA32_APIC_BASE low half (the high half is 0: the base stays below 4 GiB) */
  readApicBase(): number;
  /** returns false when the value must raise #GP (reserved bits, x2APIC enable) */
  writeApicBase(lo: number, hi: number): boolean;
  /** CR8 <-> TPR[7:4] */
  readCr8(): number;
  writeCr8(v: number): void;
  /** whether the xAPIC MMIO window is decoded (APIC_BASE enable bit) and where */
  isGloballyEnabled(): boolean;
  baseAddress(): number;
  setTscDeadline(ns: number): void;
  getTscDeadline(): number;
  nextDeadlineNs(): number;
  tick(nowNs: number): void;
  lint0ExtIntAccepted(): boolean;
  reset(): void;
  mmioRead(off: number, size: number): number;
  mmioWrite(off: number, size: number, value: number): void;
}
