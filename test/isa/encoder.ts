// x86-64 instruction encoder for the generator: legacy prefixes, REX, VEX, ModRM/SIB,
// displacement and immediate. Only what the instruction table needs, but all of its corners
// (R12/R13 bases, SIB without base, RIP-relative, high-byte registers) are encoded exactly.

export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;
/** byte-register numbers for AH, CH, DH, BH (encodable only without REX) */
export const AH = 16, CH = 17, DH = 18, BH = 19;

export const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export function gprName(num: number, size: number): string {
  if (num >= AH) return ['ah', 'ch', 'dh', 'bh'][num - AH];
  if (size === 64) return GPR64[num];
  if (num >= 8) return `r${num}${size === 32 ? 'd' : size === 16 ? 'w' : 'b'}`;
  const base = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'][num];
  if (size === 32) return 'e' + base;
  if (size === 16) return base;
  return ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'][num];
}

export interface MemRef {
  base?: number;
  index?: number;
  scale?: 1 | 2 | 4 | 8;
  disp: number;
  /** RIP-relative (base/index ignored) */
  rip?: boolean;
  /** encode the displacement as 32 bits even when it fits in 8 */
  disp32?: boolean;
}

export type RmOperand = { kind: 'reg'; num: number } | { kind: 'mem'; mem: MemRef };

export interface VexFields {
  /** 1 = 0F, 2 = 0F38, 3 = 0F3A */
  map: 1 | 2 | 3;
  W: boolean;
  vvvv: number;
  L: 0 | 1;
  /** implied prefix: 0 none, 1 = 66, 2 = F3, 3 = F2 */
  pp: 0 | 1 | 2 | 3;
}

export interface Insn {
  /** legacy prefixes in emission order (LOCK/REP, 66, 67, mandatory prefix last) */
  prefixes?: number[];
  rexW?: boolean;
  /** emit a REX byte even when no bit is set (SPL/BPL/SIL/DIL, or to test an empty REX) */
  forceRex?: boolean;
  vex?: VexFields;
  opcode: number[];
  /** register added into the low 3 bits of the last opcode byte */
  opReg?: number;
  /** reg: a register number or a /digit; rm: a register or memory operand */
  modrm?: { reg: number; rm: RmOperand };
  imm?: { value: bigint; size: 1 | 2 | 4 | 8 };
  /** a second immediate (ENTER's nesting level) */
  imm2?: { value: bigint; size: 1 | 2 | 4 | 8 };
}

function low3(n: number): { code: number; ext: number; high: boolean } {
  if (n >= AH) return { code: n - AH + 4, ext: 0, high: true };
  return { code: n & 7, ext: (n >> 3) & 1, high: false };
}

function pushLe(out: number[], value: bigint, size: number): void {
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
}

export function encode(insn: Insn): Uint8Array {
  const out: number[] = [...(insn.prefixes ?? [])];
  let rexR = 0, rexX = 0, rexB = 0;
  let needsNoRex = false;
  const tail: number[] = [];
  const opcode = [...insn.opcode];

  if (insn.opReg !== undefined) {
    const r = low3(insn.opReg);
    if (r.high) needsNoRex = true;
    rexB = r.ext;
    opcode[opcode.length - 1] |= r.code;
  }

  if (insn.modrm) {
    const reg = low3(insn.modrm.reg);
    if (reg.high) needsNoRex = true;
    rexR = reg.ext;
    const rm = insn.modrm.rm;
    if (rm.kind === 'reg') {
      const r = low3(rm.num);
      if (r.high) needsNoRex = true;
      rexB = r.ext;
      tail.push(0xc0 | (reg.code << 3) | r.code);
    } else {
      const m = rm.mem;
      if (m.rip) {
        tail.push((reg.code << 3) | 5);
        pushLe(tail, BigInt(m.disp), 4);
      } else if (m.base === undefined) {
        // no base: SIB with base=101 and mod=00 means disp32 only
        const idx = m.index === undefined ? { code: 4, ext: 0 } : low3(m.index);
        if (m.index === RSP) throw new Error('encoder: RSP cannot be an index');
        rexX = idx.ext;
        tail.push((reg.code << 3) | 4, (scaleBits(m.scale) << 6) | (idx.code << 3) | 5);
        pushLe(tail, BigInt(m.disp), 4);
      } else {
        const base = low3(m.base);
        rexB = base.ext;
        const useSib = m.index !== undefined || base.code === 4;
        let mod: number;
        if (m.disp32 || m.disp < -128 || m.disp > 127) mod = 2;
        else if (m.disp !== 0 || base.code === 5) mod = 1; // rm=101 with mod=00 would mean RIP-relative
        else mod = 0;
        if (useSib) {
          if (m.index === RSP) throw new Error('encoder: RSP cannot be an index');
          const idx = m.index === undefined ? { code: 4, ext: 0 } : low3(m.index);
          rexX = idx.ext;
          tail.push((mod << 6) | (reg.code << 3) | 4, (scaleBits(m.scale) << 6) | (idx.code << 3) | base.code);
        } else {
          tail.push((mod << 6) | (reg.code << 3) | base.code);
        }
        if (mod === 1) pushLe(tail, BigInt(m.disp), 1);
        if (mod === 2) pushLe(tail, BigInt(m.disp), 4);
      }
    }
  }

  if (insn.vex) {
    const v = insn.vex;
    out.push(0xc4,
      ((rexR ^ 1) << 7) | ((rexX ^ 1) << 6) | ((rexB ^ 1) << 5) | v.map,
      ((v.W ? 1 : 0) << 7) | ((~v.vvvv & 15) << 3) | (v.L << 2) | v.pp);
  } else {
    const rexBits = (insn.rexW ? 8 : 0) | (rexR << 2) | (rexX << 1) | rexB;
    if (rexBits !== 0 || insn.forceRex) {
      if (needsNoRex) throw new Error('encoder: AH/CH/DH/BH cannot be encoded with a REX prefix');
      out.push(0x40 | rexBits);
    }
  }
  out.push(...opcode, ...tail);
  if (insn.imm) pushLe(out, insn.imm.value, insn.imm.size);
  if (insn.imm2) pushLe(out, insn.imm2.value, insn.imm2.size);
  return Uint8Array.from(out);
}

function scaleBits(scale: number | undefined): number {
  switch (scale ?? 1) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    case 8: return 3;
  }
  throw new Error(`encoder: bad scale ${scale}`);
}

export function memText(m: MemRef, addr32 = false): string {
  if (m.rip) return `[rip${m.disp >= 0 ? '+' : '-'}0x${Math.abs(m.disp).toString(16)}]`;
  const parts: string[] = [];
  const reg = (n: number) => (addr32 ? gprName(n, 32) : GPR64[n]);
  if (m.base !== undefined) parts.push(reg(m.base));
  if (m.index !== undefined) parts.push(`${reg(m.index)}*${m.scale ?? 1}`);
  let s = parts.join('+');
  if (m.disp !== 0 || parts.length === 0) s += `${m.disp < 0 ? '-' : parts.length ? '+' : ''}0x${Math.abs(m.disp).toString(16)}`;
  return `[${s}]`;
}
