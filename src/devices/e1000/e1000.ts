// Intel 82540EM gigabit Ethernet controller (PCI 8086:100E rev 3), the NIC QEMU calls "e1000".
// BAR0: 128 KiB of registers; BAR1: 64 bytes of I/O space giving indirect access to the same
// registers (IOADDR at +0 selects, IODATA at +4 reads/writes). INTA# drives the IrqLine the
// machine hands us (level-triggered: high while ICR & IMS is non-zero).
//
// Runs on the I/O thread. Transmit work happens synchronously on the TDT write (descriptors,
// payload DMA, write-back) and frames go to the backend, whose send() never blocks. Received
// frames come from the backend's callback, are filtered, and are written into the guest's
// receive ring; when the ring has no free descriptor they wait in a FIFO the size of the
// on-chip receive packet buffer (PBA), and beyond that are dropped and counted (MPC).

import { PciConfigSpace, QEMU_SUBSYSTEM, CMD_BUS_MASTER, CMD_INTX_DISABLE, CMD_IO, CMD_MEMORY, PCI_COMMAND } from '../pci-config-space.js';
import type { DmaMemory, IrqLine, MmioDevice, PciBar, PciFunction, PortDevice, Snapshotable, TimerService } from '../types.js';
import { E1000_IO_BAR, E1000_MMIO_BAR } from '../../abi/memory-map.js';
import { buildEepromImage, E1000Eeprom } from './eeprom.js';
import { E1000Phy, PHY_ADDRESS } from './phy.js';
import * as R from './regs.js';
import { DelayedInterrupt } from './interrupt-delay.js';
import { filterFrame } from './rx-filter.js';
import { emptyContext, insertChecksum, segmentTso, type TxContext } from './tx-offload.js';
import { appendFcs } from '../../net/ethernet-crc.js';
import { netTrace } from '../../net/net-trace.js';
import type { NetBackend } from '../../net/net-backend.js';

/** The statistics registers that count frames of one direction (good/total packets and octets, size buckets, broadcast/multicast). */
interface FrameStats {
  good: number;
  total: number;
  goodOctets: number;
  totalOctets: number;
  size64: number;
  broadcast: number;
  multicast: number;
}
const TX_STATS: FrameStats = { good: R.GPTC, total: R.TPT, goodOctets: R.GOTCL, totalOctets: R.TOTL, size64: R.PTC64, broadcast: R.BPTC, multicast: R.MPTC };
const RX_STATS: FrameStats = { good: R.GPRC, total: R.TPR, goodOctets: R.GORCL, totalOctets: R.TORL, size64: R.PRC64, broadcast: R.BPRC, multicast: R.MPRC };

export const E1000_VENDOR_ID = 0x8086;
export const E1000_DEVICE_ID = 0x100e;
export const E1000_REVISION = 0x03;

/** Frames we assemble for transmit are capped here (TSO payloads included). */
const TX_MAX_PACKET = 256 * 1024;
/** Receive limits on the frame as we get it (no FCS): 1522 - 4 without LPE, 16384 - 4 with. */
const RX_MAX_NORMAL = 1518;
const RX_MAX_LONG = 16380;
const MIN_ETH = 14;
const MIN_PADDED = 60;

export interface E1000Options {
  /** device name in logs and saved state (default "e1000") */
  name?: string;
  mac: Uint8Array;
  dma: DmaMemory;
  irq: IrqLine;
  backend?: NetBackend;
  /** delay timers (RDTR/RADV/TIDV/TADV) and ITR throttling need it; without it interrupts are immediate */
  timers?: TimerService;
  mmioBase?: number;
  ioBase?: number;
  /** the GSI written to the interrupt-line register (QEMU's slot 3 e1000 uses 11) */
  interruptLine?: number;
  /** receive FIFO size in bytes; default follows PBA (48 KiB after reset) */
  rxFifoBytes?: number;
  /** where the register file lives (R.MMIO_SIZE bytes): shared memory lets cores read ICR themselves */
  registers?: Uint32Array;
}

/** Emulator-side diagnostics (the guest-visible statistics live in the registers). */
export interface E1000Counters {
  txFrames: number;
  txBytes: number;
  txTsoPackets: number;
  txTsoSegments: number;
  txTsoBad: number;
  txRunts: number;
  txOversize: number;
  txBadDescriptors: number;
  txLoopback: number;
  rxFrames: number;
  rxBytes: number;
  rxFiltered: number;
  rxDisabled: number;
  rxRunts: number;
  rxOversize: number;
  rxQueued: number;
  rxMissed: number;
  dmaBlocked: number;
  badRing: number;
  unknownAccesses: number;
  interrupts: number;
}

interface TxPacket {
  data: Uint8Array;
  len: number;
  /** first descriptor of the packet seen (options latched from it) */
  started: boolean;
  extended: boolean;
  tse: boolean;
  popts: number;
  legacyIc: boolean;
  css: number;
  cso: number;
  vle: boolean;
  special: number;
  overflow: boolean;
}

function newTxPacket(): TxPacket {
  return { data: new Uint8Array(2048), len: 0, started: false, extended: false, tse: false, popts: 0, legacyIc: false, css: 0, cso: 0, vle: false, special: 0, overflow: false };
}

