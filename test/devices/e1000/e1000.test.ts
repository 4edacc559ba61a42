// Register-level tests of the e1000 model, driving it the way a driver would.

import { describe, expect, it } from 'vitest';
import * as R from '../../../src/devices/e1000/regs.js';
import { E1000 } from '../../../src/devices/e1000/e1000.js';
import { crc32 } from '../../../src/net/ethernet-crc.js';
import { mtaHash } from '../../../src/devices/e1000/rx-filter.js';
import {
  BROADCAST, Harness, ManualTimers, PEER_MAC, RX_BUFS, RX_RING, TEST_MAC, TX_BUFS, ethFrame,
} from './e1000-harness.js';
import { expectBarSizing } from '../pci-bar-sizing.js';

const LEGACY_EOP_RS = R.TXD_CMD_EOP | R.TXD_CMD_RS | R.TXD_CMD_IFCS;

describe('e1000 PCI function', () => {
  it('identifies as 82540EM rev 3 with QEMU subsystem IDs, BAR0 128 KiB MMIO, BAR1 64 B I/O, INTA', () => {
    const h = new Harness();
    const nic = h.nic;
    expect(nic.configRead(0x00)).toBe(0x100e8086);
    expect(nic.configRead(0x08)).toBe(0x02000003);
    expect(nic.configRead(0x2c)).toBe(0x11001af4);
    expect(nic.configRead(0x3c) & 0xffff).toBe(0x010b);
    expectBarSizing(nic, [{ offset: 0x10, base: 0xfeb80000, sizeMask: 0xfffe0000 }, { offset: 0x14, base: 0xc001, sizeMask: 0xffffffc1 }]);
    nic.configWrite(0x10, 0xfeb80000, 0xffffffff);
    nic.configWrite(0x14, 0xc000, 0xffffffff);
    const bars = nic.bars();
    expect(bars.map((b) => [b.index, b.kind, b.base, b.size])).toEqual([[0, 'mmio', 0xfeb80000, 0x20000], [1, 'io', 0xc000, 0x40]]);
    expect(nic.decodesMemory() && nic.decodesIo()).toBe(true);
  });
});

