// Register offsets and bit fields of the Intel 82540EM (8254x family Software Developer's
// Manual, chapter 13). Offsets are byte offsets into BAR0; every register is 32 bits wide.

// ---- general ----
export const CTRL = 0x0000;
export const STATUS = 0x0008;
export const EECD = 0x0010;
export const EERD = 0x0014;
export const CTRL_EXT = 0x0018;
export const FLA = 0x001c;
export const MDIC = 0x0020;
export const FCAL = 0x0028;
export const FCAH = 0x002c;
export const FCT = 0x0030;
export const VET = 0x0038;
export const ICR = 0x00c0;
export const ITR = 0x00c4;
export const ICS = 0x00c8;
export const IMS = 0x00d0;
export const IMC = 0x00d8;
export const RCTL = 0x0100;
export const FCTTV = 0x0170;
export const TXCW = 0x0178;
export const RXCW = 0x0180;
export const TCTL = 0x0400;
export const TIPG = 0x0410;
export const AIT = 0x0458;
export const LEDCTL = 0x0e00;
export const PBA = 0x1000;
export const FCRTL = 0x2160;
export const FCRTH = 0x2168;
// ---- receive ring ----
export const RDBAL = 0x2800;
export const RDBAH = 0x2804;
export const RDLEN = 0x2808;
export const RDH = 0x2810;
export const RDT = 0x2818;
export const RDTR = 0x2820;
export const RXDCTL = 0x2828;
export const RADV = 0x282c;
export const RSRPD = 0x2c00;
// ---- transmit ring ----
export const TXDMAC = 0x3000;
export const TDBAL = 0x3800;
export const TDBAH = 0x3804;
export const TDLEN = 0x3808;
export const TDH = 0x3810;
export const TDT = 0x3818;
export const TIDV = 0x3820;
export const TXDCTL = 0x3828;
export const TADV = 0x382c;
export const TSPMT = 0x3830;
// ---- statistics (0x4000-0x40FF, all clear on read) ----
export const STATS_BASE = 0x4000;
export const STATS_END = 0x4100;
export const CRCERRS = 0x4000;
export const MPC = 0x4010;
export const COLC = 0x4028;
export const PRC64 = 0x405c;
export const PRC127 = 0x4060;
export const PRC255 = 0x4064;
export const PRC511 = 0x4068;
export const PRC1023 = 0x406c;
export const PRC1522 = 0x4070;
export const GPRC = 0x4074;
export const BPRC = 0x4078;
export const MPRC = 0x407c;
export const GPTC = 0x4080;
export const GORCL = 0x4088;
export const GORCH = 0x408c;
export const GOTCL = 0x4090;
export const GOTCH = 0x4094;
export const RNBC = 0x40a0;
export const RUC = 0x40a4;
export const RFC = 0x40a8;
export const ROC = 0x40ac;
export const RJC = 0x40b0;
export const TORL = 0x40c0;
export const TORH = 0x40c4;
export const TOTL = 0x40c8;
export const TOTH = 0x40cc;
export const TPR = 0x40d0;
export const TPT = 0x40d4;
export const PTC64 = 0x40d8;
export const PTC127 = 0x40dc;
export const PTC255 = 0x40e0;
export const PTC511 = 0x40e4;
export const PTC1023 = 0x40e8;
export const PTC1522 = 0x40ec;
export const MPTC = 0x40f0;
export const BPTC = 0x40f4;
export const TSCTC = 0x40f8;
export const TSCTFC = 0x40fc;
// ---- receive filtering ----
export const RXCSUM = 0x5000;
export const MTA = 0x5200; // 128 registers
export const MTA_COUNT = 128;
export const RAL0 = 0x5400; // 16 pairs RAL/RAH, 8 bytes apart
export const RAH0 = 0x5404;
export const RA_COUNT = 16;
export const VFTA = 0x5600; // 128 registers
export const VFTA_COUNT = 128;
export const WUC = 0x5800;
export const WUFC = 0x5808;
export const WUS = 0x5810;
export const MANC = 0x5820;

/** Size of BAR0 (128 KiB) and of the register file we keep (everything below 0x10000 is dense enough). */
export const MMIO_SIZE = 0x20000;
export const IO_SIZE = 0x40;
export const IOADDR = 0x0;
export const IODATA = 0x4;

// ---- CTRL ----
export const CTRL_FD = 1 << 0;
export const CTRL_LRST = 1 << 3;
export const CTRL_ASDE = 1 << 5;
export const CTRL_SLU = 1 << 6;
export const CTRL_RST = 1 << 26;
export const CTRL_VME = 1 << 30;
export const CTRL_PHY_RST = 1 << 31;

// ---- STATUS ----
export const STATUS_FD = 1 << 0;
export const STATUS_LU = 1 << 1;
export const STATUS_TXOFF = 1 << 4;
export const STATUS_SPEED_1000 = 2 << 6;
export const STATUS_ASDV_1000 = 2 << 8;

