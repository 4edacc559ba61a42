// A fake machine around one E1000 for register-level tests: RAM in a SharedArrayBuffer, an
// IRQ line that records its level, a backend that records sent frames and injects received
// ones, a manual timer service, and driver-like helpers to build descriptor rings.

import type { IrqLine, TimerService } from '../../../src/devices/types.js';
import { MiB, ramLayout } from '../../../src/abi/memory-map.js';
import { E1000, type E1000Options } from '../../../src/devices/e1000/e1000.js';
import * as R from '../../../src/devices/e1000/regs.js';
import { BackendBase } from '../../../src/net/net-backend.js';
import { RamDma } from '../../../src/devices/ram-dma.js';

export const TEST_MAC = Uint8Array.of(0x5a, 0x50, 0x01, 0x02, 0x03, 0x04);

export class RecordingIrq implements IrqLine {
  level = false;
  edges = 0;
  setLevel(level: boolean): void {
    if (level && !this.level) this.edges++;
    this.level = level;
  }
}

export class FakeBackend extends BackendBase {
  readonly description = 'fake';
  readonly sentFrames: Uint8Array[] = [];
  constructor(up = true) { super(); this.link = up; }
  send(frame: Uint8Array): void { this.sentFrames.push(frame.slice()); this.sent(frame); }
  inject(frame: Uint8Array): void { this.deliver(frame); }
  plug(up: boolean): void { this.setLink(up); }
  async close(): Promise<void> { /* nothing */ }
}

export class ManualTimers implements TimerService {
  now = 0;
  private readonly jobs = new Map<string, { at: number; fn: () => void }>();
  nowNs(): number { return this.now; }
  schedule(key: string, atNs: number, fn: () => void): void { this.jobs.set(key, { at: atNs, fn }); }
  cancel(key: string): void { this.jobs.delete(key); }
  pending(key: string): boolean { return this.jobs.has(key); }
  advance(ns: number): void {
    this.now += ns;
    for (;;) {
      const due = [...this.jobs.entries()].filter(([, j]) => j.at <= this.now).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) return;
      this.jobs.delete(due[0]);
      due[1].fn();
    }
  }
}

/** Guest-physical layout used by the tests. */
export const TX_RING = 0x10000;
export const RX_RING = 0x20000;
export const TX_BUFS = 0x100000;
export const RX_BUFS = 0x200000;

export class Harness {
  readonly ram = new SharedArrayBuffer(4 * MiB);
  readonly mem = new Uint8Array(this.ram);
  readonly view = new DataView(this.ram);
  readonly dma = new RamDma(this.ram, ramLayout(4 * MiB));
  readonly irq = new RecordingIrq();
  readonly backend: FakeBackend;
  readonly nic: E1000;
  txCount = 0;
  rxCount = 0;
  private txTail = 0;

  constructor(opts: Partial<E1000Options> & { linkUp?: boolean } = {}) {
    this.backend = new FakeBackend(opts.linkUp ?? true);
    this.nic = new E1000({ mac: TEST_MAC, dma: this.dma, irq: this.irq, backend: this.backend, ...opts });
  }

  rd(reg: number): number { return this.nic.mmioRead(reg, 4); }
  wr(reg: number, v: number): void { this.nic.mmioWrite(reg, 4, v >>> 0); }

  /** Transmit ring of `n` descriptors, enabled with PSP. */
  setupTx(n = 8, tctlExtra = R.TCTL_PSP): void {
    this.txCount = n;
    this.txTail = 0;
    this.mem.fill(0, TX_RING, TX_RING + n * 16);
    this.wr(R.TDBAL, TX_RING);
    this.wr(R.TDBAH, 0);
    this.wr(R.TDLEN, n * 16);
    this.wr(R.TDH, 0);
    this.wr(R.TDT, 0);
    this.wr(R.TCTL, R.TCTL_EN | tctlExtra);
  }

  /** Queue a legacy descriptor (does not bump TDT). Returns its index. */
  putLegacyTx(bufAddr: number, data: Uint8Array, cmd: number, cso = 0, css = 0): number {
    this.mem.set(data, bufAddr);
    const i = this.txTail;
    const at = TX_RING + i * 16;
    this.view.setBigUint64(at, BigInt(bufAddr), true);
    this.view.setUint16(at + 8, data.length, true);
    this.mem[at + 10] = cso;
    this.mem[at + 11] = cmd;
    this.mem[at + 12] = 0;
    this.mem[at + 13] = css;
    this.view.setUint16(at + 14, 0, true);
    this.txTail = (i + 1) % this.txCount;
    return i;
  }

  /** Queue a raw 16-byte descriptor. */
  putRawTx(bytes: Uint8Array): number {
    const i = this.txTail;
    this.mem.set(bytes, TX_RING + i * 16);
    this.txTail = (i + 1) % this.txCount;
    return i;
  }

  kickTx(): void { this.wr(R.TDT, this.txTail); }

  txStatus(i: number): number { return this.mem[TX_RING + i * 16 + 12]; }

  /** Clear the pending causes (reading ICR clears it) and unmask `causes`. */
  clearAndUnmask(causes: number): void {
    this.rd(R.ICR);
    this.wr(R.IMS, causes);
  }

  /** Receive ring of `n` descriptors with `bufSize`-byte buffers; `tail` descriptors given to hardware. */
  setupRx(n = 8, rctl = R.RCTL_EN | R.RCTL_BAM, tail = n - 1, bufSize = 2048): void {
    this.rxCount = n;
    for (let i = 0; i < n; i++) {
      const at = RX_RING + i * 16;
      this.mem.fill(0, at, at + 16);
      this.view.setBigUint64(at, BigInt(RX_BUFS + i * bufSize), true);
    }
    this.wr(R.RDBAL, RX_RING);
    this.wr(R.RDBAH, 0);
    this.wr(R.RDLEN, n * 16);
    this.wr(R.RDH, 0);
    this.wr(R.RDT, tail);
    this.wr(R.RCTL, rctl);
  }

  rxDesc(i: number): { len: number; status: number; errors: number; special: number; data: Uint8Array } {
    const at = RX_RING + i * 16;
    const addr = Number(this.view.getBigUint64(at, true));
    const len = this.view.getUint16(at + 8, true);
    return { len, status: this.mem[at + 12], errors: this.mem[at + 13], special: this.view.getUint16(at + 14, true), data: this.mem.slice(addr, addr + len) };
  }
}

/** An Ethernet frame to `dst` from `src` with `payloadLen` bytes of a counting pattern. */
export function ethFrame(dst: Uint8Array, src: Uint8Array, payloadLen: number, type = 0x88b5): Uint8Array {
  const f = new Uint8Array(14 + payloadLen);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >>> 8;
  f[13] = type & 0xff;
  for (let i = 0; i < payloadLen; i++) f[14 + i] = (i * 7 + 3) & 0xff;
  return f;
}

export const BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
export const PEER_MAC = Uint8Array.of(0x5a, 0x50, 0xaa, 0xbb, 0xcc, 0x01);