/** Registers that exist on the 82540EM (for counting accesses to undefined offsets). */
const KNOWN = new Set<number>([
  R.CTRL, R.STATUS, R.EECD, R.EERD, R.CTRL_EXT, R.FLA, R.MDIC, R.FCAL, R.FCAH, R.FCT, R.VET, R.ICR, R.ITR, R.ICS,
  R.IMS, R.IMC, R.RCTL, R.FCTTV, R.TXCW, R.RXCW, R.TCTL, R.TIPG, R.AIT, R.LEDCTL, R.PBA, R.FCRTL, R.FCRTH,
  R.RDBAL, R.RDBAH, R.RDLEN, R.RDH, R.RDT, R.RDTR, R.RXDCTL, R.RADV, R.RSRPD, R.TXDMAC, R.TDBAL, R.TDBAH,
  R.TDLEN, R.TDH, R.TDT, R.TIDV, R.TXDCTL, R.TADV, R.TSPMT, R.RXCSUM, R.WUC, R.WUFC, R.WUS, R.MANC,
  0x5838, 0x5840, 0x5880, 0x5900, // IPAV, IP4AT, IP6AT, WUPL
]);
function knownOffset(off: number): boolean {
  if (KNOWN.has(off)) return true;
  if (off >= R.STATS_BASE && off < R.STATS_END) return true;
  if (off >= R.MTA && off < R.MTA + 4 * R.MTA_COUNT) return true;
  if (off >= R.RAL0 && off < R.RAL0 + 8 * R.RA_COUNT) return true;
  if (off >= R.VFTA && off < R.VFTA + 4 * R.VFTA_COUNT) return true;
  if (off >= 0x5a00 && off < 0x5a80) return true; // WUPM
  if (off >= 0x5f00 && off < 0x5f20) return true; // FFLT
  if (off >= 0x9000 && off < 0xa000) return true; // FFMT/FFVT
  return false;
}

const W1_REGS = new Set([R.ICR, R.ICS, R.IMS, R.IMC]);
const I = (off: number): number => off >> 2;

export class E1000 implements PciFunction, MmioDevice, PortDevice, Snapshotable {
  readonly name: string;
  readonly pci: PciConfigSpace;
  readonly mac: Uint8Array;
  readonly eeprom: E1000Eeprom;
  readonly phy = new E1000Phy(false);
  readonly counters: E1000Counters = {
    txFrames: 0, txBytes: 0, txTsoPackets: 0, txTsoSegments: 0, txTsoBad: 0, txRunts: 0, txOversize: 0, txBadDescriptors: 0, txLoopback: 0,
    rxFrames: 0, rxBytes: 0, rxFiltered: 0, rxDisabled: 0, rxRunts: 0, rxOversize: 0, rxQueued: 0, rxMissed: 0,
    dmaBlocked: 0, badRing: 0, unknownAccesses: 0, interrupts: 0,
  };
  /** register file, indexed by byte offset / 4. ICR changes only atomically: cores may take it
   *  (read-to-clear) from their own threads when it is shared (src/machine/mailbox-bus.ts). */
  private readonly regs: Uint32Array;
  private readonly dma: DmaMemory;
  private readonly irq: IrqLine;
  private readonly timers?: TimerService;
  private backend: NetBackend | null = null;
  private readonly fixedFifoBytes?: number;
  private link = false;
  private irqAsserted = false;
  private lastAssertNs = -Infinity;
  private ioAddr = 0;
  private tx: TxPacket = newTxPacket();
  private ctx: TxContext = emptyContext();
  private txBusy = false;
  private readonly rxFifo: Uint8Array[] = [];
  private rxFifoUsed = 0;
  /** receive-timer (RXT0) and transmit write-back (TXDW) interrupts, moderated by their delay registers */
  private readonly rxt0: DelayedInterrupt;
  private readonly txdw: DelayedInterrupt;
  private readonly desc = new Uint8Array(R.DESC_SIZE);
  private readonly descView = new DataView(this.desc.buffer);

  constructor(opts: E1000Options) {
    this.name = opts.name ?? 'e1000';
    if (opts.registers && opts.registers.length !== R.MMIO_SIZE >> 2) throw new Error(`${this.name}: register file must be ${R.MMIO_SIZE} bytes`);
    this.regs = opts.registers ?? new Uint32Array(R.MMIO_SIZE >> 2);
    if (opts.mac.length !== 6) throw new Error(`${this.name}: MAC must be 6 bytes`);
    this.mac = new Uint8Array(opts.mac);
    this.dma = opts.dma;
    this.irq = opts.irq;
    this.timers = opts.timers;
    this.rxt0 = new DelayedInterrupt(this.timers, this.timerKey('rdtr'), this.timerKey('radv'), () => this.raise(R.ICR_RXT0));
    this.txdw = new DelayedInterrupt(this.timers, this.timerKey('tidv'), this.timerKey('tadv'), () => this.raise(R.ICR_TXDW));
    this.fixedFifoBytes = opts.rxFifoBytes;
    this.eeprom = new E1000Eeprom(buildEepromImage(this.mac, {
      vendorId: E1000_VENDOR_ID, deviceId: E1000_DEVICE_ID, ...QEMU_SUBSYSTEM,
    }));
    this.pci = new PciConfigSpace(this.name, {
      vendorId: E1000_VENDOR_ID, deviceId: E1000_DEVICE_ID, revision: E1000_REVISION, classCode: 0x02, subclass: 0x00,
      ...QEMU_SUBSYSTEM, interruptPin: 1, interruptLine: opts.interruptLine ?? 11,
    });
    this.pci.defineBar(0, 'mmio', R.MMIO_SIZE, this, { base: opts.mmioBase ?? E1000_MMIO_BAR });
    this.pci.defineBar(1, 'io', R.IO_SIZE, this, { base: opts.ioBase ?? E1000_IO_BAR });
    this.pci.setCommand(CMD_IO | CMD_MEMORY | CMD_BUS_MASTER);
    this.pci.onConfigWrite = (off) => { if (off === PCI_COMMAND) this.updateIrq(); };
    this.resetRegisters();
    if (opts.backend) this.attachBackend(opts.backend);
  }