describe('e1000 registers', () => {
  it('resets through the I/O BAR (IOADDR/IODATA) and RST self-clears', () => {
    const h = new Harness();
    h.wr(R.IMS, 0xff);
    h.wr(R.RCTL, R.RCTL_EN);
    const nic = h.nic;
    nic.ioWrite(0xc000, 4, R.CTRL);
    const ctrl = nic.ioRead(0xc004, 4);
    nic.ioWrite(0xc004, 4, ctrl | R.CTRL_RST);
    expect(h.rd(R.CTRL) & R.CTRL_RST).toBe(0);
    expect(h.rd(R.IMS)).toBe(0);
    expect(h.rd(R.RCTL)).toBe(0);
    expect(h.rd(R.RAL0)).toBe(0x0201505a);
    expect(h.rd(R.RAH0)).toBe((TEST_MAC[4] | (TEST_MAC[5] << 8) | R.RAH_AV) >>> 0);
    nic.ioWrite(0xc000, 4, R.STATUS);
    expect(nic.ioRead(0xc004, 4) & R.STATUS_LU).toBe(R.STATUS_LU);
  });

  it('reports 1000 Mb/s full duplex link in STATUS and raises LSC when the cable changes', () => {
    const h = new Harness();
    expect(h.rd(R.STATUS) & 0xc3).toBe(R.STATUS_FD | R.STATUS_LU | R.STATUS_SPEED_1000);
    h.clearAndUnmask(R.ICR_LSC);
    h.backend.plug(false);
    expect(h.rd(R.STATUS) & R.STATUS_LU).toBe(0);
    expect(h.irq.level).toBe(true);
    expect(h.rd(R.ICR) & R.ICR_LSC).toBe(R.ICR_LSC);
    expect(h.irq.level).toBe(false);
    h.backend.plug(true);
    expect(h.rd(R.STATUS) & R.STATUS_LU).toBe(R.STATUS_LU);
    expect(h.rd(R.ICR)).toBe(R.ICR_LSC);
  });

  it('reads the MAC from the EEPROM through EERD, and the checksum word makes the sum 0xBABA', () => {
    const h = new Harness();
    const word = (i: number): number => {
      h.wr(R.EERD, (i << R.EERD_ADDR_SHIFT) | R.EERD_START);
      const v = h.rd(R.EERD);
      expect(v & R.EERD_DONE).toBe(R.EERD_DONE);
      return v >>> 16;
    };
    expect([word(0), word(1), word(2)]).toEqual([0x505a, 0x0201, 0x0403]);
    let sum = 0;
    for (let i = 0; i < 64; i++) sum = (sum + word(i)) & 0xffff;
    expect(sum).toBe(0xbaba);
    expect(word(0x0e)).toBe(0x8086);
    expect(word(0x0d)).toBe(0x100e);
  });

  it('answers the bit-banged Microwire EEPROM protocol the way Linux e1000 drives it', () => {
    const h = new Harness();
    const readWord = (addr: number): number => {
      h.wr(R.EECD, R.EECD_REQ);
      expect(h.rd(R.EECD) & (R.EECD_GNT | R.EECD_PRES)).toBe(R.EECD_GNT | R.EECD_PRES);
      const base = R.EECD_REQ | R.EECD_CS;
      h.wr(R.EECD, base);
      const out = (bits: number, n: number): void => {
        for (let m = 1 << (n - 1); m; m >>>= 1) {
          const di = bits & m ? R.EECD_DI : 0;
          h.wr(R.EECD, base | di);
          h.wr(R.EECD, base | di | R.EECD_SK);
          h.wr(R.EECD, base | di);
        }
      };
      out(0b110, 3); // start bit + READ opcode
      out(addr, 6);
      let v = 0;
      for (let i = 0; i < 16; i++) {
        h.wr(R.EECD, base | R.EECD_SK);
        v = (v << 1) | (h.rd(R.EECD) & R.EECD_DO ? 1 : 0);
        h.wr(R.EECD, base);
      }
      h.wr(R.EECD, R.EECD_REQ); // deselect
      h.wr(R.EECD, 0); // release
      return v;
    };
    expect([readWord(0), readWord(1), readWord(2)]).toEqual([0x505a, 0x0201, 0x0403]);
    let sum = 0;
    for (let i = 0; i < 64; i++) sum = (sum + readWord(i)) & 0xffff;
    expect(sum).toBe(0xbaba);
  });

  it('reads and writes PHY registers through MDIC (M88 PHY ID, link/autoneg bits, bad PHY address errors)', () => {
    const h = new Harness();
    const phyRead = (reg: number, phy = 1): number => {
      h.wr(R.MDIC, (reg << R.MDIC_REG_SHIFT) | (phy << R.MDIC_PHY_SHIFT) | R.MDIC_OP_READ);
      const v = h.rd(R.MDIC);
      expect(v & R.MDIC_READY).toBe(R.MDIC_READY);
      return v;
    };
    expect(phyRead(2) & 0xffff).toBe(0x0141);
    expect(phyRead(3) & 0xfff0).toBe(0x0c20);
    expect(phyRead(1) & 0x24).toBe(0x24); // link status + autoneg complete
    expect(phyRead(0x11) & 0xc400).toBe(0x8400); // M88 specific status: 1000 Mb/s, link
    expect(phyRead(2, 2) & R.MDIC_ERROR).toBe(R.MDIC_ERROR);
    // write: restart autonegotiation self-clears, advertisement register keeps the value
    h.wr(R.MDIC, (4 << R.MDIC_REG_SHIFT) | (1 << R.MDIC_PHY_SHIFT) | R.MDIC_OP_WRITE | 0x01e1);
    expect(phyRead(4) & 0xffff).toBe(0x01e1);
    h.wr(R.MDIC, (0 << R.MDIC_REG_SHIFT) | (1 << R.MDIC_PHY_SHIFT) | R.MDIC_OP_WRITE | 0x1340);
    expect(phyRead(0) & 0x0200).toBe(0);
    h.backend.plug(false);
    expect(phyRead(1) & 0x24).toBe(0);
    // MDIC interrupt-on-completion raises MDAC
    h.rd(R.ICR);
    h.wr(R.MDIC, (2 << R.MDIC_REG_SHIFT) | (1 << R.MDIC_PHY_SHIFT) | R.MDIC_OP_READ | R.MDIC_INT_EN);
    expect(h.rd(R.ICR) & R.ICR_MDAC).toBe(R.ICR_MDAC);
  });

  it('raises and clears the interrupt line per ICR & IMS (ICS sets, IMC masks, ICR read clears)', () => {
    const h = new Harness();
    h.rd(R.ICR);
    h.wr(R.ICS, R.ICR_RXT0);
    expect(h.irq.level).toBe(false); // masked
    h.wr(R.IMS, R.ICR_RXT0 | R.ICR_TXDW);
    expect(h.irq.level).toBe(true);
    expect(h.nic.configRead(0x04) >>> 16 & 0x8).toBe(0x8); // PCI status INTx bit
    h.wr(R.IMC, R.ICR_RXT0);
    expect(h.irq.level).toBe(false);
    expect(h.rd(R.IMS)).toBe(R.ICR_TXDW);
    h.wr(R.IMS, R.ICR_RXT0);
    expect(h.irq.level).toBe(true);
    expect(h.rd(R.ICR)).toBe(R.ICR_RXT0);
    expect(h.irq.level).toBe(false);
    expect(h.rd(R.ICR)).toBe(0);
    // PCI INTx disable keeps the line low
    h.nic.configWrite(0x04, 0x0407, 0xffff);
    h.wr(R.ICS, R.ICR_RXT0);
    expect(h.irq.level).toBe(false);
    h.nic.configWrite(0x04, 0x0007, 0xffff);
    expect(h.irq.level).toBe(true);
  });

  it('throttles interrupts per ITR when a timer service is present', () => {
    const timers = new ManualTimers();
    const h = new Harness({ timers });
    h.rd(R.ICR);
    h.wr(R.ITR, 1000); // 256 us between interrupts
    h.wr(R.IMS, R.ICR_RXT0);
    h.wr(R.ICS, R.ICR_RXT0);
    expect(h.irq.level).toBe(true);
    h.rd(R.ICR);
    timers.advance(10_000);
    h.wr(R.ICS, R.ICR_RXT0);
    expect(h.irq.level).toBe(false);
    timers.advance(256_000);
    expect(h.irq.level).toBe(true);
    expect(h.irq.edges).toBe(2);
  });

  it('statistics registers clear on read; unknown offsets read 0 and are counted, never crash', () => {
    const h = new Harness();
    h.setupRx();
    h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 100));
    expect(h.rd(R.GPRC)).toBe(1);
    expect(h.rd(R.GPRC)).toBe(0);
    expect(h.rd(R.GORCL)).toBe(118);
    expect(h.rd(R.TPR)).toBe(1);
    expect(h.rd(R.PRC127)).toBe(1);
    expect(h.rd(0x1f000)).toBe(0);
    h.wr(0x1f000, 5);
    expect(h.nic.counters.unknownAccesses).toBeGreaterThan(0);
    // odd-sized accesses work
    h.wr(R.RDTR, 0x12345);
    expect(h.nic.mmioRead(R.RDTR, 2)).toBe(0x2345);
    expect(h.nic.mmioRead(R.RDTR + 1, 1)).toBe(0x23);
    h.nic.mmioWrite(R.RDTR + 1, 1, 0x77);
    expect(h.rd(R.RDTR)).toBe(0x7745);
  });
});