// ---- EECD (bit-banged Microwire EEPROM) ----
export const EECD_SK = 1 << 0;
export const EECD_CS = 1 << 1;
export const EECD_DI = 1 << 2;
export const EECD_DO = 1 << 3;
export const EECD_FWE_MASK = 3 << 4;
export const EECD_REQ = 1 << 6;
export const EECD_GNT = 1 << 7;
export const EECD_PRES = 1 << 8;
/** 0 = 64-word (6 address bits) Microwire part, as on the 82540EM reference design */
export const EECD_SIZE = 1 << 9;

// ---- EERD (82540 layout: start bit 0, done bit 4, address 15:8, data 31:16) ----
export const EERD_START = 1 << 0;
export const EERD_DONE = 1 << 4;
export const EERD_ADDR_SHIFT = 8;
export const EERD_DATA_SHIFT = 16;

// ---- MDIC ----
export const MDIC_DATA_MASK = 0xffff;
export const MDIC_REG_SHIFT = 16;
export const MDIC_PHY_SHIFT = 21;
export const MDIC_OP_WRITE = 1 << 26;
export const MDIC_OP_READ = 2 << 26;
export const MDIC_READY = 1 << 28;
export const MDIC_INT_EN = 1 << 29;
export const MDIC_ERROR = 1 << 30;

// ---- interrupt causes (ICR/ICS/IMS/IMC) ----
export const ICR_TXDW = 1 << 0;
export const ICR_TXQE = 1 << 1;
export const ICR_LSC = 1 << 2;
export const ICR_RXSEQ = 1 << 3;
export const ICR_RXDMT0 = 1 << 4;
export const ICR_RXO = 1 << 6;
export const ICR_RXT0 = 1 << 7;
export const ICR_MDAC = 1 << 9;
export const ICR_RXCFG = 1 << 10;
export const ICR_TXD_LOW = 1 << 15;
export const ICR_SRPD = 1 << 16;
/** causes the 82540 implements (others read back as written through ICS but never fire) */
export const ICR_VALID = 0x0001f6df;

// ---- RCTL ----
export const RCTL_EN = 1 << 1;
export const RCTL_SBP = 1 << 2;
export const RCTL_UPE = 1 << 3;
export const RCTL_MPE = 1 << 4;
export const RCTL_LPE = 1 << 5;
export const RCTL_LBM_MASK = 3 << 6;
export const RCTL_RDMTS_SHIFT = 8;
export const RCTL_MO_SHIFT = 12;
export const RCTL_BAM = 1 << 15;
export const RCTL_BSIZE_SHIFT = 16;
export const RCTL_VFE = 1 << 18;
export const RCTL_CFIEN = 1 << 19;
export const RCTL_CFI = 1 << 20;
export const RCTL_DPF = 1 << 22;
export const RCTL_PMCF = 1 << 23;
export const RCTL_BSEX = 1 << 25;
export const RCTL_SECRC = 1 << 26;

export const RDTR_FPD = 1 << 31;

// ---- TCTL ----
export const TCTL_EN = 1 << 1;
export const TCTL_PSP = 1 << 3;

// ---- RAH ----
export const RAH_AV = 1 << 31;

// ---- RXCSUM ----
export const RXCSUM_IPOFL = 1 << 8;
export const RXCSUM_TUOFL = 1 << 9;

// ---- descriptors ----
export const DESC_SIZE = 16;
// receive status
export const RXD_STAT_DD = 1 << 0;
export const RXD_STAT_EOP = 1 << 1;
export const RXD_STAT_IXSM = 1 << 2;
export const RXD_STAT_VP = 1 << 3;
// transmit command byte (legacy CMD, and DCMD/TUCMD of extended descriptors)
export const TXD_CMD_EOP = 1 << 0;
export const TXD_CMD_IFCS = 1 << 1;
export const TXD_CMD_IC = 1 << 2; // legacy: insert checksum
export const TXD_CMD_TSE = 1 << 2; // data descriptor: TCP segmentation
export const TXD_CMD_RS = 1 << 3;
export const TXD_CMD_RPS = 1 << 4;
export const TXD_CMD_DEXT = 1 << 5;
export const TXD_CMD_VLE = 1 << 6;
export const TXD_CMD_IDE = 1 << 7;
export const TXD_STAT_DD = 1 << 0;
// context descriptor TUCMD
export const TUCMD_TCP = 1 << 0;
export const TUCMD_IP = 1 << 1; // IPv4 (clear = IPv6)
export const TUCMD_TSE = 1 << 2;
// data descriptor POPTS
export const POPTS_IXSM = 1 << 0;
export const POPTS_TXSM = 1 << 1;
// extended descriptor type (bits 23:20 of the second dword)
export const DTYP_CONTEXT = 0;
export const DTYP_DATA = 1;

/** Delay timers (RDTR, RADV, TIDV, TADV) count in units of 1.024 us. */
export const DELAY_UNIT_NS = 1024;
/** ITR counts in units of 256 ns. */
export const ITR_UNIT_NS = 256;