  // ---------------------------------------------------------------- wiring

  attachBackend(b: NetBackend): void {
    this.backend = b;
    b.onReceive((frame) => this.receive(frame));
    b.onLinkChange((up) => this.setLinkUp(up));
    this.setLinkUp(b.linkUp());
  }

  /** Plug/unplug the cable: updates STATUS.LU and the PHY, raises LSC. */
  setLinkUp(up: boolean): void {
    if (up === this.link) return;
    this.link = up;
    this.phy.setLink(up);
    this.raise(R.ICR_LSC);
  }

  linkUp(): boolean { return this.link; }

  // ---------------------------------------------------------------- PciFunction

  configRead(offset: number): number { return this.pci.configRead(offset); }
  configWrite(offset: number, value: number, mask: number): void { this.pci.configWrite(offset, value, mask); }
  bars(): PciBar[] { return this.pci.bars(); }
  decodesMemory(): boolean { return this.pci.decodesMemory(); }
  decodesIo(): boolean { return this.pci.decodesIo(); }

  // ---------------------------------------------------------------- BAR1: IOADDR/IODATA

  ioRead(port: number, size: number): number {
    const off = port & (R.IO_SIZE - 1);
    if (off >= R.IOADDR && off < R.IOADDR + 4) return sub(this.ioAddr, off - R.IOADDR, size);
    if (off >= R.IODATA && off < R.IODATA + 4) {
      return sub(this.readRegister(this.ioAddr & (R.MMIO_SIZE - 4)), off - R.IODATA, size);
    }
    return 0;
  }

  ioWrite(port: number, size: number, value: number): void {
    const off = port & (R.IO_SIZE - 1);
    if (off >= R.IOADDR && off < R.IOADDR + 4) {
      this.ioAddr = merge(this.ioAddr, off - R.IOADDR, size, value) & 0x1fffc;
    } else if (off === R.IODATA && size === 4) {
      this.writeRegister(this.ioAddr & (R.MMIO_SIZE - 4), value >>> 0);
    } else if (off >= R.IODATA && off < R.IODATA + 4) {
      const reg = this.ioAddr & (R.MMIO_SIZE - 4);
      this.writePartial(reg, off - R.IODATA, size, value);
    }
  }

  // ---------------------------------------------------------------- BAR0: registers

  mmioRead(offset: number, size: number): number {
    const reg = offset & (R.MMIO_SIZE - 4);
    return sub(this.readRegister(reg), offset & 3, size);
  }

  mmioWrite(offset: number, size: number, value: number): void {
    const reg = offset & (R.MMIO_SIZE - 4);
    if (size === 4 && (offset & 3) === 0) this.writeRegister(reg, value >>> 0);
    else this.writePartial(reg, offset & 3, size, value);
  }

  private writePartial(reg: number, byteOff: number, size: number, value: number): void {
    const old = W1_REGS.has(reg) ? 0 : this.peek(reg);
    this.writeRegister(reg, merge(old, byteOff, size, value));
  }

  /** Register value without read side effects. */
  peek(reg: number): number {
    switch (reg) {
      case R.STATUS: return this.status();
      case R.EECD: return this.eeprom.readEecd();
      case R.EERD: return this.eeprom.readEerd();
      case R.ICS: case R.IMC: return 0;
      default: return this.regs[I(reg)] >>> 0;
    }
  }

  readRegister(reg: number): number {
    if (!knownOffset(reg)) this.counters.unknownAccesses++;
    if (reg === R.ICR) {
      const v = Atomics.exchange(this.regs, I(R.ICR), 0) >>> 0;
      this.updateIrq();
      return v;
    }
    if (reg >= R.STATS_BASE && reg < R.STATS_END) {
      const v = this.regs[I(reg)] >>> 0;
      this.regs[I(reg)] = 0; // statistics clear on read
      return v;
    }
    return this.peek(reg);
  }

