// A minimal WebAssembly binary writer: one module with imported functions, one imported
// shared memory and exported functions, built from opcode bytes. Hand-written rather than an
// npm library because the translator emits thousands of tiny modules at run time, needs only
// ~60 opcodes, and the libraries on npm (binaryen: 10+ MB, wabt: a text parser) either cost
// more to load than a whole boot or go through text; a byte buffer is the fastest path.

export const I32 = 0x7f, I64 = 0x7e, F64 = 0x7c;
export const VOID = 0x40;

/** opcodes used by the translator */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d,
  return: 0x0f, call: 0x10, callIndirect: 0x11, drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, f64Load: 0x2b, i32Load8U: 0x2d, i32Load16U: 0x2f,
  i64Load8U: 0x31, i64Load16U: 0x33, i64Load32S: 0x34, i64Load32U: 0x35,
  i32Store: 0x36, i64Store: 0x37, f64Store: 0x39, i32Store8: 0x3a, i32Store16: 0x3b,
  i64Store8: 0x3c, i64Store16: 0x3d, i64Store32: 0x3e,
  i32Const: 0x41, i64Const: 0x42, f64Const: 0x44,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b,
  i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64GtS: 0x55, i64GtU: 0x56,
  i64LeS: 0x57, i64LeU: 0x58, i64GeS: 0x59, i64GeU: 0x5a,
  f64Eq: 0x61, f64Ne: 0x62,
  i32Popcnt: 0x69, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73,
  i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76,
  i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85,
  i64Shl: 0x86, i64ShrS: 0x87, i64ShrU: 0x88, i64Rotl: 0x89, i64Rotr: 0x8a,
  i32WrapI64: 0xa7, i32TruncF64U: 0xab, i64TruncF64S: 0xb0, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad,
  f64ConvertI64S: 0xb9,
} as const;

const ENCODER = new TextEncoder();
/** an f64 constant's little-endian bytes (wasm is little-endian, and so is every host Node runs this on) */
const F64_VIEW = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64_VIEW.buffer);

/** growable byte buffer with LEB128 */
export class Bytes {
  buf = new Uint8Array(256);
  len = 0;
  byte(b: number): void {
    if (this.len === this.buf.length) { const n = new Uint8Array(this.buf.length * 2); n.set(this.buf); this.buf = n; }
    this.buf[this.len++] = b;
  }
  bytes(b: ArrayLike<number>): void {
    if (this.len + b.length > this.buf.length) {
      const n = new Uint8Array(Math.max(this.buf.length * 2, this.len + b.length)); n.set(this.buf); this.buf = n;
    }
    this.buf.set(b, this.len); this.len += b.length;
  }
  u32(v: number): void {
    v >>>= 0;
    do { let b = v & 0x7f; v >>>= 7; if (v !== 0) b |= 0x80; this.byte(b); } while (v !== 0);
  }
  s32(v: number): void {
    v |= 0;
    for (;;) {
      const b = v & 0x7f; v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { this.byte(b); return; }
      this.byte(b | 0x80);
    }
  }
  s64(v: bigint): void {
    if (v >= -0x40000000n && v < 0x40000000n) { this.s32(Number(v)); return; } // same encoding, no BigInt loop
    v = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(v & 0x7fn); v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) { this.byte(b); return; }
      this.byte(b | 0x80);
    }
  }
  f64(v: number): void { F64_VIEW[0] = v; this.bytes(F64_BYTES); }
  name(s: string): void { const e = ENCODER.encode(s); this.u32(e.length); this.bytes(e); }
  vec(items: Bytes[]): void { this.u32(items.length); for (const b of items) this.bytes(b.view()); }
  view(): Uint8Array { return this.buf.subarray(0, this.len); }
}

export interface FuncType { params: number[]; results: number[] }
export interface ImportFunc { module: string; name: string; type: FuncType }
export interface ModuleSpec {
  imports: ImportFunc[];
  /** the shared memory's page count (import "m" "mem") */
  memoryPages: number;
  funcs: { type: FuncType; locals: number[]; body: Bytes; export: string }[];
  /** types declared first, in this order (their indices are what call_indirect names) */
  types?: FuncType[];
  /** an imported funcref table (import module "m", name "tab") with this minimum size */
  tableMin?: number;
}

function section(out: Bytes, id: number, body: Bytes): void {
  out.byte(id); out.u32(body.len); out.bytes(body.view());
}

export function buildModule(m: ModuleSpec): Uint8Array {
  const types: FuncType[] = [];
  const typeIndex = (t: FuncType): number => {
    const key = JSON.stringify(t);
    const at = types.findIndex((x) => JSON.stringify(x) === key);
    if (at >= 0) return at;
    types.push(t);
    return types.length - 1;
  };
  for (const t of m.types ?? []) typeIndex(t);
  const impIdx = m.imports.map((f) => typeIndex(f.type));
  const fnIdx = m.funcs.map((f) => typeIndex(f.type));
  const out = new Bytes();
  out.bytes([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const ts = new Bytes();
  ts.u32(types.length);
  for (const t of types) { ts.byte(0x60); ts.u32(t.params.length); ts.bytes(t.params); ts.u32(t.results.length); ts.bytes(t.results); }
  section(out, 1, ts);
  const is = new Bytes();
  is.u32(m.imports.length + 1 + (m.tableMin !== undefined ? 1 : 0));
  m.imports.forEach((f, k) => { is.name(f.module); is.name(f.name); is.byte(0x00); is.u32(impIdx[k]); });
  // shared memory with equal minimum and maximum
  is.name('m'); is.name('mem'); is.byte(0x02); is.byte(0x03); is.u32(m.memoryPages); is.u32(m.memoryPages);
  // funcref table without a maximum (it grows as blocks are translated)
  if (m.tableMin !== undefined) { is.name('m'); is.name('tab'); is.byte(0x01); is.byte(0x70); is.byte(0x00); is.u32(m.tableMin); }
  section(out, 2, is);
  const fs = new Bytes();
  fs.u32(m.funcs.length);
  for (const t of fnIdx) fs.u32(t);
  section(out, 3, fs);
  const es = new Bytes();
  es.u32(m.funcs.length);
  m.funcs.forEach((f, k) => { es.name(f.export); es.byte(0x00); es.u32(m.imports.length + k); });
  section(out, 7, es);
  const cs = new Bytes();
  cs.u32(m.funcs.length);
  for (const f of m.funcs) {
    const body = new Bytes();
    // locals, run-length grouped
    const groups: [number, number][] = [];
    for (const t of f.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++; else groups.push([1, t]);
    }
    body.u32(groups.length);
    for (const [n, t] of groups) { body.u32(n); body.byte(t); }
    body.bytes(f.body.view());
    body.byte(Op.end);
    cs.u32(body.len); cs.bytes(body.view());
  }
  section(out, 10, cs);
  return out.view().slice();
}
