// Builds tiny kernel images byte by byte for loader tests: ELF32/ELF64 executables with given
// PT_LOAD segments, and Multiboot 1/2 headers to embed in them.

export interface SegSpec {
  paddr: number;
  vaddr?: bigint | number;
  data: Uint8Array;
  memSize?: number;
}

const DATA_OFFSET = 0x100;

export function buildElf(bits: 32 | 64, entry: bigint | number, segs: SegSpec[], machine = bits === 32 ? 3 : 62): Uint8Array {
  const ehSize = bits === 32 ? 52 : 64;
  const phSize = bits === 32 ? 32 : 56;
  let off = DATA_OFFSET;
  const offsets = segs.map((s) => {
    const o = off;
    off += (s.data.length + 15) & ~15;
    return o;
  });
  const out = new Uint8Array(Math.max(off, ehSize + phSize * segs.length));
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, bits === 32 ? 1 : 2, 1, 1]);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, machine, true);
  dv.setUint32(20, 1, true);
  if (bits === 32) {
    dv.setUint32(24, Number(entry), true);
    dv.setUint32(28, ehSize, true);
    dv.setUint16(40, ehSize, true);
    dv.setUint16(42, phSize, true);
    dv.setUint16(44, segs.length, true);
  } else {
    dv.setBigUint64(24, BigInt(entry), true);
    dv.setBigUint64(32, BigInt(ehSize), true);
    dv.setUint16(52, ehSize, true);
    dv.setUint16(54, phSize, true);
    dv.setUint16(56, segs.length, true);
  }
  segs.forEach((s, i) => {
    const p = ehSize + i * phSize;
    const vaddr = BigInt(s.vaddr ?? s.paddr);
    const mem = s.memSize ?? s.data.length;
    dv.setUint32(p, 1, true);
    if (bits === 32) {
      dv.setUint32(p + 4, offsets[i], true);
      dv.setUint32(p + 8, Number(vaddr), true);
      dv.setUint32(p + 12, s.paddr, true);
      dv.setUint32(p + 16, s.data.length, true);
      dv.setUint32(p + 20, mem, true);
      dv.setUint32(p + 24, 7, true);
    } else {
      dv.setUint32(p + 4, 7, true);
      dv.setBigUint64(p + 8, BigInt(offsets[i]), true);
      dv.setBigUint64(p + 16, vaddr, true);
      dv.setBigUint64(p + 24, BigInt(s.paddr), true);
      dv.setBigUint64(p + 32, BigInt(s.data.length), true);
      dv.setBigUint64(p + 40, BigInt(mem), true);
    }
    out.set(s.data, offsets[i]);
  });
  return out;
}

/** file offset of the first segment's data (where an embedded header lands) */
export const FIRST_SEGMENT_OFFSET = DATA_OFFSET;

export function mb1Header(flags = 0x3, addr?: { header: number; load: number; loadEnd: number; bssEnd: number; entry: number }): Uint8Array {
  const out = new Uint8Array(addr ? 32 : 12);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x1badb002, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, (-(0x1badb002 + flags)) >>> 0, true);
  if (addr) {
    dv.setUint32(12, addr.header, true);
    dv.setUint32(16, addr.load, true);
    dv.setUint32(20, addr.loadEnd, true);
    dv.setUint32(24, addr.bssEnd, true);
    dv.setUint32(28, addr.entry, true);
  }
  return out;
}

/** tags: [type, flags, body] */
export function mb2Header(tags: [number, number, Uint8Array][]): Uint8Array {
  const parts: number[] = [];
  const push32 = (v: number) => parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const push16 = (v: number) => parts.push(v & 0xff, (v >>> 8) & 0xff);
  push32(0xe85250d6); push32(0); push32(0); push32(0);
  for (const [type, flags, body] of [...tags, [0, 0, new Uint8Array(0)] as [number, number, Uint8Array]]) {
    push16(type); push16(flags); push32(8 + body.length);
    parts.push(...body);
    while (parts.length % 8) parts.push(0);
  }
  const out = Uint8Array.from(parts);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, out.length, true);
  dv.setUint32(12, (-(0xe85250d6 + out.length)) >>> 0, true);
  return out;
}

export function u32s(...v: number[]): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  v.forEach((x, i) => new DataView(out.buffer).setUint32(i * 4, x >>> 0, true));
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function cstr(ram: Uint8Array, addr: number): string {
  let s = '';
  while (ram[addr]) s += String.fromCharCode(ram[addr++]);
  return s;
}