  writeRegister(reg: number, v: number): void {
    if (!knownOffset(reg)) this.counters.unknownAccesses++;
    const r = this.regs;
    switch (reg) {
      case R.CTRL:
        if (v & R.CTRL_RST) { this.reset(); return; }
        if ((v & R.CTRL_PHY_RST) && !(r[I(R.CTRL)] & R.CTRL_PHY_RST)) this.phy.reset();
        r[I(R.CTRL)] = v;
        return;
      case R.STATUS:
        return; // read-only
      case R.EECD:
        this.eeprom.writeEecd(v);
        return;
      case R.EERD:
        this.eeprom.writeEerd(v);
        return;
      case R.MDIC:
        this.mdio(v);
        return;
      case R.ICR:
        Atomics.and(r, I(R.ICR), ~v);
        this.updateIrq();
        return;
      case R.ICS:
        this.raise(v & R.ICR_VALID);
        return;
      case R.IMS:
        r[I(R.IMS)] |= v & R.ICR_VALID;
        this.updateIrq();
        return;
      case R.IMC:
        r[I(R.IMS)] &= ~v;
        this.updateIrq();
        return;
      case R.ITR:
        r[I(R.ITR)] = v & 0xffff;
        return;
      case R.RCTL: {
        const was = r[I(R.RCTL)];
        r[I(R.RCTL)] = v;
        if ((v & R.RCTL_EN) && !(was & R.RCTL_EN)) this.drainRxFifo();
        if (!(v & R.RCTL_EN)) this.clearRxFifo();
        return;
      }
      case R.TCTL: {
        const was = r[I(R.TCTL)];
        r[I(R.TCTL)] = v;
        if ((v & R.TCTL_EN) && !(was & R.TCTL_EN)) this.processTx();
        return;
      }
      case R.RDBAL: case R.TDBAL:
        r[I(reg)] = v & ~0xf;
        return;
      case R.RDLEN: case R.TDLEN:
        r[I(reg)] = v & 0xfff80;
        return;
      case R.RDH: case R.TDH:
        r[I(reg)] = v & 0xffff;
        return;
      case R.RDT:
        r[I(R.RDT)] = v & 0xffff;
        this.drainRxFifo();
        return;
      case R.TDT:
        netTrace('tdt-applied');
        r[I(R.TDT)] = v & 0xffff;
        this.processTx();
        return;
      case R.RDTR:
        r[I(R.RDTR)] = v & 0xffff;
        if (v & R.RDTR_FPD) this.rxt0.fire(); // flush partial descriptor block: report now
        return;
      case R.RADV: case R.TIDV: case R.TADV:
        r[I(reg)] = v & 0xffff;
        return;
      default:
        if (reg >= R.STATS_BASE && reg < R.STATS_END) return; // read-only counters
        r[I(reg)] = v;
    }
  }

  private status(): number {
    let s = R.STATUS_FD | R.STATUS_SPEED_1000 | R.STATUS_ASDV_1000;
    if (this.link) s |= R.STATUS_LU;
    return s >>> 0;
  }

  private mdio(v: number): void {
    const phyAddr = (v >>> R.MDIC_PHY_SHIFT) & 31;
    const reg = (v >>> R.MDIC_REG_SHIFT) & 31;
    const op = v & (3 << 26);
    let out = v & ~(R.MDIC_READY | R.MDIC_ERROR);
    if (phyAddr !== PHY_ADDRESS || (op !== R.MDIC_OP_READ && op !== R.MDIC_OP_WRITE)) {
      out |= R.MDIC_ERROR;
    } else if (op === R.MDIC_OP_READ) {
      out = (out & ~R.MDIC_DATA_MASK) | this.phy.read(reg);
    } else {
      this.phy.write(reg, v & R.MDIC_DATA_MASK);
    }
    this.regs[I(R.MDIC)] = (out | R.MDIC_READY) >>> 0;
    if (v & R.MDIC_INT_EN) this.raise(R.ICR_MDAC);
  }

  // ---------------------------------------------------------------- reset

  /** Software reset (CTRL.RST): registers to defaults, rings and queues dropped; PCI config and PHY kept. */
  reset(): void {
    this.resetRegisters();
    this.updateIrq();
  }

  private resetRegisters(): void {
    this.regs.fill(0);
    const r = this.regs;
    r[I(R.CTRL)] = R.CTRL_FD | R.CTRL_SLU | (2 << 8); // full duplex, link up, 1000 Mb/s
    r[I(R.PBA)] = 0x00100030; // 48 KiB receive, 16 KiB transmit packet buffer
    r[I(R.LEDCTL)] = 0x07068302;
    r[I(R.VET)] = 0x8100;
    r[I(R.MDIC)] = R.MDIC_READY;
    r[I(R.RAL0)] = (this.mac[0] | (this.mac[1] << 8) | (this.mac[2] << 16) | (this.mac[3] << 24)) >>> 0;
    r[I(R.RAH0)] = (this.mac[4] | (this.mac[5] << 8) | R.RAH_AV) >>> 0;
    this.eeprom.reset();
    this.tx = newTxPacket();
    this.ctx = emptyContext();
    this.clearRxFifo();
    this.rxt0.cancel();
    this.txdw.cancel();
    this.ioAddr = 0;
    this.timers?.cancel(this.timerKey('itr'));
  }

  // ---------------------------------------------------------------- interrupts

  private raise(causes: number): void {
    if (causes === 0) return;
    Atomics.or(this.regs, I(R.ICR), causes);
    this.updateIrq();
  }

  /** A core took ICR from the shared register file itself: lower INTA# as our own read does. */
  icrReadElsewhere(): void {
    netTrace('icr-applied');
    this.updateIrq();
  }

