// CPUID: one consistent processor model. "GenuineIntel", family 6, one thread per core, 1 GHz
// TSC. Instruction-set features are advertised only when the instruction table actually holds
// their instructions (probed once, after every family registered), so a guest never takes a
// path we cannot execute; system features are listed because this core implements them.
// No hypervisor bit: as far as the guest knows this is hardware.

import { G_NCORES } from '../abi/control-block.js';
import { TSC_HZ } from '../abi/clock.js';
import { MAP_0F, MAP_0F38, MAP_1B } from './insn.js';
import { opTable, selectForm, type PrefixRule } from './optable.js';
import { PHYS_ADDR_BITS } from './msr.js';

export const CPU_FAMILY = 6;
export const CPU_MODEL = 0x0f;
export const CPU_STEPPING = 1;
/** CPUID.1:EAX, also EDX after reset */
export const CPU_SIGNATURE = (CPU_FAMILY << 8) | (CPU_MODEL << 4) | CPU_STEPPING;
export const VIRT_ADDR_BITS = 48;
export const BRAND_STRING = 'parallax-emu x86-64 CPU';
const VENDOR = 'GenuineIntel';
const MAX_BASIC_LEAF = 0x16;
const MAX_EXT_LEAF = 0x80000008;

/** One feature bit: which register of which leaf, and how we know it is implemented. */
interface FeatureDef {
  name: string;
  leaf: number; // 1, 7, 0x80000001
  reg: 'ecx' | 'edx' | 'ebx';
  bit: number;
  /** instruction-table probe; absent = implemented by this core (system feature) */
  probe?: [map: number, opcode: number, prefix: PrefixRule, modrm: number, vex?: boolean];
}

const NO_MODRM = -1;
const FEATURES: FeatureDef[] = [
  // CPUID.1:EDX
  { name: 'fpu', leaf: 1, reg: 'edx', bit: 0, probe: [MAP_1B, 0xd9, 'np', 0xc0] /* fld st(i) */ },
  { name: 'pse', leaf: 1, reg: 'edx', bit: 3 },
  { name: 'tsc', leaf: 1, reg: 'edx', bit: 4 },
  { name: 'msr', leaf: 1, reg: 'edx', bit: 5 },
  { name: 'pae', leaf: 1, reg: 'edx', bit: 6 },
  { name: 'cx8', leaf: 1, reg: 'edx', bit: 8, probe: [MAP_0F, 0xc7, 'np', 0x08] },
  { name: 'apic', leaf: 1, reg: 'edx', bit: 9 },
  { name: 'sep', leaf: 1, reg: 'edx', bit: 11 },
  { name: 'mtrr', leaf: 1, reg: 'edx', bit: 12 },
  { name: 'pge', leaf: 1, reg: 'edx', bit: 13 },
  { name: 'cmov', leaf: 1, reg: 'edx', bit: 15, probe: [MAP_0F, 0x44, 'np', 0xc0] },
  { name: 'pat', leaf: 1, reg: 'edx', bit: 16 },
  { name: 'clflush', leaf: 1, reg: 'edx', bit: 19, probe: [MAP_0F, 0xae, 'np', 0x38] },
  { name: 'mmx', leaf: 1, reg: 'edx', bit: 23, probe: [MAP_0F, 0xfc, 'np', 0xc0] },
  { name: 'fxsr', leaf: 1, reg: 'edx', bit: 24, probe: [MAP_0F, 0xae, 'np', 0x00] },
  { name: 'sse', leaf: 1, reg: 'edx', bit: 25, probe: [MAP_0F, 0x58, 'np', 0xc0] },
  { name: 'sse2', leaf: 1, reg: 'edx', bit: 26, probe: [MAP_0F, 0x58, '66', 0xc0] },
  { name: 'ht', leaf: 1, reg: 'edx', bit: 28 }, // EBX[23:16] is valid (multi-core package)
  // CPUID.1:ECX
  { name: 'sse3', leaf: 1, reg: 'ecx', bit: 0, probe: [MAP_0F, 0x7c, 'F2', 0xc0] },
  { name: 'ssse3', leaf: 1, reg: 'ecx', bit: 9, probe: [MAP_0F38, 0x00, '66', 0xc0] },
  { name: 'cx16', leaf: 1, reg: 'ecx', bit: 13, probe: [MAP_0F, 0xc7, 'np', 0x08] },
  { name: 'sse4_1', leaf: 1, reg: 'ecx', bit: 19, probe: [MAP_0F38, 0x10, '66', 0xc0] },
  { name: 'sse4_2', leaf: 1, reg: 'ecx', bit: 20, probe: [MAP_0F38, 0x37, '66', 0xc0] },
  { name: 'movbe', leaf: 1, reg: 'ecx', bit: 22, probe: [MAP_0F38, 0xf0, 'np', 0x00] },
  { name: 'popcnt', leaf: 1, reg: 'ecx', bit: 23, probe: [MAP_0F, 0xb8, 'F3', 0xc0] },
  { name: 'tsc_deadline_timer', leaf: 1, reg: 'ecx', bit: 24 },
  // CPUID.7.0
  { name: 'bmi1', leaf: 7, reg: 'ebx', bit: 3, probe: [MAP_0F38, 0xf2, 'np', 0xc0, true] /* andn */ },
  { name: 'bmi2', leaf: 7, reg: 'ebx', bit: 8, probe: [MAP_0F38, 0xf5, 'np', 0xc0, true] /* bzhi */ },
  { name: 'erms', leaf: 7, reg: 'ebx', bit: 9, probe: [MAP_1B, 0xa4, 'np', NO_MODRM] /* rep movsb */ },
  { name: 'rdpid', leaf: 7, reg: 'ecx', bit: 22 },
  // CPUID.80000001
  { name: 'lahf_lm', leaf: 0x80000001, reg: 'ecx', bit: 0, probe: [MAP_1B, 0x9f, 'np', NO_MODRM] },
  { name: 'abm', leaf: 0x80000001, reg: 'ecx', bit: 5, probe: [MAP_0F, 0xbd, 'F3', 0xc0] },
  { name: '3dnowprefetch', leaf: 0x80000001, reg: 'ecx', bit: 8, probe: [MAP_0F, 0x0d, 'np', 0x08] },
  { name: 'syscall', leaf: 0x80000001, reg: 'edx', bit: 11 },
  { name: 'nx', leaf: 0x80000001, reg: 'edx', bit: 20 },
  { name: 'pdpe1gb', leaf: 0x80000001, reg: 'edx', bit: 26 },
  { name: 'rdtscp', leaf: 0x80000001, reg: 'edx', bit: 27 },
  { name: 'lm', leaf: 0x80000001, reg: 'edx', bit: 29 },
];

