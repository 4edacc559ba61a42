// Snippet runner: executes short user-mode instruction sequences the way the native oracle
// (test/isa/native/harness.c) does, for the ISA differential tests. One machine-less core is
// built once and reused: long mode, CPL 3, 4-level paging that maps only a 64 KiB code window
// (user, writable, executable) and a 64 KiB data window (user, writable, NX) at the oracle's
// addresses; everything else is unmapped, so stray accesses fault as natively they SIGSEGV.
// A case ends at its final int3 (#BP) or at the first other fault.

import { createControlBuffer } from '../abi/control-block.js';
import { ramLayout } from '../abi/memory-map.js';
import { createSharedMemory } from '../abi/shared-memory.js';
import type { CpuBus } from './bus.js';
import { Cpu, RUN_BUDGET, RUN_FAULT } from './cpu.js';
import { arithFlags, LF_NONE } from './flags.js';
import {
  AC, ARITH_FLAGS, BP, CR0_ET, CR0_MP, CR0_NE, CR0_PE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, CS, DE,
  DF, DS, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, ES, FIXED1, FS, GP, GS, ID, IF, MF, OF, PF_VEC, PTE_HI_NX, PTE_P,
  PTE_D, PTE_U, PTE_W, SS, SS_VEC, UD, XM, AC_VEC, BR,
} from './regs.js';

export const SNIPPET_CODE_BASE = 0x4000_0000, SNIPPET_DATA_BASE = 0x5000_0000, SNIPPET_DATA_SIZE = 0x10000;

export interface SnippetState {
  /** 16 entries, RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 (unsigned 64-bit) */
  gpr: bigint[];
  /** low 32 bits of RFLAGS */
  rflags: number;
  /** 16 x 128-bit, unsigned; present for SSE cases */
  xmm?: bigint[];
}

export interface SnippetCase { code: Uint8Array; init: SnippetState; data: Uint8Array; mxcsr?: number }

/** 'timeout': the instruction budget ran out before the final int3 (a runaway loop) */
export type SnippetFault = 'DE' | 'UD' | 'GP' | 'PF' | 'SS' | 'BR' | 'AC' | 'XM' | 'MF' | 'timeout';

export interface SnippetResult {
  final: SnippetState;
  data: Uint8Array;
  fault?: SnippetFault;
  /** diagnostics only: the raw vector/error code, or the undecodable bytes behind a #UD */
  detail?: string;
}

/** instructions (block-visits for REP string forms) a case may run before it is a timeout */
export const SNIPPET_BUDGET = 1_000_000;

const WINDOW = 0x10000;
// physical layout of the runner's small RAM
const RAM_BYTES = 1 << 20;
const PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT_CODE = 0x4000, PT_DATA = 0x5000;
const CODE_PHYS = 0x10000, DATA_PHYS = 0x20000;

const FAULT_NAMES: Record<number, SnippetFault> = {
  [DE]: 'DE', [BR]: 'BR', [UD]: 'UD', [SS_VEC]: 'SS', [GP]: 'GP', [PF_VEC]: 'PF', [MF]: 'MF', [AC_VEC]: 'AC', [XM]: 'XM',
};

/** RFLAGS bits a case may set; IF is always 1 at CPL 3 (POPF cannot clear it there) */
const USER_FLAGS = ARITH_FLAGS | DF | OF | AC | ID;

const nullBus: CpuBus = {
  ioRead: () => 0xffffffff,
  ioWrite: () => { /* nothing there */ },
  mmioRead: () => 0xffffffff,
  mmioWrite: () => { /* nothing there */ },
};

let runner: Cpu | null = null;