  private updateIrq(): void {
    const want = (this.regs[I(R.ICR)] & this.regs[I(R.IMS)]) !== 0 && !(this.pci.command() & CMD_INTX_DISABLE);
    if (want === this.irqAsserted) return;
    if (want) {
      const itr = this.regs[I(R.ITR)] & 0xffff;
      if (itr && this.timers) {
        const now = this.timers.nowNs();
        const next = this.lastAssertNs + itr * R.ITR_UNIT_NS;
        if (now < next) {
          // throttled: assert when the minimum inter-interrupt interval has passed
          this.timers.schedule(this.timerKey('itr'), next, () => this.updateIrq());
          return;
        }
        this.lastAssertNs = now;
      }
      this.counters.interrupts++;
    }
    this.irqAsserted = want;
    if (want) netTrace('irq');
    this.pci.setInterruptStatus(want);
    this.irq.setLevel(want);
  }

  private timerKey(k: string): string { return `${this.name}.${k}`; }

  /** Receive-timer interrupt, honouring RDTR (per-packet delay) and RADV (absolute cap). */
  private rxInterrupt(): void {
    this.rxt0.request(this.regs[I(R.RDTR)] & 0xffff, this.regs[I(R.RADV)] & 0xffff);
  }

  /** Transmit write-back interrupt for descriptors with IDE: delayed by TIDV, capped by TADV. */
  private txInterrupt(delayed: boolean): void {
    if (!delayed) { this.txdw.fire(); return; }
    this.txdw.request(this.regs[I(R.TIDV)] & 0xffff, this.regs[I(R.TADV)] & 0xffff);
  }

  // ---------------------------------------------------------------- statistics

  private stat(reg: number, by = 1): void {
    const v = this.regs[I(reg)] + by;
    this.regs[I(reg)] = v > 0xffffffff ? 0xffffffff : v; // counters stick at their maximum
  }

  private stat64(lowReg: number, by: number): void {
    const lo = this.regs[I(lowReg)] + by;
    this.regs[I(lowReg)] = lo % 0x100000000;
    if (lo > 0xffffffff) this.regs[I(lowReg + 4)] = (this.regs[I(lowReg + 4)] + Math.floor(lo / 0x100000000)) >>> 0;
  }

  /** One frame sent or received, in its direction's statistics: counted as on the wire (FCS included, 64 bytes at least). */
  private countFrame(s: FrameStats, frameLen: number, cast: string): void {
    const wire = Math.max(frameLen + 4, 64);
    this.stat(s.good);
    this.stat(s.total);
    this.stat64(s.goodOctets, wire);
    this.stat64(s.totalOctets, wire);
    this.sizeBucket(wire, s.size64);
    if (cast === 'broadcast') this.stat(s.broadcast);
    else if (cast === 'multicast') this.stat(s.multicast);
  }

  private sizeBucket(wireLen: number, base64: number): void {
    // 64, 65-127, 128-255, 256-511, 512-1023, 1024-1522 byte buckets (frames counted with FCS)
    const idx = wireLen <= 64 ? 0 : wireLen <= 127 ? 1 : wireLen <= 255 ? 2 : wireLen <= 511 ? 3 : wireLen <= 1023 ? 4 : wireLen <= 1522 ? 5 : -1;
    if (idx >= 0) this.stat(base64 + 4 * idx);
  }

  // ---------------------------------------------------------------- transmit

  private ringBase(lo: number, hi: number): number {
    return this.regs[I(hi)] * 0x100000000 + (this.regs[I(lo)] >>> 0);
  }

  private processTx(): void {
    if (this.txBusy) return; // a backend that loops frames back synchronously must not re-enter
    const r = this.regs;
    if (!(r[I(R.TCTL)] & R.TCTL_EN)) return;
    const count = (r[I(R.TDLEN)] >>> 0) / R.DESC_SIZE;
    if (count === 0) return;
    let head = r[I(R.TDH)];
    const tail = r[I(R.TDT)];
    if (head >= count || tail >= count) { this.counters.badRing++; return; }
    if (!this.pci.busMasterEnabled()) { if (head !== tail) this.counters.dmaBlocked++; return; }
    const base = this.ringBase(R.TDBAL, R.TDBAH);
    let writeback = false;
    let delayed = true;
    let processed = 0;
    this.txBusy = true;
    try {
      while (head !== tail && processed < count) {
        const at = base + head * R.DESC_SIZE;
        this.dma.read(at, this.desc);
        const cmd = this.desc[11];
        this.txDescriptor();
        if (cmd & (R.TXD_CMD_RS | R.TXD_CMD_RPS)) {
          // report status: set DD in the descriptor's status byte
          this.desc[12] |= R.TXD_STAT_DD;
          this.dma.write(at + 12, this.desc.subarray(12, 13));
          writeback = true;
          if (!(cmd & R.TXD_CMD_IDE)) delayed = false;
        }
        head = (head + 1) % count;
        processed++;
        r[I(R.TDH)] = head;
      }
    } finally {
      this.txBusy = false;
    }
    if (processed === 0) return;
    if (writeback) this.txInterrupt(delayed);
    if (head === r[I(R.TDT)]) this.raise(R.ICR_TXQE);
    // the guest may have moved TDT while a backend callback ran: catch up
    if (head !== r[I(R.TDT)]) this.processTx();
  }

