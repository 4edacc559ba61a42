// Device state shared between the I/O thread and the cores, so the hot device accesses need
// no round trip through the I/O thread's event loop (docs/ARCHITECTURE.md, "Device accesses
// without the I/O thread"). One SharedArrayBuffer, Int32 words:
//
//   [0, DS_HEADER_WORDS)                     header: posted-write ring indices, published state
//   [DS_RING, + PW_CAPACITY * PW_RECORD)      posted-write ring (kind, address, size, value, ...)
//   [nicRegsWord(i), + NIC_REG_WORDS)         register file of e1000 number i (the model's own)
//
// Posted writes are PCI's rule: a core's device write is queued and it goes on; the I/O thread
// applies the queue in order. Reads flush: a core reads device state itself only when no
// queued write could change what it reads (DS_PENDING_*), otherwise it asks the I/O thread,
// which applies the queue first.

/** Futex mutex of the producers (0 free, 1 held, 2 held with waiters). */
export const DS_PW_LOCK = 0;
/** records ever queued (producers, under the lock) */
export const DS_PW_TAIL = 1;
/** records ever applied (I/O thread); the queue is empty when HEAD == TAIL */
export const DS_PW_HEAD = 2;
/** bumped and notified after a record while DS_PW_SLEEPING, for the I/O thread's Atomics.waitAsync */
export const DS_PW_DOORBELL = 3;
/** 1 while the I/O thread waits for the doorbell (producers notify only then: no syscall per write) */
export const DS_PW_SLEEPING = 4;
/** COM1's LSR as a read would return it now, or -1 when a read has side effects (errors to clear) */
export const DS_UART_LSR = 8;
/**
 * Queued writes that a read of the device must see first ("reads flush posted writes", per
 * device): COM1 writes other than to THR/DLL (which never change LSR outside loopback, when
 * DS_UART_LSR is -1); NIC i writes to CTRL, ICR, ICS (transmit and receive work is
 * asynchronous on the hardware too, so TDT/RDT writes do not hold back an ICR read).
 */
export const DS_PENDING_UART = 9;
export const DS_PENDING_NIC = 10; // + nic index, MAX_FAST_NICS words
/** per NIC i: [DS_NIC_BAR + 2i] BAR0 base (u32), [+1] 1 while memory decoding is on */
export const DS_NIC_BAR = 16;
export const MAX_FAST_NICS = 4;
/**
 * The HPET main counter as a core computes it from its own clock, without the I/O thread: it
 * is a pure function of guest time while enabled (frozen while not), so the model publishes
 * the function after every change (src/devices/hpet.ts) and a read costs no round trip, also
 * under -icount (HPET writes are not posted: the write's reply comes after the publication).
 * A seqlock: DS_HPET_SEQ is odd while the words are being written.
 */
export const DS_HPET_SEQ = 32;
export const DS_HPET_ON = 33;
export const DS_HPET_BASE_LO = 34;
export const DS_HPET_BASE_HI = 35;
/** Float64 (words 36-37): the guest instant at which the counter held its base value */
export const DS_HPET_SINCE_NS = 36;
export const DS_HEADER_WORDS = 64;

/** record: kind, address, size, value, pending word to release once applied (0 = none) */
export const PW_RECORD = 8;
export const PW_CAPACITY = 4096;
export const DS_RING = DS_HEADER_WORDS;

/** posted-write kinds */
export const PW_IO_WRITE = 1;
export const PW_MMIO_WRITE = 2;
/** a level-triggered vector was EOI'd at a LAPIC (address = vector) */
export const PW_EOI = 3;
/** a core read NIC `address`'s ICR itself (read-to-clear): the I/O thread re-evaluates INTA# */
export const PW_NIC_ICR_READ = 4;

/** e1000 BAR0 is 128 KiB of 32-bit registers */
export const NIC_REG_WORDS = (128 * 1024) >> 2;

export function nicRegsWord(nic: number): number {
  return DS_RING + PW_CAPACITY * PW_RECORD + nic * NIC_REG_WORDS;
}

export function createDeviceShared(): SharedArrayBuffer {
  const buf = new SharedArrayBuffer(nicRegsWord(MAX_FAST_NICS) * 4);
  new Int32Array(buf)[DS_UART_LSR] = -1;
  return buf;
}

/** The register file of NIC `nic` inside the shared buffer (what the E1000 model stores into). */
export function nicRegisters(buf: SharedArrayBuffer, nic: number): Uint32Array {
  return new Uint32Array(buf, nicRegsWord(nic) * 4, NIC_REG_WORDS);
}

/** The HPET model: the counter is `base` + elapsed ticks since `sinceNs` while `on`, else `base`. */
export function publishHpetCounter(dw: Int32Array, on: boolean, base: bigint, sinceNs: number): void {
  const seq = dw[DS_HPET_SEQ];
  Atomics.store(dw, DS_HPET_SEQ, seq + 1);
  dw[DS_HPET_ON] = on ? 1 : 0;
  dw[DS_HPET_BASE_LO] = Number(base & 0xffff_ffffn) | 0;
  dw[DS_HPET_BASE_HI] = Number((base >> 32n) & 0xffff_ffffn) | 0;
  new Float64Array(dw.buffer, DS_HPET_SINCE_NS * 4, 1)[0] = sinceNs;
  Atomics.store(dw, DS_HPET_SEQ, seq + 2);
}

const TWO32 = 2 ** 32;

/**
 * A core: the HPET counter at guest instant `nowNs`, counting `nsPerTick` per tick; writes its
 * low and high halves to out[0], out[1]. False while the model is mid-publication (ask it).
 */
export function readHpetCounter(dw: Int32Array, since: Float64Array, nowNs: number, nsPerTick: number, out: number[]): boolean {
  const seq = Atomics.load(dw, DS_HPET_SEQ);
  if ((seq & 1) !== 0) return false;
  let lo = dw[DS_HPET_BASE_LO] >>> 0;
  let hi = dw[DS_HPET_BASE_HI] >>> 0;
  if (dw[DS_HPET_ON] !== 0) {
    const ticks = Math.max(0, Math.floor((nowNs - since[0]) / nsPerTick));
    lo += ticks % TWO32;
    hi = (hi + Math.floor(ticks / TWO32) + (lo >= TWO32 ? 1 : 0)) >>> 0;
    lo %= TWO32;
  }
  if (Atomics.load(dw, DS_HPET_SEQ) !== seq) return false;
  out[0] = lo;
  out[1] = hi;
  return true;
}

/** The Float64 view readHpetCounter takes (made once per reader). */
export function hpetSinceView(buf: SharedArrayBuffer): Float64Array {
  return new Float64Array(buf, DS_HPET_SINCE_NS * 4, 1);
}
