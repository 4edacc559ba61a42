// The 82540EM's serial EEPROM (64 x 16-bit words, Microwire protocol) as a driver sees it:
// bit-banged through EECD (SK clock, CS select, DI in, DO out) or read a word at a time
// through EERD. Only the READ command is implemented; other commands are clocked in and ignored.
//
// Image layout used by drivers: words 0-2 the MAC address (byte pairs, low byte first),
// 0x0B/0x0C subsystem ID/vendor, 0x0D/0x0E device/vendor ID, 0x0F init control 2 (flow-control
// defaults), and word 0x3F a checksum chosen so that words 0x00..0x3F sum to 0xBABA.

import {
  EECD_CS, EECD_DI, EECD_DO, EECD_FWE_MASK, EECD_GNT, EECD_PRES, EECD_REQ, EECD_SK,
  EERD_ADDR_SHIFT, EERD_DATA_SHIFT, EERD_DONE, EERD_START,
} from './regs.js';

export const EEPROM_WORDS = 64;
export const EEPROM_CHECKSUM_WORD = 0x3f;
export const EEPROM_SUM = 0xbaba;
const ADDR_BITS = 6;
const OP_READ = 0b10;

export interface EepromIds {
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number;
  subsystemId: number;
}

export function buildEepromImage(mac: Uint8Array, ids: EepromIds): Uint16Array {
  const w = new Uint16Array(EEPROM_WORDS);
  for (let i = 0; i < 3; i++) w[i] = mac[2 * i] | (mac[2 * i + 1] << 8);
  w[0x04] = 0xffff; // LED configuration: "use the driver's defaults"
  w[0x08] = 0x3000; // printed board assembly number (informational)
  w[0x09] = 0x1000;
  w[0x0a] = 0x6403; // init control 1: load subsystem IDs, PHY power-up defaults
  w[0x0b] = ids.subsystemId;
  w[0x0c] = ids.subsystemVendorId;
  w[0x0d] = ids.deviceId;
  w[0x0e] = ids.vendorId;
  w[0x0f] = 0x0000; // init control 2: no pause frames advertised (flow control is meaningless here)
  setEepromChecksum(w);
  return w;
}

export function setEepromChecksum(w: Uint16Array): void {
  let sum = 0;
  for (let i = 0; i < EEPROM_CHECKSUM_WORD; i++) sum = (sum + w[i]) & 0xffff;
  w[EEPROM_CHECKSUM_WORD] = (EEPROM_SUM - sum) & 0xffff;
}

interface MicrowireState {
  eecd: number; // bits software owns (SK, CS, DI, FWE, REQ)
  bitsIn: number;
  shiftIn: number;
  reading: boolean;
  ignoring: boolean;
  addr: number;
  outPos: number;
  dout: number;
  eerd: number;
}

export class E1000Eeprom {
  readonly words: Uint16Array;
  private s: MicrowireState = E1000Eeprom.idle();

  constructor(image: Uint16Array) {
    if (image.length !== EEPROM_WORDS) throw new Error(`e1000 EEPROM image must have ${EEPROM_WORDS} words`);
    this.words = new Uint16Array(image);
  }

  private static idle(): MicrowireState {
    return { eecd: 0, bitsIn: 0, shiftIn: 0, reading: false, ignoring: false, addr: 0, outPos: 0, dout: 1, eerd: 0 };
  }

  reset(): void { this.s = E1000Eeprom.idle(); }

  readEecd(): number {
    const s = this.s;
    let v = s.eecd | EECD_PRES;
    if (s.eecd & EECD_REQ) v |= EECD_GNT; // nothing else competes for the EEPROM
    if (s.dout) v |= EECD_DO;
    return v >>> 0;
  }

  writeEecd(value: number): void {
    const s = this.s;
    const old = s.eecd;
    s.eecd = value & (EECD_SK | EECD_CS | EECD_DI | EECD_FWE_MASK | EECD_REQ);
    if (!(value & EECD_CS)) {
      // deselect ends any command
      s.bitsIn = 0; s.shiftIn = 0; s.reading = false; s.ignoring = false; s.dout = 1;
      return;
    }
    if (!(old & EECD_CS)) { s.bitsIn = 0; s.shiftIn = 0; s.reading = false; s.ignoring = false; }
    const rising = !(old & EECD_SK) && (value & EECD_SK);
    if (!rising) return;
    if (s.reading) {
      s.dout = (this.words[s.addr] >>> (15 - s.outPos)) & 1;
      if (++s.outPos === 16) { s.outPos = 0; s.addr = (s.addr + 1) % EEPROM_WORDS; }
      return;
    }
    if (s.ignoring) return;
    const di = value & EECD_DI ? 1 : 0;
    if (s.bitsIn === 0 && di === 0) return; // leading zeros before the start bit
    s.shiftIn = (s.shiftIn << 1) | di;
    s.bitsIn++;
    if (s.bitsIn === 3 + ADDR_BITS) {
      const op = (s.shiftIn >>> ADDR_BITS) & 3;
      if (op === OP_READ) {
        s.reading = true;
        s.addr = s.shiftIn & (EEPROM_WORDS - 1);
        s.outPos = 0;
        s.dout = 0; // the dummy zero that precedes the data bits
      } else {
        s.ignoring = true; // write/erase/enable: not supported, the image is read-only
      }
    }
  }

  readEerd(): number { return this.s.eerd >>> 0; }

  writeEerd(value: number): void {
    if (!(value & EERD_START)) {
      this.s.eerd = value & ~EERD_DONE;
      return;
    }
    const addr = (value >>> EERD_ADDR_SHIFT) & 0xff;
    const data = addr < EEPROM_WORDS ? this.words[addr] : 0;
    this.s.eerd = ((data << EERD_DATA_SHIFT) | (addr << EERD_ADDR_SHIFT) | EERD_DONE) >>> 0;
  }

  saveState(): unknown {
    return { words: Array.from(this.words), s: { ...this.s } };
  }

  restoreState(state: unknown): void {
    const st = state as { words?: number[]; s?: MicrowireState };
    if (!st || !Array.isArray(st.words) || st.words.length !== EEPROM_WORDS || !st.s) throw new Error('e1000: bad saved EEPROM state');
    this.words.set(st.words);
    this.s = { ...E1000Eeprom.idle(), ...st.s };
  }
}