  /** Handle the descriptor in `this.desc`. */
  private txDescriptor(): void {
    const d = this.desc;
    const dv = this.descView;
    const dw2 = dv.getUint32(8, true);
    const cmd = dw2 >>> 24;
    const addr = dv.getUint32(4, true) * 0x100000000 + dv.getUint32(0, true);
    if (cmd & R.TXD_CMD_DEXT) {
      const dtyp = (dw2 >>> 20) & 0xf;
      if (dtyp === R.DTYP_CONTEXT) {
        this.ctx = {
          ipcss: d[0], ipcso: d[1], ipcse: dv.getUint16(2, true),
          tucss: d[4], tucso: d[5], tucse: dv.getUint16(6, true),
          paylen: dw2 & 0xfffff, tucmd: cmd, hdrlen: d[13], mss: dv.getUint16(14, true),
        };
        return;
      }
      if (dtyp !== R.DTYP_DATA) { this.counters.txBadDescriptors++; return; }
      const p = this.tx;
      if (!p.started) {
        p.started = true;
        p.extended = true;
        p.tse = (cmd & R.TXD_CMD_TSE) !== 0;
        p.popts = d[13];
        p.vle = (cmd & R.TXD_CMD_VLE) !== 0;
        p.special = dv.getUint16(14, true);
      }
      this.txAppend(addr, dw2 & 0xfffff);
      if (cmd & R.TXD_CMD_EOP) this.txFinish();
      return;
    }
    // legacy descriptor
    const p = this.tx;
    if (!p.started) {
      p.started = true;
      p.extended = false;
      p.vle = (cmd & R.TXD_CMD_VLE) !== 0;
      p.special = dv.getUint16(14, true);
    }
    if (cmd & R.TXD_CMD_IC) { p.legacyIc = true; p.cso = d[10]; p.css = d[13]; }
    this.txAppend(addr, dw2 & 0xffff);
    if (cmd & R.TXD_CMD_EOP) this.txFinish();
  }

  private txAppend(addr: number, len: number): void {
    const p = this.tx;
    if (len === 0 || p.overflow) return;
    if (p.len + len > TX_MAX_PACKET) { p.overflow = true; return; }
    if (p.len + len > p.data.length) {
      const bigger = new Uint8Array(Math.min(TX_MAX_PACKET, Math.max(p.data.length * 2, p.len + len)));
      bigger.set(p.data.subarray(0, p.len));
      p.data = bigger;
    }
    this.dma.read(addr, p.data.subarray(p.len, p.len + len));
    p.len += len;
  }

  private txFinish(): void {
    const p = this.tx;
    this.tx = newTxPacket();
    if (p.overflow) { this.counters.txOversize++; return; }
    const pkt = p.data.subarray(0, p.len);
    if (p.extended && p.tse && (this.ctx.tucmd & R.TUCMD_TSE)) {
      const segs = segmentTso(pkt, this.ctx, {
        ipv4: (this.ctx.tucmd & R.TUCMD_IP) !== 0,
        tcp: (this.ctx.tucmd & R.TUCMD_TCP) !== 0,
        ipChecksum: (p.popts & R.POPTS_IXSM) !== 0,
        l4Checksum: (p.popts & R.POPTS_TXSM) !== 0,
      });
      if (!segs) { this.counters.txTsoBad++; return; }
      this.counters.txTsoPackets++;
      this.counters.txTsoSegments += segs.length;
      this.stat(R.TSCTC);
      for (const s of segs) this.txEmit(s, p);
      return;
    }
    const frame = pkt.slice();
    if (p.extended) {
      if (p.popts & R.POPTS_IXSM) insertChecksum(frame, this.ctx.ipcss, this.ctx.ipcso, this.ctx.ipcse);
      if (p.popts & R.POPTS_TXSM) insertChecksum(frame, this.ctx.tucss, this.ctx.tucso, this.ctx.tucse);
    } else if (p.legacyIc) {
      insertChecksum(frame, p.css, p.cso, 0);
    }
    this.txEmit(frame, p);
  }

  private txEmit(frame: Uint8Array, p: TxPacket): void {
    if (p.vle && (this.regs[I(R.CTRL)] & R.CTRL_VME) && frame.length >= 12) {
      const tagged = new Uint8Array(frame.length + 4);
      tagged.set(frame.subarray(0, 12));
      const vet = this.regs[I(R.VET)] & 0xffff;
      tagged[12] = vet >>> 8; tagged[13] = vet & 0xff;
      tagged[14] = p.special >>> 8; tagged[15] = p.special & 0xff;
      tagged.set(frame.subarray(12), 16);
      frame = tagged;
    }
    if (frame.length < MIN_ETH) { this.counters.txRunts++; return; }
    if (frame.length < MIN_PADDED && (this.regs[I(R.TCTL)] & R.TCTL_PSP)) {
      const padded = new Uint8Array(MIN_PADDED);
      padded.set(frame);
      frame = padded;
    }
    this.countFrame(TX_STATS, frame.length, frame[0] & 1 ? (isBroadcast(frame) ? 'broadcast' : 'multicast') : 'unicast');
    this.counters.txFrames++;
    this.counters.txBytes += frame.length;
    if (this.loopback()) {
      this.counters.txLoopback++;
      this.rxFrame(frame, true);
      return;
    }
    netTrace('tx-send');
    this.backend?.send(frame);
  }