function buildRunner(): Cpu {
  const layout = ramLayout(RAM_BYTES);
  const ctl = createControlBuffer(1, RAM_BYTES);
  const cpu = new Cpu(createSharedMemory(RAM_BYTES, layout, ctl), nullBus, 0);
  const dv = new DataView(cpu.shared.ram);
  const table = PTE_P | PTE_W | PTE_U;
  dv.setUint32(PML4, PDPT | table, true);
  dv.setUint32(PDPT + 8 * ((SNIPPET_CODE_BASE / 2 ** 30) & 511), PD | table, true);
  dv.setUint32(PD + 8 * ((SNIPPET_CODE_BASE >>> 21) & 511), PT_CODE | table, true);
  dv.setUint32(PD + 8 * ((SNIPPET_DATA_BASE >>> 21) & 511), PT_DATA | table, true);
  for (let i = 0; i < WINDOW / 4096; i++) {
    const ci = ((SNIPPET_CODE_BASE >>> 12) & 511) + i, di = ((SNIPPET_DATA_BASE >>> 12) & 511) + i;
    dv.setUint32(PT_CODE + 8 * ci, (CODE_PHYS + 4096 * i) | table, true);
    dv.setUint32(PT_DATA + 8 * di, (DATA_PHYS + 4096 * i) | table, true);
    dv.setInt32(PT_DATA + 8 * di + 4, PTE_HI_NX, true);
  }
  cpu.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  cpu.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
  cpu.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
  cpu.cr3 = PML4;
  cpu.pagingMode = 4;
  cpu.protectedMode = true;
  cpu.mode64 = true;
  cpu.def32 = false;
  cpu.stackSize = 8;
  cpu.cpl = 3;
  // user code and data segments as a 64-bit kernel loads them (bases 0)
  const userData = 0x3 | 0x10 | 0x60 | 0x80 | (1 << 14) | (1 << 15);
  for (const s of [ES, SS, DS, FS, GS]) {
    cpu.segSel[s] = s === SS ? 0x2b : 0;
    cpu.segBase[s] = 0;
    cpu.segLimit[s] = 0xffffffff;
    cpu.segAttr[s] = userData;
  }
  cpu.segSel[CS] = 0x33;
  cpu.segBase[CS] = 0;
  cpu.segLimit[CS] = 0xffffffff;
  cpu.segAttr[CS] = 0xb | 0x10 | 0x60 | 0x80 | (1 << 13) | (1 << 15);
  // no IDT: INT n at CPL 3 raises #GP(n*8+2), as under a kernel whose gates have DPL 0
  cpu.idtBase = 0;
  cpu.idtLimit = 0;
  cpu.selectTlbSet();
  cpu.stopOnFault = true;
  return cpu;
}

/** What the core's RAM holds between cases, so only changed pages are rewritten. */
interface WindowTracker {
  /** the data image RAM was last loaded from (pages not dirtied since still equal it) */
  lastData: Uint8Array | null;
  /** code bytes written by the last case (zeroed before the next one, as the oracle does) */
  lastCodeLen: number;
}
const tracker: WindowTracker = { lastData: null, lastCodeLen: 0 };
const PAGES = WINDOW / 4096;

function ptePhys(pt: number, base: number, i: number): number {
  return pt + 8 * (((base >>> 12) & 511) + i);
}

/** Bitmask of window pages whose PTE dirty bit is set; clears the bits and their TLB entries. */
function takeDirty(cpu: Cpu, pt: number, base: number): number {
  let mask = 0;
  for (let i = 0; i < PAGES; i++) {
    const w = ptePhys(pt, base, i) >> 2;
    if (cpu.i32[w] & PTE_D) {
      mask |= 1 << i;
      cpu.i32[w] &= ~PTE_D;
      cpu.flushTlbPage(base + 4096 * i);
    }
  }
  return mask;
}

function loadCase(cpu: Cpu, c: SnippetCase, codeDirty: number, dataDirty: number): void {
  if (c.code.length === 0 || c.code.length > WINDOW) throw new Error('snippet: code must be 1..65536 bytes');
  if (c.init.gpr.length !== 16) throw new Error('snippet: init.gpr must have 16 entries');
  if (c.data.length !== SNIPPET_DATA_SIZE) throw new Error('snippet: data must cover the whole data window');
  const ram = cpu.ram;
  // code: clear what the last case put there (and pages it wrote), then the new bytes
  for (let i = 0; i < PAGES; i++) {
    if (codeDirty & (1 << i)) cpu.i32.fill(0, (CODE_PHYS + 4096 * i) >> 2, (CODE_PHYS + 4096 * (i + 1)) >> 2);
  }
  if (tracker.lastCodeLen > 0) ram.fill(0, CODE_PHYS, CODE_PHYS + tracker.lastCodeLen);
  ram.set(c.code, CODE_PHYS);
  tracker.lastCodeLen = c.code.length;
  // stale decoded blocks: bump the generation of every code page that has some
  const flags = cpu.shared.codeFlags;
  for (let i = 0; i < PAGES; i++) if (flags[(CODE_PHYS >>> 12) + i]) cpu.noteCodeWrite(CODE_PHYS + 4096 * i, 1);
  // data: the same image as last time needs only the pages the last case dirtied; another
  // image is copied whole (one 64 KiB copy costs less than comparing pages)
  if (tracker.lastData !== c.data) {
    ram.set(c.data, DATA_PHYS);
  } else {
    for (let i = 0; i < PAGES; i++) {
      if (dataDirty & (1 << i)) ram.set(c.data.subarray(4096 * i, 4096 * (i + 1)), DATA_PHYS + 4096 * i);
    }
  }
  tracker.lastData = c.data;

  for (let r = 0; r < 16; r++) {
    const g = c.init.gpr[r];
    cpu.lo[r] = Number(BigInt.asIntN(32, g));
    cpu.hi[r] = Number(BigInt.asIntN(32, g >> 32n));
  }
  cpu.flags = (c.init.rflags & USER_FLAGS) | FIXED1 | IF;
  cpu.lfOp = LF_NONE;
  cpu.xmm.fill(0);
  if (c.init.xmm) {
    for (let r = 0; r < 16; r++) {
      const v = c.init.xmm[r];
      for (let k = 0; k < 4; k++) cpu.xmm[r * 4 + k] = Number(BigInt.asIntN(32, v >> BigInt(32 * k)));
    }
  }
  cpu.mxcsr = c.mxcsr ?? 0x1f80;
  cpu.fpr.fill(0); cpu.fpTop = 0; cpu.fpTag = 0xffff; cpu.fpStatus = 0; cpu.fpControl = 0x037f;
  cpu.rip = SNIPPET_CODE_BASE;
  cpu.halted = false;
  cpu.interruptShadow = false;
  cpu.faultVector = -1;
  cpu.faultCode = -1;
  cpu.unknownOpcode = '';
}

