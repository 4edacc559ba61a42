// Architectural constants: register numbers, segment indices, flag/CR/EFER bits, MSRs, vectors.

// General registers in encoding order (REX.B/X/R extend to 8..15).
export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;

// Segment registers in encoding order, plus the system segments.
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;
export const SEG_NONE = -1;

// RFLAGS bits.
export const CF = 1 << 0;
export const FIXED1 = 1 << 1; // always reads as 1
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IOPL = 3 << 12;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const VM = 1 << 17;
export const AC = 1 << 18;
export const VIF = 1 << 19;
export const VIP = 1 << 20;
export const ID = 1 << 21;
/** the six arithmetic flags, computed lazily */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

// CR0 bits.
export const CR0_PE = 1 << 0, CR0_MP = 1 << 1, CR0_EM = 1 << 2, CR0_TS = 1 << 3, CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5, CR0_WP = 1 << 16, CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;
// CR4 bits.
export const CR4_VME = 1 << 0, CR4_PVI = 1 << 1, CR4_TSD = 1 << 2, CR4_DE = 1 << 3, CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5, CR4_MCE = 1 << 6, CR4_PGE = 1 << 7, CR4_PCE = 1 << 8;
export const CR4_OSFXSR = 1 << 9, CR4_OSXMMEXCPT = 1 << 10, CR4_UMIP = 1 << 11;
export const CR4_FSGSBASE = 1 << 16, CR4_PCIDE = 1 << 17, CR4_OSXSAVE = 1 << 18;
export const CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21;
// EFER bits.
export const EFER_SCE = 1 << 0, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

// MSRs.
export const MSR_TSC = 0x10;
export const MSR_PLATFORM_ID = 0x17;
export const MSR_APIC_BASE = 0x1b;
export const MSR_FEATURE_CONTROL = 0x3a;
export const MSR_TSC_ADJUST = 0x3b;
export const MSR_SPEC_CTRL = 0x48;
export const MSR_BIOS_SIGN_ID = 0x8b;
export const MSR_MTRRCAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176;
export const MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17a, MSR_MCG_CTL = 0x17b;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_MTRR_PHYSBASE0 = 0x200; // 0x200..0x20f: base/mask pairs
export const MSR_MTRR_FIX64K = 0x250, MSR_MTRR_FIX16K_80000 = 0x258, MSR_MTRR_FIX16K_A0000 = 0x259;
export const MSR_MTRR_FIX4K_C0000 = 0x268; // .. 0x26f
export const MSR_PAT = 0x277;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_TSC_DEADLINE = 0x6e0;
export const MSR_EFER = 0xc0000080;
export const MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083, MSR_FMASK = 0xc0000084;
export const MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102;
export const MSR_TSC_AUX = 0xc0000103;

// Exception vectors.
export const DE = 0, DB = 1, NMI_VEC = 2, BP = 3, OF_VEC = 4, BR = 5, UD = 6, NM = 7, DF_VEC = 8;
export const TS = 10, NP = 11, SS_VEC = 12, GP = 13, PF_VEC = 14, MF = 16, AC_VEC = 17, MC = 18, XM = 19;
/** not a vector: a waiting x87 instruction froze with FERR# asserted (CR0.NE = 0, IGNNE# off); the
 *  core halts at that instruction until an interrupt (SDM vol. 1 D.2.1.1, D.2.2) */
export const X87_FREEZE = 0x100;

// Page-table entry bits (low dword).
export const PTE_P = 1 << 0, PTE_W = 1 << 1, PTE_U = 1 << 2, PTE_PWT = 1 << 3, PTE_PCD = 1 << 4;
export const PTE_A = 1 << 5, PTE_D = 1 << 6, PTE_PS = 1 << 7, PTE_G = 1 << 8;
/** NX is bit 63: bit 31 of the high dword */
export const PTE_HI_NX = 1 << 31;

// #PF error-code bits.
export const PFE_P = 1 << 0, PFE_W = 1 << 1, PFE_U = 1 << 2, PFE_RSVD = 1 << 3, PFE_I = 1 << 4;

export const TWO32 = 4294967296;