  /** MAC loopback (RCTL.LBM) or PHY loopback (BMCR bit 14): transmitted frames are received. */
  private loopback(): boolean {
    return (this.regs[I(R.RCTL)] & R.RCTL_LBM_MASK) !== 0 || this.phy.loopback();
  }

  // ---------------------------------------------------------------- receive

  /** A frame from the wire (backend callback). Never blocks; drops are counted. */
  receive(frame: Uint8Array): void {
    if (this.loopback()) { this.counters.rxDisabled++; return; } // the wire is disconnected in loopback
    this.rxFrame(frame, false);
  }

  private rxFrame(frame: Uint8Array, looped: boolean): void {
    const r = this.regs;
    if (!(r[I(R.RCTL)] & R.RCTL_EN) || (!this.link && !looped)) { this.counters.rxDisabled++; return; }
    if (frame.length < MIN_ETH) { this.counters.rxRunts++; this.stat(R.RUC); return; }
    const max = r[I(R.RCTL)] & R.RCTL_LPE ? RX_MAX_LONG : RX_MAX_NORMAL;
    if (frame.length > max) { this.counters.rxOversize++; this.stat(R.ROC); return; }
    const verdict = filterFrame(r, frame);
    if (verdict === 'rejected' || verdict === 'vlan-rejected') { this.counters.rxFiltered++; return; }
    // a sending MAC pads to the 64-byte minimum; virtual peers often do not, so pad here
    let f = frame;
    if (f.length < MIN_PADDED) {
      f = new Uint8Array(MIN_PADDED);
      f.set(frame);
    }
    if (this.rxFifo.length === 0 && this.rxToRing(f, verdict)) return;
    this.rxEnqueue(f);
  }

  private fifoCapacity(): number {
    return this.fixedFifoBytes ?? (this.regs[I(R.PBA)] & 0xffff) * 1024;
  }

  private rxEnqueue(f: Uint8Array): void {
    if (this.rxFifoUsed + f.length > this.fifoCapacity()) {
      this.counters.rxMissed++;
      this.stat(R.MPC);
      this.raise(R.ICR_RXO);
      return;
    }
    if (this.rxFifo.length === 0) this.stat(R.RNBC); // the ring ran dry: frames start waiting on chip
    this.rxFifo.push(f.slice());
    this.rxFifoUsed += f.length;
    this.counters.rxQueued++;
  }

  private drainRxFifo(): void {
    while (this.rxFifo.length > 0) {
      const f = this.rxFifo[0];
      if (!(this.regs[I(R.RCTL)] & R.RCTL_EN)) return;
      const verdict = filterFrame(this.regs, f);
      if (verdict === 'rejected' || verdict === 'vlan-rejected') {
        this.counters.rxFiltered++;
      } else if (!this.rxToRing(f, verdict)) {
        return;
      }
      this.rxFifo.shift();
      this.rxFifoUsed -= f.length;
    }
  }

  private clearRxFifo(): void {
    this.rxFifo.length = 0;
    this.rxFifoUsed = 0;
  }

  private bufferSize(): number {
    const rctl = this.regs[I(R.RCTL)];
    const bs = (rctl >>> R.RCTL_BSIZE_SHIFT) & 3;
    if (rctl & R.RCTL_BSEX) return [16384, 16384, 8192, 4096][bs]; // BSEX with 00 is reserved: treat as 16 KiB
    return [2048, 1024, 512, 256][bs];
  }

  /** Write a frame into the receive ring; false when not enough descriptors are free. */
  private rxToRing(frame: Uint8Array, verdict: string): boolean {
    const r = this.regs;
    const count = (r[I(R.RDLEN)] >>> 0) / R.DESC_SIZE;
    const head0 = r[I(R.RDH)];
    const tail = r[I(R.RDT)];
    if (count === 0 || head0 >= count || tail >= count) { if (count !== 0) this.counters.badRing++; return false; }
    if (!this.pci.busMasterEnabled()) { this.counters.dmaBlocked++; return false; }
    let special = 0;
    let status = R.RXD_STAT_IXSM; // no receive checksum offload: tell the driver to verify itself
    let data = frame;
    const vet = r[I(R.VET)] & 0xffff;
    if ((r[I(R.CTRL)] & R.CTRL_VME) && data.length >= 18 && ((data[12] << 8) | data[13]) === vet) {
      special = (data[14] << 8) | data[15];
      status |= R.RXD_STAT_VP;
      const stripped = new Uint8Array(data.length - 4);
      stripped.set(data.subarray(0, 12));
      stripped.set(data.subarray(16), 12);
      data = stripped;
    }
    let total = data.length;
    if (!(r[I(R.RCTL)] & R.RCTL_SECRC)) {
      const withFcs = new Uint8Array(total + 4);
      withFcs.set(data);
      appendFcs(withFcs, total);
      data = withFcs;
      total += 4;
    }
    const bsize = this.bufferSize();
    const needed = Math.ceil(total / bsize);
    const free = (tail - head0 + count) % count;
    if (needed > free) return false;
    const base = this.ringBase(R.RDBAL, R.RDBAH);
    let head = head0;
    const d = this.desc;
    const dv = this.descView;
    for (let off = 0; off < total; off += bsize) {
      const at = base + head * R.DESC_SIZE;
      this.dma.read(at, d);
      const buf = dv.getUint32(4, true) * 0x100000000 + dv.getUint32(0, true);
      const len = Math.min(bsize, total - off);
      this.dma.write(buf, data.subarray(off, off + len));
      const last = off + len >= total;
      dv.setUint16(8, len, true);
      dv.setUint16(10, 0, true); // packet checksum (not computed)
      d[12] = status | R.RXD_STAT_DD | (last ? R.RXD_STAT_EOP : 0);
      d[13] = 0; // errors
      dv.setUint16(14, special, true);
      this.dma.write(at + 8, d.subarray(8, 16));
      head = (head + 1) % count;
    }
    r[I(R.RDH)] = head;
    this.countFrame(RX_STATS, frame.length, verdict);
    this.counters.rxFrames++;
    this.counters.rxBytes += frame.length;
    // interrupts: descriptor minimum threshold, small packet, receive timer
    let causes = 0;
    const freeAfter = (tail - head + count) % count;
    const rdmts = (r[I(R.RCTL)] >>> R.RCTL_RDMTS_SHIFT) & 3;
    const threshold = rdmts === 3 ? 0 : count >>> (1 + rdmts);
    if (freeAfter <= threshold && free > threshold) causes |= R.ICR_RXDMT0;
    const rsrpd = r[I(R.RSRPD)] & 0xfff;
    if (rsrpd && frame.length < rsrpd) causes |= R.ICR_SRPD;
    this.raise(causes);
    this.rxInterrupt();
    return true;
  }