describe('e1000 transmit', () => {
  it('sends two frames (one split over two descriptors), writes back DD, advances TDH, raises TXDW/TXQE', () => {
    const h = new Harness();
    h.clearAndUnmask(R.ICR_TXDW);
    h.setupTx(8);
    const a = ethFrame(PEER_MAC, TEST_MAC, 100);
    const b = ethFrame(BROADCAST, TEST_MAC, 1500);
    const d0 = h.putLegacyTx(TX_BUFS, a, LEGACY_EOP_RS);
    const d1 = h.putLegacyTx(TX_BUFS + 0x1000, b.subarray(0, 700), R.TXD_CMD_IFCS);
    const d2 = h.putLegacyTx(TX_BUFS + 0x2000, b.subarray(700), LEGACY_EOP_RS);
    h.kickTx();
    expect(h.backend.sentFrames).toHaveLength(2);
    expect(h.backend.sentFrames[0]).toEqual(a);
    expect(h.backend.sentFrames[1]).toEqual(b);
    expect(h.txStatus(d0) & R.TXD_STAT_DD).toBe(1);
    expect(h.txStatus(d1) & R.TXD_STAT_DD).toBe(0); // no RS: no write-back
    expect(h.txStatus(d2) & R.TXD_STAT_DD).toBe(1);
    expect(h.rd(R.TDH)).toBe(3);
    expect(h.irq.level).toBe(true);
    expect(h.rd(R.ICR) & (R.ICR_TXDW | R.ICR_TXQE)).toBe(R.ICR_TXDW | R.ICR_TXQE);
    expect(h.irq.level).toBe(false);
    expect(h.rd(R.GPTC)).toBe(2);
    expect(h.rd(R.TPT)).toBe(2);
    expect(h.rd(R.BPTC)).toBe(1);
    expect(h.rd(R.GOTCL)).toBe(118 + 1518);
  });

  it('does nothing until TCTL.EN, then catches up; wraps around the ring', () => {
    const h = new Harness();
    h.setupTx(8, 0);
    h.wr(R.TCTL, 0);
    for (let i = 0; i < 6; i++) h.putLegacyTx(TX_BUFS + i * 0x800, ethFrame(PEER_MAC, TEST_MAC, 50 + i), LEGACY_EOP_RS);
    h.kickTx();
    expect(h.backend.sentFrames).toHaveLength(0);
    h.wr(R.TCTL, R.TCTL_EN);
    expect(h.backend.sentFrames).toHaveLength(6);
    for (let i = 0; i < 5; i++) h.putLegacyTx(TX_BUFS + i * 0x800, ethFrame(PEER_MAC, TEST_MAC, 60 + i), LEGACY_EOP_RS);
    h.kickTx();
    expect(h.backend.sentFrames).toHaveLength(11);
    expect(h.rd(R.TDH)).toBe(3);
    expect(h.backend.sentFrames[10].length).toBe(14 + 64);
    // a ring length that is not a multiple of 128 bytes reads back rounded down
    h.wr(R.TDLEN, 4 * 16);
    expect(h.rd(R.TDLEN)).toBe(0);
  });

  it('pads short frames to 60 bytes only with TCTL.PSP, and drops (counts) frames under 14 bytes', () => {
    const h = new Harness();
    h.setupTx(8, R.TCTL_PSP);
    h.putLegacyTx(TX_BUFS, ethFrame(PEER_MAC, TEST_MAC, 10), LEGACY_EOP_RS);
    h.putLegacyTx(TX_BUFS + 0x100, new Uint8Array(8).fill(1), LEGACY_EOP_RS);
    h.kickTx();
    expect(h.backend.sentFrames.map((f) => f.length)).toEqual([60]);
    expect(h.nic.counters.txRunts).toBe(1);
    h.wr(R.TCTL, R.TCTL_EN);
    h.putLegacyTx(TX_BUFS, ethFrame(PEER_MAC, TEST_MAC, 10), LEGACY_EOP_RS);
    h.kickTx();
    expect(h.backend.sentFrames[1].length).toBe(24);
  });

  it('inserts IP and UDP checksums from a context descriptor (checksum offload)', () => {
    const h = new Harness();
    h.setupTx(8);
    const pkt = udpPacket(300);
    // the driver seeds the UDP checksum with the pseudo-header sum (length included)
    const seed = pseudoSum(pkt, 14, 17, 8 + 300);
    pkt[14 + 20 + 6] = seed >>> 8; pkt[14 + 20 + 7] = seed & 0xff;
    h.putRawTx(contextDesc({ ipcss: 14, ipcso: 24, ipcse: 33, tucss: 34, tucso: 40, tucse: 0, tucmd: R.TUCMD_IP, paylen: 0, hdrlen: 0, mss: 0 }));
    h.putRawTx(dataDesc(TX_BUFS, pkt.length, R.TXD_CMD_EOP | R.TXD_CMD_RS, R.POPTS_IXSM | R.POPTS_TXSM));
    h.mem.set(pkt, TX_BUFS);
    h.kickTx();
    const out = h.backend.sentFrames[0];
    expect(ipChecksumOk(out, 14)).toBe(true);
    expect(l4ChecksumOk(out, 14, 17)).toBe(true);
  });

  it('segments a TSO packet into MSS-sized TCP segments with fixed-up headers and checksums', () => {
    const h = new Harness();
    h.setupTx(8);
    const payload = 3500;
    const pkt = tcpPacket(payload, 1000, 0x1234);
    // TSO seed: pseudo-header without the length; IP total length and checksum zeroed
    const seed = pseudoSum(pkt, 14, 6, 0);
    pkt[14 + 20 + 16] = seed >>> 8; pkt[14 + 20 + 17] = seed & 0xff;
    pkt[16] = 0; pkt[17] = 0;
    const hdrlen = 14 + 20 + 20;
    h.putRawTx(contextDesc({ ipcss: 14, ipcso: 24, ipcse: 33, tucss: 34, tucso: 50, tucse: 0, tucmd: R.TUCMD_IP | R.TUCMD_TCP | R.TUCMD_TSE, paylen: payload, hdrlen, mss: 1000 }));
    h.mem.set(pkt.subarray(0, 1000), TX_BUFS);
    h.mem.set(pkt.subarray(1000), TX_BUFS + 0x1000);
    h.putRawTx(dataDesc(TX_BUFS, 1000, R.TXD_CMD_TSE, R.POPTS_IXSM | R.POPTS_TXSM));
    h.putRawTx(dataDesc(TX_BUFS + 0x1000, pkt.length - 1000, R.TXD_CMD_TSE | R.TXD_CMD_EOP | R.TXD_CMD_RS, 0));
    h.kickTx();
    const segs = h.backend.sentFrames;
    expect(segs.map((s) => s.length)).toEqual([hdrlen + 1000, hdrlen + 1000, hdrlen + 1000, hdrlen + 500]);
    let expected = 0;
    segs.forEach((s, i) => {
      expect((s[16] << 8) | s[17]).toBe(s.length - 14);
      expect((s[18] << 8) | s[19]).toBe(0x1234 + i);
      expect(ipChecksumOk(s, 14)).toBe(true);
      expect(l4ChecksumOk(s, 14, 6)).toBe(true);
      const seq = ((s[38] << 24) | (s[39] << 16) | (s[40] << 8) | s[41]) >>> 0;
      expect(seq).toBe((1000 + expected) >>> 0);
      const flags = s[47];
      expect(flags & 0x09).toBe(i === segs.length - 1 ? 0x09 : 0); // FIN|PSH only on the last
      expect(s.subarray(hdrlen)).toEqual(pkt.subarray(hdrlen + expected, hdrlen + expected + s.length - hdrlen));
      expected += s.length - hdrlen;
    });
    expect(h.nic.counters.txTsoSegments).toBe(4);
  });

  it('survives garbage descriptors, rings outside RAM and absurd lengths', () => {
    const h = new Harness();
    h.setupTx(8);
    const junk = new Uint8Array(16);
    for (let k = 0; k < 7; k++) {
      for (let i = 0; i < 16; i++) junk[i] = (k * 37 + i * 11) & 0xff;
      junk[11] |= R.TXD_CMD_EOP;
      h.putRawTx(junk);
    }
    h.kickTx();
    expect(h.rd(R.TDH)).toBe(7);
    h.wr(R.TDBAL, 0xfe000000); // MMIO, not RAM
    h.wr(R.TDT, 0);
    h.wr(R.TDH, 99); // beyond the ring
    h.wr(R.TDT, 3);
    expect(h.nic.counters.badRing).toBeGreaterThan(0);
  });
});