/** The data window after a case: the input image with the pages the case wrote copied out. */
function dataAfter(cpu: Cpu, input: Uint8Array, dirty: number): Uint8Array {
  if (dirty === 0) return input;
  const out = new Uint8Array(SNIPPET_DATA_SIZE);
  out.set(input);
  for (let i = 0; i < PAGES; i++) {
    if (dirty & (1 << i)) out.set(cpu.ram.subarray(DATA_PHYS + 4096 * i, DATA_PHYS + 4096 * (i + 1)), 4096 * i);
  }
  return out;
}

function readState(cpu: Cpu, withXmm: boolean): SnippetState {
  const gpr: bigint[] = new Array(16);
  for (let r = 0; r < 16; r++) gpr[r] = BigInt(cpu.hi[r] >>> 0) << 32n | BigInt(cpu.lo[r] >>> 0);
  const rflags = ((cpu.flags & ~ARITH_FLAGS) | arithFlags(cpu)) >>> 0;
  const state: SnippetState = { gpr, rflags };
  if (withXmm) {
    const xmm: bigint[] = new Array(16);
    for (let r = 0; r < 16; r++) {
      let v = 0n;
      for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(cpu.xmm[r * 4 + k] >>> 0);
      xmm[r] = v;
    }
    state.xmm = xmm;
  }
  return state;
}

/** the byte at a linear address of the code window, or -1 outside it */
function codeByte(cpu: Cpu, lin: number): number {
  const off = lin - SNIPPET_CODE_BASE;
  return off >= 0 && off < WINDOW ? cpu.ram[CODE_PHYS + off] : -1;
}

/** Run one loaded case to its end; returns the fault (undefined when it reached the int3). */
function execute(cpu: Cpu): { fault?: SnippetFault; detail?: string } {
  const start = cpu.retired;
  for (;;) {
    const why = cpu.run(Math.min(100_000, SNIPPET_BUDGET));
    if (why === RUN_FAULT) {
      const v = cpu.faultVector;
      if (v === BP) return {};
      // INT3 is delivered through the (absent) IDT and faults there: stopping at it is the end
      if (codeByte(cpu, cpu.rip) === 0xcc) return {};
      const name = FAULT_NAMES[v];
      const detail = `vector ${v} code ${cpu.faultCode} at ${cpu.rip.toString(16)}` +
        (cpu.unknownOpcode ? ` (${cpu.unknownOpcode})` : '');
      return { fault: name ?? 'GP', detail };
    }
    if (why !== RUN_BUDGET) return { fault: 'GP', detail: `run loop stopped (${why}): ${cpu.deadReason}` };
    if (cpu.retired - start >= SNIPPET_BUDGET) return { fault: 'timeout', detail: `${SNIPPET_BUDGET} instructions` };
  }
}

/**
 * Run each case from a fresh register/memory image on a reused core. A result's `data` is
 * the case's own `data` array when the snippet wrote nothing to the window (do not mutate).
 */
export function runSnippets(cases: SnippetCase[]): SnippetResult[] {
  if (runner === null) runner = buildRunner();
  const cpu = runner;
  const results: SnippetResult[] = [];
  let codeDirty = takeDirty(cpu, PT_CODE, SNIPPET_CODE_BASE);
  let dataDirty = takeDirty(cpu, PT_DATA, SNIPPET_DATA_BASE);
  for (const c of cases) {
    loadCase(cpu, c, codeDirty, dataDirty);
    const end = execute(cpu);
    codeDirty = takeDirty(cpu, PT_CODE, SNIPPET_CODE_BASE);
    dataDirty = takeDirty(cpu, PT_DATA, SNIPPET_DATA_BASE);
    const result: SnippetResult = { final: readState(cpu, c.init.xmm !== undefined), data: dataAfter(cpu, c.data, dataDirty) };
    if (end.fault) { result.fault = end.fault; result.detail = end.detail; }
    results.push(result);
  }
  // the next call starts from these dirty pages (they are reloaded then)
  if (dataDirty !== 0) tracker.lastData = null;
  if (codeDirty !== 0) tracker.lastCodeLen = WINDOW;
  return results;
}
