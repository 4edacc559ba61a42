// The 82540EM's integrated copper PHY (Marvell 88E1011-compatible) behind MDIC. Only PHY
// address 1 answers. Auto-negotiation completes instantly at 1000 Mb/s full duplex whenever
// the link ("cable") is up; reset and restart-autoneg bits clear themselves.

export const PHY_ADDRESS = 1;
export const PHY_BMCR = 0x00;
export const PHY_BMSR = 0x01;
export const PHY_ID1 = 0x02;
export const PHY_ID2 = 0x03;
export const PHY_ANAR = 0x04;
export const PHY_ANLPAR = 0x05;
export const PHY_ANER = 0x06;
export const PHY_1000T_CTRL = 0x09;
export const PHY_1000T_STATUS = 0x0a;
export const PHY_EXT_STATUS = 0x0f;
export const M88_SPEC_CTRL = 0x10;
export const M88_SPEC_STATUS = 0x11;
export const M88_INT_ENABLE = 0x12;
export const M88_INT_STATUS = 0x13;
export const M88_EXT_SPEC_CTRL = 0x14;
export const M88_RX_ERR_CNTR = 0x15;

/** Marvell OUI-based identifier the Linux e1000 driver expects for an 82540 (0x01410C2x). */
export const M88E1011_ID1 = 0x0141;
export const M88E1011_ID2 = 0x0c20;

const BMCR_RESET = 1 << 15;
const BMCR_LOOPBACK = 1 << 14;
const BMCR_ANRESTART = 1 << 9;
const BMCR_DEFAULT = 0x1140; // autoneg enabled, full duplex, 1000 Mb/s
const BMSR_LINK = 1 << 2;
const BMSR_AN_COMPLETE = 1 << 5;
const BMSR_BASE = 0x7949; // 10/100 half+full, extended status, preamble suppression, AN ability, ext caps
const ANLPAR_UP = 0x45e1; // partner: 10/100 half+full, pause, acknowledge
const T1000_STATUS_UP = 0x3c00; // local/remote receiver OK, partner 1000 half+full
const SPEC_STATUS_UP = 0xac00; // 1000 Mb/s, full duplex, resolved, link

const READ_ONLY = new Set([PHY_BMSR, PHY_ID1, PHY_ID2, PHY_ANLPAR, PHY_ANER, PHY_1000T_STATUS, PHY_EXT_STATUS, M88_SPEC_STATUS, M88_INT_STATUS, M88_RX_ERR_CNTR]);

export class E1000Phy {
  readonly regs = new Uint16Array(32);
  private linkUp = true;

  constructor(linkUp = true) {
    this.linkUp = linkUp;
    this.reset();
  }

  reset(): void {
    this.regs.fill(0);
    this.regs[PHY_BMCR] = BMCR_DEFAULT;
    this.regs[PHY_ID1] = M88E1011_ID1;
    this.regs[PHY_ID2] = M88E1011_ID2;
    this.regs[PHY_ANAR] = 0x0de1;
    this.regs[PHY_1000T_CTRL] = 0x0e00;
    this.regs[PHY_EXT_STATUS] = 0x3000;
    this.regs[M88_SPEC_CTRL] = 0x0068;
    this.regs[M88_EXT_SPEC_CTRL] = 0x0d60;
    this.updateLinkBits();
  }

  /** BMCR loopback: the MAC's transmissions come straight back (used by driver self-tests). */
  loopback(): boolean {
    return (this.regs[PHY_BMCR] & BMCR_LOOPBACK) !== 0;
  }

  setLink(up: boolean): void {
    this.linkUp = up;
    this.updateLinkBits();
  }

  private updateLinkBits(): void {
    const up = this.linkUp;
    this.regs[PHY_BMSR] = BMSR_BASE | (up ? BMSR_LINK | BMSR_AN_COMPLETE : 0);
    this.regs[PHY_ANLPAR] = up ? ANLPAR_UP : 0;
    this.regs[PHY_ANER] = up ? 1 : 0;
    this.regs[PHY_1000T_STATUS] = up ? T1000_STATUS_UP : 0;
    this.regs[M88_SPEC_STATUS] = up ? SPEC_STATUS_UP : 0;
  }

  read(reg: number): number {
    return this.regs[reg & 31];
  }

  write(reg: number, value: number): void {
    reg &= 31;
    value &= 0xffff;
    if (READ_ONLY.has(reg)) return;
    if (reg === PHY_BMCR) {
      if (value & BMCR_RESET) { this.reset(); return; }
      this.regs[PHY_BMCR] = value & ~BMCR_ANRESTART; // negotiation completes at once
      this.updateLinkBits();
      return;
    }
    this.regs[reg] = value;
  }

  saveState(): unknown {
    return { regs: Array.from(this.regs), linkUp: this.linkUp };
  }

  restoreState(state: unknown): void {
    const s = state as { regs?: number[]; linkUp?: boolean };
    if (!s || !Array.isArray(s.regs) || s.regs.length !== 32) throw new Error('e1000: bad saved PHY state');
    this.regs.set(s.regs);
    this.linkUp = !!s.linkUp;
  }
}