/** a NIC receiving into an 8-descriptor ring, its receive interrupt (RXT0) clear and unmasked */
function receivingHarness(): Harness {
  const h = new Harness();
  h.clearAndUnmask(R.ICR_RXT0);
  h.setupRx(8);
  return h;
}

describe('e1000 receive', () => {
  it('writes a frame into the ring with DD/EOP, the FCS-inclusive length (SECRC off), and raises RXT0', () => {
    const h = receivingHarness();
    const f = ethFrame(TEST_MAC, PEER_MAC, 200);
    h.backend.inject(f);
    const d = h.rxDesc(0);
    expect(d.status & (R.RXD_STAT_DD | R.RXD_STAT_EOP)).toBe(R.RXD_STAT_DD | R.RXD_STAT_EOP);
    expect(d.len).toBe(f.length + 4);
    expect(d.data.subarray(0, f.length)).toEqual(f);
    const fcs = crc32(f);
    expect(d.data[f.length] | (d.data[f.length + 1] << 8) | (d.data[f.length + 2] << 16) | (d.data[f.length + 3] << 24)).toBe(fcs | 0);
    expect(h.rd(R.RDH)).toBe(1);
    expect(h.irq.level).toBe(true);
    expect(h.rd(R.ICR) & R.ICR_RXT0).toBe(R.ICR_RXT0);
    // with SECRC the length is the frame's own; short frames are padded to 60
    h.wr(R.RCTL, R.RCTL_EN | R.RCTL_SECRC);
    h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 28));
    expect(h.rxDesc(1).len).toBe(60);
  });

  it('spreads a large frame over several small buffers, EOP only on the last', () => {
    const h = new Harness();
    h.setupRx(8, R.RCTL_EN | R.RCTL_SECRC | (3 << R.RCTL_BSIZE_SHIFT), 7, 256);
    const f = ethFrame(TEST_MAC, PEER_MAC, 586); // 600 bytes
    h.backend.inject(f);
    const parts = [h.rxDesc(0), h.rxDesc(1), h.rxDesc(2)];
    expect(parts.map((p) => p.len)).toEqual([256, 256, 88]);
    expect(parts.map((p) => p.status & (R.RXD_STAT_DD | R.RXD_STAT_EOP))).toEqual([1, 1, 3]);
    const joined = new Uint8Array(600);
    let o = 0;
    for (const p of parts) { joined.set(p.data, o); o += p.len; }
    expect(joined).toEqual(f);
    expect(h.rd(R.RDH)).toBe(3);
  });

  it('filters: own unicast yes, other unicast no, broadcast per BAM, multicast per MTA hash or MPE, all with UPE', () => {
    const h = new Harness();
    h.setupRx(16, R.RCTL_EN | R.RCTL_SECRC, 15);
    const other = Uint8Array.of(0x5a, 0x50, 9, 9, 9, 9);
    const mcast = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb);
    h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 50));
    h.backend.inject(ethFrame(other, PEER_MAC, 50));
    h.backend.inject(ethFrame(BROADCAST, PEER_MAC, 50));
    h.backend.inject(ethFrame(mcast, PEER_MAC, 50));
    expect(h.rd(R.RDH)).toBe(1);
    h.wr(R.RCTL, R.RCTL_EN | R.RCTL_SECRC | R.RCTL_BAM);
    h.backend.inject(ethFrame(BROADCAST, PEER_MAC, 50));
    expect(h.rd(R.RDH)).toBe(2);
    const hash = mtaHash(mcast, 0);
    h.wr(R.MTA + 4 * (hash >>> 5), 1 << (hash & 31));
    h.backend.inject(ethFrame(mcast, PEER_MAC, 50));
    expect(h.rd(R.RDH)).toBe(3);
    h.backend.inject(ethFrame(Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0xfc), PEER_MAC, 50));
    expect(h.rd(R.RDH)).toBe(3);
    h.wr(R.RCTL, R.RCTL_EN | R.RCTL_SECRC | R.RCTL_MPE);
    h.backend.inject(ethFrame(Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0xfc), PEER_MAC, 50));
    expect(h.rd(R.RDH)).toBe(4);
    h.wr(R.RCTL, R.RCTL_EN | R.RCTL_SECRC | R.RCTL_UPE);
    h.backend.inject(ethFrame(other, PEER_MAC, 50));
    expect(h.rd(R.RDH)).toBe(5);
    // an extra exact-match address in RAL1/RAH1
    h.wr(R.RCTL, R.RCTL_EN | R.RCTL_SECRC);
    h.wr(R.RAL0 + 8, (other[0] | (other[1] << 8) | (other[2] << 16) | (other[3] << 24)) >>> 0);
    h.wr(R.RAH0 + 8, (other[4] | (other[5] << 8) | R.RAH_AV) >>> 0);
    h.backend.inject(ethFrame(other, PEER_MAC, 50));
    expect(h.rd(R.RDH)).toBe(6);
    expect(h.rd(R.BPRC)).toBe(1);
    expect(h.rd(R.MPRC)).toBe(2);
    expect(h.nic.counters.rxFiltered).toBe(4);
  });

  it('drops and counts runts (RUC) and oversize frames (ROC); LPE admits long frames', () => {
    const h = new Harness();
    h.setupRx(8, R.RCTL_EN | R.RCTL_SECRC | (1 << R.RCTL_BSIZE_SHIFT) | R.RCTL_BSEX, 7, 16384);
    h.nic.receive(new Uint8Array(10));
    h.nic.receive(ethFrame(TEST_MAC, PEER_MAC, 1505)); // 1519 bytes
    h.nic.receive(ethFrame(TEST_MAC, PEER_MAC, 1504)); // 1518 bytes: fine
    expect(h.rd(R.RUC)).toBe(1);
    expect(h.rd(R.ROC)).toBe(1);
    expect(h.rd(R.RDH)).toBe(1);
    h.wr(R.RCTL, h.rd(R.RCTL) | R.RCTL_LPE);
    h.nic.receive(ethFrame(TEST_MAC, PEER_MAC, 9000));
    h.nic.receive(ethFrame(TEST_MAC, PEER_MAC, 16380));
    expect(h.rd(R.RDH)).toBe(2);
    expect(h.rd(R.ROC)).toBe(1);
  });

  it('full ring: frames wait in the on-chip FIFO (RNBC) and beyond it are dropped (MPC, RXO); RDT drains', () => {
    const h = new Harness({ rxFifoBytes: 3 * 1000 });
    h.rd(R.ICR);
    h.setupRx(8, R.RCTL_EN | R.RCTL_SECRC, 3);
    for (let i = 0; i < 8; i++) h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 986, 0x8800 + i));
    expect(h.rd(R.RDH)).toBe(3); // 3 descriptors given to hardware
    expect(h.rd(R.RNBC)).toBe(1);
    expect(h.rd(R.MPC)).toBe(2); // 3 queued of 5 surplus
    expect(h.rd(R.ICR) & R.ICR_RXO).toBe(R.ICR_RXO);
    // the driver returns buffers: queued frames land in order
    h.wr(R.RDT, 7);
    expect(h.rd(R.RDH)).toBe(6);
    expect([3, 4, 5].map((i) => h.rxDesc(i).data[13])).toEqual([3, 4, 5]);
    expect(h.nic.counters.rxMissed).toBe(2);
  });

  it('with no FIFO a full ring drops at once and never blocks', () => {
    const h = new Harness({ rxFifoBytes: 0 });
    h.setupRx(8, R.RCTL_EN, 1);
    for (let i = 0; i < 100; i++) h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 100));
    expect(h.rd(R.TPR)).toBe(1);
    expect(h.rd(R.MPC)).toBe(99);
    expect(h.rd(R.RNBC)).toBe(0);
  });

  it('raises RXDMT0 when free descriptors fall to the RDMTS threshold', () => {
    const h = new Harness();
    h.rd(R.ICR);
    h.setupRx(8, R.RCTL_EN, 7);
    for (let i = 0; i < 2; i++) h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 60));
    expect(h.rd(R.ICR) & R.ICR_RXDMT0).toBe(0);
    h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 60)); // 4 free of 8: half (RDMTS 0)
    expect(h.rd(R.ICR) & R.ICR_RXDMT0).toBe(R.ICR_RXDMT0);
  });

  it('delays RXT0 by RDTR and caps it with RADV', () => {
    const timers = new ManualTimers();
    const h = new Harness({ timers });
    h.clearAndUnmask(R.ICR_RXT0);
    h.setupRx(8);
    h.wr(R.RDTR, 100); // 102.4 us
    h.wr(R.RADV, 150);
    h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 60));
    expect(h.irq.level).toBe(false);
    timers.advance(80_000);
    h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 60)); // restarts RDTR
    timers.advance(80_000);
    expect(h.irq.level).toBe(true); // RADV (153.6 us) fired before the restarted RDTR
    expect(h.rd(R.ICR) & R.ICR_RXT0).toBe(R.ICR_RXT0);
  });

  it('strips and inserts 802.1Q tags with CTRL.VME and filters VLAN IDs with RCTL.VFE', () => {
    const h = new Harness();
    h.wr(R.CTRL, h.rd(R.CTRL) | R.CTRL_VME);
    h.setupRx(8, R.RCTL_EN | R.RCTL_SECRC | R.RCTL_VFE);
    const tagged = ethFrame(TEST_MAC, PEER_MAC, 100, 0x8100);
    tagged[14] = 0x00; tagged[15] = 0x05; tagged[16] = 0x08; tagged[17] = 0x00;
    h.backend.inject(tagged);
    expect(h.rd(R.RDH)).toBe(0); // VLAN 5 not in VFTA
    h.wr(R.VFTA, 1 << 5);
    h.backend.inject(tagged);
    const d = h.rxDesc(0);
    expect(d.status & R.RXD_STAT_VP).toBe(R.RXD_STAT_VP);
    expect(d.special).toBe(5);
    expect(d.len).toBe(tagged.length - 4);
    expect((d.data[12] << 8) | d.data[13]).toBe(0x0800);
    h.setupTx(8);
    const plain = ethFrame(PEER_MAC, TEST_MAC, 100);
    h.putLegacyTx(TX_BUFS, plain, LEGACY_EOP_RS | R.TXD_CMD_VLE);
    h.view.setUint16(0x10000 + 14, 7, true);
    h.kickTx();
    const out = h.backend.sentFrames[0];
    expect(out.length).toBe(plain.length + 4);
    expect([out[12], out[13], out[14], out[15]]).toEqual([0x81, 0x00, 0x00, 0x07]);
  });

  it('drops frames while the receiver is disabled or the link is down', () => {
    const h = new Harness();
    h.setupRx(8, 0);
    h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 60));
    h.wr(R.RCTL, R.RCTL_EN);
    h.backend.plug(false);
    h.nic.receive(ethFrame(TEST_MAC, PEER_MAC, 60));
    expect(h.rd(R.RDH)).toBe(0);
    expect(h.nic.counters.rxDisabled).toBe(2);
  });
});