  // ---------------------------------------------------------------- snapshot

  saveState(): unknown {
    const regs: [number, number][] = [];
    for (let i = 0; i < this.regs.length; i++) if (this.regs[i] !== 0) regs.push([i, this.regs[i]]);
    const p = this.tx;
    return {
      version: 1,
      mac: Array.from(this.mac),
      regs,
      link: this.link,
      irqAsserted: this.irqAsserted,
      ioAddr: this.ioAddr,
      pendingRxt0: this.rxt0.pending,
      pendingTxdw: this.txdw.pending,
      ctx: { ...this.ctx },
      tx: { ...p, data: Buffer.from(p.data.subarray(0, p.len)).toString('base64') },
      rxFifo: this.rxFifo.map((f) => Buffer.from(f).toString('base64')),
      pci: this.pci.saveState(),
      eeprom: this.eeprom.saveState(),
      phy: this.phy.saveState(),
    };
  }

  restoreState(state: unknown): void {
    const s = state as Record<string, unknown>;
    if (!s || s.version !== 1 || !Array.isArray(s.regs)) throw new Error(`${this.name}: unsupported saved state`);
    this.regs.fill(0);
    for (const [i, v] of s.regs as [number, number][]) {
      if (!Number.isInteger(i) || i < 0 || i >= this.regs.length) throw new Error(`${this.name}: bad register index ${i} in saved state`);
      this.regs[i] = v;
    }
    this.pci.restoreState(s.pci);
    this.eeprom.restoreState(s.eeprom);
    this.phy.restoreState(s.phy);
    this.link = !!s.link;
    this.ioAddr = Number(s.ioAddr) | 0;
    this.ctx = { ...emptyContext(), ...(s.ctx as TxContext) };
    const t = s.tx as TxPacket & { data: string };
    const data = Buffer.from(t.data ?? '', 'base64');
    this.tx = { ...newTxPacket(), ...t, data: new Uint8Array(Math.max(2048, data.length)), len: data.length };
    this.tx.data.set(data);
    this.clearRxFifo();
    for (const b64 of (s.rxFifo as string[]) ?? []) {
      const f = new Uint8Array(Buffer.from(b64, 'base64'));
      this.rxFifo.push(f);
      this.rxFifoUsed += f.length;
    }
    // delayed interrupts that were pending are delivered now rather than re-armed
    this.rxt0.pending = false;
    this.txdw.pending = false;
    if (s.pendingRxt0) this.regs[I(R.ICR)] |= R.ICR_RXT0;
    if (s.pendingTxdw) this.regs[I(R.ICR)] |= R.ICR_TXDW;
    this.lastAssertNs = -Infinity;
    this.irqAsserted = !!s.irqAsserted;
    this.irq.setLevel(this.irqAsserted);
    this.updateIrq();
  }
}

function isBroadcast(f: Uint8Array): boolean {
  return f[0] === 0xff && f[1] === 0xff && f[2] === 0xff && f[3] === 0xff && f[4] === 0xff && f[5] === 0xff;
}

/** Bytes [byteOff, byteOff+size) of a 32-bit value. */
function sub(v: number, byteOff: number, size: number): number {
  const shifted = v >>> (8 * byteOff);
  return size >= 4 ? shifted >>> 0 : shifted & ((1 << (8 * size)) - 1);
}

/** `old` with bytes [byteOff, byteOff+size) replaced by `value`. */
function merge(old: number, byteOff: number, size: number, value: number): number {
  if (size >= 4 && byteOff === 0) return value >>> 0;
  const mask = (size >= 4 ? 0xffffffff : (1 << (8 * size)) - 1) << (8 * byteOff);
  return ((old & ~mask) | ((value << (8 * byteOff)) & mask)) >>> 0;
}