export interface AdvertisedFeatures {
  leaf1Ecx: number;
  leaf1Edx: number;
  leaf7Ebx: number;
  leaf7Ecx: number;
  ext1Ecx: number;
  ext1Edx: number;
  /** Linux-style names of the advertised features */
  names: string[];
}

let advertised: AdvertisedFeatures | null = null;

function implemented(f: FeatureDef): boolean {
  if (!f.probe) return true;
  const [map, opcode, prefix, modrm, vex] = f.probe;
  if (opTable[map * 256 + opcode].length === 0) return false;
  const form = selectForm(map, opcode, prefix, modrm, vex ?? false);
  return form !== undefined && form.name !== '' && !/^(ud|unknown)/i.test(form.name);
}

/**
 * The feature bits this core advertises (decided once, from the instruction table as
 * registered). The differential tester uses it to know which instructions it may generate.
 */
export function advertisedFeatures(): AdvertisedFeatures {
  if (advertised) return advertised;
  const a: AdvertisedFeatures = { leaf1Ecx: 0, leaf1Edx: 0, leaf7Ebx: 0, leaf7Ecx: 0, ext1Ecx: 0, ext1Edx: 0, names: [] };
  for (const f of FEATURES) {
    if (!implemented(f)) continue;
    const bit = (1 << f.bit) >>> 0;
    if (f.leaf === 1) {
      if (f.reg === 'ecx') a.leaf1Ecx |= bit; else a.leaf1Edx |= bit;
    } else if (f.leaf === 7) {
      if (f.reg === 'ecx') a.leaf7Ecx |= bit; else a.leaf7Ebx |= bit;
    } else if (f.reg === 'ecx') a.ext1Ecx |= bit;
    else a.ext1Edx |= bit;
    a.names.push(f.name);
  }
  // SSE without FXSAVE cannot be enabled by an OS: advertise neither then.
  if ((a.leaf1Edx & (1 << 24)) === 0) {
    a.leaf1Edx &= ~((1 << 25) | (1 << 26));
    a.names = a.names.filter((n) => n !== 'sse' && n !== 'sse2');
  }
  advertised = a;
  return a;
}

/** Forget the probe result (tests that register instructions late). */
export function resetAdvertisedFeatures(): void {
  advertised = null;
}

/** Whether a feature (by its Linux-style name) is advertised. */
export function hasFeature(name: string): boolean {
  return advertisedFeatures().names.includes(name);
}

/** Result registers of cpuidLeaf (no allocation). */
export const cpuidOut = { eax: 0, ebx: 0, ecx: 0, edx: 0 };