describe('e1000 loopback', () => {
  it('MAC loopback (RCTL.LBM) and PHY loopback (BMCR bit 14) turn transmitted frames into received ones', () => {
    const h = new Harness();
    h.setupRx(8, R.RCTL_EN | R.RCTL_SECRC | (1 << 6));
    h.setupTx(8);
    const f = ethFrame(TEST_MAC, TEST_MAC, 100);
    h.putLegacyTx(TX_BUFS, f, LEGACY_EOP_RS);
    h.kickTx();
    expect(h.backend.sentFrames).toHaveLength(0);
    expect(h.rxDesc(0).data).toEqual(f);
    h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 60)); // the wire is not heard in loopback
    expect(h.rd(R.RDH)).toBe(1);
    h.wr(R.RCTL, R.RCTL_EN | R.RCTL_SECRC);
    h.wr(R.MDIC, (0 << R.MDIC_REG_SHIFT) | (1 << R.MDIC_PHY_SHIFT) | R.MDIC_OP_WRITE | 0x4140);
    h.putLegacyTx(TX_BUFS, f, LEGACY_EOP_RS);
    h.kickTx();
    expect(h.rd(R.RDH)).toBe(2);
    expect(h.nic.counters.txLoopback).toBe(2);
  });
});

describe('e1000 snapshot', () => {
  it('saves and restores registers, rings, EEPROM/PHY and the interrupt state', () => {
    const h = receivingHarness();
    h.setupTx(8);
    h.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 100));
    const state = JSON.parse(JSON.stringify(h.nic.saveState()));
    expect(h.irq.level).toBe(true);
    // a fresh device on the same RAM continues where the first stopped
    const h2 = new Harness();
    h2.mem.set(h.mem);
    h2.nic.restoreState(state);
    expect(h2.irq.level).toBe(true);
    expect(h2.rd(R.RDH)).toBe(1);
    h2.backend.inject(ethFrame(TEST_MAC, PEER_MAC, 100));
    expect(h2.rd(R.RDH)).toBe(2);
    expect(h2.rxDesc(1).status & 3).toBe(3);
    expect(h2.rd(R.ICR) & R.ICR_RXT0).toBe(R.ICR_RXT0);
    expect(() => h2.nic.restoreState({ version: 99 })).toThrow(/unsupported/);
    expect(RX_RING).toBeGreaterThan(0);
    expect(RX_BUFS).toBeGreaterThan(0);
  });

  it('a new E1000 must get a 6-byte MAC', () => {
    const h = new Harness();
    expect(() => new E1000({ mac: new Uint8Array(5), dma: h.dma, irq: h.irq })).toThrow(/MAC/);
  });
});

// ---------------------------------------------------------------- packet helpers (independent of the model)

function contextDesc(c: { ipcss: number; ipcso: number; ipcse: number; tucss: number; tucso: number; tucse: number; tucmd: number; paylen: number; hdrlen: number; mss: number }): Uint8Array {
  const d = new Uint8Array(16);
  const v = new DataView(d.buffer);
  d[0] = c.ipcss; d[1] = c.ipcso; v.setUint16(2, c.ipcse, true);
  d[4] = c.tucss; d[5] = c.tucso; v.setUint16(6, c.tucse, true);
  v.setUint32(8, ((c.tucmd | R.TXD_CMD_DEXT) << 24 | (R.DTYP_CONTEXT << 20) | c.paylen) >>> 0, true);
  d[13] = c.hdrlen;
  v.setUint16(14, c.mss, true);
  return d;
}

function dataDesc(addr: number, len: number, dcmd: number, popts: number): Uint8Array {
  const d = new Uint8Array(16);
  const v = new DataView(d.buffer);
  v.setBigUint64(0, BigInt(addr), true);
  v.setUint32(8, ((dcmd | R.TXD_CMD_DEXT) << 24 | (R.DTYP_DATA << 20) | len) >>> 0, true);
  d[13] = popts;
  return d;
}

function ipv4Header(pkt: Uint8Array, proto: number, totalLen: number, id: number): void {
  const ip = 14;
  pkt[12] = 0x08; pkt[13] = 0x00;
  pkt.fill(0, ip, ip + 20);
  pkt[ip] = 0x45;
  pkt[ip + 2] = totalLen >>> 8; pkt[ip + 3] = totalLen & 0xff;
  pkt[ip + 4] = id >>> 8; pkt[ip + 5] = id & 0xff;
  pkt[ip + 8] = 64;
  pkt[ip + 9] = proto;
  pkt.set([10, 0, 0, 1], ip + 12);
  pkt.set([10, 0, 0, 2], ip + 16);
}