function str4(s: string, i: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v |= (s.charCodeAt(i + k) || 0) << (8 * k);
  return v;
}

function set(a: number, b: number, c: number, d: number): void {
  cpuidOut.eax = a | 0;
  cpuidOut.ebx = b | 0;
  cpuidOut.ecx = c | 0;
  cpuidOut.edx = d | 0;
}

function pow2Ceil(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

function log2Ceil(n: number): number {
  let b = 0;
  while (1 << b < n) b++;
  return b;
}

/** Cache levels for leaf 4: [type (1 data, 2 code, 3 unified), level, KiB, ways, shared by all cores]. */
const CACHES: [number, number, number, number, boolean][] = [
  [1, 1, 32, 8, false],
  [2, 1, 32, 8, false],
  [3, 2, 1024, 16, false],
  [3, 3, 8192, 16, true],
];

/**
 * CPUID for leaf/subleaf as seen by core `coreIndex` of an `ncores` machine; the result is in
 * cpuidOut. Leaves above the maximum return the highest basic leaf, as Intel processors do.
 */
export function cpuidLeaf(leaf: number, subleaf: number, coreIndex: number, ncores: number): void {
  leaf >>>= 0;
  subleaf >>>= 0;
  if ((leaf > MAX_BASIC_LEAF && leaf < 0x80000000) || leaf > MAX_EXT_LEAF) leaf = MAX_BASIC_LEAF;
  const f = advertisedFeatures();
  const n = Math.max(1, ncores);
  const apicId = coreIndex & 0xff;
  switch (leaf) {
    case 0:
      return set(MAX_BASIC_LEAF, str4(VENDOR, 0), str4(VENDOR, 8), str4(VENDOR, 4));
    case 1:
      return set(CPU_SIGNATURE, (apicId << 24) | (Math.min(255, pow2Ceil(n)) << 16) | (8 << 8), f.leaf1Ecx, f.leaf1Edx);
    case 4: {
      if (subleaf >= CACHES.length) return set(0, 0, 0, 0);
      const [type, level, kib, ways, shared] = CACHES[subleaf];
      const sets = (kib * 1024) / (64 * ways);
      const eax = type | (level << 5) | (1 << 8) | ((shared ? pow2Ceil(n) - 1 : 0) << 14) | ((pow2Ceil(n) - 1) << 26);
      return set(eax, ((ways - 1) << 22) | 63, sets - 1, 0);
    }
    case 6:
      return set(1 << 2, 0, 0, 0); // ARAT: the LAPIC timer keeps running in idle states
    case 7:
      return subleaf === 0 ? set(0, f.leaf7Ebx, f.leaf7Ecx, 0) : set(0, 0, 0, 0);
    case 0xb: {
      // x2APIC topology enumeration: one thread per core, all cores in one package
      if (subleaf === 0) return set(0, 1, 0x100, apicId);
      if (subleaf === 1) return set(log2Ceil(n), n, 0x201, apicId);
      return set(0, 0, subleaf, apicId);
    }
    case 0x15:
      // TSC = crystal * EBX / EAX: 25 MHz * 40 = 1 GHz
      return set(1, TSC_HZ / 25_000_000, 25_000_000, 0);
    case 0x16:
      return set(TSC_HZ / 1_000_000, TSC_HZ / 1_000_000, 100, 0);
    case 0x80000000:
      return set(MAX_EXT_LEAF, 0, 0, 0);
    case 0x80000001:
      return set(0, 0, f.ext1Ecx, f.ext1Edx);
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const o = (leaf - 0x80000002) * 16;
      return set(brand(o), brand(o + 4), brand(o + 8), brand(o + 12));
    }
    case 0x80000006:
      return set(0, 0, (1024 << 16) | (6 << 12) | 64, 0); // L2 1 MiB, 16-way (code 6), 64-byte lines
    case 0x80000007:
      return set(0, 0, 0, 1 << 8); // invariant TSC
    case 0x80000008:
      return set((VIRT_ADDR_BITS << 8) | PHYS_ADDR_BITS, 0, 0, 0);
    default:
      return set(0, 0, 0, 0); // 2, 3, 5, 8-0xa, 0xc-0x14 and 0x80000005: nothing to report
  }
}

function brand(off: number): number {
  return str4(BRAND_STRING, off);
}

/** CPUID as executed by a core whose control block says how many cores the machine has. */
export function cpuidForCore(ctl: Int32Array, coreIndex: number, leaf: number, subleaf: number): void {
  cpuidLeaf(leaf, subleaf, coreIndex, ctl[G_NCORES] || 1);
}