function udpPacket(payload: number): Uint8Array {
  const pkt = ethFrame(PEER_MAC, TEST_MAC, 20 + 8 + payload);
  ipv4Header(pkt, 17, 20 + 8 + payload, 7);
  const u = 34;
  pkt[u] = 0x12; pkt[u + 1] = 0x34; pkt[u + 2] = 0x00; pkt[u + 3] = 0x35;
  pkt[u + 4] = (8 + payload) >>> 8; pkt[u + 5] = (8 + payload) & 0xff;
  pkt[u + 6] = 0; pkt[u + 7] = 0;
  return pkt;
}

function tcpPacket(payload: number, seq: number, id: number): Uint8Array {
  const pkt = ethFrame(PEER_MAC, TEST_MAC, 20 + 20 + payload);
  ipv4Header(pkt, 6, 20 + 20 + payload, id);
  const t = 34;
  pkt[t] = 0x04; pkt[t + 1] = 0xd2; pkt[t + 2] = 0x00; pkt[t + 3] = 0x50;
  pkt[t + 4] = seq >>> 24; pkt[t + 5] = (seq >>> 16) & 0xff; pkt[t + 6] = (seq >>> 8) & 0xff; pkt[t + 7] = seq & 0xff;
  pkt[t + 12] = 5 << 4;
  pkt[t + 13] = 0x18 | 0x01; // ACK|PSH|FIN
  pkt[t + 14] = 0xff; pkt[t + 15] = 0xff;
  pkt[t + 16] = 0; pkt[t + 17] = 0;
  return pkt;
}

function sum16(b: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) s += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Folded (not complemented) pseudo-header sum; l4len 0 leaves the length out (TSO seed). */
function pseudoSum(pkt: Uint8Array, ip: number, proto: number, l4len: number): number {
  return fold(sum16(pkt, ip + 12, ip + 20) + proto + l4len);
}

function ipChecksumOk(pkt: Uint8Array, ip: number): boolean {
  return fold(sum16(pkt, ip, ip + 20)) === 0xffff;
}

function l4ChecksumOk(pkt: Uint8Array, ip: number, proto: number): boolean {
  const total = (pkt[ip + 2] << 8) | pkt[ip + 3];
  const l4len = total - 20;
  return fold(sum16(pkt, ip + 20, ip + 20 + l4len) + pseudoSum(pkt, ip, proto, l4len)) === 0xffff;
}
